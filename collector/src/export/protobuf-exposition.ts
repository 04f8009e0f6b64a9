// Prometheus protobuf exposition: length-delimited io.prometheus.client.MetricFamily
// messages, the only format in which Prometheus 2.x scrapes native
// histograms (with --enable-feature=native-histograms). It carries the same
// families, labels and values as the text format — it is encoded from the
// text rendering (see text-families.ts) — and adds to the latency and
// confidence histograms their native (exponential) buckets, taken from the
// series' running total, next to the classic buckets in the same Histogram
// message, as client_golang does.
//
// Field numbers, from prometheus/client_model io/prometheus/client/metrics.proto
// (the copy Prometheus itself decodes with, prompb/io/prometheus/client/metrics.proto):
//   MetricFamily { string name = 1; string help = 2; MetricType type = 3; repeated Metric metric = 4 }
//   MetricType   { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5 }
//   Metric       { repeated LabelPair label = 1; Gauge gauge = 2; Counter counter = 3; Summary summary = 4;
//                  Untyped untyped = 5; Histogram histogram = 7; int64 timestamp_ms = 6 }
//   LabelPair    { string name = 1; string value = 2 }
//   Gauge / Counter / Untyped { double value = 1 }
//   Summary      { uint64 sample_count = 1; double sample_sum = 2; repeated Quantile quantile = 3 }
//   Quantile     { double quantile = 1; double value = 2 }
//   Histogram    { uint64 sample_count = 1; double sample_count_float = 4; double sample_sum = 2;
//                  repeated Bucket bucket = 3; sint32 schema = 5; double zero_threshold = 6;
//                  uint64 zero_count = 7; double zero_count_float = 8;
//                  repeated BucketSpan negative_span = 9; repeated sint64 negative_delta = 10;
//                  repeated double negative_count = 11; repeated BucketSpan positive_span = 12;
//                  repeated sint64 positive_delta = 13; repeated double positive_count = 14 }
//   Bucket       { uint64 cumulative_count = 1; double cumulative_count_float = 4; double upper_bound = 2 }
//   BucketSpan   { sint32 offset = 1; uint32 length = 2 }
//
// Mapping an OTel exponential histogram onto a Prometheus native one:
//   - OTel scale == Prometheus schema (both: base = 2^(2^-scale)). Prometheus accepts
//     schemas -4..8, so a finer histogram is merged down to schema 8 (exact: pairs of
//     buckets add up); a histogram coarser than -4 cannot be split and is exposed with
//     its classic buckets only.
//   - OTel bucket index i holds (base^i, base^(i+1)]; Prometheus bucket key k holds
//     (base^(k-1), base^k]. So k = i + 1, for the positive and (by magnitude) the
//     negative range.
//   - The zero bucket and its threshold carry over as they are (both count |v| <= threshold).
//   - Buckets go out as spans plus deltas: runs of populated buckets, gaps of up to two
//     empty buckets filled with zeros (a new span costs more), each count as the
//     difference from the previous bucket's.

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { InstrumentSpec } from "@mlwatch/semconv";
import type { ExpHistogram } from "@mlwatch/stats";
import type { ModelStore } from "../store/model-store.js";
import { type LabelPairs, parseTextFamilies, type TextFamily, type TextSample } from "./text-families.js";

/** Content-Type of the answer; Prometheus picks its protobuf parser from it. */
export const PROTOBUF_CONTENT_TYPE =
  "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/** Schemas Prometheus accepts for native histograms. */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

const MetricType = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

export interface BucketSpan {
  offset: number;
  length: number;
}

/** One range (positive or negative) of native buckets: spans and the absolute count of every bucket they cover. */
export interface NativeBuckets {
  spans: BucketSpan[];
  counts: number[];
}

export interface NativeHistogram {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positive: NativeBuckets;
  negative: NativeBuckets;
}

/** Largest gap of empty buckets filled with zeros instead of starting a new span. */
const MAX_FILLED_GAP = 2;

function spansOf(h: ExpHistogram, sign: 1 | -1, schema: number): NativeBuckets {
  const { index, counts, length } = h.bucketsAt(sign, schema);
  const spans: BucketSpan[] = [];
  const out: number[] = [];
  let prevKey = 0;
  for (let j = 0; j < length; j++) {
    const key = index[j] + 1; // OTel index i ↔ Prometheus key i + 1
    if (j === 0) {
      spans.push({ offset: key, length: 1 });
    } else {
      const gap = key - prevKey - 1;
      if (gap <= MAX_FILLED_GAP) {
        for (let g = 0; g < gap; g++) out.push(0);
        spans[spans.length - 1].length += gap + 1;
      } else {
        spans.push({ offset: gap, length: 1 });
      }
    }
    out.push(counts[j]);
    prevKey = key;
  }
  return { spans, counts: out };
}

/**
 * The native-histogram form of an exponential histogram, at its own scale or
 * merged down to schema 8; undefined when its scale is below -4.
 */
export function toNativeHistogram(h: ExpHistogram): NativeHistogram | undefined {
  if (h.scale < MIN_SCHEMA) return undefined;
  const schema = Math.min(h.scale, MAX_SCHEMA);
  return {
    schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.count > 0 ? h.sum : 0,
    positive: spansOf(h, 1, schema),
    negative: spansOf(h, -1, schema),
  };
}

/** Finds the running exponential histogram behind a histogram series of the text exposition. */
export type NativeSource = (family: string, labels: LabelPairs) => ExpHistogram | undefined;

function labelsKey(labels: Iterable<[string, string]>): string {
  const sorted = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = "";
  for (const [k, v] of sorted) s += `${k}\u0001${v}\u0002`;
  return s;
}

/** A NativeSource over the store's histogram series of the given instruments, by their Prometheus name and labels. */
export function storeNativeSource(store: ModelStore, specs: readonly InstrumentSpec[]): NativeSource {
  const index = new Map<string, ExpHistogram>();
  for (const spec of specs) {
    for (const s of store.series(spec.name)) {
      const h = s.kind === "histogram" ? store.servedHistogram(s) : undefined;
      if (h !== undefined) index.set(`${spec.prom}\u0000${labelsKey(Object.entries(s.labels))}`, h.total);
    }
  }
  return (family, labels) => index.get(`${family}\u0000${labelsKey(labels)}`);
}

const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

// ---- writing

function writeLabels(w: BinaryWriter, labels: LabelPairs): void {
  for (const [name, value] of labels) {
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(name);
    w.tag(2, WireType.LengthDelimited).string(value);
    w.join();
  }
}

/** Gauge, Counter and Untyped share one layout: { double value = 1 }. */
function writeValueMetric(w: BinaryWriter, field: number, labels: LabelPairs, value: number): void {
  w.tag(4, WireType.LengthDelimited).fork();
  writeLabels(w, labels);
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Bit64).double(value);
  w.join();
  w.join();
}

interface Grouped {
  labels: LabelPairs;
  special: Array<[number, number]>; // [le or quantile, value]
  sum: number;
  count: number;
}

/**
 * Groups the samples of a summary or histogram family by their labels without
 * `le` / `quantile` (the samples of one series list their labels in the same order).
 */
function group(f: TextFamily, special: "le" | "quantile"): Grouped[] {
  const groups = new Map<string, Grouped>();
  for (const s of f.samples) {
    const labels = s.labels.filter(([k]) => k !== special);
    let key = "";
    for (const [k, v] of labels) key += `${k}\u0001${v}\u0002`;
    let g = groups.get(key);
    if (!g) {
      g = { labels, special: [], sum: 0, count: 0 };
      groups.set(key, g);
    }
    addTo(g, f, s, special);
  }
  return [...groups.values()];
}

function addTo(g: Grouped, f: TextFamily, s: TextSample, special: "le" | "quantile"): void {
  if (s.name === `${f.name}_sum`) g.sum = s.value;
  else if (s.name === `${f.name}_count`) g.count = s.value;
  else {
    const at = s.labels.find(([k]) => k === special);
    if (at) g.special.push([Number(at[1] === "+Inf" ? Number.POSITIVE_INFINITY : at[1]), s.value]);
  }
}

function writeSummary(w: BinaryWriter, g: Grouped): void {
  w.tag(4, WireType.LengthDelimited).fork();
  writeLabels(w, g.labels);
  w.tag(4, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).uint64(isCount(g.count) ? g.count : Math.max(0, Math.round(g.count)));
  w.tag(2, WireType.Bit64).double(g.sum);
  for (const [q, v] of g.special) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Bit64).double(q);
    w.tag(2, WireType.Bit64).double(v);
    w.join();
  }
  w.join();
  w.join();
}

function writeSpans(w: BinaryWriter, field: number, spans: BucketSpan[]): void {
  for (const s of spans) {
    w.tag(field, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).sint32(s.offset);
    w.tag(2, WireType.Varint).uint32(s.length);
    w.join();
  }
}

function writeNative(w: BinaryWriter, n: NativeHistogram, integral: boolean): void {
  w.tag(5, WireType.Varint).sint32(n.schema);
  w.tag(6, WireType.Bit64).double(n.zeroThreshold);
  if (integral) w.tag(7, WireType.Varint).uint64(n.zeroCount);
  else w.tag(8, WireType.Bit64).double(n.zeroCount);
  const ranges: Array<[NativeBuckets, number, number, number]> = [
    [n.negative, 9, 10, 11],
    [n.positive, 12, 13, 14],
  ];
  for (const [b, spanField, deltaField, countField] of ranges) {
    writeSpans(w, spanField, b.spans);
    if (b.counts.length === 0) continue;
    if (integral) {
      w.tag(deltaField, WireType.LengthDelimited).fork();
      let prev = 0;
      for (const c of b.counts) {
        w.sint64(c - prev);
        prev = c;
      }
      w.join();
    } else {
      w.tag(countField, WireType.LengthDelimited).fork();
      for (const c of b.counts) w.double(c);
      w.join();
    }
  }
  // A native histogram without any bucket and a zero threshold of 0 would read as a
  // classic one; Prometheus asks for a no-op span (offset 0, length 0) then.
  if (n.positive.spans.length === 0 && n.negative.spans.length === 0 && n.zeroThreshold === 0)
    writeSpans(w, 12, [{ offset: 0, length: 0 }]);
}

function writeHistogram(w: BinaryWriter, g: Grouped, native: NativeHistogram | undefined): void {
  let count = g.count;
  let sum = g.sum;
  let buckets = g.special.filter(([le]) => le !== Number.POSITIVE_INFINITY);
  if (native && native.count !== count) {
    // The classic counts restarted (bucket bounds changed) while the total did not:
    // one sample_count cannot serve both, and the scraper asking for protobuf reads the native part.
    buckets = [];
    count = native.count;
    sum = native.sum;
  }
  const integral =
    isCount(count) &&
    buckets.every(([, c]) => isCount(c)) &&
    (!native ||
      (isCount(native.zeroCount) &&
        native.positive.counts.every(isCount) &&
        native.negative.counts.every(isCount)));
  w.tag(4, WireType.LengthDelimited).fork();
  writeLabels(w, g.labels);
  w.tag(7, WireType.LengthDelimited).fork();
  if (integral) w.tag(1, WireType.Varint).uint64(count);
  else w.tag(4, WireType.Bit64).double(count);
  w.tag(2, WireType.Bit64).double(sum);
  // Classic buckets in increasing order of upper bound; +Inf is implicit (the sample count).
  for (const [le, c] of buckets) {
    w.tag(3, WireType.LengthDelimited).fork();
    if (integral) w.tag(1, WireType.Varint).uint64(c);
    else w.tag(4, WireType.Bit64).double(c);
    w.tag(2, WireType.Bit64).double(le);
    w.join();
  }
  if (native) writeNative(w, native, integral);
  w.join();
  w.join();
}

function writeFamily(w: BinaryWriter, f: TextFamily, native: NativeSource | undefined): void {
  w.fork(); // length-delimited: a varint length, then the MetricFamily
  w.tag(1, WireType.LengthDelimited).string(f.name);
  if (f.help !== "") w.tag(2, WireType.LengthDelimited).string(f.help);
  w.tag(3, WireType.Varint).int32(MetricType[f.type]);
  switch (f.type) {
    case "counter":
      for (const s of f.samples) writeValueMetric(w, 3, s.labels, s.value);
      break;
    case "gauge":
      for (const s of f.samples) writeValueMetric(w, 2, s.labels, s.value);
      break;
    case "untyped":
      for (const s of f.samples) writeValueMetric(w, 5, s.labels, s.value);
      break;
    case "summary":
      for (const g of group(f, "quantile")) writeSummary(w, g);
      break;
    case "histogram":
      for (const g of group(f, "le")) {
        const h = native?.(f.name, g.labels);
        writeHistogram(w, g, h ? toNativeHistogram(h) : undefined);
      }
      break;
  }
  w.join();
}

/**
 * Encodes a text exposition (as rendered by metrics.ts) as length-delimited
 * MetricFamily messages, adding native buckets to the histogram series that
 * `native` knows the exponential histogram of.
 */
export function encodeProtobufExposition(text: string, native?: NativeSource): Uint8Array {
  const w = new BinaryWriter();
  for (const f of parseTextFamilies(text)) {
    if (f.samples.length > 0) writeFamily(w, f, native);
  }
  return w.finish();
}

// ---- content negotiation

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(",")) {
    const [type, ...rest] = part.split(";").map((s) => s.trim());
    if (!type) continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
      if (k === "q") {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
      } else params.set(k, v);
    }
    out.push({ type: type.toLowerCase(), params, q });
  }
  return out;
}

/**
 * True when the Accept header asks for the protobuf exposition at least as
 * much as for text: it must name application/vnd.google.protobuf (with
 * proto=io.prometheus.client.MetricFamily and encoding=delimited when those
 * are given) with q > 0. Wildcards count for text only, so browsers, curl
 * and classic scrapers get the text format.
 */
export function wantsProtobuf(accept: string | undefined): boolean {
  if (!accept) return false;
  let proto = 0;
  let text = 0;
  for (const r of parseAccept(accept)) {
    if (r.type === "application/vnd.google.protobuf") {
      const p = r.params.get("proto");
      const e = r.params.get("encoding");
      if (
        (p === undefined || p === "io.prometheus.client.MetricFamily") &&
        (e === undefined || e === "delimited")
      )
        proto = Math.max(proto, r.q);
    } else if (r.type === "text/plain" || r.type === "text/*" || r.type === "*/*") {
      text = Math.max(text, r.q);
    }
  }
  return proto > 0 && proto >= text;
}
