/**
 * Distributions of Kolmogorov–Smirnov statistics.
 *
 * - ks2ExactSf: exact P(D_{n,m} >= d) of the two-sample statistic under H0.
 * - kstwoSf: P(D_n >= d) of the one-sample two-sided statistic.
 * - kolmogorovSf: the limiting distribution P(K > x), K = lim sqrt(n) D_n.
 */

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Exact P(D_{n,m} >= d) for the two-sided two-sample KS statistic (continuous
 * data, no ties). As in scipy, d is first snapped to the lattice of attainable
 * values h / lcm(n, m).
 *
 * Under H0 the merged order of the two samples is a uniformly random lattice
 * path from (0, 0) to (n, m). The DP carries the probability that the path
 * reaches (i, j) while staying strictly inside the band
 * |i/n - j/m| < d, with transition probabilities (n-i)/(n+m-i-j) and
 * (m-j)/(n+m-i-j), and sums the probability mass of every first step out of
 * the band. Every quantity is a sum of non-negative terms, so the result keeps
 * its relative precision even when it is tiny (no 1 - (1 - p) cancellation).
 * Cost O(n * d * m).
 */
export function ks2ExactSf(d: number, n: number, m: number): number {
  if (!(d >= 0)) return Number.NaN;
  const g = gcd(n, m);
  const lcm = (n / g) * m;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  if (h > lcm) return 0;
  const hg = h * g; // outside the band iff |i*m - j*n| >= hg
  const N = n + m;
  let prev = new Float64Array(m + 1);
  let cur = new Float64Array(m + 1);
  let plo = 0;
  let phi = -1;
  let pout = 0;
  const lo = (i: number) => Math.max(0, Math.floor((i * m - hg) / n) + 1);
  const hi = (i: number) => Math.min(m, Math.ceil((i * m + hg) / n) - 1);
  for (let i = 0; i <= n; i++) {
    const jlo = lo(i);
    const jhi = hi(i);
    const nlo = i < n ? lo(i + 1) : 0;
    const nhi = i < n ? hi(i + 1) : -1;
    for (let j = jlo; j <= jhi; j++) {
      let v = i === 0 && j === 0 ? 1 : 0;
      if (i > 0 && j >= plo && j <= phi) v += (prev[j] * (n - i + 1)) / (N - i + 1 - j);
      if (j > jlo) v += (cur[j - 1] * (m - j + 1)) / (N - i - j + 1);
      cur[j] = v;
      const rem = N - i - j;
      if (rem > 0 && v !== 0) {
        if (i < n && (j < nlo || j > nhi)) pout += (v * (n - i)) / rem;
        if (j < m && j === jhi) pout += (v * (m - j)) / rem;
      }
    }
    [prev, cur] = [cur, prev];
    plo = jlo;
    phi = jhi;
  }
  return Math.min(1, pout);
}

/**
 * Limiting Kolmogorov distribution: P(K > x) = 2 Σ_{k>=1} (-1)^{k-1} e^{-2k²x²}
 * (for small x the equivalent theta-function form is used for accuracy).
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x < 1) {
    // P(K <= x) = sqrt(2π)/x Σ_{k>=1} e^{-(2k-1)² π² / (8x²)}
    const w = (Math.PI * Math.PI) / (8 * x * x);
    let s = 0;
    for (let k = 1; k < 20; k++) {
      const t = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      s += t;
      if (t < 1e-17 * s) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / x) * s;
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * x * x);
    s += k % 2 ? t : -t;
    if (t < 1e-17 * Math.abs(s)) break;
  }
  return Math.min(1, 2 * s);
}

/** P(D_n >= d) for the one-sample two-sided KS statistic with n observations. */
export function kstwoSf(d: number, n: number): number {
  if (Number.isNaN(d) || !(n >= 1)) return Number.NaN;
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  return kolmogorovSf(d * Math.sqrt(n));
}
