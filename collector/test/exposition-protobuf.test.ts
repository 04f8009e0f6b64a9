// The protobuf exposition read back with an independent reader (field numbers
// of io.prometheus.client metrics.proto, on @bufbuild/protobuf's BinaryReader):
// same families, types, labels and values as the text format; native buckets
// that match the exponential histogram bucket for bucket, with Prometheus's
// bucket keys (OTel index + 1) and spans + deltas.

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Instruments } from "@mlwatch/semconv";
import { ExpHistogram } from "@mlwatch/stats";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../../test/support/processes.js";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";
import {
  encodeProtobufExposition,
  type NativeBuckets,
  PROTOBUF_CONTENT_TYPE,
  toNativeHistogram,
  wantsProtobuf,
} from "../src/export/protobuf-exposition.js";
import { parseTextFamilies } from "../src/export/text-families.js";
import type { MetricsRequest } from "../src/otlp/types.js";
import { Temporality } from "../src/otlp/types.js";

// ---- a small reader for the delimited MetricFamily stream

interface Span {
  offset: number;
  length: number;
}
interface DecodedHistogram {
  sampleCount?: number;
  sampleCountFloat?: number;
  sampleSum?: number;
  buckets: Array<{ cumulativeCount?: number; upperBound?: number }>;
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  negativeSpan: Span[];
  negativeDelta: number[];
  positiveSpan: Span[];
  positiveDelta: number[];
}
interface DecodedMetric {
  labels: Array<[string, string]>;
  gauge?: number;
  counter?: number;
  untyped?: number;
  summary?: { sampleCount?: number; sampleSum?: number; quantiles: Array<[number, number]> };
  histogram?: DecodedHistogram;
}
interface DecodedFamily {
  name?: string;
  help?: string;
  type?: number;
  metrics: DecodedMetric[];
}

/** Calls each(field, wireType, reader) for every field of a message; each must consume the value. */
function fields(buf: Uint8Array, each: (f: number, wt: WireType, r: BinaryReader) => void): void {
  const r = new BinaryReader(buf);
  while (r.pos < r.len) {
    const [f, wt] = r.tag();
    const before = r.pos;
    each(f, wt, r);
    if (r.pos === before) r.skip(wt, f);
  }
}

function expectWire(f: number, got: WireType, want: WireType): void {
  if (got !== want) throw new Error(`field ${f}: wire type ${got}, expected ${want}`);
}

const num = (v: bigint | string) => Number(v);

/** A value message { double value = 1 } (Gauge, Counter, Untyped). */
function valueField(buf: Uint8Array): number | undefined {
  let v: number | undefined;
  fields(buf, (f, wt, r) => {
    if (f === 1) {
      expectWire(f, wt, WireType.Bit64);
      v = r.double();
    }
  });
  return v;
}

function spanOf(buf: Uint8Array): Span {
  const s: Span = { offset: 0, length: 0 };
  fields(buf, (f, wt, r) => {
    expectWire(f, wt, WireType.Varint);
    if (f === 1) s.offset = r.sint32();
    else if (f === 2) s.length = r.uint32();
  });
  return s;
}

/** A repeated sint64, packed or not. */
function sint64s(wt: WireType, r: BinaryReader, into: number[]): void {
  if (wt === WireType.LengthDelimited) {
    const inner = new BinaryReader(r.bytes());
    while (inner.pos < inner.len) into.push(num(inner.sint64()));
  } else {
    expectWire(0, wt, WireType.Varint);
    into.push(num(r.sint64()));
  }
}

function histogramOf(buf: Uint8Array): DecodedHistogram {
  const h: DecodedHistogram = {
    buckets: [],
    negativeSpan: [],
    negativeDelta: [],
    positiveSpan: [],
    positiveDelta: [],
  };
  fields(buf, (f, wt, r) => {
    switch (f) {
      case 1:
        h.sampleCount = num(r.uint64());
        break;
      case 2:
        h.sampleSum = r.double();
        break;
      case 3: {
        const b: { cumulativeCount?: number; upperBound?: number } = {};
        fields(r.bytes(), (bf, bwt, br) => {
          if (bf === 1) b.cumulativeCount = num(br.uint64());
          else if (bf === 2) {
            expectWire(bf, bwt, WireType.Bit64);
            b.upperBound = br.double();
          }
        });
        h.buckets.push(b);
        break;
      }
      case 4:
        h.sampleCountFloat = r.double();
        break;
      case 5:
        h.schema = r.sint32();
        break;
      case 6:
        h.zeroThreshold = r.double();
        break;
      case 7:
        h.zeroCount = num(r.uint64());
        break;
      case 9:
        h.negativeSpan.push(spanOf(r.bytes()));
        break;
      case 10:
        sint64s(wt, r, h.negativeDelta);
        break;
      case 12:
        h.positiveSpan.push(spanOf(r.bytes()));
        break;
      case 13:
        sint64s(wt, r, h.positiveDelta);
        break;
    }
  });
  return h;
}

function metricOf(buf: Uint8Array): DecodedMetric {
  const m: DecodedMetric = { labels: [] };
  fields(buf, (f, wt, r) => {
    if (f !== 6) expectWire(f, wt, WireType.LengthDelimited);
    switch (f) {
      case 1: {
        const pair: [string, string] = ["", ""];
        fields(r.bytes(), (lf, _lwt, lr) => {
          if (lf === 1) pair[0] = lr.string();
          else if (lf === 2) pair[1] = lr.string();
        });
        m.labels.push(pair);
        break;
      }
      case 2:
        m.gauge = valueField(r.bytes());
        break;
      case 3:
        m.counter = valueField(r.bytes());
        break;
      case 4: {
        const s: NonNullable<DecodedMetric["summary"]> = { quantiles: [] };
        fields(r.bytes(), (sf, _swt, sr) => {
          if (sf === 1) s.sampleCount = num(sr.uint64());
          else if (sf === 2) s.sampleSum = sr.double();
          else if (sf === 3) {
            const q: [number, number] = [Number.NaN, Number.NaN];
            fields(sr.bytes(), (qf, _qwt, qr) => {
              if (qf === 1) q[0] = qr.double();
              else if (qf === 2) q[1] = qr.double();
            });
            s.quantiles.push(q);
          }
        });
        m.summary = s;
        break;
      }
      case 5:
        m.untyped = valueField(r.bytes());
        break;
      case 7:
        m.histogram = histogramOf(r.bytes());
        break;
    }
  });
  return m;
}

/** Reads varint-length-prefixed MetricFamily messages until the end. */
function readDelimited(buf: Uint8Array): DecodedFamily[] {
  const out: DecodedFamily[] = [];
  const r = new BinaryReader(buf);
  while (r.pos < r.len) {
    const msg = r.bytes(); // a length prefix and that many bytes
    const fam: DecodedFamily = { metrics: [] };
    fields(msg, (f, wt, fr) => {
      if (f === 1) fam.name = fr.string();
      else if (f === 2) fam.help = fr.string();
      else if (f === 3) {
        expectWire(f, wt, WireType.Varint);
        fam.type = fr.int32();
      } else if (f === 4) fam.metrics.push(metricOf(fr.bytes()));
    });
    out.push(fam);
  }
  return out;
}

/** Expands spans + deltas into [Prometheus bucket key, absolute count] pairs. */
function expand(spans: Span[], deltas: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let key = 0;
  let count = 0;
  let d = 0;
  spans.forEach((s, i) => {
    key = i === 0 ? s.offset : key + s.offset;
    for (let j = 0; j < s.length; j++) {
      count += deltas[d++];
      out.push([key, count]);
      key++;
    }
  });
  expect(d).toBe(deltas.length);
  return out;
}

/** The populated buckets of one native range as [Prometheus key, count], from its spans (offsets are gaps after the first). */
function keyed(b: NativeBuckets): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let key = 0;
  let i = 0;
  b.spans.forEach((s, si) => {
    key = si === 0 ? s.offset : key + s.offset;
    for (let j = 0; j < s.length; j++) {
      if (b.counts[i] > 0) out.push([key, b.counts[i]]);
      i++;
      key++;
    }
  });
  expect(i).toBe(b.counts.length);
  return out;
}

/** Non-empty buckets of an ExpHistogram at `scale`, as [OTel index, count]. */
function otelBuckets(h: ExpHistogram, sign: 1 | -1, scale: number): Array<[number, number]> {
  const b = h.bucketsAt(sign, scale);
  return Array.from({ length: b.length }, (_, i) => [b.index[i], b.counts[i]]);
}

const TYPE = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

// ---- tests

describe("native histogram mapping", () => {
  it("turns OTel index i into Prometheus key i + 1 and writes spans with deltas", () => {
    const h = new ExpHistogram({ maxScale: 0 }); // base 2
    for (const v of [1.5, 3, 3, 20, 1000]) h.record(v); // OTel buckets 0, 1, 1, 4, 9
    const n = toNativeHistogram(h)!;
    expect(n.schema).toBe(0);
    // keys 1, 2, (3, 4 filled with zeros), 5, then a gap of 4 → new span at key 10
    expect(n.positive.spans).toEqual([
      { offset: 1, length: 5 },
      { offset: 4, length: 1 },
    ]);
    expect(n.positive.counts).toEqual([1, 2, 0, 0, 1, 1]);
    expect(n.negative.spans).toEqual([]);
    // Prometheus key k holds (2^(k-1), 2^k]: 1.5 in key 1, 3 in key 2, 20 in key 5, 1000 in key 10
    expect(2 ** 0 < 1.5 && 1.5 <= 2 ** 1).toBe(true);
    expect(2 ** 9 < 1000 && 1000 <= 2 ** 10).toBe(true);
  });

  it("keeps the zero bucket and maps negative values by magnitude", () => {
    const h = new ExpHistogram({ maxScale: 1 });
    for (const v of [0, 0, -3, -3, -0.75, 5]) h.record(v);
    const n = toNativeHistogram(h)!;
    expect(n.zeroCount).toBe(2);
    expect(n.zeroThreshold).toBe(0);
    const base = 2 ** 0.5;
    const keyOf = (v: number) => Math.ceil(Math.log(Math.abs(v)) / Math.log(base)) + 0; // + 0: no -0
    // one span per populated range here; keys from the Prometheus definition
    expect(n.negative.spans[0].offset).toBe(keyOf(-0.75));
    expect(keyed(n.negative)).toEqual([
      [keyOf(-0.75), 1],
      [keyOf(-3), 2],
    ]);
    expect(keyed(n.positive)).toEqual([[keyOf(5), 1]]);
    expect(n.count).toBe(6);
  });

  it("merges finer scales down to schema 8, exactly", () => {
    const h = new ExpHistogram(); // starts at scale 20
    for (let i = 0; i < 1000; i++) h.record(1 + i / 1e4); // a narrow range: the scale stays high
    expect(h.scale).toBeGreaterThan(8);
    const n = toNativeHistogram(h)!;
    expect(n.schema).toBe(8);
    const expected = otelBuckets(h, 1, 8).map(([i, c]) => [i + 1, c]);
    expect(keyed(n.positive)).toEqual(expected);
    expect(n.positive.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it("leaves out histograms coarser than schema -4", () => {
    const h = ExpHistogram.fromJSON({
      scale: -5,
      zeroCount: 0,
      zeroThreshold: 0,
      count: 1,
      sum: 1e30,
      min: 1e30,
      max: 1e30,
      positive: { offset: 3, counts: [1] },
      negative: { offset: 0, counts: [] },
    });
    expect(toNativeHistogram(h)).toBeUndefined();
  });

  it("puts every value in the Prometheus bucket (base^(k-1), base^k] (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -4, max: 8 }),
        fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (scale, values) => {
          const h = new ExpHistogram({ maxScale: scale, maxSize: 100_000 });
          for (const v of values) h.record(v);
          const n = toNativeHistogram(h)!;
          const base = 2 ** (2 ** -n.schema);
          const got = new Map(keyed(n.positive));
          for (const v of values) {
            // skip values within rounding of a boundary, where log() cannot decide
            const k = Math.log(v) / Math.log(base);
            if (Math.abs(k - Math.round(k)) < 1e-9) continue;
            const want = Math.ceil(k);
            expect(got.get(want) ?? 0).toBeGreaterThan(0);
          }
          expect([...got.values()].reduce((a, b) => a + b, 0)).toBe(values.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("text families", () => {
  it("reads back escaped label values and help text", () => {
    const text = [
      '# HELP m_total help with \\\\ and\\nnewline and "quotes"',
      "# TYPE m_total counter",
      'm_total{a="x\\"y",b="back\\\\slash",c="new\\nline",d="}{, "} 1',
      "",
    ].join("\n");
    const [f] = parseTextFamilies(text);
    expect(f.help).toBe('help with \\ and\nnewline and "quotes"');
    expect(f.samples[0].labels).toEqual([
      ["a", 'x"y'],
      ["b", "back\\slash"],
      ["c", "new\nline"],
      ["d", "}{, "],
    ]);
  });

  it("encodes special values and label values the text escaped", () => {
    const text = [
      "# HELP g a gauge",
      "# TYPE g gauge",
      'g{x="a\\"b"} NaN',
      'g{x="c"} +Inf',
      'g{x="d"} -Inf',
      'g{x="e"} 1e-7',
      "",
    ].join("\n");
    const [fam] = readDelimited(encodeProtobufExposition(text));
    expect(fam.type).toBe(TYPE.gauge);
    expect(fam.metrics.map((m) => [m.labels[0][1], m.gauge])).toEqual([
      ['a"b', Number.NaN],
      ["c", Number.POSITIVE_INFINITY],
      ["d", Number.NEGATIVE_INFINITY],
      ["e", 1e-7],
    ]);
  });
});

describe("content negotiation", () => {
  it("serves protobuf to Prometheus with native histograms enabled", () => {
    // The header Prometheus 2.42 sends with --enable-feature=native-histograms (captured from /usr/bin/prometheus).
    expect(
      wantsProtobuf(
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
      ),
    ).toBe(true);
    // The form later releases send, with explicit weights.
    expect(
      wantsProtobuf(
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
      ),
    ).toBe(true);
  });

  it("serves text to everyone else", () => {
    // Prometheus 2.42 without the feature flag:
    expect(
      wantsProtobuf(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
      ),
    ).toBe(false);
    expect(wantsProtobuf(undefined)).toBe(false);
    expect(wantsProtobuf("*/*")).toBe(false);
    expect(wantsProtobuf("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")).toBe(false);
    expect(wantsProtobuf("application/vnd.google.protobuf;q=0,text/plain")).toBe(false);
    expect(wantsProtobuf("application/vnd.google.protobuf;proto=other.Message;encoding=delimited")).toBe(
      false,
    );
    expect(wantsProtobuf("application/vnd.google.protobuf;encoding=text")).toBe(false);
    expect(wantsProtobuf("text/plain;q=0.9,application/vnd.google.protobuf;q=0.5")).toBe(false);
  });
});

// ---- the collector's own exposition, both formats

const MODEL = "proto_model";
const N_REQ = 2000;

function lognormals(n: number, mu: number, sigma: number, seed: number): number[] {
  let s = seed;
  const u = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s + 0.5) / 2147483648;
  };
  return Array.from({ length: n }, () =>
    Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())),
  );
}

function deltaRequest(nowNs: bigint): MetricsRequest {
  const latency = new ExpHistogram();
  for (const v of lognormals(N_REQ, Math.log(0.08), 0.7, 7)) latency.record(v);
  const confidence = new ExpHistogram();
  for (let i = 0; i < N_REQ; i++) confidence.record(i % 10 === 0 ? 0 : 0.4 + (i % 60) / 100);
  const attrs = (extra: Record<string, string> = {}) =>
    Object.assign(Object.create(null), {
      "ml.model.name": MODEL,
      "ml.model.version": "1",
      "ml.endpoint": "/predict",
      ...extra,
    });
  const exp = (h: ExpHistogram) => {
    const j = h.toJSON();
    return {
      attributes: attrs(),
      startTimeUnixNano: nowNs - 1_000_000_000n,
      timeUnixNano: nowNs,
      count: j.count,
      sum: j.sum,
      min: j.min,
      max: j.max,
      scale: j.scale,
      zeroCount: j.zeroCount,
      zeroThreshold: j.zeroThreshold,
      positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
      negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
    };
  };
  const point = (value: number, extra: Record<string, string> = {}) => ({
    attributes: attrs(extra),
    startTimeUnixNano: nowNs - 1_000_000_000n,
    timeUnixNano: nowNs,
    value,
  });
  return {
    resourceMetrics: [
      {
        resource: Object.assign(Object.create(null), { "service.name": "svc" }),
        scopeMetrics: [
          {
            scope: { name: "test", version: "" },
            metrics: [
              {
                name: Instruments.requests.name,
                unit: "",
                description: "",
                kind: "sum",
                temporality: Temporality.Delta,
                monotonic: true,
                points: [point(N_REQ)],
              },
              {
                name: Instruments.errors.name,
                unit: "",
                description: "",
                kind: "sum",
                temporality: Temporality.Delta,
                monotonic: true,
                points: [point(7, { "error.type": 'Odd"Error\\' })],
              },
              {
                name: Instruments.inProgress.name,
                unit: "",
                description: "",
                kind: "sum",
                temporality: Temporality.Cumulative,
                monotonic: false,
                points: [point(3)],
              },
              {
                name: Instruments.duration.name,
                unit: "s",
                description: "",
                kind: "exponential_histogram",
                temporality: Temporality.Delta,
                points: [exp(latency)],
              },
              {
                name: Instruments.confidence.name,
                unit: "1",
                description: "",
                kind: "exponential_histogram",
                temporality: Temporality.Delta,
                points: [exp(confidence)],
              },
            ],
          },
        ],
      },
    ],
  };
}

let collector: Collector;
let query: string;

beforeAll(async () => {
  collector = new Collector(
    parseConfig({ otlp: { port: 0 }, query: { port: 0 }, storage: { path: ":memory:" } }),
    () => {},
  );
  query = (await collector.start()).query;
  const r = collector.ingestMetrics(deltaRequest(BigInt(Date.now()) * 1_000_000n));
  expect(r.rejected).toBe(0);
  collector.analyzeNow();
});
afterAll(() => collector.stop());

describe("the collector's protobuf exposition", () => {
  it("has the same families, types, labels and values as the text format", () => {
    const now = Date.now();
    const text = collector.metricsText(now);
    const families = readDelimited(collector.metricsProto(now));
    const textFamilies = parseTextFamilies(text).filter((f) => f.samples.length > 0);
    expect(families.map((f) => f.name)).toEqual(textFamilies.map((f) => f.name));
    for (const [i, f] of families.entries()) {
      const t = textFamilies[i];
      expect(f.type, f.name).toBe(TYPE[t.type]);
      expect(f.help).toBe(t.help);
    }
    // Every text sample can be found in the protobuf, value for value.
    const samples = parseExposition(text);
    const byName = new Map(families.map((f) => [f.name!, f]));
    const sameLabels = (a: Array<[string, string]>, b: Record<string, string>) =>
      a.length === Object.keys(b).length && a.every(([k, v]) => b[k] === v);
    for (const s of samples) {
      if (s.name.startsWith("mlwatch_collector_resident_memory")) continue; // measured per call
      const fam = byName.get(s.name) ?? byName.get(s.name.replace(/_(bucket|sum|count)$/, "")) ?? undefined;
      expect(fam, s.name).toBeDefined();
      const { le, quantile, ...labels } = s.labels;
      const m = fam!.metrics.find((x) => sameLabels(x.labels, labels));
      expect(m, `${s.name} ${JSON.stringify(s.labels)}`).toBeDefined();
      let value: number | undefined;
      if (fam!.type === TYPE.counter) value = m!.counter;
      else if (fam!.type === TYPE.gauge) value = m!.gauge;
      else if (fam!.type === TYPE.summary) {
        if (s.name.endsWith("_sum")) value = m!.summary!.sampleSum;
        else if (s.name.endsWith("_count")) value = m!.summary!.sampleCount;
        else value = m!.summary!.quantiles.find(([q]) => q === Number(quantile))?.[1];
      } else if (fam!.type === TYPE.histogram) {
        const h = m!.histogram!;
        if (s.name.endsWith("_sum")) value = h.sampleSum;
        else if (s.name.endsWith("_count") || le === "+Inf") value = h.sampleCount;
        else value = h.buckets.find((b) => b.upperBound === Number(le))?.cumulativeCount;
      }
      expect(value, `${s.name} ${JSON.stringify(s.labels)}`).toEqual(s.value);
    }
  });

  it("carries the classic buckets and the native histogram in one Histogram message", () => {
    const families = readDelimited(collector.metricsProto());
    for (const spec of [Instruments.duration, Instruments.confidence]) {
      const fam = families.find((f) => f.name === spec.prom)!;
      expect(fam.type).toBe(TYPE.histogram);
      expect(fam.metrics).toHaveLength(1);
      const h = fam.metrics[0].histogram!;
      const series = [...collector.store.series(spec.name)][0];
      if (series.kind !== "histogram") throw new Error("not a histogram series");
      const total = series.total;
      if (!total) throw new Error("a histogram re-exported to Prometheus keeps its running total");
      expect(h.sampleCount).toBe(N_REQ);
      expect(h.sampleSum).toBeCloseTo(total.sum, 9);
      // classic: increasing bounds without +Inf, cumulative counts as in the text
      const bounds = h.buckets.map((b) => b.upperBound!);
      expect(bounds).toEqual(series.classic!.bounds);
      // native: schema = OTel scale (≤ 8), zero bucket, spans + deltas = the OTel buckets shifted by one
      expect(h.schema).toBe(Math.min(total.scale, 8));
      expect(h.zeroCount).toBe(total.zeroCount);
      expect(h.zeroThreshold).toBe(total.zeroThreshold);
      const native = expand(h.positiveSpan, h.positiveDelta).filter(([, c]) => c > 0);
      const otel = otelBuckets(total, 1, h.schema!).map(([i, c]) => [i + 1, c]);
      expect(native).toEqual(otel);
      expect(h.negativeSpan).toEqual([]);
      const bucketTotal = native.reduce((a, [, c]) => a + c, 0) + h.zeroCount!;
      expect(bucketTotal).toBe(h.sampleCount);
    }
    // the confidence histogram has exact zeros: they are in the zero bucket
    const conf = families.find((f) => f.name === Instruments.confidence.prom)!.metrics[0].histogram!;
    expect(conf.zeroCount).toBe(N_REQ / 10);
  });

  it("escapes nothing: label values travel as they are", () => {
    const fam = readDelimited(collector.metricsProto()).find((f) => f.name === Instruments.errors.prom)!;
    expect(fam.metrics[0].labels).toContainEqual(["error_type", 'Odd"Error\\']);
    expect(fam.metrics[0].counter).toBe(7);
  });

  it("answers /metrics in protobuf only when asked for it", async () => {
    const proto = await fetch(`${query}/metrics`, {
      headers: {
        accept:
          "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
      },
    });
    expect(proto.status).toBe(200);
    expect(proto.headers.get("content-type")).toBe(PROTOBUF_CONTENT_TYPE);
    const fams = readDelimited(new Uint8Array(await proto.arrayBuffer()));
    expect(fams.find((f) => f.name === "ml_requests_total")!.metrics[0].counter).toBe(N_REQ);

    const text = await fetch(`${query}/metrics`);
    expect(text.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await text.text()).toMatch(/^# HELP /);
  });
});
