// Property tests (fast-check) of the histogram algebra and the measures.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ExpHistogram,
  jensenShannon,
  ksHistograms,
  ksSamples,
  MIN_SCALE,
  psi,
  wassersteinHistograms,
  wassersteinSamples,
} from "../src/index.js";

// FC_NUM_RUNS=5000 for a longer search
fc.configureGlobal({ numRuns: Number(process.env.FC_NUM_RUNS ?? 100) });

// values spanning many decades, both signs, exact zeros, integers (ties)
const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.double({ min: 1e-9, max: 1e-3, noNaN: true }),
  fc.integer({ min: -20, max: 20 }),
  fc.constant(0),
);
const values = fc.array(value, { minLength: 0, maxLength: 300 });
const nonEmpty = fc.array(value, { minLength: 1, maxLength: 300 });
const maxSize = fc.integer({ min: 2, max: 160 });
const maxScale = fc.integer({ min: -2, max: 20 });

function build(xs: number[], opts: { maxSize?: number; maxScale?: number } = {}): ExpHistogram {
  const h = new ExpHistogram(opts);
  for (const x of xs) h.record(x);
  return h;
}

/** Bucket contents at a given (coarser or equal) scale, as comparable plain data. */
function bucketsAt(h: ExpHistogram, scale: number) {
  const pick = (sign: 1 | -1) => {
    const b = h.bucketsAt(sign, scale);
    return Array.from({ length: b.length }, (_, i) => [b.index[i], b.counts[i]]);
  };
  return { pos: pick(1), neg: pick(-1), zero: h.zeroCount, count: h.count };
}

const closeRel = (a: number, b: number, tol = 1e-9) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe("ExpHistogram algebra", () => {
  it("merge is commutative, and equals recording everything into one histogram", () => {
    fc.assert(
      fc.property(values, values, maxSize, (xs, ys, size) => {
        const a = build(xs, { maxSize: size });
        const b = build(ys, { maxSize: size });
        const ab = a.clone();
        ab.merge(b);
        const ba = b.clone();
        ba.merge(a);
        expect(ab.toJSON()).toEqual(ba.toJSON());
        const all = build([...xs, ...ys], { maxSize: size });
        expect(bucketsAt(ab, ab.scale)).toEqual(bucketsAt(all, ab.scale));
        expect(ab.scale).toBe(all.scale);
      }),
    );
  });

  it("merge is associative (sums up to rounding)", () => {
    fc.assert(
      fc.property(values, values, values, maxSize, (xs, ys, zs, size) => {
        const [a, b, c] = [xs, ys, zs].map((v) => build(v, { maxSize: size }));
        const left = a.clone();
        left.merge(b);
        left.merge(c);
        const bc = b.clone();
        bc.merge(c);
        const right = a.clone();
        right.merge(bc);
        const l = left.toJSON();
        const r = right.toJSON();
        expect(closeRel(l.sum, r.sum)).toBe(true);
        expect({ ...l, sum: 0 }).toEqual({ ...r, sum: 0 });
      }),
    );
  });

  it("merge preserves count, sum, min and max, also across different scales", () => {
    fc.assert(
      fc.property(nonEmpty, nonEmpty, maxScale, maxScale, (xs, ys, sa, sb) => {
        const a = build(xs, { maxScale: sa });
        const b = build(ys, { maxScale: sb });
        const m = a.clone();
        m.merge(b);
        expect(m.count).toBe(xs.length + ys.length);
        expect(closeRel(m.sum, a.sum + b.sum, 1e-12)).toBe(true);
        expect(m.min).toBe(Math.min(...xs, ...ys) + 0); // -0 is recorded as 0
        expect(m.max).toBe(Math.max(...xs, ...ys) + 0);
        const hasBuckets = (h: ExpHistogram) => h.positiveSpan + h.negativeSpan > 0;
        if (hasBuckets(a) && hasBuckets(b)) expect(m.scale).toBeLessThanOrEqual(Math.min(a.scale, b.scale));
      }),
    );
  });

  it("downscaling preserves every count (bucket i goes to i >> k)", () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 12 }), (xs, k0) => {
        const h = build(xs);
        const k = Math.min(k0, h.scale - MIN_SCALE);
        const before = bucketsAt(h, h.scale - k);
        const d = h.clone();
        d.downscale(k);
        expect(d.scale).toBe(h.scale - k);
        expect(bucketsAt(d, d.scale)).toEqual(before);
        const total = (b: { pos: number[][]; neg: number[][] }) =>
          [...b.pos, ...b.neg].reduce((s, [, c]) => s + c, 0);
        expect(total(bucketsAt(d, d.scale)) + d.zeroCount).toBe(xs.length);
      }),
    );
  });

  it("subtract undoes merge (at the merged scale); min/max only widen to bucket bounds", () => {
    fc.assert(
      fc.property(nonEmpty, values, maxSize, (xs, ys, size) => {
        const a = build(xs, { maxSize: size });
        const b = build(ys, { maxSize: size });
        const m = a.clone();
        m.merge(b);
        m.subtract(b);
        expect(bucketsAt(m, m.scale)).toEqual(bucketsAt(a, m.scale));
        expect(closeRel(m.sum, a.sum, 1e-9)).toBe(true);
        expect(m.min).toBeLessThanOrEqual(a.min);
        expect(m.max).toBeGreaterThanOrEqual(a.max);
      }),
    );
  });

  it("JSON round trip is the identity", () => {
    fc.assert(
      fc.property(values, maxSize, (xs, size) => {
        const h = build(xs, { maxSize: size });
        const j = h.toJSON();
        expect(ExpHistogram.fromJSON(JSON.parse(JSON.stringify(j)), { maxSize: size }).toJSON()).toEqual(j);
      }),
    );
  });

  it("NaN and ±Infinity never poison count or sum", () => {
    const bad = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    fc.assert(
      fc.property(fc.array(fc.oneof(value, bad)), (xs) => {
        const h = build(xs);
        const good = xs.filter(Number.isFinite);
        expect(h.count).toBe(good.length);
        expect(h.rejected).toBe(xs.length - good.length);
        expect(Number.isFinite(h.sum)).toBe(true);
      }),
    );
  });

  it("a quantile's relative error is within its bucket's width (base - 1)", () => {
    // subnormal values are bucketed as 2^-1022 (the OTel rule), so the bound is stated for normal values
    const normal = (x: number) => (Math.abs(x) < 2 ** -1022 ? 0 : x);
    fc.assert(
      fc.property(
        nonEmpty.map((v) => v.map(normal)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        maxSize,
        (xs, q, size) => {
          const h = build(xs, { maxSize: size });
          const sorted = [...xs].sort((x, y) => x - y);
          const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)];
          const est = h.quantile(q);
          const width = 2 ** (2 ** -h.scale) - 1;
          if (exact === 0) expect(est).toBe(0);
          else expect(Math.abs(est - exact)).toBeLessThanOrEqual(Math.abs(exact) * width * (1 + 1e-9));
        },
      ),
    );
  });
});

describe("two-sample measures", () => {
  it("KS: 0 <= D <= 1, symmetric, p in [0, 1]", () => {
    fc.assert(
      fc.property(nonEmpty, nonEmpty, (xs, ys) => {
        const r = ksSamples(xs, ys);
        const s = ksSamples(ys, xs);
        expect(r.d).toBeGreaterThanOrEqual(0);
        expect(r.d).toBeLessThanOrEqual(1);
        expect(s.d).toBe(r.d);
        expect(s.pValue).toBe(r.pValue);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
        expect(ksSamples(xs, xs).d).toBe(0);
      }),
    );
  });

  it("histogram KS is symmetric and the raw-sample D lies within its error bound", () => {
    fc.assert(
      fc.property(nonEmpty, nonEmpty, maxSize, (xs, ys, size) => {
        const a = build(xs, { maxSize: size });
        const b = build(ys, { maxSize: size });
        const r = ksHistograms(a, b);
        const s = ksHistograms(b, a);
        expect(r.d).toBeGreaterThanOrEqual(0);
        expect(r.d).toBeLessThanOrEqual(1);
        expect(Math.abs(r.d - s.d)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(r.d - ksSamples(xs, ys).d)).toBeLessThanOrEqual(r.errorBound + 1e-9);
      }),
    );
  });

  it("histogram Wasserstein-1 is within its error bound of the raw-sample value", () => {
    fc.assert(
      fc.property(nonEmpty, nonEmpty, maxSize, (xs, ys, size) => {
        const w = wassersteinHistograms(build(xs, { maxSize: size }), build(ys, { maxSize: size }));
        const exact = wassersteinSamples(xs, ys).distance;
        expect(Math.abs(w.distance - exact)).toBeLessThanOrEqual(w.errorBound * (1 + 1e-9) + 1e-9 * exact);
      }),
    );
  });

  it("PSI >= 0, 0 on identical (or proportional) inputs; JS distance symmetric, 0 on identical", () => {
    const counts = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(counts, counts, fc.integer({ min: 1, max: 7 }), (p, q, k) => {
        fc.pre(p.length === q.length && p.some((x) => x > 0) && q.some((x) => x > 0));
        expect(psi(p, q)).toBeGreaterThanOrEqual(0);
        expect(psi(p, p)).toBe(0);
        expect(
          psi(
            p,
            p.map((x) => x * k),
          ),
        ).toBeCloseTo(0, 14);
        expect(jensenShannon(p, q)).toBeCloseTo(jensenShannon(q, p), 14);
        expect(jensenShannon(p, p)).toBe(0);
      }),
    );
  });
});
