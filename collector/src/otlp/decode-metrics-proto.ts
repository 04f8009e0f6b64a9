// ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1) decoder.
//
// Field numbers are those of opentelemetry-proto metrics/v1/metrics.proto:
//   ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1 }
//   ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3 }
//   ScopeMetrics    { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3 }
//   Metric { name = 1; description = 2; unit = 3; oneof data { Gauge gauge = 5; Sum sum = 7;
//            Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11 };
//            repeated KeyValue metadata = 12 }
//   Gauge { data_points = 1 }   Sum { data_points = 1; aggregation_temporality = 2; bool is_monotonic = 3 }
//   Histogram / ExponentialHistogram { data_points = 1; aggregation_temporality = 2 }
//   NumberDataPoint { attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
//            double as_double = 4; sfixed64 as_int = 6; exemplars = 5; uint32 flags = 8 }
//   HistogramDataPoint { attributes = 9; start = 2; time = 3; fixed64 count = 4; optional double sum = 5;
//            repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; exemplars = 8;
//            uint32 flags = 10; optional double min = 11; optional double max = 12 }
//   ExponentialHistogramDataPoint { attributes = 1; start = 2; time = 3; fixed64 count = 4;
//            optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8;
//            Buckets negative = 9; uint32 flags = 10; exemplars = 11; optional double min = 12;
//            optional double max = 13; double zero_threshold = 14 }
//   Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2 }
//
// What is kept and what is not:
//   - Summary metrics, and metrics with no data, are skipped.
//   - Points flagged NO_RECORDED_VALUE (flags bit 0, staleness markers) are dropped:
//     they carry no measurement and a zero "value" would look like a counter reset.
//   - Exemplars, metadata, schema URLs, scope attributes and dropped counts are skipped.
//   - aggregation_temporality values other than 1 and 2 decode as Unspecified (0),
//     which a later stage rejects as a data error (partial success), not a 400.
//   - Absent optional doubles (sum, min, max) are `undefined` properties.
//   - A message field that appears twice is merged, as protobuf specifies (repeated
//     fields append, scalars last-wins); a later oneof member replaces an earlier one.

import { materializeBuckets } from "@mlwatch/stats/otlp";
import { readResourceInto, readScopeInto } from "./any-value.js";
import { readPointAttribute } from "./attribute-cache.js";
import { resolveLimits, rethrowAt, rethrowFinal } from "./errors.js";
import { I64, LEN, ProtoReader, readRepeatedMessage, VARINT, wrongWire } from "./proto-reader.js";
import {
  type DecodeLimits,
  type ExpBuckets,
  type ExpHistogramPoint,
  type HistogramPoint,
  type Metric,
  type MetricsRequest,
  type NumberPoint,
  type ResourceMetrics,
  type ScopeMetrics,
  Temporality,
} from "./types.js";
import { NO_ATTRIBUTES, newAttributes } from "./values.js";

const NO_RECORDED_VALUE = 1;

export interface MetricsDecodeOptions {
  /**
   * Leave an exponential histogram's bucket counts encoded where they come as
   * one packed run: `bucketCounts` stays empty and `varints` says where they
   * are in `buf` (checked as when decoded). For a caller that consumes the
   * request while `buf` is unchanged and reads buckets through
   * materializeBuckets() or ExpHistogram (the collector's ingest path).
   */
  keepBucketVarints?: boolean;
}

/** Decodes a binary ExportMetricsServiceRequest. Throws DecodeError on malformed input. */
export function decodeMetricsProto(
  buf: Uint8Array,
  limits?: Partial<DecodeLimits>,
  options: MetricsDecodeOptions = {},
): MetricsRequest {
  const r = new ProtoReader(buf, resolveLimits(limits));
  r.keepBucketVarints = options.keepBucketVarints === true;
  const resourceMetrics: ResourceMetrics[] = [];
  try {
    const end = r.len;
    while (r.pos < end) {
      const tag = r.readTag(end);
      const f = tag >>> 3;
      const wt = tag & 7;
      if (f === 1) {
        const i = resourceMetrics.length;
        readRepeatedMessage(r, f, wt, end, resourceMetrics, i, "resource_metrics", readResourceMetrics);
      } else {
        r.skipField(wt, f, end);
      }
    }
  } catch (e) {
    rethrowFinal(e);
  }
  return { resourceMetrics };
}

function readResourceMetrics(r: ProtoReader, end: number): ResourceMetrics {
  const rm: ResourceMetrics = { resource: newAttributes(), scopeMetrics: [] };
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readResourceInto(r, r.readLen(end), rm.resource);
        } catch (e) {
          rethrowAt(e, "resource");
        }
        break;
      case 2:
        readRepeatedMessage(
          r,
          f,
          wt,
          end,
          rm.scopeMetrics,
          rm.scopeMetrics.length,
          "scope_metrics",
          readScopeMetrics,
        );
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return rm;
}

function readScopeMetrics(r: ProtoReader, end: number): ScopeMetrics {
  const sm: ScopeMetrics = { scope: { name: "", version: "" }, metrics: [] };
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readScopeInto(r, r.readLen(end), sm.scope);
        } catch (e) {
          rethrowAt(e, "scope");
        }
        break;
      case 2:
        readRepeatedMessage(r, f, wt, end, sm.metrics, n++, "metrics", readMetric);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return sm;
}

function readMetric(r: ProtoReader, end: number): Metric | null {
  let name = "";
  let description = "";
  let unit = "";
  let m: Metric | null = null;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        name = r.readString(end);
        break;
      case 2:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        description = r.readString(end);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        unit = r.readString(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        if (m === null || m.kind !== "gauge") {
          m = { name: "", unit: "", description: "", kind: "gauge", points: [] };
        }
        try {
          readDataPoints(r, r.readLen(end), m, readNumberPoint);
        } catch (e) {
          rethrowAt(e, "gauge");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        if (m === null || m.kind !== "sum") {
          m = {
            name: "",
            unit: "",
            description: "",
            kind: "sum",
            temporality: Temporality.Unspecified,
            monotonic: false,
            points: [],
          };
        }
        try {
          readDataPoints(r, r.readLen(end), m, readNumberPoint);
        } catch (e) {
          rethrowAt(e, "sum");
        }
        break;
      case 9:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        if (m === null || m.kind !== "histogram") {
          m = {
            name: "",
            unit: "",
            description: "",
            kind: "histogram",
            temporality: Temporality.Unspecified,
            points: [],
          };
        }
        try {
          readDataPoints(r, r.readLen(end), m, readHistogramPoint);
        } catch (e) {
          rethrowAt(e, "histogram");
        }
        break;
      case 10:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        if (m === null || m.kind !== "exponential_histogram") {
          m = {
            name: "",
            unit: "",
            description: "",
            kind: "exponential_histogram",
            temporality: Temporality.Unspecified,
            points: [],
          };
        }
        try {
          readDataPoints(r, r.readLen(end), m, readExpHistogramPoint);
        } catch (e) {
          rethrowAt(e, "exponential_histogram");
        }
        break;
      case 11: // summary: not supported, the metric is skipped
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        m = null;
        break;
      case 12: // metadata
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  if (m === null) return null;
  m.name = name;
  m.description = description;
  m.unit = unit;
  return m;
}

function toTemporality(v: number): Temporality {
  return v === Temporality.Delta || v === Temporality.Cumulative ? v : Temporality.Unspecified;
}

/**
 * Gauge, Sum, Histogram and ExponentialHistogram are laid out alike:
 * data_points = 1, aggregation_temporality = 2 (not in Gauge), is_monotonic
 * = 3 (Sum only); a field the metric's kind does not have is skipped.
 */
function readDataPoints<P>(
  r: ProtoReader,
  end: number,
  m: { points: P[]; temporality?: Temporality; monotonic?: boolean },
  readPoint: (r: ProtoReader, end: number) => P | null,
): void {
  let i = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      readRepeatedMessage(r, f, wt, end, m.points, i++, "data_points", readPoint);
    } else if (f === 2 && m.temporality !== undefined) {
      if (wt !== VARINT) wrongWire(f, wt, VARINT);
      m.temporality = toTemporality(r.readVarint32(end));
    } else if (f === 3 && m.monotonic !== undefined) {
      if (wt !== VARINT) wrongWire(f, wt, VARINT);
      m.monotonic = r.readBool(end);
    } else {
      r.skipField(wt, f, end);
    }
  }
}

function readNumberPoint(r: ProtoReader, end: number): NumberPoint | null {
  const p: NumberPoint = {
    attributes: NO_ATTRIBUTES,
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    value: 0,
  };
  let flags = 0;
  let nAttrs = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        p.attributes = readPointAttribute(r, end, 7, at, p.attributes, nAttrs);
        nAttrs = r.attributeCount;
        break;
      case 2:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.startTimeUnixNano = r.readFixed64Big(end);
        break;
      case 3:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.timeUnixNano = r.readFixed64Big(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.value = r.readDouble(end);
        break;
      case 6:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.value = r.readSfixed64Num(end, "as_int");
        break;
      case 8:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        flags = r.readVarint32(end);
        break;
      case 5: // exemplars
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return (flags & NO_RECORDED_VALUE) === 0 ? p : null;
}

function readHistogramPoint(r: ProtoReader, end: number): HistogramPoint | null {
  const p: HistogramPoint = {
    attributes: NO_ATTRIBUTES,
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0,
    sum: undefined,
    min: undefined,
    max: undefined,
    bucketCounts: [],
    explicitBounds: [],
  };
  let flags = 0;
  let nAttrs = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 9:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        p.attributes = readPointAttribute(r, end, 9, at, p.attributes, nAttrs);
        nAttrs = r.attributeCount;
        break;
      case 2:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.startTimeUnixNano = r.readFixed64Big(end);
        break;
      case 3:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.timeUnixNano = r.readFixed64Big(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.count = r.readFixed64Num(end, "count");
        break;
      case 5:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.sum = r.readDouble(end);
        break;
      case 6:
        r.readRepeatedFixed64Nums(wt, f, end, p.bucketCounts, "bucket_counts");
        break;
      case 7:
        r.readRepeatedDoubles(wt, f, end, p.explicitBounds, "explicit_bounds");
        break;
      case 10:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        flags = r.readVarint32(end);
        break;
      case 11:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.min = r.readDouble(end);
        break;
      case 12:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.max = r.readDouble(end);
        break;
      case 8: // exemplars
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return (flags & NO_RECORDED_VALUE) === 0 ? p : null;
}

function readExpHistogramPoint(r: ProtoReader, end: number): ExpHistogramPoint | null {
  const p: ExpHistogramPoint = {
    attributes: NO_ATTRIBUTES,
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0,
    sum: undefined,
    min: undefined,
    max: undefined,
    scale: 0,
    zeroCount: 0,
    zeroThreshold: 0,
    // every field from the start, so that setting `varints` keeps the object's shape
    positive: { offset: 0, bucketCounts: [], varints: undefined },
    negative: { offset: 0, bucketCounts: [], varints: undefined },
  };
  let flags = 0;
  let nAttrs = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        p.attributes = readPointAttribute(r, end, 1, at, p.attributes, nAttrs);
        nAttrs = r.attributeCount;
        break;
      case 2:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.startTimeUnixNano = r.readFixed64Big(end);
        break;
      case 3:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.timeUnixNano = r.readFixed64Big(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.count = r.readFixed64Num(end, "count");
        break;
      case 5:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.sum = r.readDouble(end);
        break;
      case 6:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        p.scale = r.readSint32Checked(end);
        break;
      case 7:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.zeroCount = r.readFixed64Num(end, "zero_count");
        break;
      case 8:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readBucketsInto(r, r.readLen(end), p.positive);
        } catch (e) {
          rethrowAt(e, "positive");
        }
        break;
      case 9:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readBucketsInto(r, r.readLen(end), p.negative);
        } catch (e) {
          rethrowAt(e, "negative");
        }
        break;
      case 10:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        flags = r.readVarint32(end);
        break;
      case 12:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.min = r.readDouble(end);
        break;
      case 13:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.max = r.readDouble(end);
        break;
      case 14:
        if (wt !== I64) wrongWire(f, wt, I64);
        p.zeroThreshold = r.readDouble(end);
        break;
      case 11: // exemplars
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return (flags & NO_RECORDED_VALUE) === 0 ? p : null;
}

function readBucketsInto(r: ProtoReader, end: number, b: ExpBuckets): void {
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== VARINT) wrongWire(f, wt, VARINT);
      b.offset = r.readSint32Checked(end);
    } else if (f === 2) {
      if (wt === LEN && r.keepBucketVarints && b.varints === undefined && b.bucketCounts.length === 0) {
        b.varints = r.readPackedVarints(end, "bucket_counts");
      } else {
        // a further run, or single elements: all of them as numbers
        materializeBuckets(b);
        r.readRepeatedVarintNums(wt, f, end, b.bucketCounts, "bucket_counts");
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
}
