// Checks every measure against reference values computed independently with
// scipy (packages/stats/fixtures/generate.py; the JSON is committed so that
// tests need no Python).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  chiSquareSf,
  ExpHistogram,
  gammaP,
  gammaQ,
  jensenShannon,
  jsCategorical,
  jsSamples,
  ks2Pvalue,
  ksAsymptoticPvalue,
  ksHistograms,
  ksSamples,
  kstwoSf,
  lnGamma,
  normalSf,
  psi,
  psiCategorical,
  psiSamples,
  smirnovSf,
  twoProportionZTest,
  wassersteinHistograms,
  wassersteinSamples,
} from "../src/index.js";

const load = (f: string) => JSON.parse(readFileSync(new URL(`../fixtures/${f}`, import.meta.url), "utf8"));

interface SampleCase {
  name: string;
  a: number[];
  b: number[];
  ks: { d: number; p: number; mode: "exact" | "asymp" };
  wasserstein: number;
  stdA: number;
  edges: number[];
  countsA: number[];
  countsB: number[];
  psi: number;
  js: number;
  js2: number;
}
const samples: { cases: SampleCase[] } = load("samples.json");
const dist = load("distributions.json");
const cat = load("categorical.json");

/** |actual - expected| <= rel * |expected| (or both tiny). */
function expectRel(actual: number, expected: number, rel: number, floor = 0): void {
  const err = Math.abs(actual - expected);
  if (err > Math.max(rel * Math.abs(expected), floor)) {
    expect.fail(`expected ${actual} to be within ${rel} (relative) of ${expected}; error ${err}`);
  }
}

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe("two-sample measures on raw samples vs scipy", () => {
  it.each(samples.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = ksSamples(c.a, c.b);
    expect(r.n).toBe(c.a.length);
    expect(r.m).toBe(c.b.length);
    expect(r.errorBound).toBe(0);
    expect(Math.abs(r.d - c.ks.d)).toBeLessThanOrEqual(1e-12);
    if (c.ks.p > 1e-300) expectRel(r.pValue, c.ks.p, 1e-6);
    else expect(r.pValue).toBeLessThan(1e-290);

    // PSI: same bins, same formula (epsilon 1e-4 for empty bins)
    expect(psiSamples(c.a, c.b, c.edges)).toBeCloseTo(c.psi, 12);
    expect(Math.abs(psi(c.countsA, c.countsB) - c.psi)).toBeLessThanOrEqual(1e-12);
    // Jensen–Shannon distance (scipy.spatial.distance.jensenshannon), natural log and base 2
    expect(Math.abs(jsSamples(c.a, c.b, c.edges) - c.js)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(jensenShannon(c.countsA, c.countsB, { base: 2 }) - c.js2)).toBeLessThanOrEqual(1e-12);
    // Wasserstein-1 (scipy.stats.wasserstein_distance) and its normalisation by the reference std
    const w = wassersteinSamples(c.a, c.b);
    expectRel(w.distance, c.wasserstein, 1e-10);
    expectRel(w.normalized, c.wasserstein / c.stdA, 1e-10);
  });
});

describe("two-sample measures on exponential histograms (160 buckets) vs exact raw-sample values", () => {
  it.each(samples.cases.filter((c) => c.a.length >= 1000).map((c) => [c.name, c] as const))(
    "%s",
    (_name, c) => {
      const ha = histogramOf(c.a);
      const hb = histogramOf(c.b);
      const r = ksHistograms(ha, hb);
      const err = Math.abs(r.d - c.ks.d);
      expect(err).toBeLessThanOrEqual(0.01);
      expect(err).toBeLessThanOrEqual(r.errorBound + 1e-12);
      expect(r.n).toBe(c.a.length);
      expect(r.m).toBe(c.b.length);
      // the p-value is the asymptotic (Kolmogorov, n·m/(n+m)) one at the histogram's D
      expect(r.pValue).toBe(ksAsymptoticPvalue(r.d, c.a.length, c.b.length));

      const w = wassersteinHistograms(ha, hb);
      expect(Math.abs(w.distance - c.wasserstein)).toBeLessThanOrEqual(w.errorBound);
    },
  );
});

describe("KS distributions vs scipy", () => {
  it("kstwo.sf on a grid of n and d (all of scipy's method regions)", () => {
    for (const [d, n, p] of dist.kstwoSf as [number, number, number][]) {
      if (p > 1e-300) expectRel(kstwoSf(d, n), p, 1e-6);
      else expect(kstwoSf(d, n)).toBeLessThan(1e-290);
    }
  });
  it("one-sided smirnov", () => {
    for (const [n, d, p] of dist.smirnovSf as [number, number, number][]) {
      if (p > 1e-300) expectRel(smirnovSf(n, d), p, 1e-6);
    }
  });
  it("exact two-sample p-values (n != m and n == m)", () => {
    for (const c of dist.ks2Exact as { n: number; m: number; d: number; p: number }[]) {
      expectRel(ks2Pvalue(c.d, c.n, c.m), c.p, 1e-6);
    }
  });
});

describe("special functions vs scipy", () => {
  it("ln Γ", () => {
    for (const [x, v] of dist.lnGamma as [number, number][]) expectRel(lnGamma(x), v, 1e-13, 1e-14);
  });
  it("regularized incomplete gamma P and Q", () => {
    for (const [a, x, p, q] of dist.gamma as [number, number, number, number][]) {
      expectRel(gammaP(a, x), p, 1e-10, 1e-300);
      expectRel(gammaQ(a, x), q, 1e-10, 1e-300);
    }
  });
  it("chi-square and normal tails", () => {
    for (const [x, k, p] of dist.chi2Sf as [number, number, number][])
      expectRel(chiSquareSf(x, k), p, 1e-10, 1e-300);
    for (const [z, p] of dist.normalSf as [number, number][]) expectRel(normalSf(z), p, 1e-12, 1e-300);
  });
});

describe("categorical tests vs scipy", () => {
  it("chi-square goodness of fit (scipy.stats.chisquare)", () => {
    for (const c of cat.goodnessOfFit) {
      const r = chiSquareGoodnessOfFit(c.observed, c.expected, { ddof: c.ddof });
      expectRel(r.statistic, c.statistic, 1e-12);
      expectRel(r.pValue, c.p, 1e-9, 1e-300);
      expect(r.dof).toBe(c.observed.length - 1 - c.ddof);
    }
  });
  it("chi-square homogeneity (scipy.stats.chi2_contingency), PSI and JS on category counts", () => {
    for (const c of cat.homogeneity) {
      const r = chiSquareHomogeneity(c.a, c.b, { yates: c.yates });
      expectRel(r.statistic, c.statistic, 1e-12);
      expectRel(r.pValue, c.p, 1e-9, 1e-300);
      expect(r.dof).toBe(c.dof);
      expect(Math.abs(psiCategorical(c.a, c.b) - c.psi)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(jsCategorical(c.a, c.b) - c.js)).toBeLessThanOrEqual(1e-12);
    }
  });
  it("two-proportion z-test", () => {
    for (const c of cat.twoProportion) {
      const r = twoProportionZTest(c.x1, c.n1, c.x2, c.n2);
      expectRel(r.z, c.z, 1e-12);
      expectRel(r.pValue, c.p, 1e-10);
    }
  });
});
