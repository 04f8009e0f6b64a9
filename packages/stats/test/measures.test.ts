// Unit tests of the measures' conventions and edge cases (the numbers
// themselves are checked against scipy in reference.test.ts).
import { describe, expect, it } from "vitest";
import {
  alignCategories,
  binCounts,
  burnRate,
  burnRateThreshold,
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  ExpHistogram,
  errorBudgetRemaining,
  errorRatio,
  jensenShannon,
  jsHistograms,
  ks2ExactSf,
  ksHistograms,
  ksSamples,
  kstwoSf,
  PSI_EPSILON,
  psi,
  psiHistograms,
  quantileEdges,
  twoProportionZTest,
  wassersteinHistograms,
  wassersteinSamples,
} from "../src/index.js";

const hist = (xs: number[], opts = {}) => {
  const h = new ExpHistogram(opts);
  for (const x of xs) h.record(x);
  return h;
};
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

describe("KS", () => {
  it("drops non-finite values from raw samples and reports the sizes used", () => {
    const r = ksSamples([1, 2, Number.NaN, 3], [Number.POSITIVE_INFINITY, 2, 3, 4]);
    expect([r.n, r.m]).toEqual([3, 3]);
    expect(r.d).toBeCloseTo(1 / 3, 15);
  });
  it("empty input gives NaN rather than throwing", () => {
    expect(ksSamples([], [1]).d).toBeNaN();
    expect(ksHistograms(new ExpHistogram(), hist([1])).pValue).toBeNaN();
  });
  it("switches from exact to asymptotic p-values above 10000 observations, as scipy's 'auto'", () => {
    // just below and above the switch the two methods agree closely for a moderate D
    const exact = ks2ExactSf(0.02, 10000, 9000);
    const asymp = kstwoSf(0.02, Math.round((10000 * 9000) / 19000));
    expect(Math.abs(exact - asymp) / exact).toBeLessThan(0.05);
  });
  it("identical histograms: the lower bound is 0, and d is the D expected of two samples filling the same buckets", () => {
    const h = hist(range(1000, (i) => Math.sin(i) * 10));
    const r = ksHistograms(h, h.clone());
    // Identical raw samples give D = 0, but so could any interleaving within the buckets: the
    // estimate is the expected within-bucket excess, small and inside the error bound.
    expect(r.lower).toBe(0);
    expect(r.d).toBeGreaterThan(0);
    expect(r.d).toBeLessThan(0.03);
    expect(r.d).toBeLessThanOrEqual(r.errorBound);
    expect(r.pValue).toBeGreaterThan(0.99);
  });
  it("histograms at different scales and zero thresholds are compared on a common grid", () => {
    const xs = range(3000, (i) => ((i * 7919) % 3001) / 300 - 5);
    const a = hist(xs, { maxScale: 4 });
    const b = hist(xs, { maxSize: 40, zeroThreshold: 1e-3 });
    const r = ksHistograms(a, b);
    expect(r.d).toBeLessThanOrEqual(r.errorBound + 1e-12);
  });
});

describe("PSI", () => {
  it("replaces empty bins by epsilon = 1e-4 (not renormalised), as the reference design", () => {
    const v = psi([50, 50, 0], [40, 40, 20]);
    const e = [0.5, 0.5, PSI_EPSILON];
    const a = [0.4, 0.4, 0.2];
    expect(v).toBeCloseTo(
      e.reduce((s, ei, i) => s + (a[i] - ei) * Math.log(a[i] / ei), 0),
      14,
    );
    expect(psi([50, 50, 0], [40, 40, 20], { epsilon: 1e-6 })).toBeGreaterThan(v);
  });
  it("rejects mismatched, empty or negative inputs with a clear error", () => {
    expect(() => psi([1, 2], [1])).toThrow(/2 and 1 bins/);
    expect(() => psi([0, 0], [1, 1])).toThrow(/positive total/);
    expect(() => psi([1, -1], [1, 1])).toThrow(/\[1\] must be a finite number >= 0/);
  });
  it("bins with Prometheus 'le' semantics and quantile edges from samples or histograms", () => {
    expect(binCounts([0, 1, 1.5, 2, 3, Number.NaN], [1, 2])).toEqual([2, 2, 1]);
    const xs = range(1000, (i) => i + 1);
    expect(quantileEdges(xs, 4)).toEqual([250, 500, 750]);
    const qe = quantileEdges(hist(xs), 4);
    expect(qe).toHaveLength(3);
    for (const [i, e] of qe.entries())
      expect(Math.abs(e - (i + 1) * 250) / ((i + 1) * 250)).toBeLessThan(0.05);
    expect(quantileEdges([1, 1, 1, 1], 4)).toEqual([1]);
  });
  it("on histograms defaults to the expected histogram's deciles", () => {
    const a = hist(range(5000, (i) => Math.exp(Math.sin(i) * 2)));
    expect(psiHistograms(a, a.clone())).toBe(0);
    const shifted = hist(range(5000, (i) => 1.5 * Math.exp(Math.sin(i) * 2)));
    expect(psiHistograms(a, shifted)).toBeGreaterThan(0.1);
  });
});

describe("Jensen–Shannon", () => {
  it("is 0 for identical, sqrt(ln 2) (or 1 in base 2) for disjoint distributions", () => {
    expect(jensenShannon([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 15);
    expect(jensenShannon([1, 0], [0, 1], { base: 2 })).toBeCloseTo(1, 15);
  });
  it("on histograms uses their common buckets, or explicit edges", () => {
    const a = hist([1, 2, 3, 4]);
    const b = hist([100, 200]);
    expect(jsHistograms(a, b, { base: 2 })).toBeCloseTo(1, 12);
    expect(jsHistograms(a, b, { base: 2, edges: [1000] })).toBe(0);
  });
});

describe("Wasserstein-1", () => {
  it("is the shift for a translated sample and normalises by the reference std", () => {
    const xs = range(100, (i) => i);
    const w = wassersteinSamples(
      xs,
      xs.map((x) => x + 3),
    );
    expect(w.distance).toBeCloseTo(3, 12);
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - 49.5) ** 2, 0) / 100);
    expect(w.normalized).toBeCloseTo(3 / sd, 12);
    expect(wassersteinSamples([1, 1], [2]).normalized).toBeNaN(); // zero spread in the reference
  });
  it("histogram version: exact for point masses, bounded otherwise", () => {
    // min = max: each histogram is a single point mass, known exactly
    expect(wassersteinHistograms(hist([1, 1]), hist([-4])).distance).toBeCloseTo(5, 12);
    const w = wassersteinHistograms(hist([1, 1, 2]), hist([4]));
    expect(Math.abs(w.distance - ((4 - 1) * 2 + (4 - 2)) / 3)).toBeLessThanOrEqual(w.errorBound);
    const a = range(2000, (i) => 50 + 10 * Math.sin(i));
    const b = a.map((x) => x + 1);
    const wh = wassersteinHistograms(hist(a), hist(b));
    expect(Math.abs(wh.distance - 1)).toBeLessThanOrEqual(wh.errorBound);
    expect(Math.abs(wh.distance - 1)).toBeLessThan(0.05);
  });
});

describe("categorical", () => {
  it("aligns category maps", () => {
    expect(alignCategories({ b: 2, a: 1 }, new Map([["c", 3]]))).toEqual({
      keys: ["a", "b", "c"],
      a: [1, 2, 0],
      b: [0, 0, 3],
    });
  });
  it("goodness of fit: expected frequencies are rescaled, impossible categories give p = 0", () => {
    const r = chiSquareGoodnessOfFit([10, 10], [1, 1]);
    expect(r).toEqual({ statistic: 0, pValue: 1, dof: 1 });
    expect(chiSquareGoodnessOfFit([5, 1], [1, 0]).pValue).toBe(0);
  });
  it("homogeneity drops categories empty in both samples", () => {
    expect(chiSquareHomogeneity([5, 0, 5], [5, 0, 5]).dof).toBe(1);
    expect(() => chiSquareHomogeneity([0, 0], [1, 2])).toThrow(/non-empty/);
  });
  it("two-proportion z-test: degenerate cases and validation", () => {
    expect(twoProportionZTest(0, 10, 0, 20)).toEqual({ z: 0, pValue: 1, p1: 0, p2: 0 });
    expect(() => twoProportionZTest(11, 10, 1, 10)).toThrow(/0 <= successes <= n/);
    const r = twoProportionZTest(90, 100, 80, 100);
    expect(r.z).toBeGreaterThan(0);
    expect(twoProportionZTest(80, 100, 90, 100).z).toBeCloseTo(-r.z, 14);
  });
});

describe("SLO helpers", () => {
  it("error ratio: clamped, 0 without traffic, NaN for nonsense", () => {
    expect(errorRatio(5, 1000)).toBe(0.005);
    expect(errorRatio(0, 0)).toBe(0);
    expect(errorRatio(12, 10)).toBe(1);
    expect(errorRatio(-1, 10)).toBeNaN();
    expect(errorRatio(1, Number.NaN)).toBeNaN();
  });
  it("burn rate and remaining budget", () => {
    expect(burnRate(0.005, 0.995)).toBeCloseTo(1, 12);
    expect(burnRate(0.072, 0.995)).toBeCloseTo(14.4, 12);
    expect(errorBudgetRemaining(0.0025, 0.995)).toBeCloseTo(0.5, 12);
    expect(errorBudgetRemaining(0.01, 0.995)).toBeCloseTo(-1, 12);
    expect(() => burnRate(0.1, 1)).toThrow(/sloTarget must be in \(0, 1\)/);
    expect(() => burnRate(0.1, 99.5)).toThrow(RangeError);
  });
  it("multi-window thresholds of the SRE workbook", () => {
    expect(burnRateThreshold(0.02, 1)).toBeCloseTo(14.4, 12);
    expect(burnRateThreshold(0.05, 6)).toBeCloseTo(6, 12);
    expect(burnRateThreshold(0.1, 72)).toBeCloseTo(1, 12);
  });
});
