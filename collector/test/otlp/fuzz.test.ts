// Property tests: whatever bytes or JSON arrive, the decoders return a request
// or throw DecodeError — never another exception — and finish quickly; and
// randomly generated valid requests decode to exactly what was encoded, the
// same from protobuf and from JSON.

import { materializeBuckets } from "@mlwatch/stats";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  DecodeError,
  decodeLogsJson,
  decodeLogsProto,
  decodeMetricsJson,
  decodeMetricsProto,
  type ExpHistogramPoint,
  type MetricsRequest,
} from "../../src/otlp/index.js";
import { collectingReader, resources, sdkMetrics, transformer } from "./otel.js";
import {
  anyArray,
  anyBool,
  anyBytes,
  anyDouble,
  anyInt,
  anyKvlist,
  anyStr,
  type Bytes,
  buckets,
  cat,
  expHistogram,
  expPoint,
  fGroup,
  fVarint,
  gauge,
  histogram,
  histPoint,
  kv,
  logRecord,
  logsRequest,
  metric,
  metricsRequest,
  numberPoint,
  sum,
  T0,
  T1,
} from "./pb.js";

/** OTLP_FUZZ_SCALE=100 for a long local run; CI runs the default. */
const SCALE = Math.max(1, Number(process.env.OTLP_FUZZ_SCALE ?? 1) || 1);

/** Generous: a decode of a few KB takes microseconds; this only catches hangs and blow-ups. */
const MAX_MS_PER_INPUT = 500;

function decodesOrRejects(decode: (b: Bytes) => unknown, input: Bytes): void {
  const t = performance.now();
  try {
    decode(input);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
  }
  expect(performance.now() - t).toBeLessThan(MAX_MS_PER_INPUT);
}

function decodesOrRejectsText(decode: (t: string) => unknown, input: string): void {
  const t = performance.now();
  try {
    decode(input);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  expect(performance.now() - t).toBeLessThan(MAX_MS_PER_INPUT);
}

async function sdkSeed(): Promise<Bytes> {
  const reader = collectingReader("cumulative");
  const provider = new sdkMetrics.MeterProvider({
    resource: resources.resourceFromAttributes({ "service.name": "svc", n: 1, a: ["x", "y"] }),
    readers: [reader],
    views: [
      { instrumentName: "eh", aggregation: { type: sdkMetrics.AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
  });
  const meter = provider.getMeter("m", "1");
  meter.createCounter("c").add(2, { k: "v", b: true });
  meter.createHistogram("h").record(3.5, { d: 0.5 });
  const eh = meter.createHistogram("eh");
  for (let i = 1; i < 50; i++) eh.record(i * 1.7, { model: "m" });
  meter.createGauge("g").record(-1);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return transformer.ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
}

const handSeeds: Bytes[] = [
  metricsRequest({
    resource: [kv("s", anyStr("x")), kv("arr", anyArray(anyKvlist(kv("k", anyDouble(1))), anyBytes([1])))],
    metrics: [
      metric("c", sum(2, true, numberPoint({ attrs: [kv("a", anyInt(-3))], asInt: 3 }))),
      metric("g", gauge(numberPoint({ asDouble: 0.5, flags: 0 }))),
      metric("h", histogram(1, histPoint({ count: 3, sum: 2, counts: [1, 2], bounds: [1] }))),
      metric(
        "e",
        expHistogram(
          2,
          expPoint({
            count: 4,
            sum: 2,
            min: 0,
            max: 1,
            scale: 3,
            zeroCount: 1,
            zeroThreshold: 0,
            positive: buckets(-1, [1, 2]),
            negative: buckets(0, [0], false),
          }),
        ),
      ),
      cat(fVarint(99, 1), fGroup(98, fVarint(1, 2))),
    ],
  }),
  logsRequest({
    resource: [kv("r", anyBool(true))],
    records: [
      logRecord({
        severity: 9,
        text: "i",
        body: anyKvlist(kv("p", anyArray(anyStr("a")))),
        attrs: [kv("a", anyStr("b"))],
        event: "e",
      }),
    ],
  }),
];

/** Byte-level mutations: overwrite, insert, delete, duplicate, truncate. */
const mutation = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x7f, 0x80, 0xff)),
  }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant("dup" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(seed: Bytes, muts: Mutation[]): Bytes {
  let b: Bytes = Uint8Array.from(seed);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case "set":
        if (b.length > 0) b[at % b.length] = m.byte;
        break;
      case "insert":
        b = cat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      case "delete":
        b = cat(b.subarray(0, at), b.subarray(at + m.len));
        break;
      case "dup":
        b = cat(b.subarray(0, at + m.len), b.subarray(at));
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

describe("fuzz: protobuf", () => {
  test("arbitrary bytes → a request or a DecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        decodesOrRejects(decodeMetricsProto, bytes);
        decodesOrRejects(decodeLogsProto, bytes);
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  test("arbitrary bytes inside a plausible frame reach the inner decoders", () => {
    // Wrap random bytes in valid outer layers so the fuzzing gets past the first tag.
    const frame = (inner: Bytes, depth: number): Bytes =>
      depth === 0 ? inner : cat(Uint8Array.of(0x0a), varintBytes(inner.length), frame(inner, depth - 1));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 6 }), (bytes, depth) => {
        const b = frame(bytes, depth);
        decodesOrRejects(decodeMetricsProto, b);
        decodesOrRejects(decodeLogsProto, b);
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  test("mutations of valid requests (real SDK output and hand-built) → a request or a DecodeError", async () => {
    const seeds = [await sdkSeed(), ...handSeeds];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, muts) => {
          const b = mutate(seed, muts);
          decodesOrRejects(decodeMetricsProto, b);
          decodesOrRejects(decodeLogsProto, b);
        },
      ),
      { numRuns: 5000 * SCALE },
    );
  });
});

/**
 * Decoding with keepBucketVarints gives the same request once the bucket
 * counts are decoded (materializeBuckets), or the same error.
 */
function sameWithVarintsKept(b: Uint8Array): void {
  const outcome = (f: () => MetricsRequest) => {
    try {
      return { req: f() };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const eager = outcome(() => decodeMetricsProto(b));
  const kept = outcome(() => decodeMetricsProto(b, undefined, { keepBucketVarints: true }));
  if (kept.req)
    for (const rm of kept.req.resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics)
          if (m.kind === "exponential_histogram")
            for (const p of m.points) {
              materializeBuckets(p.positive);
              materializeBuckets(p.negative);
            }
  expect(kept).toEqual(eager);
}

describe("fuzz: protobuf bucket counts left encoded", () => {
  test("valid and mutated requests decode the same with keepBucketVarints, or fail the same", async () => {
    const seeds = [await sdkSeed(), ...handSeeds];
    let histograms = 0;
    for (const seed of seeds) {
      sameWithVarintsKept(seed);
      let req: MetricsRequest;
      try {
        req = decodeMetricsProto(seed, undefined, { keepBucketVarints: true });
      } catch {
        continue; // some seeds are logs requests
      }
      for (const rm of req.resourceMetrics)
        for (const sm of rm.scopeMetrics)
          for (const m of sm.metrics) if (m.kind === "exponential_histogram") histograms += m.points.length;
    }
    expect(histograms).toBeGreaterThan(0); // the seeds hold exponential histograms
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, muts) => sameWithVarintsKept(mutate(seed, muts)),
      ),
      { numRuns: 3000 * SCALE },
    );
  });
});

function varintBytes(n: number): Bytes {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

describe("fuzz: JSON", () => {
  const validMetrics = JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: "s", value: { stringValue: "x" } }] },
        scopeMetrics: [
          {
            scope: { name: "n", version: "1" },
            metrics: [
              {
                name: "c",
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [{ asInt: "3", timeUnixNano: "5" }],
                },
              },
              {
                name: "h",
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [{ count: 3, bucketCounts: [1, 2], explicitBounds: [1] }],
                },
              },
              {
                name: "e",
                exponentialHistogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    { count: "4", scale: -1, zeroCount: 1, positive: { offset: 2, bucketCounts: [1, "2"] } },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  });
  const validLogs = JSON.stringify({
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: "1",
                severityNumber: 9,
                body: {
                  kvlistValue: {
                    values: [{ key: "k", value: { arrayValue: { values: [{ intValue: 1 }] } } }],
                  },
                },
                attributes: [{ key: "b", value: { bytesValue: "AQ==" } }],
              },
            ],
          },
        ],
      },
    ],
  });

  test("arbitrary JSON values → a request or a DecodeError", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v) ?? "null";
        decodesOrRejectsText(decodeMetricsJson, text);
        decodesOrRejectsText(decodeLogsJson, text);
      }),
      { numRuns: 2000 * SCALE },
    );
  });

  /** Replaces the node at a random position of a valid request with an arbitrary JSON value. */
  function graft(root: unknown, pick: number, replacement: unknown): unknown {
    const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          nodes.push({ parent: v, key: i });
          walk(v[i]);
        }
      } else if (v !== null && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          nodes.push({ parent: v as Record<string, unknown>, key: k });
          walk(x);
        }
      }
    };
    walk(root);
    const n = nodes[pick % nodes.length]!;
    (n.parent as Record<string | number, unknown>)[n.key] = replacement;
    return root;
  }

  test("valid requests with one node replaced by arbitrary JSON → a request or a DecodeError", () => {
    const leaf = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(-1, -0.5, 2 ** 53, 2 ** 64, "-1", "1e3", "NaN", "", "__proto__", null, [], {}, true),
    );
    fc.assert(
      fc.property(fc.constantFrom(validMetrics, validLogs), fc.nat(), leaf, (text, pick, replacement) => {
        const mutated = JSON.stringify(graft(JSON.parse(text), pick, replacement));
        decodesOrRejectsText(decodeMetricsJson, mutated);
        decodesOrRejectsText(decodeLogsJson, mutated);
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  test("character-level mutations of valid JSON → a request or a DecodeError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(validMetrics, validLogs),
        fc.nat(),
        fc.nat({ max: 8 }),
        fc.string({ maxLength: 8 }),
        (text, at, del, ins) => {
          const i = at % (text.length + 1);
          const mutated = text.slice(0, i) + ins + text.slice(i + del);
          decodesOrRejectsText(decodeMetricsJson, mutated);
          decodesOrRejectsText(decodeLogsJson, mutated);
        },
      ),
      { numRuns: 3000 * SCALE },
    );
  });
});

describe("property: random valid exponential histograms decode exactly, from protobuf and JSON alike", () => {
  const count = fc.oneof(
    fc.integer({ min: 0, max: 1000 }),
    fc.constantFrom(0, 2 ** 53 - 1, 2 ** 32, 2 ** 32 - 1),
  );
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("__proto__", "constructor", "toString", ""),
  );
  const attrValue = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  );
  const point = fc.record({
    attrs: fc.dictionary(key, attrValue, { maxKeys: 6 }),
    count,
    zeroCount: count,
    scale: fc.integer({ min: -10, max: 20 }),
    sum: fc.option(fc.double({ noNaN: true }), { nil: undefined }),
    min: fc.option(fc.double({ noNaN: true }), { nil: undefined }),
    max: fc.option(fc.double({ noNaN: true }), { nil: undefined }),
    zeroThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    pos: fc.record({
      offset: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      counts: fc.array(count, { maxLength: 160 }),
    }),
    neg: fc.record({
      offset: fc.integer({ min: -1000, max: 1000 }),
      counts: fc.array(count, { maxLength: 20 }),
    }),
    packed: fc.boolean(),
  });

  test("round trip", () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 5 }), (points) => {
        const anyOf = (v: string | number | boolean) =>
          typeof v === "string"
            ? anyStr(v)
            : typeof v === "boolean"
              ? anyBool(v)
              : Number.isInteger(v)
                ? anyInt(v)
                : anyDouble(v);
        const jsonAny = (v: string | number | boolean) =>
          typeof v === "string"
            ? { stringValue: v }
            : typeof v === "boolean"
              ? { boolValue: v }
              : Number.isInteger(v)
                ? { intValue: String(v) }
                : { doubleValue: v };
        const proto = metricsRequest({
          metrics: [
            metric(
              "e",
              expHistogram(
                1,
                ...points.map((p) =>
                  expPoint({
                    attrs: Object.entries(p.attrs).map(([k, v]) => kv(k, anyOf(v))),
                    count: p.count,
                    zeroCount: p.zeroCount,
                    scale: p.scale,
                    sum: p.sum,
                    min: p.min,
                    max: p.max,
                    zeroThreshold: p.zeroThreshold,
                    positive: buckets(p.pos.offset, p.pos.counts, p.packed),
                    negative: buckets(p.neg.offset, p.neg.counts, p.packed),
                  }),
                ),
              ),
            ),
          ],
        });
        const json = JSON.stringify(
          {
            resourceMetrics: [
              {
                scopeMetrics: [
                  {
                    scope: { name: "scope", version: "1.0" },
                    metrics: [
                      {
                        name: "e",
                        exponentialHistogram: {
                          aggregationTemporality: 1,
                          dataPoints: points.map((p) => ({
                            attributes: Object.entries(p.attrs).map(([k, v]) => ({
                              key: k,
                              value: jsonAny(v),
                            })),
                            startTimeUnixNano: String(T0),
                            timeUnixNano: String(T1),
                            count: String(p.count),
                            zeroCount: p.zeroCount,
                            scale: p.scale,
                            sum: p.sum,
                            min: p.min,
                            max: p.max,
                            zeroThreshold: p.zeroThreshold,
                            positive: { offset: p.pos.offset, bucketCounts: p.pos.counts.map(String) },
                            negative: { offset: p.neg.offset, bucketCounts: p.neg.counts },
                          })),
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          },
          // ±Infinity and -0 as strings (JSON.stringify would write null and 0)
          (_k, v) =>
            typeof v !== "number" ? v : Object.is(v, -0) ? "-0" : Number.isFinite(v) ? v : String(v),
        );
        const fromProto = decodeMetricsProto(proto);
        const fromJson = decodeMetricsJson(json);
        expect(fromJson).toEqual(fromProto);
        const decoded = fromProto.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!
          .points as ExpHistogramPoint[];
        expect(decoded.length).toBe(points.length);
        points.forEach((p, i) => {
          const d = decoded[i]!;
          const attrs = Object.create(null);
          for (const [k, v] of Object.entries(p.attrs)) attrs[k] = v;
          expect(d).toEqual({
            attributes: attrs,
            startTimeUnixNano: T0,
            timeUnixNano: T1,
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            scale: p.scale,
            zeroCount: p.zeroCount,
            zeroThreshold: p.zeroThreshold,
            positive: { offset: p.pos.offset, bucketCounts: p.pos.counts },
            negative: { offset: p.neg.offset, bucketCounts: p.neg.counts },
          });
          expect(Object.keys(d.attributes).sort()).toEqual(Object.keys(p.attrs).sort());
        });
      }),
      { numRuns: 500 * SCALE },
    );
  });
});
