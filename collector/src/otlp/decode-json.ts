// OTLP/JSON decoders (ExportMetricsServiceRequest, ExportLogsServiceRequest).
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
import {
  type Attributes,
  type AttrValue,
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
import {
  doubleToJson,
  int64ToAttr,
  kvlistToJson,
  newAttributes,
  toHex,
  utf8LengthExceeds,
} from "./values.js";

type Json = Record<string, unknown>;

const EMPTY: readonly unknown[] = Object.freeze([]);
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
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
// JSON value helpers

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v.length > 40 ? `string "${v.slice(0, 40)}..."` : `string "${v}"`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** A field by its lowerCamelCase or its proto name; null counts as absent. */
function get(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const w = o[snake];
  return w === null ? undefined : w;
}

function asObject(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    fail(`${what}: expected an object, got ${describe(v)}`);
  return v as Json;
}

function optObject(o: Json, camel: string, snake: string): Json | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : asObject(v, camel);
}

function asArray(v: unknown, what: string, lim: DecodeLimits): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) fail(`${what}: expected an array, got ${describe(v)}`);
  if (v.length > lim.maxRepeated) fail(`${what} has more than maxRepeated (${lim.maxRepeated}) elements`);
  return v;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function strValue(v: unknown, what: string, lim: DecodeLimits): string {
  if (typeof v !== "string") fail(`${what}: expected a string, got ${describe(v)}`);
  if (utf8LengthExceeds(v, lim.maxStringBytes)) {
    fail(`${what}: string exceeds maxStringBytes (${lim.maxStringBytes})`);
  }
  // JSON "\ud800" escapes can produce lone surrogates; like invalid UTF-8 in protobuf,
  // they become U+FFFD so that every decoded string is valid Unicode.
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(v) ? v.replace(LONE_SURROGATE, "\uFFFD") : v;
}

function str(o: Json, camel: string, snake: string, lim: DecodeLimits): string {
  const v = get(o, camel, snake);
  return v === undefined ? "" : strValue(v, camel, lim);
}

const INT_RE = /^-?\d+$/;

/** An unsigned 64-bit count as a number; negative, fractional or above 2^53-1 is an error. */
function count(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : countValue(v, camel);
}

function countValue(v: unknown, what: string, index?: number): number {
  // Fast path: a plain non-negative safe integer.
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  let n = Number.NaN;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  const name = index === undefined ? what : `${what}[${index}]`;
  if (!Number.isInteger(n) || n < 0) fail(`${name}: expected a non-negative integer, got ${describe(v)}`);
  if (n > Number.MAX_SAFE_INTEGER) fail(`${name} exceeds 2^53-1 (Number.MAX_SAFE_INTEGER)`);
  return n;
}

/** A signed 64-bit integer as a number; beyond ±(2^53-1) is an error. */
function int64Num(v: unknown, what: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  else fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n)) fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(n)) fail(`${what} exceeds 2^53-1 (Number.MAX_SAFE_INTEGER) in magnitude`);
  return n;
}

/** A 32-bit integer (int32 / uint32 / enum number). */
function int32Value(v: unknown, what: string, min: number, max: number): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  else fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`${what}: expected an integer in [${min}, ${max}], got ${describe(v)}`);
  return n;
}

function int32(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : int32Value(v, camel, -2147483648, 2147483647);
}

function uint32(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : int32Value(v, camel, 0, 4294967295);
}

/** A fixed64 timestamp as an exact bigint (from a decimal string) or from a non-negative integer number. */
function timestamp(o: Json, camel: string, snake: string): bigint {
  const v = get(o, camel, snake);
  if (v === undefined) return 0n;
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b <= UINT64_MAX) return b;
  } else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 64) {
    return BigInt(v);
  }
  fail(`${camel}: expected an unsigned 64-bit integer, got ${describe(v)}`);
}

const NUMERIC_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function doubleValue(v: unknown, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (v === "NaN") return Number.NaN;
    if (v === "Infinity") return Number.POSITIVE_INFINITY;
    if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
    if (NUMERIC_RE.test(v)) return Number(v);
  }
  fail(`${what}: expected a number, got ${describe(v)}`);
}

function optDouble(o: Json, camel: string, snake: string): number | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : doubleValue(v, camel);
}

function bool(o: Json, camel: string, snake: string): boolean {
  const v = get(o, camel, snake);
  if (v === undefined) return false;
  if (typeof v !== "boolean") fail(`${camel}: expected a boolean, got ${describe(v)}`);
  return v;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64ToHex(v: unknown, what: string, lim: DecodeLimits): string {
  if (typeof v !== "string" || !BASE64_RE.test(v) || v.length % 4 === 1) {
    fail(`${what}: expected a base64 string, got ${describe(v)}`);
  }
  const bytes = Buffer.from(v, "base64");
  if (bytes.length > lim.maxStringBytes)
    fail(`${what}: bytes value exceeds maxStringBytes (${lim.maxStringBytes})`);
  return toHex(bytes);
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
// common.proto: attributes and AnyValue

function attributesInto(v: unknown, attrs: Attributes, lim: DecodeLimits): void {
  const list = asArray(v, "attributes", lim);
  if (list.length > lim.maxAttributes) fail(`more than maxAttributes (${lim.maxAttributes}) attributes`);
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = asObject(list[i], "KeyValue");
      const key = str(kv, "key", "key", lim);
      let value: AttrValue | undefined;
      try {
        const av = get(kv, "value", "value");
        value = av === undefined ? undefined : attrValue(av, 1, lim);
      } catch (e) {
        rethrowAt(e, "value");
      }
      if (value === undefined) delete attrs[key];
      else attrs[key] = value;
    } catch (e) {
      rethrowAt(e, "attributes", i);
    }
  }
}

function checkDepth(depth: number, lim: DecodeLimits): void {
  if (depth > lim.maxDepth) fail(`AnyValue nesting exceeds maxDepth (${lim.maxDepth})`);
}

const ONEOF_FIELDS = [
  "stringValue",
  "string_value",
  "boolValue",
  "bool_value",
  "intValue",
  "int_value",
  "doubleValue",
  "double_value",
  "arrayValue",
  "array_value",
  "kvlistValue",
  "kvlist_value",
  "bytesValue",
  "bytes_value",
];

/** Which AnyValue member is set: index into ONEOF_FIELDS / 2, or -1 when empty. */
function anyKind(o: Json): number {
  let kind = -1;
  for (let i = 0; i < ONEOF_FIELDS.length; i++) {
    const v = o[ONEOF_FIELDS[i]!];
    if (v === undefined || v === null) continue;
    const k = i >> 1;
    if (kind !== -1 && kind !== k) fail("AnyValue has more than one value set");
    kind = k;
  }
  return kind;
}

function anyMember(o: Json, kind: number): unknown {
  return get(o, ONEOF_FIELDS[kind * 2]!, ONEOF_FIELDS[kind * 2 + 1]!);
}

function intAttr(v: unknown, what: string): AttrValue {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) fail(`${what}: expected an integer, got ${describe(v)}`);
    if (Number.isSafeInteger(v)) return v;
    v = BigInt(v).toString();
  }
  if (typeof v !== "string" || !INT_RE.test(v)) fail(`${what}: expected an integer, got ${describe(v)}`);
  const b = BigInt(v);
  if (b < INT64_MIN || b > INT64_MAX) fail(`${what}: ${v} is out of the int64 range`);
  return int64ToAttr(b);
}

/** AnyValue as an attribute value; see values.ts for the conversions. */
function attrValue(v: unknown, depth: number, lim: DecodeLimits): AttrValue | undefined {
  checkDepth(depth, lim);
  const o = asObject(v, "AnyValue");
  const kind = anyKind(o);
  if (kind === -1) return undefined;
  const m = anyMember(o, kind);
  switch (kind) {
    case 0:
      return strValue(m, "stringValue", lim);
    case 1:
      if (typeof m !== "boolean") fail(`boolValue: expected a boolean, got ${describe(m)}`);
      return m;
    case 2:
      return intAttr(m, "intValue");
    case 3:
      return doubleValue(m, "doubleValue");
    case 4:
      return arrayJson(m, depth, lim);
    case 5:
      return kvlistJson(m, depth, lim);
    default:
      return base64ToHex(m, "bytesValue", lim);
  }
}

/** AnyValue as JSON text ("null" when empty). */
function anyJson(v: unknown, depth: number, lim: DecodeLimits): string {
  const a = attrValue(v, depth, lim);
  if (a === undefined) return "null";
  const kind = anyKind(v as Json);
  switch (kind) {
    case 2:
      return String(a); // exact digits: a valid JSON number
    case 3:
      return doubleToJson(a as number);
    case 4:
    case 5:
      return a as string; // already JSON text
    default:
      return JSON.stringify(a);
  }
}

function arrayJson(v: unknown, depth: number, lim: DecodeLimits): string {
  try {
    const list = asArray(get(asObject(v, "ArrayValue"), "values", "values"), "values", lim);
    let s = "[";
    for (let i = 0; i < list.length; i++) {
      try {
        s += (i === 0 ? "" : ",") + anyJson(list[i], depth + 1, lim);
      } catch (e) {
        rethrowAt(e, "values", i);
      }
    }
    return s + "]";
  } catch (e) {
    rethrowAt(e, "arrayValue");
  }
}

function kvlistJson(v: unknown, depth: number, lim: DecodeLimits): string {
  try {
    const list = asArray(get(asObject(v, "KeyValueList"), "values", "values"), "values", lim);
    if (list.length > lim.maxAttributes)
      fail(`kvlist has more than maxAttributes (${lim.maxAttributes}) entries`);
    const entries = new Map<string, string>();
    for (let i = 0; i < list.length; i++) {
      try {
        const kv = asObject(list[i], "KeyValue");
        const key = str(kv, "key", "key", lim);
        const av = get(kv, "value", "value");
        let text = "null";
        try {
          if (av !== undefined) text = anyJson(av, depth + 1, lim);
        } catch (e) {
          rethrowAt(e, "value");
        }
        entries.set(key, text);
      } catch (e) {
        rethrowAt(e, "values", i);
      }
    }
    return kvlistToJson(entries);
  } catch (e) {
    rethrowAt(e, "kvlistValue");
  }
}

/** A log body; same shape rules as the protobuf decoder's readBody. */
function body(v: unknown, lim: DecodeLimits): AttrValue | Attributes | AttrValue[] | null {
  checkDepth(1, lim);
  const o = asObject(v, "AnyValue");
  const kind = anyKind(o);
  if (kind === 4) {
    try {
      const list = asArray(
        get(asObject(anyMember(o, kind), "ArrayValue"), "values", "values"),
        "values",
        lim,
      );
      const out: AttrValue[] = [];
      for (let i = 0; i < list.length; i++) {
        let item: AttrValue | undefined;
        try {
          item = attrValue(list[i], 2, lim);
        } catch (e) {
          rethrowAt(e, "values", i);
        }
        if (item === undefined) return arrayJson(anyMember(o, kind), 1, lim);
        out.push(item);
      }
      return out;
    } catch (e) {
      rethrowAt(e, "arrayValue");
    }
  }
  if (kind === 5) {
    try {
      const attrs: Attributes = Object.create(null);
      const list = asArray(
        get(asObject(anyMember(o, kind), "KeyValueList"), "values", "values"),
        "values",
        lim,
      );
      if (list.length > lim.maxAttributes)
        fail(`kvlist has more than maxAttributes (${lim.maxAttributes}) entries`);
      for (let i = 0; i < list.length; i++) {
        try {
          const kv = asObject(list[i], "KeyValue");
          const key = str(kv, "key", "key", lim);
          let value: AttrValue | undefined;
          try {
            const av = get(kv, "value", "value");
            value = av === undefined ? undefined : attrValue(av, 2, lim);
          } catch (e) {
            rethrowAt(e, "value");
          }
          if (value === undefined) delete attrs[key];
          else attrs[key] = value;
        } catch (e) {
          rethrowAt(e, "values", i);
        }
      }
      return attrs;
    } catch (e) {
      rethrowAt(e, "kvlistValue");
    }
  }
  const a = attrValue(o, 1, lim);
  return a === undefined ? null : a;
}

function resourceInto(o: Json, attrs: Attributes, lim: DecodeLimits): void {
  const res = optObject(o, "resource", "resource");
  if (res === undefined) return;
  try {
    attributesInto(get(res, "attributes", "attributes"), attrs, lim);
  } catch (e) {
    rethrowAt(e, "resource");
  }
}

function scopeOf(o: Json, lim: DecodeLimits): { name: string; version: string } {
  const s = optObject(o, "scope", "scope");
  if (s === undefined) return { name: "", version: "" };
  try {
    return { name: str(s, "name", "name", lim), version: str(s, "version", "version", lim) };
  } catch (e) {
    rethrowAt(e, "scope");
  }
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
