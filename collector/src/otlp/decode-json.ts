// OTLP/JSON decoders (ExportMetricsServiceRequest, ExportLogsServiceRequest): the
// entry points, enums, and the metrics and logs messages. Field-level reading is in
// json-values.ts, the common messages in json-common.ts.
//
// Accepted, following the OTLP/JSON encoding rules and the proto3 JSON mapping:
//   - field names in lowerCamelCase or as in the proto (snake_case); null = absent;
//   - 64-bit integers as JSON numbers or decimal strings (timestamps given as numbers
//     above 2^53 have already lost precision in JSON.parse; send strings);
//   - enums as integers or names ("AGGREGATION_TEMPORALITY_DELTA", "SEVERITY_NUMBER_INFO");
//   - doubles as numbers or the strings "NaN", "Infinity", "-Infinity" (or a numeric string);
//   - bytesValue as base64 (standard or URL-safe); traceId/spanId (hex) are ignored;
//   - strings with lone surrogates (from "\ud800" escapes) get U+FFFD in their place.
// Rejected with DecodeError: a value of the wrong JSON type, negative or fractional
// counts, integers outside their range, counts above 2^53-1, two members of a oneof,
// limits exceeded. The output is identical to the protobuf decoders' for the same data,
// including the conventions documented there (skipped summaries, dropped
// NO_RECORDED_VALUE points, AnyValue conversions in values.ts).

import { fail, resolveLimits, rethrowAt, rethrowFinal } from "./errors.js";
import { attributesInto, body, resourceInto, scopeOf } from "./json-common.js";
import {
  asArray,
  asObject,
  bool,
  count,
  countValue,
  doubleValue,
  get,
  int32,
  int32Value,
  int64Num,
  type Json,
  optDouble,
  optObject,
  str,
  timestamp,
  uint32,
} from "./json-values.js";
import {
  DecodeError,
  type DecodeLimits,
  type ExpBuckets,
  type ExpHistogramPoint,
  type HistogramPoint,
  type LogRecord,
  type LogsRequest,
  type Metric,
  type MetricsRequest,
  type NumberPoint,
  type ResourceLogs,
  type ResourceMetrics,
  type ScopeLogs,
  type ScopeMetrics,
  Temporality,
} from "./types.js";
import { newAttributes } from "./values.js";

const NO_RECORDED_VALUE = 1;

/** Decodes an OTLP/JSON ExportMetricsServiceRequest. Throws DecodeError on malformed input. */
export function decodeMetricsJson(text: string, limits?: Partial<DecodeLimits>): MetricsRequest {
  const lim = resolveLimits(limits);
  const root = parse(text);
  const resourceMetrics: ResourceMetrics[] = [];
  try {
    const o = asObject(root, "request");
    const list = asArray(get(o, "resourceMetrics", "resource_metrics"), "resourceMetrics", lim);
    for (let i = 0; i < list.length; i++) {
      try {
        resourceMetrics.push(resourceMetricsOf(asObject(list[i], "ResourceMetrics"), lim));
      } catch (e) {
        rethrowAt(e, "resourceMetrics", i);
      }
    }
  } catch (e) {
    rethrowFinal(e);
  }
  return { resourceMetrics };
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest. Throws DecodeError on malformed input. */
export function decodeLogsJson(text: string, limits?: Partial<DecodeLimits>): LogsRequest {
  const lim = resolveLimits(limits);
  const root = parse(text);
  const resourceLogs: ResourceLogs[] = [];
  try {
    const o = asObject(root, "request");
    const list = asArray(get(o, "resourceLogs", "resource_logs"), "resourceLogs", lim);
    for (let i = 0; i < list.length; i++) {
      try {
        resourceLogs.push(resourceLogsOf(asObject(list[i], "ResourceLogs"), lim));
      } catch (e) {
        rethrowAt(e, "resourceLogs", i);
      }
    }
  } catch (e) {
    rethrowFinal(e);
  }
  return { resourceLogs };
}

function parse(text: string): unknown {
  if (typeof text !== "string") throw new DecodeError("OTLP/JSON body must be a string");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DecodeError(`invalid JSON: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// Enums

const TEMPORALITY_NAMES: Record<string, Temporality> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: Temporality.Unspecified,
  AGGREGATION_TEMPORALITY_DELTA: Temporality.Delta,
  AGGREGATION_TEMPORALITY_CUMULATIVE: Temporality.Cumulative,
};

function temporality(o: Json): Temporality {
  const v = get(o, "aggregationTemporality", "aggregation_temporality");
  if (v === undefined) return Temporality.Unspecified;
  if (typeof v === "string" && Object.hasOwn(TEMPORALITY_NAMES, v)) return TEMPORALITY_NAMES[v]!;
  const n = int32Value(v, "aggregationTemporality", -2147483648, 2147483647);
  return n === Temporality.Delta || n === Temporality.Cumulative ? n : Temporality.Unspecified;
}

const SEVERITY_NAMES: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
for (const [i, level] of ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].entries()) {
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
  for (let k = 2; k <= 4; k++) SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${k}`] = i * 4 + k;
}

function severity(o: Json): number {
  const v = get(o, "severityNumber", "severity_number");
  if (v === undefined) return 0;
  if (typeof v === "string" && Object.hasOwn(SEVERITY_NAMES, v)) return SEVERITY_NAMES[v]!;
  return int32Value(v, "severityNumber", -2147483648, 2147483647);
}

// ---------------------------------------------------------------------------
// Metrics

function resourceMetricsOf(o: Json, lim: DecodeLimits): ResourceMetrics {
  const rm: ResourceMetrics = { resource: newAttributes(), scopeMetrics: [] };
  resourceInto(o, rm.resource, lim);
  const list = asArray(get(o, "scopeMetrics", "scope_metrics"), "scopeMetrics", lim);
  for (let i = 0; i < list.length; i++) {
    try {
      const so = asObject(list[i], "ScopeMetrics");
      const sm: ScopeMetrics = { scope: scopeOf(so, lim), metrics: [] };
      const metrics = asArray(get(so, "metrics", "metrics"), "metrics", lim);
      for (let j = 0; j < metrics.length; j++) {
        try {
          const m = metricOf(asObject(metrics[j], "Metric"), lim);
          if (m !== null) sm.metrics.push(m);
        } catch (e) {
          rethrowAt(e, "metrics", j);
        }
      }
      rm.scopeMetrics.push(sm);
    } catch (e) {
      rethrowAt(e, "scopeMetrics", i);
    }
  }
  return rm;
}

const DATA_FIELDS = [
  ["gauge", "gauge"],
  ["sum", "sum"],
  ["histogram", "histogram"],
  ["exponentialHistogram", "exponential_histogram"],
  ["summary", "summary"],
] as const;

function metricOf(o: Json, lim: DecodeLimits): Metric | null {
  const name = str(o, "name", "name", lim);
  const description = str(o, "description", "description", lim);
  const unit = str(o, "unit", "unit", lim);
  let which = -1;
  let data: Json | undefined;
  for (let i = 0; i < DATA_FIELDS.length; i++) {
    const [camel, snake] = DATA_FIELDS[i]!;
    const v = get(o, camel, snake);
    if (v === undefined) continue;
    if (which !== -1)
      fail(`metric has more than one of gauge, sum, histogram, exponentialHistogram, summary`);
    which = i;
    data = asObject(v, camel);
  }
  if (data === undefined || which === 4) return null;
  const segment = DATA_FIELDS[which]![0];
  try {
    switch (which) {
      case 0:
        return { name, unit, description, kind: "gauge", points: points(data, lim, numberPoint) };
      case 1:
        return {
          name,
          unit,
          description,
          kind: "sum",
          temporality: temporality(data),
          monotonic: bool(data, "isMonotonic", "is_monotonic"),
          points: points(data, lim, numberPoint),
        };
      case 2:
        return {
          name,
          unit,
          description,
          kind: "histogram",
          temporality: temporality(data),
          points: points(data, lim, histogramPoint),
        };
      default:
        return {
          name,
          unit,
          description,
          kind: "exponential_histogram",
          temporality: temporality(data),
          points: points(data, lim, expHistogramPoint),
        };
    }
  } catch (e) {
    rethrowAt(e, segment);
  }
}

function points<P>(data: Json, lim: DecodeLimits, one: (o: Json, lim: DecodeLimits) => P | null): P[] {
  const list = asArray(get(data, "dataPoints", "data_points"), "dataPoints", lim);
  const out: P[] = [];
  for (let i = 0; i < list.length; i++) {
    try {
      const p = one(asObject(list[i], "data point"), lim);
      if (p !== null) out.push(p);
    } catch (e) {
      rethrowAt(e, "dataPoints", i);
    }
  }
  return out;
}

function noRecordedValue(o: Json): boolean {
  return (uint32(o, "flags", "flags") & NO_RECORDED_VALUE) !== 0;
}

function numberPoint(o: Json, lim: DecodeLimits): NumberPoint | null {
  const p: NumberPoint = {
    attributes: newAttributes(),
    startTimeUnixNano: timestamp(o, "startTimeUnixNano", "start_time_unix_nano"),
    timeUnixNano: timestamp(o, "timeUnixNano", "time_unix_nano"),
    value: 0,
  };
  attributesInto(get(o, "attributes", "attributes"), p.attributes, lim);
  const d = get(o, "asDouble", "as_double");
  const i = get(o, "asInt", "as_int");
  if (d !== undefined && i !== undefined) fail("data point has both asDouble and asInt");
  if (d !== undefined) p.value = doubleValue(d, "asDouble");
  else if (i !== undefined) p.value = int64Num(i, "asInt");
  return noRecordedValue(o) ? null : p;
}

function countList(v: unknown, what: string, lim: DecodeLimits): number[] {
  const list = asArray(v, what, lim);
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = countValue(list[i], what, i);
  return out;
}

function histogramPoint(o: Json, lim: DecodeLimits): HistogramPoint | null {
  const p: HistogramPoint = {
    attributes: newAttributes(),
    startTimeUnixNano: timestamp(o, "startTimeUnixNano", "start_time_unix_nano"),
    timeUnixNano: timestamp(o, "timeUnixNano", "time_unix_nano"),
    count: count(o, "count", "count"),
    sum: optDouble(o, "sum", "sum"),
    min: optDouble(o, "min", "min"),
    max: optDouble(o, "max", "max"),
    bucketCounts: countList(get(o, "bucketCounts", "bucket_counts"), "bucketCounts", lim),
    explicitBounds: [],
  };
  const bounds = asArray(get(o, "explicitBounds", "explicit_bounds"), "explicitBounds", lim);
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i];
    p.explicitBounds.push(typeof b === "number" ? b : doubleValue(b, `explicitBounds[${i}]`));
  }
  attributesInto(get(o, "attributes", "attributes"), p.attributes, lim);
  return noRecordedValue(o) ? null : p;
}

function bucketsOf(o: Json, camel: string, lim: DecodeLimits): ExpBuckets {
  const b = optObject(o, camel, camel);
  if (b === undefined) return { offset: 0, bucketCounts: [] };
  try {
    return {
      offset: int32(b, "offset", "offset"),
      bucketCounts: countList(get(b, "bucketCounts", "bucket_counts"), "bucketCounts", lim),
    };
  } catch (e) {
    rethrowAt(e, camel);
  }
}

function expHistogramPoint(o: Json, lim: DecodeLimits): ExpHistogramPoint | null {
  const p: ExpHistogramPoint = {
    attributes: newAttributes(),
    startTimeUnixNano: timestamp(o, "startTimeUnixNano", "start_time_unix_nano"),
    timeUnixNano: timestamp(o, "timeUnixNano", "time_unix_nano"),
    count: count(o, "count", "count"),
    sum: optDouble(o, "sum", "sum"),
    min: optDouble(o, "min", "min"),
    max: optDouble(o, "max", "max"),
    scale: int32(o, "scale", "scale"),
    zeroCount: count(o, "zeroCount", "zero_count"),
    zeroThreshold: optDouble(o, "zeroThreshold", "zero_threshold") ?? 0,
    positive: bucketsOf(o, "positive", lim),
    negative: bucketsOf(o, "negative", lim),
  };
  attributesInto(get(o, "attributes", "attributes"), p.attributes, lim);
  return noRecordedValue(o) ? null : p;
}

// ---------------------------------------------------------------------------
// Logs

function resourceLogsOf(o: Json, lim: DecodeLimits): ResourceLogs {
  const rl: ResourceLogs = { resource: Object.create(null), scopeLogs: [] };
  resourceInto(o, rl.resource, lim);
  const list = asArray(get(o, "scopeLogs", "scope_logs"), "scopeLogs", lim);
  for (let i = 0; i < list.length; i++) {
    try {
      const so = asObject(list[i], "ScopeLogs");
      const sl: ScopeLogs = { scope: scopeOf(so, lim), logRecords: [] };
      const records = asArray(get(so, "logRecords", "log_records"), "logRecords", lim);
      for (let j = 0; j < records.length; j++) {
        try {
          sl.logRecords.push(logRecordOf(asObject(records[j], "LogRecord"), lim));
        } catch (e) {
          rethrowAt(e, "logRecords", j);
        }
      }
      rl.scopeLogs.push(sl);
    } catch (e) {
      rethrowAt(e, "scopeLogs", i);
    }
  }
  return rl;
}

function logRecordOf(o: Json, lim: DecodeLimits): LogRecord {
  const rec: LogRecord = {
    timeUnixNano: timestamp(o, "timeUnixNano", "time_unix_nano"),
    observedTimeUnixNano: timestamp(o, "observedTimeUnixNano", "observed_time_unix_nano"),
    severityNumber: severity(o),
    severityText: str(o, "severityText", "severity_text", lim),
    body: null,
    attributes: Object.create(null),
    eventName: str(o, "eventName", "event_name", lim),
  };
  const b = get(o, "body", "body");
  if (b !== undefined) {
    try {
      rec.body = body(b, lim);
    } catch (e) {
      rethrowAt(e, "body");
    }
  }
  attributesInto(get(o, "attributes", "attributes"), rec.attributes, lim);
  return rec;
}
