// Unit tests of the exponential histogram: index mapping, recording, bad
// input, (de)serialisation and its validation, conversions.
import { describe, expect, it } from "vitest";
import {
  ExpHistogram,
  type ExpHistogramJSON,
  lowerBoundary,
  MAX_SCALE,
  MIN_SCALE,
  mapToIndex,
} from "../src/index.js";

const nextUp = (x: number) => {
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  u[0] += 1n;
  return f[0];
};
const nextDown = (x: number) => {
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  u[0] -= 1n;
  return f[0];
};

describe("index mapping (OTel exponential histogram data model)", () => {
  it("is exact at powers of two for every scale: 2^k is the upper bound of its bucket", () => {
    for (let s = MIN_SCALE; s <= MAX_SCALE; s++) {
      for (let k = -1022; k <= 1023; k += 7) {
        const v = 2 ** k;
        const expected = s >= 0 ? k * 2 ** s - 1 : Math.floor((k - 1) / 2 ** -s);
        expect(mapToIndex(v, s)).toBe(expected);
        if (s >= 0) expect(mapToIndex(nextUp(v), s)).toBe(expected + 1);
      }
    }
  });
  it("puts values strictly inside (base^i, base^(i+1)]", () => {
    for (let s = MIN_SCALE; s <= MAX_SCALE; s += 3) {
      for (const v of [1e-300, 3e-9, 0.1, 0.3, 1, 1.5, 3, 10, 1234.5, 9.9e11, 1e300]) {
        const i = mapToIndex(v, s);
        // boundaries are computed to ~1 ulp, allow that much
        expect(lowerBoundary(i, s)).toBeLessThan(nextUp(nextUp(v)));
        expect(lowerBoundary(i + 1, s)).toBeGreaterThanOrEqual(nextDown(v));
      }
    }
  });
  it("maps subnormals to the bucket ending at 2^-1022 and covers the whole float range", () => {
    expect(mapToIndex(5e-324, 0)).toBe(mapToIndex(2 ** -1022, 0));
    expect(mapToIndex(5e-324, 20)).toBe(mapToIndex(2 ** -1022, 20));
    expect(mapToIndex(Number.MAX_VALUE, 20)).toBe(1024 * 2 ** 20 - 1);
    expect(mapToIndex(Number.MAX_VALUE, -10)).toBe(0);
  });
});

describe("ExpHistogram.record", () => {
  it("tracks count, sum, min, max, zero bucket and both signs", () => {
    const h = new ExpHistogram();
    for (const v of [3, -2, 0, 5.5, -0.25, 0]) h.record(v);
    h.record(7, 3);
    expect(h.count).toBe(9);
    expect(h.sum).toBe(3 - 2 + 5.5 - 0.25 + 21);
    expect(h.min).toBe(-2);
    expect(h.max).toBe(7);
    expect(h.zeroCount).toBe(2);
    expect(h.rejected).toBe(0);
    const j = h.toJSON();
    expect(j.positive.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(j.negative.counts.reduce((a, b) => a + b, 0)).toBe(2);
  });
  it("never lets NaN or ±Infinity (or a bad weight) reach count, sum, min, max or buckets", () => {
    const h = new ExpHistogram();
    h.record(1);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) h.record(v);
    h.record(2, Number.NaN);
    h.record(2, -1);
    h.record(2, Number.POSITIVE_INFINITY);
    h.record(2, 0); // a no-op, not an error
    expect(h.rejected).toBe(6);
    expect(h.count).toBe(1);
    expect(h.sum).toBe(1);
    expect(h.min).toBe(1);
    expect(h.max).toBe(1);
    expect(JSON.stringify(h.toJSON())).not.toMatch(/null|NaN|Infinity/);
  });
  it("uses the zero threshold", () => {
    const h = new ExpHistogram({ zeroThreshold: 0.01 });
    for (const v of [0.001, -0.01, 0.0100001, -0.5]) h.record(v);
    expect(h.zeroCount).toBe(2);
    expect(h.count).toBe(4);
  });
  it("starts at maxScale and downscales just enough to keep each range within maxSize buckets", () => {
    const h = new ExpHistogram({ maxSize: 160 });
    h.record(1.5);
    expect(h.scale).toBe(20);
    h.record(1.5 * (1 + 1e-5)); // ~15 buckets apart at scale 20
    expect(h.scale).toBe(20);
    h.record(1.5 * 1.001); // ~1512 buckets apart at scale 20: needs scale 16 (~95)
    expect(h.scale).toBe(16);
    for (let v = 1e-3; v < 1e6; v *= 1.01) h.record(v);
    // 9 decades ≈ 29.9 octaves: 160 buckets allow 4 per octave (scale 2), not 8
    expect(h.scale).toBe(2);
    expect(h.positiveSpan).toBeLessThanOrEqual(160);
    const small = new ExpHistogram({ maxSize: 4 });
    for (const v of [1, 2, 4, 8, 16, 32, 64, 128, 256]) small.record(v);
    expect(small.positiveSpan).toBeLessThanOrEqual(4);
    expect(small.count).toBe(9);
  });
  it("empty histogram: NaN min/max/quantile/cdf, zeros in JSON", () => {
    const h = new ExpHistogram();
    expect(h.count).toBe(0);
    expect(h.min).toBeNaN();
    expect(h.quantile(0.5)).toBeNaN();
    expect(h.cdf(1)).toBeNaN();
    expect(h.toJSON()).toMatchObject({ count: 0, sum: 0, min: 0, max: 0 });
  });
  it("rejects bad options", () => {
    expect(() => new ExpHistogram({ maxSize: 1 })).toThrow(/maxSize/);
    expect(() => new ExpHistogram({ maxScale: 21 })).toThrow(/maxScale/);
    expect(() => new ExpHistogram({ zeroThreshold: -1 })).toThrow(/zeroThreshold/);
  });
});

describe("cdf, quantile, explicit buckets", () => {
  const h = new ExpHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i);
  it("cdf is exact outside [min, max] and at powers of two", () => {
    expect(h.cdf(0.5)).toBe(0);
    expect(h.cdf(1000)).toBe(1);
    for (const p of [2, 4, 8, 16, 32, 64, 128, 256, 512]) expect(h.cdf(p)).toBeCloseTo(p / 1000, 12);
  });
  it("quantile: exact min/max at q = 0 and 1, bounded relative error between", () => {
    expect(h.quantile(0)).toBe(1);
    expect(h.quantile(1)).toBe(1000);
    const width = 2 ** (2 ** -h.scale) - 1;
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.9, 0.99]) {
      const exact = Math.ceil(q * 1000);
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(width);
    }
    expect(h.quantile(-0.1)).toBeNaN();
    expect(h.quantile(1.1)).toBeNaN();
  });
  it("toExplicitBuckets gives integer per-bucket counts adding up to count", () => {
    const b = h.toExplicitBuckets([0.5, 1, 64, 100, 512, 5000]);
    expect(b).toHaveLength(7);
    expect(b.reduce((x, y) => x + y, 0)).toBe(1000);
    expect(b[0]).toBe(0);
    expect(b[1]).toBe(1);
    expect(b[2]).toBe(63); // (1, 64] — both bounds are bucket boundaries: exact
    expect(Math.abs(b[3] - 36)).toBeLessThanOrEqual(2); // 100 is inside a bucket: interpolated
    expect(b[6]).toBe(0);
    expect(() => h.toExplicitBuckets([2, 1])).toThrow(/increasing/);
  });
  it("handles negative values and the zero bucket in cdf order", () => {
    const g = new ExpHistogram();
    for (const v of [-4, -2, -1, 0, 0, 1, 2, 4]) g.record(v);
    // a negative bucket holds [-base^(i+1), -base^i): its closed end is the
    // most negative one, so F is exact between buckets (not at -2^k itself)
    expect(g.cdf(-3)).toBeCloseTo(1 / 8, 12);
    expect(g.cdf(-1.5)).toBeCloseTo(2 / 8, 12);
    expect(g.cdf(-0.5)).toBeCloseTo(3 / 8, 12);
    expect(g.cdf(0)).toBeCloseTo(5 / 8, 12);
    expect(g.cdf(1)).toBeCloseTo(6 / 8, 12);
    expect(g.quantile(0.5)).toBe(0);
    expect(g.toExplicitBuckets([-3, 0, 3])).toEqual([1, 4, 2, 1]);
  });
});

describe("JSON and OTLP", () => {
  const h = new ExpHistogram({ zeroThreshold: 1e-9 });
  for (const v of [0, -3.5, 0.1, 0.2, 7, 7, 1e4, -1e-3]) h.record(v);
  it("round-trips through JSON exactly", () => {
    const j = h.toJSON();
    const back = ExpHistogram.fromJSON(JSON.parse(JSON.stringify(j)));
    expect(back.toJSON()).toEqual(j);
    expect(back.min).toBe(-3.5);
    expect(back.max).toBe(1e4);
  });
  it("rejects inconsistent JSON with a clear error", () => {
    const j = h.toJSON();
    const bad = (patch: Partial<ExpHistogramJSON>) => () => ExpHistogram.fromJSON({ ...j, ...patch });
    expect(bad({ count: j.count + 1 })).toThrow(/do not add up to count 9/);
    expect(bad({ positive: { offset: j.positive.offset, counts: [...j.positive.counts, 1] } })).toThrow(
      /add up/,
    );
    expect(bad({ scale: 21 })).toThrow(/scale must be an integer in \[-10, 20\]/);
    expect(bad({ scale: 1.5 })).toThrow(/scale/);
    expect(bad({ zeroCount: -1 })).toThrow(/zeroCount/);
    expect(bad({ min: 5, max: 1 })).toThrow(/min 5 > max 1/);
    expect(bad({ sum: Number.NaN })).toThrow(/sum/);
    expect(bad({ negative: { offset: 0.5, counts: [] } })).toThrow(/negative.offset/);
    expect(bad({ positive: { offset: 0, counts: [1, -1] } })).toThrow(/positive.counts\[1\]/);
    expect(() => ExpHistogram.fromJSON(null as unknown as ExpHistogramJSON)).toThrow(/expected an object/);
  });
  it("builds from an OTLP data point, estimating missing sum/min/max and dropping empty edge buckets", () => {
    const p = {
      scale: 0,
      zeroCount: 1,
      count: 6,
      positive: { offset: 0, bucketCounts: [0, 2, 3, 0] }, // (2,4]: 2, (4,8]: 3
      negative: { offset: 1, bucketCounts: [0] },
    };
    const g = ExpHistogram.fromOtlp(p);
    expect(g.count).toBe(6);
    expect(g.scale).toBe(0);
    expect(g.min).toBe(0); // the zero bucket is the lowest occupied
    expect(g.max).toBe(8);
    expect(g.sum).toBeGreaterThan(2 * 2 + 3 * 4);
    expect(g.sum).toBeLessThan(2 * 4 + 3 * 8);
    expect(g.toJSON().positive).toEqual({ offset: 1, counts: [2, 3] });
    const withStats = ExpHistogram.fromOtlp({ ...p, sum: 25, min: 0, max: 7.5 });
    expect(withStats.sum).toBe(25);
    expect(withStats.max).toBe(7.5);
    expect(() => ExpHistogram.fromOtlp({ ...p, count: 7 })).toThrow(/fromOtlp: .*do not add up to count 7/);
    expect(() => ExpHistogram.fromOtlp({ ...p, scale: -11 })).toThrow(/scale/);
  });
  it("downscales an OTLP point wider than maxSize instead of failing", () => {
    const counts = new Array(300).fill(1);
    const g = ExpHistogram.fromOtlp({
      scale: 5,
      zeroCount: 0,
      count: 300,
      positive: { offset: -150, bucketCounts: counts },
      negative: { offset: 0, bucketCounts: [] },
    });
    expect(g.scale).toBe(4);
    expect(g.count).toBe(300);
    expect(g.positiveSpan).toBeLessThanOrEqual(160);
  });
});

describe("merge and subtract", () => {
  it("merges histograms at different scales and zero thresholds", () => {
    const a = new ExpHistogram();
    const b = new ExpHistogram({ zeroThreshold: 0.5 });
    for (let i = 1; i <= 100; i++) a.record(i / 10);
    for (let i = 1; i <= 100; i++) b.record(i * 1000);
    b.record(0.3);
    const m = a.clone();
    m.merge(b);
    expect(m.count).toBe(201);
    expect(m.min).toBe(0.1);
    expect(m.max).toBe(100000);
    expect(m.zeroThreshold).toBeGreaterThanOrEqual(0.5);
    expect(m.zeroCount).toBe(6); // 0.1 .. 0.5 and b's 0.3
    expect(m.scale).toBeLessThanOrEqual(Math.min(a.scale, b.scale));
  });
  it("subtract throws, leaving the histogram unchanged, when the other is not contained", () => {
    const a = new ExpHistogram();
    for (const v of [1, 2, 3]) a.record(v);
    const b = new ExpHistogram();
    b.record(100);
    const before = JSON.stringify(a.toJSON());
    expect(() => a.subtract(b)).toThrow(/not contained/);
    expect(JSON.stringify(a.toJSON())).toBe(before);
    const c = new ExpHistogram();
    for (const v of [1, 1]) c.record(v);
    expect(() => a.subtract(c)).toThrow(/not contained/);
  });
  it("subtract keeps min/max exact when the extremes stay, widens them to bucket bounds otherwise", () => {
    const a = new ExpHistogram();
    for (const v of [1, 2, 3, 4]) a.record(v);
    const mid = new ExpHistogram();
    mid.record(2);
    const x = a.clone();
    x.subtract(mid);
    expect([x.count, x.min, x.max, x.sum]).toEqual([3, 1, 4, 8]);
    const top = new ExpHistogram();
    top.record(4);
    const y = a.clone();
    y.subtract(top);
    expect(y.count).toBe(3);
    expect(y.max).toBeGreaterThanOrEqual(3);
    expect(y.max).toBeLessThanOrEqual(4);
    const all = a.clone();
    all.subtract(a);
    expect(all.count).toBe(0);
    expect(all.scale).toBe(20);
  });
});
