// Hand-built protobuf requests: every supported shape, and hostile input.

import { materializeBuckets } from "@mlwatch/stats";
import { describe, expect, test } from "vitest";
import {
  attributeRunHash,
  cachedAttributeRuns,
  RUN_HASH_SEED,
  reachableAttributeRuns,
  runHashStep,
} from "../../src/otlp/attribute-cache.js";
import {
  DecodeError,
  type DecodeLimits,
  DefaultDecodeLimits,
  decodeLogsProto,
  decodeMetricsProto,
  type ExpHistogramPoint,
  type HistogramPoint,
  type Metric,
  type MetricsRequest,
} from "../../src/otlp/index.js";
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
  f32,
  f64,
  fDouble,
  fGroup,
  fLen,
  fSint32,
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
  packedVarints,
  sum,
  T0,
  T1,
  tag,
  varint,
} from "./pb.js";

function metrics(req: MetricsRequest): Metric[] {
  return req.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
}

function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as Error).name).toBe("DecodeError");
    return e as DecodeError;
  }
  throw new Error("expected a DecodeError, but decoding succeeded");
}

const one = (...m: Bytes[]) => decodeMetricsProto(metricsRequest({ metrics: m }));
const limits = (l: Partial<DecodeLimits>): DecodeLimits => ({ ...DefaultDecodeLimits, ...l });

describe("valid input", () => {
  test("empty request", () => {
    expect(decodeMetricsProto(new Uint8Array(0))).toEqual({ resourceMetrics: [] });
    expect(decodeLogsProto(new Uint8Array(0))).toEqual({ resourceLogs: [] });
  });

  test("exponential histogram: every field, negative scale and offsets, negative buckets", () => {
    const req = one(
      cat(
        fLen(1, "ml.feature.value"),
        fLen(2, "desc"),
        fLen(3, "1"),
        expHistogram(
          1,
          expPoint({
            attrs: [kv("feature", anyStr("age"))],
            count: 10,
            sum: -3.5,
            min: -8,
            max: 4,
            scale: -3,
            zeroCount: 2,
            zeroThreshold: 1e-9,
            positive: buckets(-2, [1, 0, 3]),
            negative: buckets(5, [2, 2], false),
          }),
          expPoint({ count: 0, scale: 20, zeroCount: 0 }),
        ),
      ),
    );
    const [m] = metrics(req);
    expect(m).toMatchObject({ name: "ml.feature.value", description: "desc", unit: "1" });
    expect(m!.kind).toBe("exponential_histogram");
    const [p, q] = m!.points as ExpHistogramPoint[];
    expect(p).toEqual({
      attributes: { feature: "age" },
      startTimeUnixNano: T0,
      timeUnixNano: T1,
      count: 10,
      sum: -3.5,
      min: -8,
      max: 4,
      scale: -3,
      zeroCount: 2,
      zeroThreshold: 1e-9,
      positive: { offset: -2, bucketCounts: [1, 0, 3] },
      negative: { offset: 5, bucketCounts: [2, 2] },
    });
    // Absent optional fields are undefined; absent buckets are empty.
    expect(q!.sum).toBeUndefined();
    expect(q!.min).toBeUndefined();
    expect(q!.max).toBeUndefined();
    expect(q!.scale).toBe(20);
    expect(q!.positive).toEqual({ offset: 0, bucketCounts: [] });
    expect((m as { temporality: number }).temporality).toBe(1);
  });

  test("extreme sint32 scale/offset values round-trip", () => {
    for (const v of [-2147483648, 2147483647, -1, 0, 1]) {
      const [m] = metrics(
        one(
          metric(
            "x",
            expHistogram(2, expPoint({ count: 0, scale: v, zeroCount: 0, positive: buckets(v, []) })),
          ),
        ),
      );
      const p = m!.points[0] as ExpHistogramPoint;
      expect(p.scale).toBe(v);
      expect(p.positive.offset).toBe(v);
    }
  });

  test("packed and unpacked repeated fields decode the same", () => {
    const packed = histPoint({ count: 6, sum: 1, counts: [1, 2, 3], bounds: [0.5, 1.5], packed: true });
    const unpacked = histPoint({ count: 6, sum: 1, counts: [1, 2, 3], bounds: [0.5, 1.5], packed: false });
    const a = metrics(one(metric("h", histogram(2, packed))))[0]!.points[0] as HistogramPoint;
    const b = metrics(one(metric("h", histogram(2, unpacked))))[0]!.points[0] as HistogramPoint;
    expect(a.bucketCounts).toEqual([1, 2, 3]);
    expect(a.explicitBounds).toEqual([0.5, 1.5]);
    expect(b).toEqual(a);
    // A field split over several packed runs (allowed by the spec) is concatenated.
    const split = cat(f64(2, T0), f64(3, T1), f64(4, 6), fLen(6, new Uint8Array(8)), f64(6, 5));
    const c = metrics(one(metric("h", histogram(2, split))))[0]!.points[0] as HistogramPoint;
    expect(c.bucketCounts).toEqual([0, 5]);
    const e = expPoint({
      count: 3,
      scale: 0,
      zeroCount: 0,
      positive: cat(packedVarints(2, [1]), fVarint(2, 2)),
    });
    const d = metrics(one(metric("e", expHistogram(2, e))))[0]!.points[0] as ExpHistogramPoint;
    expect(d.positive.bucketCounts).toEqual([1, 2]);
  });

  test("sum, gauge: as_int (sfixed64) and as_double, temporality, monotonic", () => {
    const req = one(
      metric("c", sum(2, true, numberPoint({ asInt: 5 }), numberPoint({ asInt: -(2 ** 53 - 1) }))),
      metric("u", sum(1, false, numberPoint({ asDouble: -0.5 }))),
      metric("g", gauge(numberPoint({ asDouble: Number.NaN }), numberPoint({ asDouble: -Infinity }))),
    );
    const [c, u, g] = metrics(req);
    expect(c).toMatchObject({ kind: "sum", temporality: 2, monotonic: true });
    expect(c!.points.map((p) => (p as { value: number }).value)).toEqual([5, -(2 ** 53 - 1)]);
    expect(u).toMatchObject({ kind: "sum", temporality: 1, monotonic: false });
    expect((u!.points[0] as { value: number }).value).toBe(-0.5);
    expect(g!.kind).toBe("gauge");
    expect((g!.points[0] as { value: number }).value).toBeNaN(); // decoded faithfully; validation is later
    expect((g!.points[1] as { value: number }).value).toBe(-Infinity);
  });

  test("resource, scope, timestamps up to 2^64-1", () => {
    const p = cat(f64(2, 0), f64(3, (1n << 64n) - 1n), fDouble(4, 1));
    const req = decodeMetricsProto(
      metricsRequest({
        resource: [kv("service.name", anyStr("svc"))],
        scope: ["lib", "2.0"],
        metrics: [metric("g", gauge(p))],
      }),
    );
    expect(req.resourceMetrics[0]!.resource).toEqual({ "service.name": "svc" });
    expect(req.resourceMetrics[0]!.scopeMetrics[0]!.scope).toEqual({ name: "lib", version: "2.0" });
    const pt = metrics(req)[0]!.points[0]!;
    expect(pt.startTimeUnixNano).toBe(0n);
    expect(pt.timeUnixNano).toBe(18446744073709551615n);
  });

  test("summary metrics, metrics without data and NO_RECORDED_VALUE points are skipped", () => {
    const req = one(
      metric("summary", fLen(11, fLen(1, cat(f64(4, 3), fDouble(5, 1))))),
      metric("nodata"),
      metric(
        "g",
        gauge(
          numberPoint({ asDouble: 1 }),
          numberPoint({ asDouble: 0, flags: 1 }),
          numberPoint({ asDouble: 2, flags: 2 }),
        ),
      ),
      metric("e", expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, flags: 1 }))),
    );
    const ms = metrics(req);
    expect(ms.map((m) => m.name)).toEqual(["g", "e"]);
    expect(ms[0]!.points.map((p) => (p as { value: number }).value)).toEqual([1, 2]);
    expect(ms[1]!.points).toEqual([]);
  });

  test("oneof: a later data member replaces an earlier one; a repeated member merges", () => {
    const [m] = metrics(
      one(metric("x", gauge(numberPoint({ asDouble: 1 })), sum(2, true, numberPoint({ asDouble: 2 })))),
    );
    expect(m).toMatchObject({ kind: "sum", points: [{ value: 2 }] });
    const [n] = metrics(
      one(
        metric("y", sum(2, true, numberPoint({ asDouble: 1 })), sum(1, false, numberPoint({ asDouble: 2 }))),
      ),
    );
    expect(n).toMatchObject({
      kind: "sum",
      temporality: 1,
      monotonic: false,
      points: [{ value: 1 }, { value: 2 }],
    });
    const [s] = metrics(one(metric("z", gauge(numberPoint({})), fLen(11, new Uint8Array(0)))));
    expect(s).toBeUndefined(); // summary last: skipped
  });

  test("unknown temporality decodes as Unspecified", () => {
    const [m] = metrics(one(metric("x", sum(7, true, numberPoint({ asDouble: 1 })))));
    expect((m as { temporality: number }).temporality).toBe(0);
  });

  test("unknown fields of every wire type are skipped, at every level", () => {
    const junk = cat(
      fVarint(99, 12345678901n),
      f64(98, 7),
      fLen(97, "junk"),
      f32(96, 3),
      fGroup(95, fVarint(1, 1), fLen(2, "x")),
      fVarint(536870911, 1),
    );
    const point = cat(
      junk,
      numberPoint({ attrs: [cat(junk, kv("a", cat(junk, anyStr("b"))))], asDouble: 4 }),
      junk,
    );
    const m = cat(
      junk,
      metric("x", fLen(5, cat(junk, fLen(1, point)))),
      junk,
      fLen(12, kv("meta", anyStr("m"))),
    );
    const scopeMetrics = cat(
      junk,
      fLen(1, cat(fLen(1, "s"), junk, fLen(3, kv("sa", anyStr("x"))), fVarint(4, 2))),
      fLen(2, m),
      fLen(3, "https://schema"),
    );
    const rm = cat(
      junk,
      fLen(1, cat(junk, fLen(1, kv("r", anyStr("v"))), fVarint(2, 3))),
      fLen(2, scopeMetrics),
      fLen(3, "url"),
    );
    const req = decodeMetricsProto(cat(junk, fLen(1, rm), junk));
    expect(req.resourceMetrics[0]!.resource).toEqual({ r: "v" });
    expect(req.resourceMetrics[0]!.scopeMetrics[0]!.scope).toEqual({ name: "s", version: "" });
    expect(metrics(req)[0]).toMatchObject({
      kind: "gauge",
      name: "x",
      points: [{ value: 4, attributes: { a: "b" } }],
    });
  });

  test("attribute values: every AnyValue kind", () => {
    const attrs = [
      kv("s", anyStr("x")),
      kv("b", anyBool(true)),
      kv("i", anyInt(-42)),
      kv("big", anyInt(2n ** 60n)),
      kv("min", anyInt(-(2n ** 63n))),
      kv("d", anyDouble(0.1)),
      kv("nan", anyDouble(Number.NaN)),
      kv("bytes", anyBytes([0xde, 0xad, 0x00, 0x01])),
      kv(
        "arr",
        anyArray(
          anyStr("a"),
          anyInt(1),
          anyDouble(1.5),
          anyBool(false),
          anyDouble(Infinity),
          new Uint8Array(0),
          anyBytes([255]),
        ),
      ),
      kv(
        "map",
        anyKvlist(
          kv("k", anyStr("v")),
          kv("n", anyInt(2n ** 60n)),
          kv("k", anyStr("w")),
          kv("nested", anyArray(anyArray())),
        ),
      ),
      kv("empty"),
      kv("emptyValue", new Uint8Array(0)),
    ];
    const p = metrics(one(metric("g", gauge(numberPoint({ attrs, asDouble: 1 })))))[0]!.points[0]!;
    expect({ ...p.attributes, nan: "NaN" }).toEqual({
      s: "x",
      b: true,
      i: -42,
      big: "1152921504606846976",
      min: "-9223372036854775808",
      d: 0.1,
      nan: "NaN",
      bytes: "dead0001",
      arr: '["a",1,1.5,false,"Infinity",null,"ff"]',
      map: '{"k":"w","n":1152921504606846976,"nested":[[]]}',
    });
    expect(p.attributes.nan).toBeNaN();
    expect("empty" in p.attributes).toBe(false);
    expect("emptyValue" in p.attributes).toBe(false);
  });

  test("duplicate attribute keys: the last wins", () => {
    const p = metrics(
      one(
        metric(
          "g",
          gauge(numberPoint({ attrs: [kv("k", anyStr("1")), kv("j", anyInt(1)), kv("k", anyStr("2"))] })),
        ),
      ),
    )[0]!.points[0]!;
    expect(p.attributes).toEqual({ k: "2", j: 1 });
  });

  test("a point's attributes seen before come back as the same frozen object, untouched by later fields", () => {
    const attrs = [kv("ml.model.name", anyStr("m")), kv("ml.feature.name", anyStr("f1"))];
    const other = [kv("ml.model.name", anyStr("m")), kv("ml.feature.name", anyStr("f2"))];
    const points = (a: Bytes[]) => metrics(one(metric("g", gauge(numberPoint({ attrs: a })))))[0]!.points;
    const first = points(attrs)[0]!.attributes;
    const again = points(attrs)[0]!.attributes;
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual({ "ml.model.name": "m", "ml.feature.name": "f1" });
    expect(() => {
      (first as Record<string, unknown>)["ml.feature.name"] = "x";
    }).toThrow(TypeError);
    const f2 = points(other)[0]!.attributes;
    expect(f2).not.toBe(first);
    expect(f2["ml.feature.name"]).toBe("f2");
    // a later attribute field (after another field) goes into a copy: the shared object is unchanged
    const split = decodeMetricsProto(
      metricsRequest({
        metrics: [metric("g", gauge(cat(numberPoint({ attrs }), fLen(7, kv("extra", anyStr("e"))))))],
      }),
    );
    expect(metrics(split)[0]!.points[0]!.attributes).toEqual({
      "ml.model.name": "m",
      "ml.feature.name": "f1",
      extra: "e",
    });
    expect(points(attrs)[0]!.attributes).toEqual({ "ml.model.name": "m", "ml.feature.name": "f1" });
  });

  test("the attribute cache stays bounded whatever the number of distinct attribute sets", () => {
    for (let i = 0; i < 20_000; i++) {
      const body = metricsRequest({
        metrics: [metric("g", gauge(numberPoint({ attrs: [kv("id", anyStr(`v${i}`))] })))],
      });
      expect(metrics(decodeMetricsProto(body))[0]!.points[0]!.attributes.id).toBe(`v${i}`);
    }
    expect(cachedAttributeRuns()).toBeLessThanOrEqual(8192);
  });

  test("a cached attribute set is taken again only under the same limits", () => {
    const attrs = [kv("a", anyStr("1")), kv("b", anyStr("2")), kv("c", anyStr("3"))];
    const body = metricsRequest({ metrics: [metric("g", gauge(numberPoint({ attrs })))] });
    expect(metrics(decodeMetricsProto(body))[0]!.points[0]!.attributes).toEqual({ a: "1", b: "2", c: "3" });
    const strict: DecodeLimits = { ...DefaultDecodeLimits, maxAttributes: 2 };
    expect(decodeError(() => decodeMetricsProto(body, strict)).message).toMatch(/maxAttributes/);
    // equal limits in another object are the same limits
    const a = metrics(decodeMetricsProto(body))[0]!.points[0]!.attributes;
    const b = metrics(decodeMetricsProto(body, { ...DefaultDecodeLimits }))[0]!.points[0]!.attributes;
    expect(b).toBe(a);
  });

  test("a run that differs from a cached one in any byte is decoded as itself, at any alignment", () => {
    // 3 + 2 + 13 value bytes: whole four-byte words and a tail, wherever the run starts
    const values = (flip: number) => {
      const v = Array.from({ length: 18 }, (_, i) => 0x41 + i);
      if (flip >= 0) v[flip]! ^= 0x20;
      return [v.slice(0, 3), v.slice(3, 5), v.slice(5)];
    };
    const request = (flip: number, shift: number) => {
      const [a, b, c] = values(flip);
      const body = metricsRequest({
        metrics: [
          metric(
            "g",
            gauge(
              numberPoint({ attrs: [kv("a", anyBytes(a!)), kv("b", anyBytes(b!)), kv("c", anyBytes(c!))] }),
            ),
          ),
        ],
      });
      // the body at byte offset `shift` of its buffer: the run at every alignment to the word grid
      const at = new Uint8Array(body.length + shift);
      at.set(body, shift);
      return at.subarray(shift);
    };
    const hex = (xs: number[]) => xs.map((x) => x.toString(16).padStart(2, "0")).join("");
    for (let shift = 0; shift < 4; shift++) {
      const base = metrics(decodeMetricsProto(request(-1, shift)))[0]!.points[0]!.attributes;
      for (let flip = 0; flip < 18; flip++) {
        const [a, b, c] = values(flip);
        const got = metrics(decodeMetricsProto(request(flip, shift)))[0]!.points[0]!.attributes;
        expect(got).toEqual({ a: hex(a!), b: hex(b!), c: hex(c!) });
        expect(metrics(decodeMetricsProto(request(-1, shift)))[0]!.points[0]!.attributes).toBe(base);
      }
    }
  });

  test("points in another order than last time get their own attributes (the run that came next is only a guess)", () => {
    const sets = ["a", "b", "c", "d"].map((v) => [kv("model", anyStr("m")), kv("f", anyStr(v))]);
    const request = (order: number[]) =>
      metrics(
        decodeMetricsProto(
          metricsRequest({
            metrics: [metric("g", gauge(...order.map((i) => numberPoint({ attrs: sets[i]! }))))],
          }),
        ),
      )[0]!.points.map((p) => p.attributes);
    const first = request([0, 1, 2, 3]);
    expect(first.map((a) => a.f)).toEqual(["a", "b", "c", "d"]);
    for (const order of [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 1, 0, 2],
      [2, 0, 3, 1],
    ]) {
      const got = request(order);
      expect(got.map((a) => a.f)).toEqual(order.map((i) => "abcd"[i]));
      // still the cached objects, whatever the order
      for (const [k, a] of got.entries()) expect(a).toBe(first[order[k]!]);
    }
  });

  test("attribute sets in steady use stay cached while new ones churn through the cache", () => {
    const steady = metricsRequest({
      metrics: [
        metric("g", gauge(...["a", "b", "c", "d"].map((v) => numberPoint({ attrs: [kv("f", anyStr(v))] })))),
      ],
    });
    const attrsOf = (body: Bytes) => metrics(decodeMetricsProto(body))[0]!.points.map((p) => p.attributes);
    const first = attrsOf(steady);
    for (let round = 0; round < 6; round++) {
      // 3000 sets never seen again: the cache turns over a generation every few rounds
      const churn = metricsRequest({
        metrics: [
          metric(
            "g",
            gauge(
              ...Array.from({ length: 3000 }, (_, i) =>
                numberPoint({ attrs: [kv("id", anyStr(`r${round}-${i}`))] }),
              ),
            ),
          ),
        ],
      });
      attrsOf(churn);
      const again = attrsOf(steady);
      for (const [k, a] of again.entries()) expect(a).toBe(first[k]);
    }
  });

  test("a request in a Node Buffer (as the receiver has it) hits the cache like a Uint8Array", () => {
    const body = metricsRequest({
      metrics: [
        metric("g", gauge(...["a", "b", "c"].map((v) => numberPoint({ attrs: [kv("f", anyStr(v))] })))),
      ],
    });
    // Buffer.concat, as the receiver assembles a body: its slice() is a view, not a copy
    const asBuffer = () => Buffer.concat([Buffer.from(body.subarray(0, 7)), Buffer.from(body.subarray(7))]);
    const attrsOf = (b: Uint8Array) => metrics(decodeMetricsProto(b))[0]!.points.map((p) => p.attributes);
    const first = attrsOf(asBuffer());
    const again = attrsOf(asBuffer());
    expect(again.map((a) => a.f)).toEqual(["a", "b", "c"]);
    for (const [k, a] of again.entries()) expect(a).toBe(first[k]);
  });

  test("runs made to share one hash cannot chain up memory through the run that came next", () => {
    // run k: the same bytes but for its last two words, chosen so that every run has one hash
    const base = fLen(7, kv("k", anyBytes(Array.from({ length: 16 }, (_, i) => i + 1))));
    const w1At = ((base.length >> 2) - 2) * 4;
    const dv = (u: Uint8Array) => new DataView(u.buffer, u.byteOffset, u.byteLength);
    let h0 = RUN_HASH_SEED;
    for (let i = 0; i < w1At; i += 4) h0 = runHashStep(h0, dv(base).getInt32(i, true));
    const w1 = dv(base).getInt32(w1At, true);
    const w2 = dv(base).getInt32(w1At + 4, true);
    const run = (k: number) => {
      const r = base.slice();
      const w1k = (w1 ^ (k + 1)) | 0;
      dv(r).setInt32(w1At, w1k, true);
      dv(r).setInt32(w1At + 4, runHashStep(h0, w1k) ^ runHashStep(h0, w1) ^ w2, true);
      return r;
    };
    expect(attributeRunHash(run(1))).toBe(attributeRunHash(run(2)));
    const request = (...runs: Uint8Array[]) =>
      decodeMetricsProto(
        metricsRequest({ metrics: [metric("g", gauge(...runs.map((r) => cat(r, numberPoint({})))))] }),
      );
    const anchorRun = fLen(7, kv("anchor", anyStr("x")));
    request(anchorRun, run(0));
    for (let k = 1; k < 3000; k++) request(run(k - 1), run(k));
    // without the bound each pushed-out run would lead on to the next: thousands in one chain
    expect(reachableAttributeRuns()).toBeLessThanOrEqual(2 * cachedAttributeRuns());
  });

  test("two runs with the same hash are told apart by their bytes", () => {
    // run B: run A with its last two words changed so that the hash comes out the same
    const runOf = (v: number[]) => fLen(7, kv("k", anyBytes(v)));
    const a = Array.from({ length: 16 }, (_, i) => i + 1);
    const runA = runOf(a);
    const dv = (u: Uint8Array) => new DataView(u.buffer, u.byteOffset, u.byteLength);
    const words = runA.length >> 2;
    // the value bytes are the run's tail: its last two whole words hold value bytes only
    const w1At = (words - 2) * 4;
    const w2At = (words - 1) * 4;
    expect(w1At).toBeGreaterThanOrEqual(runA.length - 16);
    let h0 = RUN_HASH_SEED;
    for (let i = 0; i < w1At; i += 4) h0 = runHashStep(h0, dv(runA).getInt32(i, true));
    const runB = runA.slice();
    const w1 = dv(runA).getInt32(w1At, true);
    const w2 = dv(runA).getInt32(w2At, true);
    const w1b = w1 ^ 0x01010101;
    dv(runB).setInt32(w1At, w1b, true);
    // a step is a bijection of (state xor word): equal inputs to the last step give equal hashes
    dv(runB).setInt32(w2At, runHashStep(h0, w1b) ^ runHashStep(h0, w1) ^ w2, true);
    expect(attributeRunHash(runB)).toBe(attributeRunHash(runA));
    expect(hexOf(runB)).not.toBe(hexOf(runA));
    const decode = (run: Uint8Array) =>
      metrics(
        decodeMetricsProto(metricsRequest({ metrics: [metric("g", gauge(cat(run, numberPoint({}))))] })),
      )[0]!.points[0]!.attributes;
    const valueIn = (run: Uint8Array) => hexOf(run.subarray(run.length - 16));
    const first = decode(runA);
    expect(first).toEqual({ k: valueIn(runA) });
    expect(decode(runB)).toEqual({ k: valueIn(runB) });
    expect(decode(runA)).toEqual({ k: valueIn(runA) });
  });

  test("long attribute runs are decoded each time, not kept", () => {
    const attrs = [kv("big", anyStr("x".repeat(2000)))];
    const body = metricsRequest({ metrics: [metric("g", gauge(numberPoint({ attrs })))] });
    const a = metrics(decodeMetricsProto(body))[0]!.points[0]!.attributes;
    const b = metrics(decodeMetricsProto(body))[0]!.points[0]!.attributes;
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
    expect(Object.isFrozen(a)).toBe(false);
  });

  test("__proto__ and constructor keys are plain data (no prototype pollution)", () => {
    const attrs = [
      kv("__proto__", anyStr("polluted")),
      kv("constructor", anyStr("c")),
      kv("hasOwnProperty", anyInt(1)),
      kv("obj", anyKvlist(kv("__proto__", anyKvlist(kv("polluted", anyBool(true)))))),
    ];
    const req = decodeMetricsProto(
      metricsRequest({ resource: attrs, metrics: [metric("g", gauge(numberPoint({ attrs })))] }),
    );
    for (const a of [req.resourceMetrics[0]!.resource, metrics(req)[0]!.points[0]!.attributes]) {
      expect(Object.getPrototypeOf(a)).toBeNull();
      expect(Object.keys(a).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "obj"]);
      expect(Object.getOwnPropertyDescriptor(a, "__proto__")?.value).toBe("polluted");
      expect(a.constructor).toBe("c");
      expect(a.obj).toBe('{"__proto__":{"polluted":true}}');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  test("invalid UTF-8 is decoded with replacement characters, not rejected", () => {
    const bad = Uint8Array.from([0x61, 0xff, 0x62, 0xc3]);
    const p = metrics(
      one(cat(fLen(1, bad), gauge(numberPoint({ attrs: [cat(fLen(1, "k"), fLen(2, fLen(1, bad)))] })))),
    )[0]!;
    expect(p.name).toBe("a\uFFFDb\uFFFD");
    expect(p.points[0]!.attributes.k).toBe("a\uFFFDb\uFFFD");
    // a leading BOM is text, not a byte-order mark
    expect(metrics(one(cat(fLen(1, Uint8Array.from([0xef, 0xbb, 0xbf, 0x61])), gauge())))[0]!.name).toBe(
      "\uFEFFa",
    );
  });

  test("logs: every LogRecord field, bodies of every kind", () => {
    const req = decodeLogsProto(
      logsRequest({
        resource: [kv("service.name", anyStr("svc"))],
        records: [
          cat(
            logRecord({
              severity: 9,
              text: "INFO",
              event: "ml.prediction",
              attrs: [kv("a", anyInt(1))],
              body: anyKvlist(kv("p", anyStr("pos")), kv("f", anyKvlist(kv("x", anyInt(1))))),
            }),
            f32(8, 1),
            fLen(9, new Uint8Array(16)),
            fLen(10, new Uint8Array(8)),
            fVarint(7, 3),
          ),
          logRecord({ body: anyArray(anyStr("a"), anyInt(2)) }),
          logRecord({ body: anyArray(anyStr("a"), new Uint8Array(0)) }),
          logRecord({ body: anyBytes([1, 2]) }),
          logRecord({ body: new Uint8Array(0) }),
          logRecord({ severity: 0xffffffff }),
        ],
      }),
    );
    const [a, b, c, d, e, f] = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(req.resourceLogs[0]!.scopeLogs[0]!.scope).toEqual({ name: "logger", version: "" });
    expect(a).toEqual({
      timeUnixNano: T0,
      observedTimeUnixNano: T1,
      severityNumber: 9,
      severityText: "INFO",
      body: { p: "pos", f: '{"x":1}' },
      attributes: { a: 1 },
      eventName: "ml.prediction",
    });
    expect(Object.getPrototypeOf(a!.body)).toBeNull();
    expect(b!.body).toEqual(["a", 2]);
    expect(c!.body).toBe('["a",null]');
    expect(d!.body).toBe("0102");
    expect(e!.body).toBeNull();
    expect(f!.severityNumber).toBe(-1); // enum values are int32
  });
});

describe("malformed input → DecodeError", () => {
  const valid = () =>
    metricsRequest({
      resource: [kv("service.name", anyStr("svc")), kv("arr", anyArray(anyKvlist(kv("k", anyDouble(1)))))],
      metrics: [
        metric("c", sum(2, true, numberPoint({ attrs: [kv("a", anyStr("b"))], asInt: 3 }))),
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
              positive: buckets(-1, [1, 2]),
              negative: buckets(0, [0]),
            }),
          ),
        ),
      ],
    });

  test("the error names the path, the field and the wire types", () => {
    const bad = cat(fSint32(6, 0), tag(2, 5), new Uint8Array(4)); // start_time_unix_nano as fixed32
    const e = decodeError(() =>
      one(metric("a"), metric("b"), metric("c"), metric("d", expHistogram(2, bad))),
    );
    expect(e.message).toBe(
      "resource_metrics[0].scope_metrics[0].metrics[3].exponential_histogram.data_points[0]: field 2 has wire type 5 (I32), expected 1 (I64)",
    );
  });

  test("wrong wire types for known fields, at each level", () => {
    const cases: [Bytes, RegExp][] = [
      [fVarint(1, 1), /^field 1 has wire type 0 \(VARINT\), expected 2 \(LEN\)$/],
      [
        fLen(1, fVarint(2, 1)),
        /^resource_metrics\[0\]: field 2 has wire type 0 \(VARINT\), expected 2 \(LEN\)/,
      ],
      [metricsRequest({ metrics: [cat(fVarint(1, 3))] }), /metrics\[0\]: field 1 has wire type 0/],
      [
        metricsRequest({ metrics: [metric("x", fLen(7, fLen(2, "")))] }),
        /metrics\[0\]\.sum: field 2 has wire type 2 \(LEN\), expected 0/,
      ],
      [
        metricsRequest({ metrics: [metric("x", gauge(cat(fVarint(4, 1))))] }),
        /gauge\.data_points\[0\]: field 4 has wire type 0/,
      ],
      [
        metricsRequest({ metrics: [metric("x", gauge(cat(f64(7, 1))))] }),
        /data_points\[0\]: field 7 has wire type 1/,
      ],
      [
        metricsRequest({ metrics: [metric("x", histogram(2, cat(f32(6, 1))))] }),
        /field 6 has wire type 5 \(I32\), expected 2 \(LEN\) or 1 \(I64\)/,
      ],
      [
        metricsRequest({ metrics: [metric("x", expHistogram(2, cat(f64(6, 1))))] }),
        /field 6 has wire type 1 \(I64\), expected 0 \(VARINT\)/,
      ],
      [
        metricsRequest({ metrics: [metric("x", expHistogram(2, fLen(8, f64(2, 1))))] }),
        /data_points\[0\]\.positive: field 2 has wire type 1 \(I64\), expected 2 \(LEN\) or 0 \(VARINT\)/,
      ],
      [
        metricsRequest({
          metrics: [metric("x", gauge(numberPoint({ attrs: [cat(fLen(1, "k"), fLen(2, fDouble(1, 2)))] })))],
        }),
        /attributes\[0\]\.value: field 1 has wire type 1/,
      ],
      [
        metricsRequest({ metrics: [metric("x", fLen(11, new Uint8Array(0)), f64(12, 0))] }),
        /field 12 has wire type 1/,
      ],
    ];
    for (const [buf, re] of cases) expect(decodeError(() => decodeMetricsProto(buf)).message).toMatch(re);
    expect(
      decodeError(() => decodeLogsProto(logsRequest({ records: [cat(fVarint(1, 5))] }))).message,
    ).toMatch(
      /^resource_logs\[0\]\.scope_logs\[0\]\.log_records\[0\]: field 1 has wire type 0 \(VARINT\), expected 1 \(I64\)$/,
    );
    expect(decodeError(() => decodeLogsProto(logsRequest({ records: [cat(f64(8, 1))] }))).message).toMatch(
      /field 8 has wire type 1/,
    );
  });

  test("invalid tags: field 0, wire types 6 and 7, stray end-group, overlong tag", () => {
    for (const buf of [
      Uint8Array.of(0x00),
      Uint8Array.of(0x02, 0x00),
      Uint8Array.of(0x0e),
      Uint8Array.of(0x0f),
      Uint8Array.of(0x0c),
      cat(fGroup(5, fVarint(1, 1)).subarray(0, 3)),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
      fGroup(5, tag(6, 4)), // mismatched end-group
    ]) {
      decodeError(() => decodeMetricsProto(buf));
      decodeError(() => decodeLogsProto(buf));
    }
  });

  test("every prefix of a valid request is either a valid request or a DecodeError", () => {
    const logs = logsRequest({
      records: [
        logRecord({
          severity: 3,
          text: "t",
          body: anyKvlist(kv("k", anyArray(anyStr("x")))),
          attrs: [kv("a", anyBool(true))],
          event: "e",
        }),
      ],
    });
    for (const [buf, own] of [
      [valid(), decodeMetricsProto],
      [logs, decodeLogsProto],
    ] as const) {
      expect(() => own(buf)).not.toThrow();
      let errors = 0;
      for (let n = 0; n < buf.length; n++) {
        const prefix = buf.subarray(0, n);
        // Each decoder, on its own messages and on the other signal's.
        for (const decode of [decodeMetricsProto, decodeLogsProto]) {
          try {
            decode(prefix);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
            errors++;
          }
        }
      }
      expect(errors).toBeGreaterThan(buf.length); // most prefixes are invalid
    }
  });

  test("length-delimited lengths beyond the buffer or the enclosing message", () => {
    expect(
      decodeError(() => decodeMetricsProto(cat(tag(1, 2), varint(1000), new Uint8Array(10)))).message,
    ).toBe("resource_metrics[0]: length 1000 exceeds the 10 bytes left in the enclosing message");
    // A nested length that fits the buffer but not its parent message.
    const inner = cat(tag(2, 2), varint(20), new Uint8Array(20));
    const buf = cat(tag(1, 2), varint(5), inner);
    expect(decodeError(() => decodeMetricsProto(buf)).message).toMatch(
      /^resource_metrics\[0\]\.scope_metrics\[0\]: length 20 exceeds the 3 bytes left/,
    );
    // A length varint longer than 5 bytes.
    expect(
      decodeError(() => decodeMetricsProto(cat(tag(1, 2), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00))))
        .message,
    ).toMatch(/length prefix is longer than 5 bytes/);
  });

  test("a huge repeated count claim fails fast, without allocating", () => {
    // packed bucket_counts claiming 4 GiB
    const claim = cat(tag(2, 2), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f));
    const t = performance.now();
    decodeError(() =>
      one(metric("e", expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, positive: claim })))),
    );
    decodeError(() =>
      one(metric("h", histogram(2, cat(tag(6, 2), Uint8Array.of(0xf8, 0xff, 0xff, 0xff, 0x0f))))),
    );
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test("maxRepeated, maxAttributes, maxStringBytes are enforced", () => {
    const counts = Array.from({ length: 11 }, () => 1);
    const lim = limits({ maxRepeated: 10, maxAttributes: 3, maxStringBytes: 8 });
    const e = (pos: Bytes) =>
      one(metric("e", expHistogram(2, expPoint({ count: 11, scale: 0, zeroCount: 0, positive: pos }))));
    expect(() =>
      decodeMetricsProto(
        metricsRequest({
          metrics: [
            metric(
              "e",
              expHistogram(
                2,
                expPoint({ count: 11, scale: 0, zeroCount: 0, positive: buckets(0, counts.slice(1)) }),
              ),
            ),
          ],
        }),
        lim,
      ),
    ).not.toThrow();
    e(buckets(0, counts)); // fine with the default limits
    const buf = metricsRequest({
      metrics: [
        metric(
          "e",
          expHistogram(2, expPoint({ count: 11, scale: 0, zeroCount: 0, positive: buckets(0, counts) })),
        ),
      ],
    });
    expect(decodeError(() => decodeMetricsProto(buf, lim)).message).toMatch(
      /positive: bucket_counts has more than maxRepeated \(10\) elements/,
    );
    const unpacked = metricsRequest({
      metrics: [
        metric(
          "e",
          expHistogram(
            2,
            expPoint({ count: 11, scale: 0, zeroCount: 0, positive: buckets(0, counts, false) }),
          ),
        ),
      ],
    });
    expect(decodeError(() => decodeMetricsProto(unpacked, lim)).message).toMatch(/maxRepeated/);
    const hist = metricsRequest({
      metrics: [metric("h", histogram(2, histPoint({ count: 0, counts, bounds: counts })))],
    });
    expect(decodeError(() => decodeMetricsProto(hist, lim)).message).toMatch(
      /bucket_counts has more than maxRepeated/,
    );
    const points = metricsRequest({ metrics: [metric("g", gauge(...counts.map(() => numberPoint({}))))] });
    expect(decodeError(() => decodeMetricsProto(points, lim)).message).toMatch(
      /data_points has more than maxRepeated/,
    );
    const attrs = metricsRequest({
      metrics: [
        metric("g", gauge(numberPoint({ attrs: ["a", "b", "c", "d"].map((k) => kv(k, anyInt(1))) }))),
      ],
    });
    expect(decodeError(() => decodeMetricsProto(attrs, lim)).message).toMatch(
      /data_points\[0\]: more than maxAttributes \(3\) attributes/,
    );
    const long = metricsRequest({ metrics: [metric("nine-byte")] });
    expect(decodeError(() => decodeMetricsProto(long, lim)).message).toMatch(
      /metrics\[0\]: string of 9 bytes exceeds maxStringBytes \(8\)/,
    );
    const logs = logsRequest({ records: counts.map(() => logRecord({})) });
    expect(decodeError(() => decodeLogsProto(logs, lim)).message).toMatch(
      /log_records has more than maxRepeated/,
    );
    // A partial limits object is completed with the defaults.
    expect(() => decodeMetricsProto(buf, { maxDepth: 2 })).not.toThrow();
  });

  test("64-bit values above 2^53-1 are rejected, up to it accepted", () => {
    const ok = 2 ** 53 - 1;
    const exp = (count: number | bigint, zero: number | bigint, bucket: number | bigint) =>
      metricsRequest({
        metrics: [
          metric(
            "e",
            expHistogram(2, expPoint({ count, scale: 0, zeroCount: zero, positive: buckets(0, [bucket]) })),
          ),
        ],
      });
    const p = metrics(decodeMetricsProto(exp(ok, ok, ok)))[0]!.points[0] as ExpHistogramPoint;
    expect([p.count, p.zeroCount, p.positive.bucketCounts[0]]).toEqual([ok, ok, ok]);
    expect(decodeError(() => decodeMetricsProto(exp(2 ** 53, 0, 0))).message).toMatch(
      /data_points\[0\]: count exceeds 2\^53-1/,
    );
    expect(decodeError(() => decodeMetricsProto(exp(0, 2n ** 64n - 1n, 0))).message).toMatch(
      /zero_count exceeds 2\^53-1/,
    );
    expect(decodeError(() => decodeMetricsProto(exp(0, 0, 2n ** 53n))).message).toMatch(
      /positive: bucket_counts exceeds 2\^53-1/,
    );
    expect(decodeError(() => decodeMetricsProto(exp(0, 0, 2n ** 64n - 1n))).message).toMatch(
      /bucket_counts exceeds/,
    );
    const unpacked = metricsRequest({
      metrics: [
        metric(
          "e",
          expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, positive: fVarint(2, 2n ** 60n) })),
        ),
      ],
    });
    expect(decodeError(() => decodeMetricsProto(unpacked)).message).toMatch(/bucket_counts exceeds/);
    const hist = metricsRequest({
      metrics: [metric("h", histogram(2, histPoint({ count: 0, counts: [2n ** 53n], bounds: [] })))],
    });
    expect(decodeError(() => decodeMetricsProto(hist)).message).toMatch(/bucket_counts exceeds/);
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      const asInt = metricsRequest({ metrics: [metric("s", sum(2, true, numberPoint({ asInt: v })))] });
      expect(decodeError(() => decodeMetricsProto(asInt)).message).toMatch(/as_int exceeds 2\^53-1/);
    }
  });

  test("bucket counts left encoded (keepBucketVarints) are checked as when decoded", () => {
    const withPositive = (positive: Bytes) =>
      metricsRequest({
        metrics: [metric("e", expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, positive })))],
      });
    const tooLong = cat(
      fSint32(1, 0),
      fLen(2, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)),
    );
    const cases: Array<[string, Bytes, Partial<DecodeLimits>?]> = [
      ["largest count", withPositive(buckets(-3, [0, 2 ** 53 - 1, 5]))],
      ["count of 2^53", withPositive(buckets(0, [1, 2n ** 53n]))],
      ["count of 2^64 - 1", withPositive(buckets(0, [2n ** 64n - 1n]))],
      ["eleven-byte varint", withPositive(tooLong)],
      ["run cut inside a varint", withPositive(cat(fSint32(1, 0), fLen(2, Uint8Array.of(0x05, 0x80))))],
      ["more than maxRepeated", withPositive(buckets(0, [1, 2, 3, 4, 5])), { maxRepeated: 4 }],
      ["two packed runs", withPositive(cat(packedVarints(2, [1, 200]), packedVarints(2, [3])))],
      ["packed, then single", withPositive(cat(packedVarints(2, [1]), fVarint(2, 70_000)))],
      ["single, then packed", withPositive(cat(fVarint(2, 7), packedVarints(2, [1, 2])))],
    ];
    for (const [name, body, limits] of cases) {
      const outcome = (keep: boolean) => {
        try {
          const req = decodeMetricsProto(body, limits, { keepBucketVarints: keep });
          const p = metrics(req)[0]!.points[0] as ExpHistogramPoint;
          const left = p.positive.varints !== undefined;
          materializeBuckets(p.positive);
          return { counts: p.positive.bucketCounts, offset: p.positive.offset, left };
        } catch (e) {
          return { error: (e as Error).message };
        }
      };
      const eager = outcome(false);
      const kept = outcome(true);
      expect({ name, ...kept, left: undefined }).toEqual({ name, ...eager, left: undefined });
      if (name === "largest count") expect(kept).toMatchObject({ left: true, counts: [0, 2 ** 53 - 1, 5] });
      if (name === "two packed runs") expect(kept).toMatchObject({ counts: [1, 200, 3] });
    }
  });

  test("overlong varints (more than 10 bytes)", () => {
    const eleven = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    const packed = fLen(2, eleven);
    decodeError(() =>
      one(metric("e", expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, positive: packed })))),
    );
    decodeError(() =>
      one(
        metric(
          "e",
          expHistogram(2, expPoint({ count: 0, scale: 0, zeroCount: 0, positive: cat(tag(2, 0), eleven) })),
        ),
      ),
    );
    decodeError(() => decodeMetricsProto(cat(tag(99, 0), eleven)));
    decodeError(() => one(metric("s", fLen(7, cat(tag(2, 0), eleven)))));
    decodeError(() => one(metric("s", gauge(numberPoint({ attrs: [kv("i", cat(tag(3, 0), eleven))] })))));
  });

  test("10k levels of AnyValue nesting → DecodeError, not a stack overflow", () => {
    for (const wrap of [(v: Bytes) => anyArray(v), (v: Bytes) => anyKvlist(kv("k", v))]) {
      let v = anyStr("leaf");
      for (let i = 0; i < 10_000; i++) v = wrap(v);
      const attrs = [kv("deep", v)];
      const buf = metricsRequest({ resource: attrs, metrics: [] });
      expect(decodeError(() => decodeMetricsProto(buf)).message).toMatch(
        /AnyValue nesting exceeds maxDepth \(16\)/,
      );
      expect(
        decodeError(() => decodeLogsProto(logsRequest({ records: [logRecord({ body: v })] }))).message,
      ).toMatch(/maxDepth/);
      // Even with the limit lifted, running out of stack is reported as a DecodeError.
      decodeError(() => decodeMetricsProto(buf, limits({ maxDepth: 1e9 })));
    }
    // 16 levels is within the default limit.
    let ok = anyStr("leaf");
    for (let i = 0; i < 15; i++) ok = anyArray(ok);
    const res = decodeMetricsProto(metricsRequest({ resource: [kv("d", ok)], metrics: [] }));
    expect(res.resourceMetrics[0]!.resource.d).toBe(`${"[".repeat(15)}"leaf"${"]".repeat(15)}`);
  });

  test("packed fixed64/double with a length that is not a multiple of 8", () => {
    const bad = cat(f64(2, T0), f64(3, T1), f64(4, 0), fLen(6, new Uint8Array(7)));
    expect(decodeError(() => one(metric("h", histogram(2, bad)))).message).toMatch(/not a multiple of 8/);
    const badBounds = cat(fLen(7, new Uint8Array(9)));
    expect(decodeError(() => one(metric("h", histogram(2, badBounds)))).message).toMatch(
      /not a multiple of 8/,
    );
  });

  test("non-Uint8Array views: a subarray of a larger buffer decodes the same", () => {
    const buf = valid();
    const big = new Uint8Array(buf.length + 16);
    big.set(buf, 7);
    expect(decodeMetricsProto(big.subarray(7, 7 + buf.length))).toEqual(decodeMetricsProto(buf));
    expect(decodeMetricsProto(Buffer.from(buf))).toEqual(decodeMetricsProto(buf));
  });
});

function hexOf(u: Uint8Array): string {
  return Array.from(u, (x) => x.toString(16).padStart(2, "0")).join("");
}
