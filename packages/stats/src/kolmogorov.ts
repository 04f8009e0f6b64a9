/**
 * Distributions of Kolmogorov–Smirnov statistics (continuous H0).
 *
 * - ks2ExactSf(d, n, m): exact P(D_{n,m} >= d), two-sample, two-sided.
 * - kstwoSf(d, n): P(D_n >= d), one-sample, two-sided; the same case split as
 *   scipy.stats.kstwo.sf (Simard & L'Ecuyer 2011), so that p-values agree
 *   with scipy's ks_2samp(method="asymp").
 * - smirnovSf(n, d): P(D+_n >= d), one-sample, one-sided (Birnbaum–Tingey).
 * - kolmogorovSf(x): the limiting distribution P(K > x), K = lim sqrt(n) D_n.
 */
import { lnFactorial } from "./special.js";

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
 * reaches (i, j) while staying strictly inside the band |i/n - j/m| < d, with
 * transition probabilities (n-i)/(n+m-i-j) and (m-j)/(n+m-i-j), and sums the
 * probability of every first step out of the band. Every quantity is a sum of
 * non-negative terms, so the result keeps its relative precision even when it
 * is tiny (no 1 - (1 - p) cancellation). Cost O(n * m * min(1, 2d)).
 */
export function ks2ExactSf(d: number, n: number, m: number): number {
  if (!(d >= 0) || !(n >= 1) || !(m >= 1)) return Number.NaN;
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

const PI2 = Math.PI * Math.PI;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/**
 * Limiting Kolmogorov distribution P(K > x) = 2 Σ_{k>=1} (-1)^{k-1} e^{-2k²x²};
 * for x < 1 it is computed as 1 - P(K <= x) with the Jacobi-theta form
 * P(K <= x) = sqrt(2π)/x Σ_{k>=1} e^{-(2k-1)²π²/(8x²)}, which converges fast there.
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x < 1) {
    const w = PI2 / (8 * x * x);
    let s = 0;
    for (let k = 1; k < 50; k++) {
      const t = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      s += t;
      if (t <= 1e-17 * s) break;
    }
    return 1 - (SQRT2PI / x) * s;
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * x * x);
    s += k % 2 ? t : -t;
    if (t <= 1e-17 * Math.abs(s)) break;
  }
  return Math.min(1, 2 * s);
}

/** ln(n! / n^n), without the cancellation of lnFactorial(n) - n ln n for large n. */
function lnFactorialOverPower(n: number): number {
  if (n < 30) return lnFactorial(n) - n * Math.log(n);
  // Stirling: ln n! = n ln n - n + ½ ln(2πn) + 1/(12n) - 1/(360n³) + 1/(1260n⁵) - 1/(1680n⁷)
  const r = 1 / n;
  const r2 = r * r;
  return 0.5 * Math.log(2 * Math.PI * n) - n + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)));
}

/**
 * One-sided P(D+_n >= x) by the Birnbaum–Tingey formula
 *   x Σ_{j=0}^{⌊n(1-x)⌋} C(n,j) (x + j/n)^{j-1} (1 - x - j/n)^{n-j},
 * whose terms are all positive. Up to 500 terms are summed exactly (in log
 * space, scaled by the largest term). Beyond that the summand, a smooth
 * unimodal function of j whose bulk spans many indices, is summed on a
 * stride-h grid (h Σ f(j0 + kh)): by the Poisson summation formula this
 * equals the full sum up to aliasing terms of order e^{-2π²σ²/h²} (σ: width
 * of the peak) plus a small contribution of the non-analytic end j = n(1-x)
 * (measured ~1e-11 relative). h starts at σ/1.5 and is halved until two
 * successive estimates agree to 1e-10.
 */
export function smirnovSf(n: number, x: number): number {
  if (Number.isNaN(x) || !(n >= 1)) return Number.NaN;
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  // Beyond a million terms use the asymptotic form exp(-(6nx + 1)² / (18n)), as scipy (cephes) does.
  if (n > 1e6) return Math.exp(-((6 * n * x + 1) ** 2) / (18 * n));
  const nx = n * x;
  const J = Math.floor(n - nx);
  const lnx = Math.log(x);
  const lnFactN = lnFactorial(n);
  const logTerm = (j: number): number => {
    const a = x + j / n;
    const b = (n - j - nx) / n; // 1 - x - j/n
    if (b <= 0) return j === n ? lnx + (j - 1) * Math.log(a) : Number.NEGATIVE_INFINITY;
    return (
      lnFactN - lnFactorial(j) - lnFactorial(n - j) + (j - 1) * Math.log(a) + (n - j) * Math.log(b) + lnx
    );
  };
  if (J < 500) {
    const logs = new Float64Array(J + 1);
    let mx = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= J; j++) {
      logs[j] = logTerm(j);
      if (logs[j] > mx) mx = logs[j];
    }
    if (mx === Number.NEGATIVE_INFINITY) return 0;
    let s = 0;
    for (let j = 0; j <= J; j++) s += Math.exp(logs[j] - mx);
    return Math.min(1, Math.exp(mx + Math.log(s)));
  }
  // locate the peak (the log-summand is concave in j)
  let a = 0;
  let b = J;
  while (b - a > 2) {
    const m1 = a + Math.floor((b - a) / 3);
    const m2 = b - Math.floor((b - a) / 3);
    if (logTerm(m1) < logTerm(m2)) a = m1 + 1;
    else b = m2 - 1;
  }
  let peak = a;
  for (let j = a + 1; j <= b; j++) if (logTerm(j) > logTerm(peak)) peak = j;
  const lmax = logTerm(peak);
  // strided sum around the peak, walking out until terms are negligible
  const strided = (h: number): number => {
    let s = 1;
    for (const dir of [1, -1]) {
      for (let j = peak + dir * h; j >= 0 && j <= J; j += dir * h) {
        const t = Math.exp(logTerm(j) - lmax);
        s += t;
        if (t < 1e-18) break;
      }
    }
    return s * h;
  };
  // stride from the curvature at the peak: f(j) ~ exp(-(j - peak)² / (2σ²)), aliasing error ~ e^{-2π²σ²/h²}
  const curv = -(logTerm(Math.min(J, peak + 1)) - 2 * lmax + logTerm(Math.max(0, peak - 1)));
  const sigma = curv > 0 ? 1 / Math.sqrt(curv) : 1;
  let h = Math.max(1, Math.floor(sigma / 1.5));
  let prev = strided(h);
  while (h > 1) {
    h = Math.max(1, Math.floor(h / 2));
    const next = strided(h);
    const agree = Math.abs(next - prev) <= 1e-10 * next;
    prev = next;
    if (agree) break;
  }
  return Math.min(1, Math.exp(lmax + Math.log(prev)));
}

/**
 * Kolmogorov CDF P(D_n <= d) by the Durbin matrix method in the form of
 * Marsaglia, Tsang & Wang (2003): with k = ceil(nd), h = k - nd, m = 2k - 1,
 * P = n!/n^n · (H^n)_{k,k} for an m×m matrix H of non-negative entries.
 * The power is taken by repeated squaring with a power-of-two exponent kept
 * aside to avoid overflow. Cost O(m³ log n).
 */
export function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // 1/j! for j = 0..m
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let j = 1; j <= m; j++) invFact[j] = invFact[j - 1] / j;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i - j + 1 >= 0) H[i * m + j] = invFact[i - j + 1];
    }
  }
  for (let i = 0; i < m; i++) {
    H[i * m] = (1 - h ** (i + 1)) * invFact[i + 1]; // first column
    H[(m - 1) * m + (m - 1 - i)] = (1 - h ** (i + 1)) * invFact[i + 1]; // last row, mirrored
  }
  H[(m - 1) * m] = (1 - 2 * h ** m + Math.max(0, 2 * h - 1) ** m) * invFact[m];

  const mul = (A: Float64Array, B: Float64Array): Float64Array => {
    const C = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const a = A[i * m + l];
        if (a === 0) continue;
        const bo = l * m;
        const co = i * m;
        for (let j = 0; j < m; j++) C[co + j] += a * B[bo + j];
      }
    }
    return C;
  };
  let P: Float64Array | null = null; // accumulated power, scaled by 2^pExp
  let pExp = 0;
  let hExp = 0; // H is scaled by 2^hExp
  let e = n;
  const BIG = 2 ** 256;
  while (e > 0) {
    if (e & 1) {
      P = P === null ? H.slice() : mul(P, H);
      pExp += hExp;
      let mx = 0;
      for (const v of P) if (v > mx) mx = v;
      if (mx > BIG) {
        for (let i = 0; i < P.length; i++) P[i] /= BIG;
        pExp += 256;
      } else if (mx > 0 && mx < 1 / BIG) {
        for (let i = 0; i < P.length; i++) P[i] *= BIG;
        pExp -= 256;
      }
    }
    e = Math.floor(e / 2);
    if (e > 0) {
      H = mul(H, H);
      hExp *= 2;
      let mx = 0;
      for (const v of H) if (v > mx) mx = v;
      if (mx > BIG) {
        for (let i = 0; i < H.length; i++) H[i] /= BIG;
        hExp += 256;
      } else if (mx > 0 && mx < 1 / BIG) {
        for (let i = 0; i < H.length; i++) H[i] *= BIG;
        hExp -= 256;
      }
    }
  }
  const v = (P as Float64Array)[(k - 1) * m + (k - 1)];
  if (!(v > 0)) return 0;
  return Math.min(1, Math.exp(Math.log(v) + pExp * Math.LN2 + lnFactorialOverPower(n)));
}

/**
 * Pelz–Good (1976) asymptotic expansion of P(D_n <= x) to order n^{-3/2}:
 * K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^{3/2} with z = x√n, each term written
 * with the theta-function series in q = e^{-π²/(8z²)} (fast for moderate z).
 */
export function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  if (-PI2 / (8 * z2) < -708) return 0;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const PI4 = PI2 * PI2;
  const PI6 = PI4 * PI2;
  // sums over odd m of c(m) e^{-π² m² / (8 z²)}
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let m = 1; ; m += 2) {
    const q = Math.exp((-PI2 * m * m) / (8 * z2));
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    s0 += q;
    s1 += ((PI2 * m2) / 4 - z2) * q;
    s2 += (6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * PI2 * m2) / 4 + (PI4 * (1 - 2 * z2) * m4) / 16) * q;
    s3 +=
      ((PI6 * (5 - 30 * z2) * m6) / 64 +
        (PI4 * (212 * z4 - 60 * z2) * m4) / 16 +
        (PI2 * (135 * z4 - 96 * z6) * m2) / 4 -
        30 * z6 -
        90 * z6 * z2) *
      q;
    if (q < 1e-300 || (m > 3 && q * (1 + m6 * PI6) < 1e-20 * Math.abs(s0))) break;
  }
  // sums over all k of c(k) e^{-π² k² / (2 z²)}
  let t2 = 0;
  let t3 = 0;
  for (let k = 1; ; k++) {
    const q = Math.exp((-PI2 * k * k) / (2 * z2));
    const k2 = k * k;
    t2 += k2 * q;
    t3 += (3 * z2 - PI2 * k2) * k2 * q;
    if (q < 1e-300 || q * (1 + PI2 * k2 * k2) < 1e-20 * (Math.abs(t2) + 1e-300)) break;
  }
  const K0 = (SQRT2PI / z) * s0;
  const K1 = (SQRT2PI / (6 * z4)) * s1;
  const K2 = (SQRT2PI / (72 * z6 * z)) * s2 - ((PI2 * SQRT2PI) / (36 * z2 * z)) * t2;
  const K3 = (SQRT2PI / (6480 * z4 * z6)) * s3 + ((PI2 * SQRT2PI) / (216 * z6)) * t3;
  const sn = Math.sqrt(n);
  return K0 + K1 / sn + K2 / n + K3 / (n * sn);
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

/**
 * P(D_n >= d) for the one-sample two-sided KS statistic, n >= 1 an integer.
 * Case split (following Simard & L'Ecuyer 2011, as scipy.stats.kstwo does):
 * - nd <= 1 or nd >= n - 1: the closed forms of Ruben & Gambino;
 * - d >= 0.5, or n <= 140 and nd² > 4, or n > 140 and nd² >= 2.2:
 *   2·P(D+_n >= d) (exact for d >= 0.5, otherwise in error by less than
 *   P(D+ and D- both >= d), far below the p-value itself), 0 once nd² >= 370;
 * - n <= 140: 1 - the exact CDF by the Durbin matrix (scipy uses the
 *   equivalent Pomeranz recursion for 0.754693 < nd² <= 4);
 * - n > 140: 1 - CDF with the CDF from the Durbin matrix when
 *   n <= 100000 and n·d^1.5 <= 1.4, otherwise from the Pelz–Good expansion.
 *   (In the Durbin region the CDF is evaluated by Pelz–Good first and the
 *   matrix is skipped when that CDF is below 1e-9: the p-value is then 1 to
 *   within 1e-9 either way, and the matrix would cost milliseconds.)
 */
export function kstwoSf(d: number, n: number): number {
  if (Number.isNaN(d) || !(n >= 1) || !Number.isInteger(n)) return Number.NaN;
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // P(D_n <= d) = n!/n^n (2t - 1)^n for 1/(2n) <= d <= 1/n
    const cdf = Math.exp(lnFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - d) ** n);
  if (d >= 0.5) return clip(2 * smirnovSf(n, d));
  const nd2 = t * d;
  if (n <= 140) {
    if (nd2 <= 4) return clip(1 - durbinCdf(n, d));
    return clip(2 * smirnovSf(n, d));
  }
  if (nd2 >= 370) return 0;
  if (nd2 >= 2.2) return clip(2 * smirnovSf(n, d));
  const pg = pelzGoodCdf(n, d);
  if (n <= 100000 && n * d ** 1.5 <= 1.4 && pg >= 1e-9) return clip(1 - durbinCdf(n, d));
  return clip(1 - pg);
}
