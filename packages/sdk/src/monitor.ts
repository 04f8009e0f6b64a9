import {
  Attr,
  type InstrumentSpec,
  Instruments,
  OTHER_CATEGORY,
  SampledPredictionEvent,
} from "@mlwatch/semconv";
import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics,
  type UpDownCounter,
} from "@opentelemetry/api";
import { type Logger, logs, SeverityNumber } from "@opentelemetry/api-logs";
import { report, warn } from "./diag.js";
import {
  type CounterHandle,
  defaultProducer,
  type HistogramHandle,
  type MlwatchMetricProducer,
} from "./producer.js";
import { isSampled, PendingPredictions } from "./sampling.js";
import { type ReviewItem, type ReviewSink, registerSink } from "./sinks.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";

/** Caps on distinct attribute values per monitor; past a cap the value is recorded as `__other__` (features past theirs are dropped). */
export interface CardinalityLimits {
  /** Distinct endpoints (default 100). */
  endpoints: number;
  /** Distinct error types per endpoint (default 50). */
  errorTypes: number;
  /** Distinct predicted classes (default 500). */
  classes: number;
  /** Distinct features; values of further features are dropped with a warning (default 500). */
  features: number;
  /** Distinct categories per categorical feature (default 100). */
  categories: number;
  /** Distinct segments (default 100). */
  segments: number;
}

export const DefaultLimits: Readonly<CardinalityLimits> = Object.freeze({
  endpoints: 100,
  errorTypes: 50,
  classes: 500,
  features: 500,
  categories: 100,
  segments: 100,
});

export interface GroundTruthOptions {
  /** Fraction of predictions with a request id that are sampled, in [0, 1] (default 0.1, as the reference design). */
  sampleRate?: number;
  /** Segment of sampled predictions that carry none of their own; their feedback is counted there (default "ground_truth_sample"). */
  segment?: string;
  /** Put the model inputs on sampled predictions (log record and review item). Default false. */
  includeInputs?: boolean;
  /** Inputs are JSON text cut to this many characters (default 8192). */
  maxInputLength?: number;
  /** Sampled predictions kept for joining feedback (default 10 000; the oldest go first). */
  maxPending?: number;
  /** How long a sampled prediction waits for feedback (default 6 hours). */
  pendingTtlMs?: number;
  /** Where sampled predictions go for human review. */
  sink?: ReviewSink;
  /** Logger for the sampled-prediction log records (default: the global logger provider's "@mlwatch/sdk" logger). */
  logger?: Logger;
}

export interface ModelMonitorOptions {
  modelName: string;
  modelVersion?: string;
  /** Endpoint used when a request does not name one (default "predict"). */
  endpoint?: string;
  /** Predictions with confidence below this count as low-confidence (default 0.7). */
  lowConfidenceThreshold?: number;
  /**
   * Record through plain OTel instruments of this meter instead of the
   * pre-aggregating producer (slower: the OTel SDK hashes the attributes of
   * every value; use it when you cannot add a metric producer to your reader).
   */
  meter?: Meter;
  /** Record into this producer (default: the process-wide one, see mlwatchMetricProducer()). */
  producer?: MlwatchMetricProducer;
  limits?: Partial<CardinalityLimits>;
  groundTruth?: GroundTruthOptions;
}

export type FeatureValue = number | string | boolean | null | undefined;

export interface Prediction {
  predictedClass?: string;
  /** Confidence of the prediction, in [0, 1]. */
  confidence?: number;
  /** Input features by name: numbers are numeric features, strings and booleans categorical ones. */
  features?: Readonly<Record<string, FeatureValue>>;
  /** Request id: makes the prediction eligible for ground-truth sampling and feedback. */
  requestId?: string;
  /** Segment of the traffic this prediction belongs to (for outcomes and sampled predictions). */
  segment?: string;
  /** The true class when already known: records the outcome in `segment` (default "all"). */
  actualClass?: string;
  /** Model inputs for sampled predictions when includeInputs is set (default: `features`). */
  input?: unknown;
}

/** Many predictions at once, by column; columns are read up to their own length. */
export interface PredictionBatch {
  predictedClass?: ArrayLike<string>;
  confidence?: ArrayLike<number>;
  /** One column per feature: numbers (e.g. a Float64Array) or strings/booleans (categorical). */
  features?: Readonly<Record<string, ArrayLike<FeatureValue>>>;
  /** Request ids, for ground-truth sampling (row-aligned with the other columns). */
  requestId?: ArrayLike<string>;
  /** True classes, when known (row-aligned with predictedClass). */
  actualClass?: ArrayLike<string>;
  /** Segment for outcomes and sampled predictions of the whole batch. */
  segment?: string;
}

/** Handle returned by startRequest(); call end() (or fail()) exactly once; later calls are ignored. */
export interface RequestTimer {
  /** Ends the request; an `error` other than undefined/null counts it as failed, typed by errorTypeOf(). */
  end(error?: unknown): void;
  /** Ends the request as failed with this error type (e.g. an HTTP status code as a string). */
  fail(errorType: string): void;
  /** Ends without recording the request (it only leaves the in-flight count), e.g. for a route that is not monitored. */
  discard(): void;
  /** The endpoint the request is recorded under; may be changed before it ends (e.g. once a router has matched). */
  endpoint: string;
}

export type FeedbackResult = "correct" | "incorrect" | "unknown";

/** The name a failed request is counted under: the error's class name, or its type for non-errors. */
export function errorTypeOf(error: unknown): string {
  try {
    if (error instanceof Error) {
      const name = error.name;
      if (typeof name === "string" && name !== "" && name !== "Error") return name;
      const ctor = error.constructor?.name;
      return typeof ctor === "string" && ctor !== "" ? ctor : "Error";
    }
  } catch {
    return "Error";
  }
  if (error === null) return "null";
  return typeof error;
}

// ---- where values go: the pre-aggregating producer, or plain OTel instruments ----

interface Backend {
  readonly mode: "producer" | "instruments";
  counter(spec: InstrumentSpec, attributes: Attributes): CounterHandle;
  histogram(spec: InstrumentSpec, attributes: Attributes): HistogramHandle;
}

class ProducerBackend implements Backend {
  readonly mode = "producer" as const;
  constructor(private readonly producer: MlwatchMetricProducer) {}
  counter(spec: InstrumentSpec, attributes: Attributes): CounterHandle {
    return this.producer.counter(spec, attributes);
  }
  histogram(spec: InstrumentSpec, attributes: Attributes): HistogramHandle {
    return this.producer.histogram(spec, attributes);
  }
}

class InstrumentBackend implements Backend {
  readonly mode = "instruments" as const;
  private readonly instruments = new Map<string, Counter | UpDownCounter | Histogram>();
  constructor(private readonly meter: Meter) {}
  private instrument(spec: InstrumentSpec): Counter | UpDownCounter | Histogram {
    let i = this.instruments.get(spec.name);
    if (!i) {
      const o = { description: spec.description, unit: spec.unit };
      i =
        spec.kind === "histogram"
          ? this.meter.createHistogram(spec.name, o)
          : spec.kind === "updowncounter"
            ? this.meter.createUpDownCounter(spec.name, o)
            : this.meter.createCounter(spec.name, o);
      this.instruments.set(spec.name, i);
    }
    return i;
  }
  counter(spec: InstrumentSpec, attributes: Attributes): CounterHandle {
    const c = this.instrument(spec) as Counter;
    const a = Object.freeze({ ...attributes });
    return { add: (v) => c.add(v, a) };
  }
  histogram(spec: InstrumentSpec, attributes: Attributes): HistogramHandle {
    const h = this.instrument(spec) as Histogram;
    const a = Object.freeze({ ...attributes });
    return { record: (v) => h.record(v, a) };
  }
}

interface EndpointState {
  readonly name: string;
  readonly attributes: Attributes;
  readonly requests: CounterHandle;
  readonly duration: HistogramHandle;
  readonly errors: Map<string, CounterHandle>;
}

interface FeatureState {
  readonly name: string;
  pos: HistogramHandle | undefined;
  neg: HistogramHandle | undefined;
  categories: Map<string, CounterHandle> | undefined;
}

class Timer implements RequestTimer {
  private done = false;
  constructor(
    private readonly monitor: ModelMonitor,
    public endpoint: string,
    private readonly t0: number,
  ) {}
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    const failed = error !== undefined && error !== null;
    this.monitor._finish(
      this.endpoint,
      (performance.now() - this.t0) / 1000,
      failed ? errorTypeOf(error) : null,
    );
  }
  fail(errorType: string): void {
    if (this.done) return;
    this.done = true;
    const type = typeof errorType === "string" && errorType !== "" ? errorType : errorTypeOf(errorType);
    this.monitor._finish(this.endpoint, (performance.now() - this.t0) / 1000, type);
  }
  discard(): void {
    if (this.done) return;
    this.done = true;
    this.monitor._abandon();
  }
  /** wrap(): anything thrown counts as a failure, even undefined. */
  throwable(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.monitor._finish(this.endpoint, (performance.now() - this.t0) / 1000, errorTypeOf(error));
  }
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { length?: unknown }).length === "number";
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`ModelMonitor: ${name} must be a positive integer`);
  return v;
}

function jsonText(value: unknown, max: number): string | undefined {
  try {
    const s = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    if (s === undefined) return undefined;
    return s.length > max ? s.slice(0, max) : s;
  } catch {
    return undefined;
  }
}

/**
 * Records RED and model-quality measurements for one model (and version).
 * Every recording method is safe on the prediction path: bad input is
 * dropped with a (rate-limited) diag message, never thrown, and no method
 * does I/O. By default values are pre-aggregated in an
 * MlwatchMetricProducer, which the OTel reader collects.
 */
export class ModelMonitor {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly lowConfidenceThreshold: number;
  /** "producer": pre-aggregated (fast); "instruments": plain OTel instruments of the given or global meter. */
  readonly mode: "producer" | "instruments";
  /** Fraction of predictions with a request id sampled for ground truth. */
  readonly sampleRate: number;
  private readonly backend: Backend;
  private readonly base: Attributes;
  private readonly limits: CardinalityLimits;
  private readonly defaultEndpoint: string;
  private readonly thresholdText: string;
  private readonly endpoints = new Map<string, EndpointState>();
  private lastEndpoint: EndpointState | undefined;
  private inProgressHandle: CounterHandle | undefined;
  private readonly classes = new Map<string, CounterHandle>();
  private confidenceHandle: HistogramHandle | undefined;
  private lowConfidenceHandle: CounterHandle | undefined;
  private readonly features = new Map<string, FeatureState>();
  /** Per segment: the "correct" and "incorrect" counters, each created when first used. */
  private readonly outcomes = new Map<string, [CounterHandle | undefined, CounterHandle | undefined]>();
  // ground truth
  private readonly gtSegment: string;
  private readonly includeInputs: boolean;
  private readonly maxInputLength: number;
  private readonly pending: PendingPredictions;
  private readonly sink: ReviewSink | undefined;
  private readonly logger: Logger;

  constructor(options: ModelMonitorOptions) {
    if (!options || typeof options.modelName !== "string" || options.modelName === "") {
      throw new TypeError("ModelMonitor: modelName must be a non-empty string");
    }
    if (
      options.modelVersion !== undefined &&
      (typeof options.modelVersion !== "string" || !options.modelVersion)
    )
      throw new TypeError("ModelMonitor: modelVersion must be a non-empty string");
    if (options.endpoint !== undefined && (typeof options.endpoint !== "string" || !options.endpoint))
      throw new TypeError("ModelMonitor: endpoint must be a non-empty string");
    this.modelName = options.modelName;
    this.modelVersion = options.modelVersion ?? "unknown";
    this.defaultEndpoint = options.endpoint ?? "predict";
    const threshold = options.lowConfidenceThreshold ?? 0.7;
    if (typeof threshold !== "number" || !(threshold > 0 && threshold <= 1)) {
      throw new RangeError("ModelMonitor: lowConfidenceThreshold must be in (0, 1]");
    }
    this.lowConfidenceThreshold = threshold;
    this.thresholdText = String(threshold);
    const limits = { ...DefaultLimits, ...options.limits };
    for (const [k, v] of Object.entries(limits)) positiveInt(`limits.${k}`, v);
    this.limits = limits;

    const gt = options.groundTruth ?? {};
    const rate = gt.sampleRate ?? 0.1;
    if (typeof rate !== "number" || !(rate >= 0 && rate <= 1))
      throw new RangeError("ModelMonitor: groundTruth.sampleRate must be in [0, 1]");
    this.sampleRate = rate;
    this.gtSegment = gt.segment ?? "ground_truth_sample";
    if (typeof this.gtSegment !== "string" || this.gtSegment === "")
      throw new TypeError("ModelMonitor: groundTruth.segment must be a non-empty string");
    this.includeInputs = gt.includeInputs === true;
    this.maxInputLength = positiveInt("groundTruth.maxInputLength", gt.maxInputLength ?? 8192);
    const ttl = gt.pendingTtlMs ?? 6 * 3600_000;
    if (typeof ttl !== "number" || !(ttl > 0))
      throw new RangeError("ModelMonitor: groundTruth.pendingTtlMs must be > 0");
    this.pending = new PendingPredictions(
      positiveInt("groundTruth.maxPending", gt.maxPending ?? 10_000),
      ttl,
    );
    if (gt.sink !== undefined && (typeof gt.sink !== "object" || typeof gt.sink?.write !== "function"))
      throw new TypeError("ModelMonitor: groundTruth.sink must have a write(item) method");
    this.sink = gt.sink;
    if (this.sink) registerSink(this.sink);
    this.logger = gt.logger ?? logs.getLogger(SDK_NAME, SDK_VERSION);

    this.base = Object.freeze({ [Attr.modelName]: this.modelName, [Attr.modelVersion]: this.modelVersion });
    this.backend = chooseBackend(options);
    this.mode = this.backend.mode;
  }

  // ---- RED ----

  private endpointState(name: string): EndpointState {
    const last = this.lastEndpoint;
    if (last !== undefined && last.name === name) return last;
    let ep = this.endpoints.get(name);
    if (ep === undefined) {
      if (typeof name !== "string" || name === "") {
        warn("endpoint", `invalid endpoint ${String(name)}; using "${this.defaultEndpoint}"`);
        return this.endpointState(this.defaultEndpoint);
      }
      if (this.endpoints.size >= this.limits.endpoints) {
        warn(
          "endpoint-cap",
          `more than ${this.limits.endpoints} endpoints; recording others as ${OTHER_CATEGORY}`,
        );
        name = OTHER_CATEGORY;
        ep = this.endpoints.get(name);
      }
      if (ep === undefined) {
        const attributes = Object.freeze({ ...this.base, [Attr.endpoint]: name });
        ep = {
          name,
          attributes,
          requests: this.backend.counter(Instruments.requests, attributes),
          duration: this.backend.histogram(Instruments.duration, attributes),
          errors: new Map(),
        };
        this.endpoints.set(name, ep);
      }
    }
    this.lastEndpoint = ep;
    return ep;
  }

  private get inProgress(): CounterHandle {
    this.inProgressHandle ??= this.backend.counter(Instruments.inProgress, this.base);
    return this.inProgressHandle;
  }

  /** Starts timing one request (and counts it in flight); the returned timer's end() records it. */
  startRequest(endpoint: string = this.defaultEndpoint): RequestTimer {
    try {
      this.inProgress.add(1);
    } catch (e) {
      report("startRequest", e);
    }
    return new Timer(this, endpoint, performance.now());
  }

  /** @internal Ends a request started with startRequest(); errorType null means success. */
  _finish(endpoint: string, seconds: number, errorType: string | null): void {
    try {
      this.inProgress.add(-1);
      const ep = this.endpointState(endpoint);
      ep.requests.add(1);
      // NaN or a negative duration (a caller's clock) is recorded as 0 rather than dropped.
      ep.duration.record(seconds >= 0 && seconds < Number.POSITIVE_INFINITY ? seconds : 0);
      if (errorType !== null) this.errorCounter(ep, errorType).add(1);
    } catch (e) {
      report("request end", e);
    }
  }

  /** @internal A started request that is not to be recorded: it only leaves the in-flight count. */
  _abandon(): void {
    try {
      this.inProgress.add(-1);
    } catch (e) {
      report("request discard", e);
    }
  }

  private errorCounter(ep: EndpointState, errorType: string): CounterHandle {
    let c = ep.errors.get(errorType);
    if (c === undefined) {
      if (ep.errors.size >= this.limits.errorTypes) {
        warn(
          "error-cap",
          `more than ${this.limits.errorTypes} error types on ${ep.name}; recording others as ${OTHER_CATEGORY}`,
        );
        errorType = OTHER_CATEGORY;
        c = ep.errors.get(errorType);
      }
      if (c === undefined) {
        c = this.backend.counter(Instruments.errors, { ...ep.attributes, [Attr.errorType]: errorType });
        ep.errors.set(errorType, c);
      }
    }
    return c;
  }

  /**
   * Records one finished request whose duration the caller measured. It is
   * counted in and out of flight (so the in-flight series exists), counted,
   * timed, and counted as an error when `error` is neither undefined nor null.
   */
  recordRequest(durationSeconds: number, options: { endpoint?: string; error?: unknown } = {}): void {
    try {
      if (typeof durationSeconds !== "number" || !Number.isFinite(durationSeconds) || durationSeconds < 0) {
        warn("duration", `ignoring request with invalid duration ${String(durationSeconds)}`);
        return;
      }
      const o = typeof options === "object" && options !== null ? options : {};
      const error = o.error;
      this.inProgress.add(1);
      this._finish(
        o.endpoint ?? this.defaultEndpoint,
        durationSeconds,
        error !== undefined && error !== null ? errorTypeOf(error) : null,
      );
    } catch (e) {
      report("recordRequest", e);
    }
  }

  /**
   * Wraps a sync or async function so that every call is recorded as a
   * request. Errors (thrown or rejected) are recorded and passed on unchanged;
   * the return value and `this` are passed through.
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R,
    options: { endpoint?: string } = {},
  ): (...args: A) => R {
    if (typeof fn !== "function") throw new TypeError("ModelMonitor.wrap: fn must be a function");
    const endpoint = options?.endpoint ?? this.defaultEndpoint;
    const monitor = this;
    return function (this: unknown, ...args: A): R {
      const timer = monitor.startRequest(endpoint) as Timer;
      let result: R;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        timer.throwable(error);
        throw error;
      }
      if (isPromiseLike(result)) {
        return result.then(
          (value) => {
            timer.end();
            return value;
          },
          (error: unknown) => {
            timer.throwable(error);
            throw error;
          },
        ) as R;
      }
      timer.end();
      return result;
    };
  }

  // ---- model quality ----

  /** Records the model's output and inputs for one prediction (and samples it for ground truth). */
  recordPrediction(prediction: Prediction): void {
    try {
      if (typeof prediction !== "object" || prediction === null) {
        warn(
          "prediction",
          `ignoring prediction that is not an object: ${prediction === null ? "null" : typeof prediction}`,
        );
        return;
      }
      const cls = prediction.predictedClass;
      if (cls !== undefined) this.countClass(cls, 1);
      const c = prediction.confidence;
      if (c !== undefined) {
        if (typeof c === "number" && c >= 0 && c <= 1) {
          this.confidence.record(c + 0);
          if (c < this.lowConfidenceThreshold) this.lowConfidence.add(1);
        } else {
          warn("confidence", `ignoring confidence ${String(c)} (not a number in [0, 1])`);
        }
      }
      const f = prediction.features;
      if (f !== undefined && f !== null) {
        if (typeof f === "object" && !Array.isArray(f)) {
          for (const name in f) this.recordFeature(name, f[name]);
        } else warn("features", "ignoring features that are not an object of named values");
      }
      if (prediction.actualClass !== undefined) {
        if (typeof prediction.actualClass === "string" && typeof cls === "string") {
          this.recordOutcome(this.segmentOf(prediction.segment, "all"), prediction.actualClass === cls);
        } else warn("actual", "ignoring actualClass: it and predictedClass must be strings");
      }
      const id = prediction.requestId;
      if (id !== undefined && this.sampleRate > 0) {
        if (typeof id === "string" && id !== "") {
          if (isSampled(id, this.sampleRate)) this.emitSample(id, prediction);
        } else warn("request-id", "ignoring requestId that is not a non-empty string");
      }
    } catch (e) {
      report("recordPrediction", e);
    }
  }

  /** recordPrediction() for each element. */
  recordPredictions(predictions: readonly Prediction[]): void {
    if (!Array.isArray(predictions)) {
      warn("predictions", "recordPredictions needs an array");
      return;
    }
    for (const p of predictions) this.recordPrediction(p);
  }

  private get confidence(): HistogramHandle {
    this.confidenceHandle ??= this.backend.histogram(Instruments.confidence, this.base);
    return this.confidenceHandle;
  }

  private get lowConfidence(): CounterHandle {
    this.lowConfidenceHandle ??= this.backend.counter(Instruments.lowConfidence, {
      ...this.base,
      [Attr.confidenceThreshold]: this.thresholdText,
    });
    return this.lowConfidenceHandle;
  }

  private countClass(cls: unknown, n: number): void {
    if (typeof cls !== "string" || cls === "") {
      warn("class", `ignoring predicted class ${String(cls)} (not a non-empty string)`);
      return;
    }
    let c = this.classes.get(cls);
    if (c === undefined) {
      if (this.classes.size >= this.limits.classes) {
        warn("class-cap", `more than ${this.limits.classes} classes; recording others as ${OTHER_CATEGORY}`);
        c = this.classes.get(OTHER_CATEGORY);
        cls = OTHER_CATEGORY;
      }
      if (c === undefined) {
        c = this.backend.counter(Instruments.predictions, {
          ...this.base,
          [Attr.predictedClass]: cls as string,
        });
        this.classes.set(cls as string, c);
      }
    }
    c.add(n);
  }

  private featureState(name: string): FeatureState | undefined {
    let st = this.features.get(name);
    if (st === undefined) {
      if (typeof name !== "string" || name === "") {
        warn("feature-name", "ignoring feature without a name");
        return undefined;
      }
      if (this.features.size >= this.limits.features) {
        warn(
          "feature-cap",
          `more than ${this.limits.features} features; dropping values of "${name}" and others`,
        );
        return undefined;
      }
      st = { name, pos: undefined, neg: undefined, categories: undefined };
      this.features.set(name, st);
    }
    return st;
  }

  private positive(st: FeatureState): HistogramHandle {
    st.pos ??= this.backend.histogram(Instruments.featureValue, {
      ...this.base,
      [Attr.featureName]: st.name,
    });
    return st.pos;
  }

  private negative(st: FeatureState): HistogramHandle {
    st.neg ??= this.backend.histogram(Instruments.featureValue, {
      ...this.base,
      [Attr.featureName]: st.name,
      [Attr.featureSign]: "negative",
    });
    return st.neg;
  }

  private category(st: FeatureState, value: string): CounterHandle {
    st.categories ??= new Map();
    let c = st.categories.get(value);
    if (c === undefined) {
      if (st.categories.size >= this.limits.categories) {
        warn(
          `category-cap:${st.name}`,
          `feature "${st.name}" has more than ${this.limits.categories} categories; recording others as ${OTHER_CATEGORY}`,
        );
        value = OTHER_CATEGORY;
        c = st.categories.get(value);
      }
      if (c === undefined) {
        c = this.backend.counter(Instruments.featureCategory, {
          ...this.base,
          [Attr.featureName]: st.name,
          [Attr.featureCategory]: value,
        });
        st.categories.set(value, c);
      }
    }
    return c;
  }

  /**
   * Records one feature value. A number goes to the feature's histogram (a
   * negative one as its magnitude on the `ml.feature.sign="negative"` series,
   * which the collector folds back); a string or boolean is counted as a
   * category. null and undefined mean "missing" and are skipped.
   */
  recordFeature(name: string, value: FeatureValue): void {
    try {
      if (typeof value === "number") {
        if (value - value !== 0) {
          warn("feature-value", `ignoring non-finite value of feature "${String(name)}"`);
          return;
        }
        const st = this.featureState(name);
        if (st === undefined) return;
        if (value >= 0) (st.pos ?? this.positive(st)).record(value + 0);
        else (st.neg ?? this.negative(st)).record(-value);
      } else if (typeof value === "string" || typeof value === "boolean") {
        const st = this.featureState(name);
        if (st === undefined) return;
        const v = typeof value === "string" ? value : String(value);
        this.category(st, v).add(1);
      } else if (value !== undefined && value !== null) {
        warn("feature-type", `ignoring value of feature "${String(name)}" of type ${typeof value}`);
      }
    } catch (e) {
      report("recordFeature", e);
    }
  }

  /** Records one categorical feature value (counted per category, capped per feature). */
  recordCategory(name: string, value: string | boolean): void {
    if (typeof value !== "string" && typeof value !== "boolean") {
      warn("category-type", `ignoring category of feature "${String(name)}" of type ${typeof value}`);
      return;
    }
    this.recordFeature(name, value);
  }

  private segmentOf(segment: unknown, fallback: string): string {
    return typeof segment === "string" && segment !== "" ? segment : fallback;
  }

  /** Records whether a prediction in `segment` turned out correct, once its truth is known. */
  recordOutcome(segment: string, correct: boolean): void {
    this.addOutcome(segment, correct, 1);
  }

  private addOutcome(segment: string, correct: boolean, n: number): void {
    try {
      if (typeof segment !== "string" || segment === "" || typeof correct !== "boolean") {
        warn("outcome", "ignoring outcome: segment must be a non-empty string and correct a boolean");
        return;
      }
      let pair = this.outcomes.get(segment);
      if (pair === undefined) {
        if (this.outcomes.size >= this.limits.segments) {
          warn(
            "segment-cap",
            `more than ${this.limits.segments} segments; recording others as ${OTHER_CATEGORY}`,
          );
          segment = OTHER_CATEGORY;
          pair = this.outcomes.get(segment);
        }
        if (pair === undefined) {
          pair = [undefined, undefined];
          this.outcomes.set(segment, pair);
        }
      }
      const i = correct ? 0 : 1;
      let c = pair[i];
      if (c === undefined) {
        c = this.backend.counter(Instruments.segmentOutcomes, {
          ...this.base,
          [Attr.segment]: segment,
          [Attr.outcome]: correct ? "correct" : "incorrect",
        });
        pair[i] = c;
      }
      c.add(n);
    } catch (e) {
      report("recordOutcome", e);
    }
  }

  // ---- batches ----

  /**
   * Records many predictions given by column — the fast way to monitor batch
   * scoring. Each feature column feeds its histogram (or category counts)
   * directly; classes and low-confidence counts are added once per batch.
   * Time the batch itself with wrap() or startRequest() if it is a request.
   */
  recordBatch(batch: PredictionBatch): void {
    try {
      if (typeof batch !== "object" || batch === null) {
        warn("batch", "ignoring batch that is not an object");
        return;
      }
      const { predictedClass, confidence, features, requestId, actualClass } = batch;
      if (predictedClass !== undefined) this.batchClasses(predictedClass);
      if (confidence !== undefined) this.batchConfidence(confidence);
      if (features !== undefined && features !== null) {
        if (typeof features === "object" && !Array.isArray(features)) {
          for (const name in features) this.batchFeature(name, features[name]);
        } else warn("features", "ignoring batch features that are not an object of named columns");
      }
      if (actualClass !== undefined) this.batchOutcomes(actualClass, predictedClass, batch.segment);
      if (requestId !== undefined && this.sampleRate > 0) this.batchSample(batch);
    } catch (e) {
      report("recordBatch", e);
    }
  }

  private batchClasses(col: unknown): void {
    if (!isArrayLike(col)) {
      warn("batch-class", "ignoring predictedClass column that is not an array");
      return;
    }
    const counts = new Map<string, number>();
    for (let i = 0; i < col.length; i++) {
      const v = col[i] as string;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [cls, n] of counts) this.countClass(cls, n);
  }

  private batchConfidence(col: unknown): void {
    if (!isArrayLike(col)) {
      warn("batch-confidence", "ignoring confidence column that is not an array");
      return;
    }
    const h = this.confidence;
    const t = this.lowConfidenceThreshold;
    let low = 0;
    let bad = 0;
    for (let i = 0; i < col.length; i++) {
      const c = col[i];
      if (typeof c === "number" && c >= 0 && c <= 1) {
        h.record(c + 0);
        if (c < t) low++;
      } else bad++;
    }
    if (low > 0) this.lowConfidence.add(low);
    if (bad > 0) warn("confidence", `ignored ${bad} confidence values that are not numbers in [0, 1]`);
  }

  private batchFeature(name: string, col: unknown): void {
    if (!isArrayLike(col)) {
      warn("batch-feature", `ignoring column of feature "${name}" that is not an array`);
      return;
    }
    const st = this.featureState(name);
    if (st === undefined) return;
    let pos: HistogramHandle | undefined;
    let neg: HistogramHandle | undefined;
    let bad = 0;
    const n = col.length;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (typeof v === "number") {
        // v - v is 0 exactly for finite numbers (NaN and ±Infinity give NaN).
        if (v - v !== 0) bad++;
        else if (v >= 0) {
          if (pos === undefined) pos = this.positive(st);
          pos.record(v + 0);
        } else {
          if (neg === undefined) neg = this.negative(st);
          neg.record(-v);
        }
      } else if (typeof v === "string") this.category(st, v).add(1);
      else if (typeof v === "boolean") this.category(st, String(v)).add(1);
      else if (v !== undefined && v !== null) bad++;
    }
    if (bad > 0) warn("feature-value", `ignored ${bad} invalid values of feature "${name}"`);
  }

  private batchOutcomes(actual: unknown, predicted: unknown, segment: unknown): void {
    if (!isArrayLike(actual) || !isArrayLike(predicted)) {
      warn("batch-actual", "ignoring actualClass: it needs a predictedClass column of the same rows");
      return;
    }
    let correct = 0;
    let incorrect = 0;
    const n = Math.min(actual.length, predicted.length);
    for (let i = 0; i < n; i++) {
      const a = actual[i];
      if (typeof a !== "string") continue;
      if (a === predicted[i]) correct++;
      else incorrect++;
    }
    const seg = this.segmentOf(segment, "all");
    if (correct > 0) this.addOutcome(seg, true, correct);
    if (incorrect > 0) this.addOutcome(seg, false, incorrect);
  }

  private batchSample(batch: PredictionBatch): void {
    const ids = batch.requestId;
    if (!isArrayLike(ids)) {
      warn("batch-id", "ignoring requestId column that is not an array");
      return;
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== "string" || id === "" || !isSampled(id, this.sampleRate)) continue;
      const row: Prediction = { segment: batch.segment };
      const cls = batch.predictedClass?.[i];
      if (typeof cls === "string") row.predictedClass = cls;
      const c = batch.confidence?.[i];
      if (typeof c === "number") row.confidence = c;
      if (this.includeInputs && batch.features) {
        const input: Record<string, FeatureValue> = {};
        for (const name in batch.features) input[name] = batch.features[name]?.[i];
        row.input = input;
      }
      this.emitSample(id, row);
    }
  }

  // ---- ground truth ----

  /** Whether the prediction of `requestId` is (or would be) sampled for ground truth by this monitor. */
  isSampled(requestId: string): boolean {
    return typeof requestId === "string" && requestId !== "" && isSampled(requestId, this.sampleRate);
  }

  private emitSample(requestId: string, p: Prediction): void {
    const segment = this.segmentOf(p.segment, this.gtSegment);
    const cls =
      typeof p.predictedClass === "string" && p.predictedClass !== "" ? p.predictedClass : undefined;
    const conf =
      typeof p.confidence === "number" && p.confidence >= 0 && p.confidence <= 1 ? p.confidence : undefined;
    const attributes: Record<string, string | number> = {
      [Attr.modelName]: this.modelName,
      [Attr.modelVersion]: this.modelVersion,
      [Attr.requestId]: requestId,
      [Attr.segment]: segment,
    };
    if (cls !== undefined) attributes[Attr.predictedClass] = cls;
    if (conf !== undefined) attributes[Attr.predictionConfidence] = conf;
    let input: unknown;
    if (this.includeInputs) {
      input = p.input !== undefined ? p.input : p.features;
      const text = input === undefined ? undefined : jsonText(input, this.maxInputLength);
      if (text !== undefined) attributes[Attr.predictionInput] = text;
    }
    try {
      this.logger.emit({
        eventName: SampledPredictionEvent.eventName,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        attributes,
      });
    } catch (e) {
      report("sampled prediction log", e);
    }
    this.pending.add(requestId, cls, segment);
    if (this.sink) {
      const item: ReviewItem = {
        requestId,
        modelName: this.modelName,
        modelVersion: this.modelVersion,
        segment,
        timestamp: new Date().toISOString(),
      };
      if (cls !== undefined) item.predictedClass = cls;
      if (conf !== undefined) item.confidence = conf;
      if (this.includeInputs && input !== undefined) item.input = input;
      try {
        this.sink.write(item);
      } catch (e) {
        report("review sink", e);
      }
    }
  }

  /**
   * The true label of a sampled prediction made by this process: joins it
   * with the prediction (if it has not expired or been evicted) and records
   * the outcome in the sampled prediction's segment — its own `segment`, else
   * the ground-truth segment — the same segment the collector counts a label
   * posted to its /api/v1/feedback under. Returns "unknown" when there is
   * nothing to join with; each prediction is joined at most once.
   */
  feedback(requestId: string, label: string): FeedbackResult {
    try {
      if (typeof requestId !== "string" || typeof label !== "string") {
        warn("feedback", "ignoring feedback: requestId and label must be strings");
        return "unknown";
      }
      const p = this.pending.take(requestId);
      if (p === undefined || p.predictedClass === undefined) return "unknown";
      const correct = p.predictedClass === label;
      this.addOutcome(p.segment, correct, 1);
      return correct ? "correct" : "incorrect";
    } catch (e) {
      report("feedback", e);
      return "unknown";
    }
  }

  /** Sampled predictions currently waiting for feedback. */
  get pendingFeedback(): number {
    return this.pending.size;
  }
}

function chooseBackend(options: ModelMonitorOptions): Backend {
  if (options.meter !== undefined && options.producer !== undefined)
    throw new TypeError("ModelMonitor: give either meter or producer, not both");
  if (options.meter !== undefined) return new InstrumentBackend(options.meter);
  if (options.producer !== undefined) return new ProducerBackend(options.producer);
  const producer = defaultProducer();
  if (!producer.attached) {
    // No reader collects the producer (yet). If the application already
    // registered a MeterProvider of its own (e.g. NodeSDK), record into it.
    const meter = metrics.getMeter(SDK_NAME, SDK_VERSION);
    if (meter !== createNoopMeter()) return new InstrumentBackend(meter);
  }
  return new ProducerBackend(producer);
}
