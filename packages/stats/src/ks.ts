// The two-sample Kolmogorov-Smirnov test: on raw samples (exact D and
// p-value) and on two exponential histograms (D at bucket edges with the
// within-bucket correction and an error bound, docs/statistics.md). Not the
// Kolmogorov distribution itself (kolmogorov.ts) and not the size-aware
// severity thresholds built on D (null.ts).

import { sameZeroThreshold } from "./drift.js";
import type { ExpHistogram } from "./exphist.js";
import { ks2ExactSf, kstwoSf } from "./kolmogorov.js";

export interface KsResult {
  /** Two-sided KS statistic sup |F_a - F_b|. */
  d: number;
  /** Two-sided p-value of H0 "same continuous distribution". */
  pValue: number;
  /** Size of sample a (histogram: its count). */
  n: number;
  /** Size of sample b (histogram: its count). */
  m: number;
  /** Upper bound on |d - d_exact| where d_exact is the raw-sample statistic; 0 for raw samples. */
  errorBound: number;
  /**
   * A guaranteed lower bound on the raw-sample statistic (histograms: the largest difference at a
   * cell boundary; raw samples: d itself). Testing it against a critical value keeps the test's
   * false-alarm rate whatever the values inside the buckets.
   */
  lower: number;
}

/** Both samples at most this size: exact p-value, as scipy.stats.ks_2samp(method="auto"). */
export const KS_EXACT_MAX_N = 10000;

function sortedFinite(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  let k = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v === 0) out[k++] = v;
  }
  return out.subarray(0, k).sort();
}

/**
 * Two-sample two-sided Kolmogorov–Smirnov test on raw samples, with the
 * semantics of scipy.stats.ks_2samp(a, b, alternative="two-sided",
 * method="auto"): D = max |F_a(x) - F_b(x)| over all sample points (ties
 * handled by evaluating the right-continuous ECDFs); the p-value is exact
 * (probability of a lattice path leaving the band |i/n - j/m| < D, computed
 * with all-positive sums so small p-values keep full relative precision)
 * when max(n, m) <= 10000, and otherwise the one-sample Kolmogorov
 * distribution P(D_k >= D) with k = round(n*m/(n+m)).
 *
 * Non-finite values (NaN, ±Infinity) are dropped before the test; `n` and `m`
 * report the sizes actually used. An empty sample gives NaN for d and pValue.
 */
export function ksSamples(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = sortedFinite(a);
  const y = sortedFinite(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0)
    return { d: Number.NaN, pValue: Number.NaN, n, m, errorBound: 0, lower: Number.NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  // once one sample is exhausted the difference only shrinks towards 0
  return { d, pValue: ks2Pvalue(d, n, m), n, m, errorBound: 0, lower: d };
}

/** Two-sided p-value for a two-sample KS statistic d with sample sizes n, m (scipy "auto" method). */
export function ks2Pvalue(d: number, n: number, m: number): number {
  if (!(d >= 0) || !(n > 0) || !(m > 0)) return Number.NaN;
  // Two-sample DKW-type bounds give P(D >= d) <= C·exp(-2·d²·nm/(n+m)) with a modest constant C
  // (Wei & Dudley 2012): beyond d²·nm/(n+m) = 400 that is below 1e-340, i.e. 0 in double precision,
  // so the O(n·m·d) lattice-path computation is skipped.
  if ((d * d * n * m) / (n + m) >= 400) return 0;
  if (Math.max(n, m) <= KS_EXACT_MAX_N && Number.isInteger(n) && Number.isInteger(m)) {
    const p = ks2ExactSf(d, Math.max(n, m), Math.min(n, m)); // fixed orientation: symmetric in (n, m) to the bit
    if (p >= 0 && p <= 1) return p;
  }
  return ksAsymptoticPvalue(d, n, m);
}

/** P(D_k >= d) for the one-sample Kolmogorov distribution with k = round(n*m/(n+m)) (at least 1). */
export function ksAsymptoticPvalue(d: number, n: number, m: number): number {
  const en = (n * m) / (n + m);
  return Math.min(1, Math.max(0, kstwoSf(d, Math.max(1, roundHalfEven(en)))));
}

/** Round to the nearest integer, ties to even (numpy's np.round). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Two-sample KS test between two exponential histograms.
 *
 * Both histograms are put on a common grid (the coarser scale; the zero
 * bucket counts as one cell). At every cell boundary the two empirical CDFs
 * are known exactly, so D_lower = max over boundaries |F_a - F_b| is a lower
 * bound on the raw-sample statistic. Inside cell k both CDFs are monotone
 * between their boundary values, so the raw statistic is also at most
 * D_upper = max_k max(A_k - B_{k-1}, B_k - A_{k-1}) (A, B: cumulative
 * fractions at the cell ends). The reported d evaluates the within-bucket
 * model of ExpHistogram.cdf() (log-uniform within a bucket, clamped to the
 * exact min/max) at every point where the model's difference can peak: all
 * cell boundaries and both histograms' min and max. Since d and the unknown
 * raw-sample statistic both lie in [D_lower, D_upper],
 * errorBound = max(D_upper - d, d - D_lower) bounds |d - d_raw| (up to the
 * ulp-level ambiguity of values lying exactly on a bucket boundary).
 *
 * The model alone is biased low: inside a cell the two model CDFs move in
 * step, so their difference peaks at a boundary, while the raw ECDFs wander
 * between the boundaries. When the two samples' values interleave at random
 * inside a cell (same density shape there), the raw difference is a
 * hypergeometric bridge between the boundary values with variance
 * v·t(1−t), v = (1/n + 1/m)²·c_a·c_b/(c_a + c_b − 1); its expected excess over
 * the higher end is sqrt(πv/8)·erfcx(δ/sqrt(2v)) (δ: the rise across the cell).
 * d is the largest boundary value plus that excess over all cells, each
 * capped by the cell's own upper bound, so it stays in [D_lower, D_upper]
 * and errorBound stays valid.
 *
 * The p-value treats d as a KS statistic of samples of sizes count_a and
 * count_b: P(D_k >= d) of the one-sample Kolmogorov distribution with
 * k = round(n*m/(n+m)) (the "asymp" method of scipy; histograms carry no
 * exact sample order, so the exact lattice-path method does not apply).
 * Empty histograms give NaN.
 */
export function ksHistograms(a: ExpHistogram, b: ExpHistogram): KsResult {
  const n = a.count;
  const m = b.count;
  if (!(n > 0) || !(m > 0))
    return { d: Number.NaN, pValue: Number.NaN, n, m, errorBound: Number.NaN, lower: Number.NaN };
  const [ha, hb] = sameZeroThreshold(a, b);
  const scale = Math.min(ha.scale, hb.scale);
  let lower = 0;
  let upper = 0;
  let expected = 0; // largest boundary difference plus expected within-cell excess
  let ca = 0; // cumulative counts before the current cell
  let cb = 0;
  const w2 = (1 / n + 1 / m) ** 2;
  const step = (ma: number, mb: number) => {
    const pa = ca / n;
    const pb = cb / m;
    ca += ma;
    cb += mb;
    const qa = ca / n;
    const qb = cb / m;
    const diff = Math.abs(qa - qb);
    if (diff > lower) lower = diff;
    const cellUpper = Math.max(qa - pb, qb - pa);
    if (cellUpper > upper) upper = cellUpper;
    const s0 = pa - pb;
    const s1 = qa - qb;
    const top = Math.max(Math.abs(s0), Math.abs(s1));
    if (ma > 0 && mb > 0 && ma + mb > 1) {
      const v = (w2 * ma * mb) / (ma + mb - 1);
      // Skip cells whose best case, top + sqrt(π/8)·sqrt(v), cannot beat the current estimate
      // (compared in squares: most cells are far below the peak, and this spares their square root).
      const gap = expected - top;
      if (gap <= 0 || gap * gap < 0.3927 * v) {
        const root = Math.sqrt(v);
        const excess = 0.6267 * root * erfcxApprox(Math.abs(s1 - s0) / (Math.SQRT2 * root));
        const cand = Math.min(top + excess, cellUpper);
        if (cand > expected) expected = cand;
      }
    } else if (top > expected) expected = top;
  };
  // negative cells, most negative (highest index) first
  {
    const x = ha.bucketsAt(-1, scale);
    const y = hb.bucketsAt(-1, scale);
    let i = x.length - 1;
    let j = y.length - 1;
    while (i >= 0 || j >= 0) {
      const xi = i >= 0 ? x.index[i] : -Infinity;
      const yj = j >= 0 ? y.index[j] : -Infinity;
      if (xi === yj) step(x.counts[i--], y.counts[j--]);
      else if (xi > yj) step(x.counts[i--], 0);
      else step(0, y.counts[j--]);
    }
  }
  if (ha.zeroCount > 0 || hb.zeroCount > 0) step(ha.zeroCount, hb.zeroCount);
  {
    const x = ha.bucketsAt(1, scale);
    const y = hb.bucketsAt(1, scale);
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const xi = i < x.length ? x.index[i] : Infinity;
      const yj = j < y.length ? y.index[j] : Infinity;
      if (xi === yj) step(x.counts[i++], y.counts[j++]);
      else if (xi < yj) step(x.counts[i++], 0);
      else step(0, y.counts[j++]);
    }
  }
  let d = Math.max(lower, expected);
  for (const v of [ha.min, ha.max, hb.min, hb.max]) {
    const diff = Math.abs(ha.cdf(v) - hb.cdf(v));
    if (diff > d) d = diff;
  }
  if (d > upper) d = upper; // guards against rounding in the interpolation
  const errorBound = Math.max(upper - d, d - lower);
  return { d, pValue: ksAsymptoticPvalue(d, n, m), n, m, errorBound, lower };
}

/**
 * exp(z²)·erfc(z) for z >= 0 within 2 % (Ren & MacGillivray's bracket
 * 2/(sqrt(π)(z + sqrt(z² + 4/π))), exact at 0 and asymptotically): cheap
 * enough for every cell of every feature in a pass.
 */
function erfcxApprox(z: number): number {
  return 2 / (Math.sqrt(Math.PI) * (z + Math.sqrt(z * z + 4 / Math.PI)));
}
