/**
 * What chance alone gives: critical values of the drift measures under "no
 * drift" (the window and the baseline drawn from one distribution), at a
 * per-test false-alarm probability alpha. A score at or above the critical
 * value happens by chance with probability at most about alpha.
 *
 * - KS D: the Kolmogorov distribution at the effective size ne = n·m/(n+m),
 *   with Stephens' finite-size correction.
 * - PSI, Jensen–Shannon, Cramér's V: the asymptotic chi-square null of the
 *   binned proportions (PSI and JS are, to second order, scaled chi-square
 *   statistics), plus a term for a bin a small window can leave empty.
 * - Wasserstein-1 / sd: a Borell–TIS bound on the norm of the limiting
 *   Brownian-bridge process, from the baseline's shape.
 */
import { kolmogorovSf } from "./kolmogorov.js";
import { chiSquareSf } from "./special.js";

/** Seconds in the period the false-alarm rate is stated over (30 days). */
export const FALSE_ALARM_PERIOD_SECONDS = 30 * 86_400;

/**
 * Per-test false-alarm probability for an expected `rate` of false alarms per
 * feature per 30 days when a feature is tested every `intervalSeconds`.
 * Consecutive tests see overlapping windows and are strongly correlated, but
 * the union bound needs no independence: with this alpha the expected number
 * of passes that cross the threshold by chance, and so the number of false
 * alarms, is at most `rate`.
 */
export function perTestAlpha(rate: number, intervalSeconds: number): number {
  if (!(rate > 0) || !(intervalSeconds > 0)) throw new Error("perTestAlpha: rate and interval must be > 0");
  const tests = Math.max(1, FALSE_ALARM_PERIOD_SECONDS / intervalSeconds);
  return Math.min(0.5, rate / tests);
}

/** Smallest x with f(x) <= target for a decreasing f, by bisection on [lo, hi]. */
function invertDecreasing(f: (x: number) => number, target: number, lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  while (f(b) > target) b *= 2;
  for (let i = 0; i < 200 && b - a > 1e-12 * Math.max(1, b); i++) {
    const mid = (a + b) / 2;
    if (f(mid) > target) a = mid;
    else b = mid;
  }
  return b;
}

const kQuantiles = new Map<number, number>();

/** K with P(K_lim > K) = alpha for the limiting Kolmogorov distribution. */
export function kolmogorovQuantile(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) return Number.NaN;
  let k = kQuantiles.get(alpha);
  if (k === undefined) {
    k = invertDecreasing(kolmogorovSf, alpha, 0.1, 4);
    if (kQuantiles.size > 64) kQuantiles.clear();
    kQuantiles.set(alpha, k);
  }
  return k;
}

/** Effective size of a two-sample test: n·m/(n+m). */
export function effectiveSize(n: number, m: number): number {
  return n > 0 && m > 0 ? (n * m) / (n + m) : 0;
}

/**
 * KS D that two samples of sizes n and m from one continuous distribution
 * reach with probability about alpha: K_alpha / (sqrt(ne) + 0.12 + 0.11/sqrt(ne)),
 * ne = n·m/(n+m) (Stephens 1970: P(sqrt-scaled D > x) ≈ P(K > x), good to a
 * few per cent of alpha from ne ≈ 5 on). Discrete data only make D smaller.
 */
export function ksCriticalValue(n: number, m: number, alpha: number): number {
  const ne = effectiveSize(n, m);
  if (!(ne > 0)) return Number.NaN;
  const s = Math.sqrt(ne);
  return Math.min(1, kolmogorovQuantile(alpha) / (s + 0.12 + 0.11 / s));
}

/** x with P(chi²_k > x) = alpha. */
export function chiSquareQuantile(alpha: number, k: number): number {
  if (!(alpha > 0 && alpha < 1) || !(k > 0)) return Number.NaN;
  return invertDecreasing((x) => chiSquareSf(x, k), alpha, 0, k + 10);
}

/**
 * What bins a window leaves empty by chance add to PSI: each adds
 * (p − ε)·ln(p/ε) through the empty-bin epsilon, a jump the chi-square null
 * does not see. The number of empty bins exceeds j − 1 with probability at
 * most C(k, j)·(1 − the j smallest shares)^n; this adds the largest terms of
 * the j − 1 bins for the smallest j where that bound falls below alpha.
 */
function emptyBinTerm(shares: readonly number[], n: number, alpha: number, epsilon: number): number {
  const ps = shares.filter((p) => p > epsilon).sort((a, b) => a - b);
  const k = ps.length;
  let lnChoose = 0;
  let smallest = 0;
  let j = 1;
  for (; j < k; j++) {
    lnChoose += Math.log((k - j + 1) / j);
    smallest += ps[j - 1];
    if (lnChoose + n * Math.log1p(-Math.min(smallest, 1)) <= Math.log(alpha)) break;
  }
  const terms = ps.map((p) => (p - epsilon) * Math.log(p / epsilon)).sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < j - 1; i++) sum += terms[i];
  return sum;
}

/**
 * PSI that chance reaches with probability about alpha between an n-value
 * window and an m-value baseline binned into `shares.length` bins with the
 * baseline's shares: PSI ≈ (1/n + 1/m)·chi²_{k−1} under no drift, plus the
 * terms of the bins the window can leave empty (see emptyBinTerm).
 */
export function psiCriticalValue(
  shares: readonly number[],
  n: number,
  m: number,
  alpha: number,
  epsilon = 1e-4,
): number {
  const k = shares.filter((p) => p > 0).length;
  if (k < 2 || !(n > 0) || !(m > 0)) return 0;
  return (1 / n + 1 / m) * chiSquareQuantile(alpha, k - 1) + emptyBinTerm(shares, n, alpha, epsilon);
}

/**
 * Jensen–Shannon distance (base 2) that chance reaches with probability about
 * alpha over k bins: JSD ≈ (1/n + 1/m)·chi²_{k−1} / 8 nats under no drift.
 * Needs a few values per bin; with sparse bins the distance is larger than
 * this null says.
 */
export function jsCriticalValue(bins: number, n: number, m: number, alpha: number): number {
  if (bins < 2 || !(n > 0) || !(m > 0)) return 0;
  const jsd = ((1 / n + 1 / m) * chiSquareQuantile(alpha, bins - 1)) / 8;
  return Math.min(1, Math.sqrt(jsd / Math.LN2));
}

/** Cramér's V of a 2×k homogeneity test that chance reaches with probability alpha: sqrt(chi²_{k−1}(alpha) / N). */
export function cramersVCriticalValue(bins: number, n: number, m: number, alpha: number): number {
  if (bins < 2 || !(n > 0) || !(m > 0)) return 0;
  return Math.min(1, Math.sqrt(chiSquareQuantile(alpha, bins - 1) / (n + m)));
}

/**
 * Wasserstein-1 divided by the baseline's sd that chance exceeds with
 * probability at most about alpha. Under no drift sqrt(ne)·W1 tends to
 * ∫|B(F(x))| dx for a Brownian bridge B; its mean is sqrt(2/π)·∫sqrt(F(1−F)) dx
 * and, by the Borell–TIS inequality, it exceeds the mean by t with
 * probability at most exp(−t²/(2σ²)), σ² ≤ Var(X). `spread` is
 * ∫sqrt(F(1−F)) dx / sd of the baseline (wassersteinSpread).
 */
export function wassersteinCriticalValue(spread: number, n: number, m: number, alpha: number): number {
  const ne = effectiveSize(n, m);
  if (!(ne > 0) || !(spread > 0)) return Number.NaN;
  return (Math.sqrt(2 / Math.PI) * spread + Math.sqrt(2 * Math.log(1 / alpha))) / Math.sqrt(ne);
}

/**
 * ∫sqrt(F(1−F)) dx / sd for a distribution given by its quantile function
 * (midpoint rule on a 400-point grid of probabilities). A normal gives about
 * 1.66; a heavier tail gives more.
 */
export function wassersteinSpread(quantile: (q: number) => number): number {
  const K = 400;
  const qs = new Float64Array(K + 1);
  for (let i = 0; i <= K; i++) qs[i] = quantile(i / K);
  let j = 0;
  let mean = 0;
  const mids = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    mids[i] = (qs[i] + qs[i + 1]) / 2;
    mean += mids[i] / K;
    const u = (i + 0.5) / K;
    j += Math.sqrt(u * (1 - u)) * (qs[i + 1] - qs[i]);
  }
  let v = 0;
  for (let i = 0; i < K; i++) v += (mids[i] - mean) ** 2 / K;
  return v > 0 ? j / Math.sqrt(v) : Number.NaN;
}
