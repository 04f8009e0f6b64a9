// The pre-aggregating store behind ModelMonitor's hot path, and the
// MetricProducer that hands its content to the standard OTel readers and
// exporters. A monitor resolves each attribute set to a series object once;
// recording is then a plain number update (counters) or an exponential
// histogram update, with no attribute hashing per value. At collection time
// the producer emits cumulative data points of the same types, names, units
// and values that plain OTel instruments with mlwatchViews() would export.

import { DefaultLatencyBuckets, type InstrumentSpec, Instruments, PromLabel } from "@mlwatch/semconv";
import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import { emptyResource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  InstrumentType,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";
import { report } from "./diag.js";
import { ExpHistogramAccumulator, ExplicitBuckets } from "./exphist.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";

/** A counter (or up-down counter) bound to one attribute set. */
export interface CounterHandle {
  add(value: number): void;
}

/** A histogram bound to one attribute set; values must be finite and >= 0. */
export interface HistogramHandle {
  record(value: number): void;
}

/** Attribute OTel puts on the series that collects everything past the cardinality limit. */
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ "otel.metric.overflow": true });

class CounterSeries implements CounterHandle {
  value = 0;
  promAttributes: Attributes | undefined;
  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
  ) {}
  add(value: number): void {
    this.value += value;
  }
}

class HistogramSeries implements HistogramHandle {
  readonly exp: ExpHistogramAccumulator;
  explicit: ExplicitBuckets | null = null;
  promAttributes: Attributes | undefined;
  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
    maxSize: number,
  ) {
    this.exp = new ExpHistogramAccumulator(maxSize);
  }
  record(value: number): void {
    this.exp.record(value);
    if (this.explicit !== null) this.explicit.record(value);
  }
}

type Series = CounterSeries | HistogramSeries;

interface InstrumentState {
  spec: InstrumentSpec;
  type: InstrumentType;
  series: Map<string, Series>;
  overflow: Series | null;
  explicitBounds: readonly number[] | null;
}

export interface MlwatchMetricProducerOptions {
  /** Maximum buckets of each exponential histogram (default 160, as the OTel default). */
  maxHistogramBuckets?: number;
  /**
   * Maximum series per instrument (default 2000, the OTel SDK's default); past
   * it, values go to one series with the attribute `otel.metric.overflow=true`,
   * as the OTel SDK does.
   */
  cardinalityLimit?: number;
}

export interface PrometheusViewOptions {
  /** Bucket bounds of ml_request_duration_seconds (default: the reference design's 0.01 … 10 s). */
  latencyBuckets?: readonly number[];
  /** Bucket bounds of ml_prediction_confidence (default 0, 0.1, … 1). */
  confidenceBuckets?: readonly number[];
}

const CONFIDENCE_BUCKETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;

function attributesKey(attributes: Attributes): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((k) => [k, attributes[k]]),
  );
}

function instrumentType(spec: InstrumentSpec): InstrumentType {
  switch (spec.kind) {
    case "counter":
      return InstrumentType.COUNTER;
    case "updowncounter":
      return InstrumentType.UP_DOWN_COUNTER;
    case "histogram":
      return InstrumentType.HISTOGRAM;
    default:
      return InstrumentType.GAUGE;
  }
}

function checkBounds(name: string, bounds: readonly number[]): readonly number[] {
  if (
    !Array.isArray(bounds) ||
    bounds.length === 0 ||
    bounds.some((b, i) => typeof b !== "number" || !Number.isFinite(b) || (i > 0 && !(b > bounds[i - 1])))
  ) {
    throw new RangeError(`mlwatch: ${name} must be a non-empty, strictly increasing list of finite numbers`);
  }
  return Object.freeze([...bounds]);
}

/**
 * Pre-aggregated mlwatch metrics, readable by any OTel MetricReader: pass it
 * in the reader's `metricProducers` option (startMonitoring() does this for
 * the global instance, see mlwatchMetricProducer()). Data points are
 * cumulative, like the OTLP exporters' default; exponential histograms use
 * base-2 buckets with up to 160 buckets.
 */
export class MlwatchMetricProducer implements MetricProducer {
  /** Maximum buckets of each exponential histogram created from now on. */
  maxHistogramBuckets: number;
  /** Maximum series per instrument for series created from now on. */
  cardinalityLimit: number;
  private readonly instruments = new Map<string, InstrumentState>();
  private attachedToReader = false;

  constructor(options: MlwatchMetricProducerOptions = {}) {
    const maxSize = options.maxHistogramBuckets ?? 160;
    if (!Number.isInteger(maxSize) || maxSize < 2 || maxSize > 16_384) {
      throw new RangeError("mlwatch: maxHistogramBuckets must be an integer in [2, 16384]");
    }
    const limit = options.cardinalityLimit ?? 2000;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError("mlwatch: cardinalityLimit must be a positive integer");
    }
    this.maxHistogramBuckets = maxSize;
    this.cardinalityLimit = limit;
  }

  /** Whether this producer was handed to a reader (by startMonitoring() or mlwatchMetricProducer()). */
  get attached(): boolean {
    return this.attachedToReader;
  }

  /** Records that a reader will collect this producer. */
  markAttached(): this {
    this.attachedToReader = true;
    return this;
  }

  private state(spec: InstrumentSpec): InstrumentState {
    let s = this.instruments.get(spec.name);
    if (!s) {
      s = { spec, type: instrumentType(spec), series: new Map(), overflow: null, explicitBounds: null };
      this.instruments.set(spec.name, s);
    }
    return s;
  }

  private seriesFor(spec: InstrumentSpec, attributes: Attributes): Series {
    const s = this.state(spec);
    const key = attributesKey(attributes);
    const existing = s.series.get(key);
    if (existing) return existing;
    const make = (attrs: Attributes): Series => {
      const frozen = Object.freeze({ ...attrs });
      if (spec.kind === "histogram") {
        const h = new HistogramSeries(frozen, hrTime(), this.maxHistogramBuckets);
        if (s.explicitBounds) h.explicit = new ExplicitBuckets(s.explicitBounds);
        return h;
      }
      return new CounterSeries(frozen, hrTime());
    };
    if (s.series.size >= this.cardinalityLimit - 1) {
      // Like the OTel SDK: limit - 1 regular series, then one overflow series.
      s.overflow ??= make(OVERFLOW_ATTRIBUTES);
      return s.overflow;
    }
    const series = make(attributes);
    s.series.set(key, series);
    return series;
  }

  /** A counter or up-down counter of `spec` bound to `attributes` (shared by everyone asking for the same pair). */
  counter(spec: InstrumentSpec, attributes: Attributes): CounterHandle {
    if (spec.kind === "histogram") throw new TypeError(`mlwatch: ${spec.name} is a histogram`);
    return this.seriesFor(spec, attributes) as CounterSeries;
  }

  /** A histogram of `spec` bound to `attributes`. */
  histogram(spec: InstrumentSpec, attributes: Attributes): HistogramHandle {
    if (spec.kind !== "histogram") throw new TypeError(`mlwatch: ${spec.name} is not a histogram`);
    return this.seriesFor(spec, attributes) as HistogramSeries;
  }

  async collect(): Promise<CollectionResult> {
    try {
      const endTime = hrTime();
      const metrics: MetricData[] = [];
      for (const s of this.instruments.values()) {
        const m = this.metricData(s, endTime);
        if (m) metrics.push(m);
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: metrics.length ? [{ scope: { name: SDK_NAME, version: SDK_VERSION }, metrics }] : [],
        },
        errors: [],
      };
    } catch (e) {
      report("collect", e);
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [] }, errors: [e] };
    }
  }

  private allSeries(s: InstrumentState): Series[] {
    const out = [...s.series.values()];
    if (s.overflow) out.push(s.overflow);
    return out;
  }

  private metricData(s: InstrumentState, endTime: HrTime): MetricData | undefined {
    const series = this.allSeries(s);
    if (series.length === 0) return undefined;
    const descriptor = {
      name: s.spec.name,
      description: s.spec.description,
      unit: s.spec.unit,
      type: s.type,
      valueType: ValueType.DOUBLE,
      advice: {},
    };
    if (s.spec.kind === "histogram") {
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
        dataPoints: series.map(
          (h): DataPoint<ExponentialHistogram> => ({
            attributes: h.attributes,
            startTime: h.startTime,
            endTime,
            value: (h as HistogramSeries).exp.collect(),
          }),
        ),
      };
    }
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: s.spec.kind === "counter",
      dataPoints: series.map(
        (c): DataPoint<number> => ({
          attributes: c.attributes,
          startTime: c.startTime,
          endTime,
          value: (c as CounterSeries).value,
        }),
      ),
    };
  }

  /**
   * A second view of the same data for a Prometheus pull endpoint (the OTel
   * Prometheus exporter's `metricProducers`): families and labels named as
   * the collector and the reference design name them (`ml_requests_total`,
   * `model_name`, …), and classic histograms for latency and confidence,
   * which this call starts recording beside the exponential ones. Feature
   * distributions are left out: drift is the collector's job.
   */
  prometheusProducer(options: PrometheusViewOptions = {}): MetricProducer {
    const latency = checkBounds("latencyBuckets", options.latencyBuckets ?? DefaultLatencyBuckets);
    const confidence = checkBounds("confidenceBuckets", options.confidenceBuckets ?? CONFIDENCE_BUCKETS);
    this.enableExplicit(Instruments.duration, latency);
    this.enableExplicit(Instruments.confidence, confidence);
    this.markAttached();
    return { collect: () => this.collectPrometheus() };
  }

  private enableExplicit(spec: InstrumentSpec, bounds: readonly number[]): void {
    const s = this.state(spec);
    s.explicitBounds = bounds;
    for (const h of this.allSeries(s)) {
      const hs = h as HistogramSeries;
      if (!hs.explicit) hs.explicit = new ExplicitBuckets(bounds);
    }
  }

  private async collectPrometheus(): Promise<CollectionResult> {
    try {
      const endTime = hrTime();
      const metrics: MetricData[] = [];
      for (const s of this.instruments.values()) {
        if (s.spec.name === Instruments.featureValue.name) continue;
        const series = this.allSeries(s);
        if (series.length === 0) continue;
        const descriptor = {
          name: s.spec.prom.replace(/_total$/, ""),
          description: s.spec.description,
          unit: "",
          type: s.type,
          valueType: ValueType.DOUBLE,
          advice: {},
        };
        if (s.spec.kind === "histogram") {
          const points: DataPoint<Histogram>[] = [];
          for (const h of series as HistogramSeries[]) {
            const e = h.explicit;
            if (!e || e.count === 0) continue;
            points.push({
              attributes: promAttributes(h),
              startTime: h.startTime,
              endTime,
              value: {
                buckets: { boundaries: [...e.bounds], counts: Array.from(e.counts) },
                count: e.count,
                sum: e.sum,
                min: e.min,
                max: e.max,
              },
            });
          }
          if (points.length)
            metrics.push({
              descriptor,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: points,
            });
        } else {
          metrics.push({
            descriptor,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.SUM,
            isMonotonic: s.spec.kind === "counter",
            dataPoints: (series as CounterSeries[]).map((c) => ({
              attributes: promAttributes(c),
              startTime: c.startTime,
              endTime,
              value: c.value,
            })),
          });
        }
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: metrics.length ? [{ scope: { name: SDK_NAME, version: SDK_VERSION }, metrics }] : [],
        },
        errors: [],
      };
    } catch (e) {
      report("collect (prometheus)", e);
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [] }, errors: [e] };
    }
  }
}

function promAttributes(s: Series): Attributes {
  if (s.promAttributes === undefined) {
    const out: Attributes = {};
    for (const [k, v] of Object.entries(s.attributes)) {
      const label = (PromLabel as Record<string, string | undefined>)[k] ?? k.replace(/[^a-zA-Z0-9_]/g, "_");
      out[label] = v;
    }
    s.promAttributes = Object.freeze(out);
  }
  return s.promAttributes;
}

// Kept on globalThis so that two copies of the package in one process share it.
const GLOBAL_KEY = Symbol.for("@mlwatch/sdk.producer");
const holder = globalThis as { [GLOBAL_KEY]?: MlwatchMetricProducer };

/** The process-wide producer ModelMonitor records into by default; calling this marks it as wired to a reader. */
export function mlwatchMetricProducer(): MlwatchMetricProducer {
  return defaultProducer().markAttached();
}

/** The process-wide producer, without marking it attached. */
export function defaultProducer(): MlwatchMetricProducer {
  holder[GLOBAL_KEY] ??= new MlwatchMetricProducer();
  return holder[GLOBAL_KEY];
}
