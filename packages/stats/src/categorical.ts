/**
 * Tests and distances for categorical data (predicted classes, categorical
 * features): chi-square tests, PSI / Jensen–Shannon on category counts, and
 * the two-proportion z-test.
 */
import { jensenShannon, psi } from "./drift.js";
import { chiSquareSf, normalSf } from "./special.js";

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  /** Degrees of freedom of the reference chi-square distribution. */
  dof: number;
}

type Counts = Record<string, number> | Map<string, number>;

/**
 * Put two category → count maps on one ordered list of categories (sorted
 * keys; a category missing on one side counts 0 there).
 */
export function alignCategories(a: Counts, b: Counts): { keys: string[]; a: number[]; b: number[] } {
  const ma = a instanceof Map ? a : new Map(Object.entries(a));
  const mb = b instanceof Map ? b : new Map(Object.entries(b));
  const keys = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  return { keys, a: keys.map((k) => ma.get(k) ?? 0), b: keys.map((k) => mb.get(k) ?? 0) };
}

function checkCounts(name: string, x: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0) || !Number.isFinite(x[i]))
      throw new Error(`${name}[${i}] must be a finite count >= 0, got ${x[i]}`);
    t += x[i];
  }
  return t;
}

/**
 * Pearson chi-square goodness-of-fit test of observed counts against expected
 * frequencies, as scipy.stats.chisquare(observed, expected, ddof): the
 * expected frequencies (counts or proportions) are rescaled to the observed
 * total; statistic Σ (O - E)² / E, p-value from the chi-square distribution
 * with k - 1 - ddof degrees of freedom (regularized upper incomplete gamma).
 * A category with expected frequency 0 makes the statistic infinite (p = 0)
 * if anything was observed in it, and is skipped if nothing was.
 */
export function chiSquareGoodnessOfFit(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { ddof?: number } = {},
): ChiSquareResult {
  if (observed.length !== expected.length) throw new Error("chiSquareGoodnessOfFit: length mismatch");
  const to = checkCounts("observed", observed);
  const te = checkCounts("expected", expected);
  if (!(te > 0)) throw new Error("chiSquareGoodnessOfFit: expected frequencies sum to 0");
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = (expected[i] / te) * to;
    const d = observed[i] - e;
    if (e === 0) {
      if (observed[i] > 0) stat = Number.POSITIVE_INFINITY;
      continue;
    }
    stat += (d * d) / e;
  }
  const dof = observed.length - 1 - (opts.ddof ?? 0);
  return { statistic: stat, pValue: dof > 0 ? chiSquareSf(stat, dof) : Number.NaN, dof };
}

/**
 * Chi-square test of homogeneity: do two samples of a categorical variable
 * come from the same distribution? The 2×k contingency table [a; b] is tested
 * as scipy.stats.chi2_contingency([a, b], correction=yates): expected counts
 * from the margins, statistic Σ (O - E)² / E, dof = k - 1. Categories with no
 * observation in either sample are dropped first (scipy would reject the
 * table). With `yates` (default false) and dof = 1, |O - E| is reduced by 0.5
 * (never past 0), as scipy's default does for 2×2 tables.
 */
export function chiSquareHomogeneity(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: { yates?: boolean } = {},
): ChiSquareResult {
  if (a.length !== b.length) throw new Error("chiSquareHomogeneity: length mismatch");
  const na = checkCounts("a", a);
  const nb = checkCounts("b", b);
  const N = na + nb;
  if (!(na > 0) || !(nb > 0)) throw new Error("chiSquareHomogeneity: both samples must be non-empty");
  const cols: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] + b[i] > 0) cols.push(i);
  const dof = cols.length - 1;
  if (dof < 1) return { statistic: 0, pValue: 1, dof: 0 };
  const yates = opts.yates === true && dof === 1;
  let stat = 0;
  for (const i of cols) {
    const col = a[i] + b[i];
    for (const [o, rowTotal] of [
      [a[i], na],
      [b[i], nb],
    ]) {
      const e = (rowTotal * col) / N;
      let d = Math.abs(o - e);
      if (yates) d = Math.max(0, d - 0.5);
      stat += (d * d) / e;
    }
  }
  return { statistic: stat, pValue: chiSquareSf(stat, dof), dof };
}

/** PSI between two categorical count vectors (aligned by index; see psi() for the empty-bin epsilon). */
export function psiCategorical(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  opts: { epsilon?: number } = {},
): number {
  return psi(expected, actual, opts);
}

/** Jensen–Shannon distance between two categorical count vectors (aligned by index; see jensenShannon()). */
export function jsCategorical(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: { base?: number } = {},
): number {
  return jensenShannon(a, b, opts);
}

export interface ZTestResult {
  /** (p1 - p2) / SE with the pooled standard error. */
  z: number;
  /** Two-sided p-value 2·P(Z > |z|). */
  pValue: number;
  p1: number;
  p2: number;
}

/**
 * Two-sample z-test for equal proportions (e.g. accuracy, error or class rate
 * now vs in the baseline): pooled p = (x1 + x2)/(n1 + n2),
 * SE = sqrt(p(1-p)(1/n1 + 1/n2)), z = (x1/n1 - x2/n2)/SE, two-sided p-value
 * from the normal tail. If SE = 0 (both proportions 0 or both 1) z = 0 and
 * p = 1. Needs n1, n2 > 0 and 0 <= x <= n.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): ZTestResult {
  for (const [name, x, n] of [
    ["1", x1, n1],
    ["2", x2, n2],
  ] as const) {
    if (!(n > 0) || !(x >= 0) || !(x <= n) || !Number.isFinite(n)) {
      throw new Error(
        `twoProportionZTest: sample ${name} needs n > 0 and 0 <= successes <= n (got ${x}/${n})`,
      );
    }
  }
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { z: 0, pValue: 1, p1, p2 };
  const z = (p1 - p2) / se;
  return { z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))), p1, p2 };
}
