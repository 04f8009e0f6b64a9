import { Attr, Instruments } from "@mlwatch/semconv";
import {
  type Attributes,
  type Counter,
  diag,
  type Histogram,
  type Meter,
  metrics,
  type UpDownCounter,
} from "@opentelemetry/api";

export interface ModelMonitorOptions {
  modelName: string;
  modelVersion?: string;
  /** Endpoint used when a request does not name one. */
  endpoint?: string;
  /** Predictions with confidence below this count as low-confidence (default 0.7). */
  lowConfidenceThreshold?: number;
  /** Meter to record with; defaults to the global meter provider's "@mlwatch/sdk" meter. */
  meter?: Meter;
}

export interface Prediction {
  predictedClass?: string;
  /** Confidence of the prediction, in [0, 1]. */
  confidence?: number;
  /** Numeric input features by name. */
  features?: Readonly<Record<string, number>>;
}

/** Handle returned by startRequest(); call end() exactly once. */
export interface RequestTimer {
  end(error?: unknown): void;
}

const SDK_SCOPE = "@mlwatch/sdk";

/** The name a failed request is counted under: the error's class name, or its type for non-errors. */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== "Error" ? error.name : error.constructor.name;
  if (error === null) return "null";
  return typeof error;
}

/**
 * Records RED and model-quality measurements for one model as OTel
 * instruments. Every method is safe on the prediction path: bad input is
 * dropped with a diag message, never thrown.
 */
export class ModelMonitor {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly lowConfidenceThreshold: number;
  private readonly defaultEndpoint: string;
  private readonly base: Attributes;
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly duration: Histogram;
  private readonly inProgress: UpDownCounter;
  private readonly predictions: Counter;
  private readonly confidence: Histogram;
  private readonly lowConfidence: Counter;
  private readonly featureValue: Histogram;
  private readonly segmentOutcomes: Counter;
  // Attribute objects are built once per distinct value and reused, so the hot
  // path allocates nothing for repeat endpoints, classes and features.
  private readonly endpointAttrs = new Map<string, Attributes>();
  private readonly errorAttrs = new Map<string, Attributes>();
  private readonly classAttrs = new Map<string, Attributes>();
  private readonly featureAttrs = new Map<string, [Attributes, Attributes]>();
  private readonly outcomeAttrs = new Map<string, [Attributes, Attributes]>();
  private readonly lowConfidenceAttrs: Attributes;

  constructor(options: ModelMonitorOptions) {
    if (!options || typeof options.modelName !== "string" || options.modelName === "") {
      throw new TypeError("ModelMonitor: modelName must be a non-empty string");
    }
    this.modelName = options.modelName;
    this.modelVersion = options.modelVersion ?? "unknown";
    this.defaultEndpoint = options.endpoint ?? "predict";
    const threshold = options.lowConfidenceThreshold ?? 0.7;
    if (!(threshold > 0 && threshold <= 1)) {
      throw new RangeError("ModelMonitor: lowConfidenceThreshold must be in (0, 1]");
    }
    this.lowConfidenceThreshold = threshold;
    this.base = { [Attr.modelName]: this.modelName, [Attr.modelVersion]: this.modelVersion };
    this.lowConfidenceAttrs = { ...this.base, [Attr.confidenceThreshold]: String(threshold) };

    const meter = options.meter ?? metrics.getMeter(SDK_SCOPE);
    const I = Instruments;
    const opts = (i: { description: string; unit: string }) => ({ description: i.description, unit: i.unit });
    this.requests = meter.createCounter(I.requests.name, opts(I.requests));
    this.errors = meter.createCounter(I.errors.name, opts(I.errors));
    this.duration = meter.createHistogram(I.duration.name, opts(I.duration));
    this.inProgress = meter.createUpDownCounter(I.inProgress.name, opts(I.inProgress));
    this.predictions = meter.createCounter(I.predictions.name, opts(I.predictions));
    this.confidence = meter.createHistogram(I.confidence.name, opts(I.confidence));
    this.lowConfidence = meter.createCounter(I.lowConfidence.name, opts(I.lowConfidence));
    this.featureValue = meter.createHistogram(I.featureValue.name, opts(I.featureValue));
    this.segmentOutcomes = meter.createCounter(I.segmentOutcomes.name, opts(I.segmentOutcomes));
  }

  /** Starts timing one request; the returned timer's end() records it, with the error if one is given. */
  startRequest(endpoint: string = this.defaultEndpoint): RequestTimer {
    const start = process.hrtime.bigint();
    let ended = false;
    try {
      this.inProgress.add(1, this.base);
    } catch (e) {
      report("startRequest", e);
    }
    return {
      end: (error?: unknown) => {
        if (ended) return;
        ended = true;
        try {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          this.finish(endpoint, seconds, error);
        } catch (e) {
          report("end", e);
        }
      },
    };
  }

  /** Records one finished request whose duration was measured by the caller. */
  recordRequest(durationSeconds: number, options: { endpoint?: string; error?: unknown } = {}): void {
    try {
      if (!Number.isFinite(durationSeconds) || durationSeconds < 0) {
        diag.warn(`mlwatch: ignoring request with invalid duration ${String(durationSeconds)}`);
        return;
      }
      this.inProgress.add(1, this.base);
      this.finish(options.endpoint ?? this.defaultEndpoint, durationSeconds, options.error);
    } catch (e) {
      report("recordRequest", e);
    }
  }

  private finish(endpoint: string, seconds: number, error: unknown): void {
    const attrs = this.attrsForEndpoint(endpoint);
    this.inProgress.add(-1, this.base);
    this.requests.add(1, attrs);
    this.duration.record(seconds, attrs);
    if (error !== undefined) this.errors.add(1, this.attrsForError(endpoint, errorTypeOf(error)));
  }

  /**
   * Wraps a function so that every call is recorded as a request. Errors
   * (thrown or rejected) are recorded and passed on unchanged.
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R,
    options: { endpoint?: string } = {},
  ): (...args: A) => R {
    const endpoint = options.endpoint ?? this.defaultEndpoint;
    return (...args: A): R => {
      const timer = this.startRequest(endpoint);
      let result: R;
      try {
        result = fn(...args);
      } catch (error) {
        timer.end(error);
        throw error;
      }
      if (isPromiseLike(result)) {
        return (result as unknown as Promise<unknown>).then(
          (value) => {
            timer.end();
            return value;
          },
          (error: unknown) => {
            timer.end(error);
            throw error;
          },
        ) as R;
      }
      timer.end();
      return result;
    };
  }

  /** Records the model's output and inputs for one prediction. */
  recordPrediction(prediction: Prediction): void {
    try {
      const { predictedClass, confidence, features } = prediction ?? {};
      if (typeof predictedClass === "string" && predictedClass !== "") {
        this.predictions.add(1, this.attrsForClass(predictedClass));
      }
      if (confidence !== undefined) {
        if (typeof confidence === "number" && confidence >= 0 && confidence <= 1) {
          this.confidence.record(confidence, this.base);
          if (confidence < this.lowConfidenceThreshold) this.lowConfidence.add(1, this.lowConfidenceAttrs);
        } else {
          diag.warn(`mlwatch: ignoring confidence ${String(confidence)} outside [0, 1]`);
        }
      }
      if (features) {
        for (const name in features) this.recordFeature(name, features[name]);
      }
    } catch (e) {
      report("recordPrediction", e);
    }
  }

  /** Records one numeric feature value. Negative values are recorded as magnitudes tagged with their sign. */
  recordFeature(name: string, value: number): void {
    try {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        diag.warn(`mlwatch: ignoring non-finite value for feature ${name}`);
        return;
      }
      let pair = this.featureAttrs.get(name);
      if (!pair) {
        const attrs = { ...this.base, [Attr.featureName]: name };
        pair = [attrs, { ...attrs, [Attr.featureSign]: "negative" }];
        this.featureAttrs.set(name, pair);
      }
      // The OTel JS SDK drops negative histogram values, so a negative value is
      // recorded as its magnitude on a separate series that the collector
      // folds back into the negative range.
      if (value >= 0) this.featureValue.record(value, pair[0]);
      else this.featureValue.record(-value, pair[1]);
    } catch (e) {
      report("recordFeature", e);
    }
  }

  /** Records whether a prediction in a segment turned out correct, once its truth is known. */
  recordOutcome(segment: string, correct: boolean): void {
    try {
      let pair = this.outcomeAttrs.get(segment);
      if (!pair) {
        const attrs = { ...this.base, [Attr.segment]: segment };
        pair = [
          { ...attrs, [Attr.outcome]: "correct" },
          { ...attrs, [Attr.outcome]: "incorrect" },
        ];
        this.outcomeAttrs.set(segment, pair);
      }
      this.segmentOutcomes.add(1, correct ? pair[0] : pair[1]);
    } catch (e) {
      report("recordOutcome", e);
    }
  }

  private attrsForEndpoint(endpoint: string): Attributes {
    let a = this.endpointAttrs.get(endpoint);
    if (!a) {
      a = { ...this.base, [Attr.endpoint]: endpoint };
      this.endpointAttrs.set(endpoint, a);
    }
    return a;
  }

  private attrsForError(endpoint: string, errorType: string): Attributes {
    const key = `${endpoint}\u0000${errorType}`;
    let a = this.errorAttrs.get(key);
    if (!a) {
      a = { ...this.attrsForEndpoint(endpoint), [Attr.errorType]: errorType };
      this.errorAttrs.set(key, a);
    }
    return a;
  }

  private attrsForClass(predictedClass: string): Attributes {
    let a = this.classAttrs.get(predictedClass);
    if (!a) {
      a = { ...this.base, [Attr.predictedClass]: predictedClass };
      this.classAttrs.set(predictedClass, a);
    }
    return a;
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

function report(where: string, error: unknown): void {
  try {
    diag.error(`mlwatch: ${where} failed`, error);
  } catch {
    // The diag logger itself failed; there is nowhere left to report to.
  }
}
