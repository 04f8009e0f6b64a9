/**
 * Distribution-shift measures for numeric features: PSI, Jensen–Shannon
 * distance and Wasserstein-1, each from raw samples and from exponential
 * histograms.
 */
import { type Cell, type ExpHistogram, fractionBelow } from "./exphist.js";
import { lnRatio } from "./mapping.js";

/** Proportion used in place of an empty bin by psi(), as in the reference design. */
export const PSI_EPSILON = 1e-4;

function toProportions(name: string, x: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v >= 0) || !Number.isFinite(v))
      throw new Error(`${name}[${i}] must be a finite number >= 0, got ${v}`);
    total += v;
  }
  if (!(total > 0)) throw new Error(`${name} must have a positive total`);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] / total;
  return out;
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, who: string): void {
  if (a.length !== b.length)
    throw new Error(`${who}: the two distributions have ${a.length} and ${b.length} bins`);
  if (a.length === 0) throw new Error(`${who}: no bins`);
}

/**
 * Population Stability Index over explicit bins:
 *   PSI = Σ_i (a_i - e_i) · ln(a_i / e_i)
 * where e_i, a_i are the expected (reference) and actual proportions: each
 * input (counts or proportions) is divided by its own total. An empty bin
 * (proportion exactly 0) would make the term infinite; like the reference
 * design, its proportion is replaced by `epsilon` (default 1e-4) without
 * renormalising the others. PSI >= 0, and 0 iff the proportions are equal.
 * Conventional reading: < 0.1 stable, 0.1–0.2 slight shift, > 0.2 significant.
 */
export function psi(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  opts: { epsilon?: number } = {},
): number {
  sameLength(expected, actual, "psi");
  const eps = opts.epsilon ?? PSI_EPSILON;
  if (!(eps > 0)) throw new Error("psi: epsilon must be > 0");
  const e = toProportions("psi expected", expected);
  const a = toProportions("psi actual", actual);
  let s = 0;
  for (let i = 0; i < e.length; i++) {
    const ei = e[i] === 0 ? eps : e[i];
    const ai = a[i] === 0 ? eps : a[i];
    s += (ai - ei) * Math.log(ai / ei);
  }
  return s;
}

function checkEdges(edges: readonly number[], who: string): void {
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
      throw new Error(`${who}: edges must be finite and strictly increasing`);
    }
  }
}

/**
 * Counts per bin for cut points `edges` (c_1 < ... < c_k): k + 1 bins
 * (-∞, c_1], (c_1, c_2], ..., (c_k, +∞) — the same `le` convention as
 * Prometheus buckets and ExpHistogram.toExplicitBuckets(). NaN and ±Infinity
 * are skipped.
 */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  checkEdges(edges, "binCounts");
  const out = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue;
    // first edge >= v
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    out[lo]++;
  }
  return out;
}

/**
 * Interior cut points at the 1/bins, 2/bins, ... quantiles of a reference
 * (raw sample or histogram), with duplicates removed — the usual way of
 * choosing PSI bins so that each holds about the same share of the reference.
 * Sample quantiles use the "lower" order statistic x_(ceil(q·n)).
 */
export function quantileEdges(reference: ExpHistogram | ArrayLike<number>, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new Error("quantileEdges: bins must be a positive integer");
  const cuts: number[] = [];
  if (isHistogram(reference)) {
    for (let k = 1; k < bins; k++) cuts.push(reference.quantile(k / bins));
  } else {
    const s = finiteSorted(reference);
    if (s.length === 0) return [];
    for (let k = 1; k < bins; k++) cuts.push(s[Math.max(0, Math.ceil((k / bins) * s.length) - 1)]);
  }
  const out: number[] = [];
  for (const c of cuts) if (Number.isFinite(c) && (out.length === 0 || c > out[out.length - 1])) out.push(c);
  return out;
}

function isHistogram(x: unknown): x is ExpHistogram {
  return typeof x === "object" && x !== null && typeof (x as ExpHistogram).toExplicitBuckets === "function";
}

function finiteSorted(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  let k = 0;
  for (let i = 0; i < x.length; i++) if (x[i] - x[i] === 0) out[k++] = x[i];
  return out.subarray(0, k).sort();
}

/** PSI of two raw samples binned with binCounts(edges). */
export function psiSamples(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  edges: readonly number[],
  opts: { epsilon?: number } = {},
): number {
  return psi(binCounts(expected, edges), binCounts(actual, edges), opts);
}

/**
 * PSI of two histograms on explicit bins: both are converted with
 * toExplicitBuckets(edges) (exact where an edge falls on a bucket boundary,
 * interpolated inside a bucket). Without `edges` the bins are the deciles of
 * the expected histogram (quantileEdges(expected, 10)).
 */
export function psiHistograms(
  expected: ExpHistogram,
  actual: ExpHistogram,
  edges?: readonly number[],
  opts: { epsilon?: number } = {},
): number {
  const e = edges ?? quantileEdges(expected, 10);
  return psi(expected.toExplicitBuckets(e), actual.toExplicitBuckets(e), opts);
}

/**
 * Jensen–Shannon distance sqrt(JSD(p, q)), JSD = ½ KL(p‖m) + ½ KL(q‖m) with
 * m = (p + q)/2, as scipy.spatial.distance.jensenshannon: inputs (counts or
 * proportions) are normalised to sum 1, 0·ln 0 = 0 (so empty bins need no
 * epsilon), logarithm base e by default (range [0, sqrt(ln 2)]); pass
 * base: 2 for a distance in [0, 1].
 */
export function jensenShannon(
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  opts: { base?: number } = {},
): number {
  sameLength(p, q, "jensenShannon");
  const a = toProportions("jensenShannon p", p);
  const b = toProportions("jensenShannon q", q);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) s += a[i] * Math.log(a[i] / m);
    if (b[i] > 0) s += b[i] * Math.log(b[i] / m);
  }
  let jsd = s / 2;
  if (opts.base !== undefined) {
    if (!(opts.base > 0 && opts.base !== 1)) throw new Error("jensenShannon: base must be > 0 and != 1");
    jsd /= Math.log(opts.base);
  }
  return Math.sqrt(Math.max(0, jsd));
}

/** Jensen–Shannon distance of two raw samples binned with binCounts(edges). */
export function jsSamples(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  edges: readonly number[],
  opts: { base?: number } = {},
): number {
  return jensenShannon(binCounts(a, edges), binCounts(b, edges), opts);
}

/**
 * Jensen–Shannon distance of two histograms. With `edges`, on those explicit
 * bins (toExplicitBuckets); otherwise on the histograms' own buckets at their
 * common scale (the zero bucket is one bin). The value depends on the
 * binning: finer bins see more of the difference.
 */
export function jsHistograms(
  a: ExpHistogram,
  b: ExpHistogram,
  opts: { base?: number; edges?: readonly number[] } = {},
): number {
  if (opts.edges)
    return jensenShannon(a.toExplicitBuckets(opts.edges), b.toExplicitBuckets(opts.edges), opts);
  const [pa, pb] = commonBins(a, b);
  return jensenShannon(pa, pb, opts);
}

/**
 * The counts of two histograms on one grid: their common (coarser) scale,
 * negative buckets, zero bucket, positive buckets. Zero thresholds must agree
 * (otherwise clones are widened to the larger one).
 */
export function commonBins(a: ExpHistogram, b: ExpHistogram): [number[], number[]] {
  const [ha, hb] = sameZeroThreshold(a, b);
  const scale = Math.min(ha.scale, hb.scale);
  const outA: number[] = [];
  const outB: number[] = [];
  const mergeRange = (sign: 1 | -1) => {
    const x = ha.bucketsAt(sign, scale);
    const y = hb.bucketsAt(sign, scale);
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const xi = i < x.length ? x.index[i] : Number.POSITIVE_INFINITY;
      const yj = j < y.length ? y.index[j] : Number.POSITIVE_INFINITY;
      if (xi === yj) {
        outA.push(x.counts[i++]);
        outB.push(y.counts[j++]);
      } else if (xi < yj) {
        outA.push(x.counts[i++]);
        outB.push(0);
      } else {
        outA.push(0);
        outB.push(y.counts[j++]);
      }
    }
  };
  mergeRange(-1);
  outA.push(ha.zeroCount);
  outB.push(hb.zeroCount);
  mergeRange(1);
  return [outA, outB];
}

export interface WassersteinResult {
  /** W1 = ∫ |F_ref(x) - F_cur(x)| dx, in the unit of the data. */
  distance: number;
  /** distance / standard deviation of the reference (population, ddof = 0); NaN if that is 0 or unknown. */
  normalized: number;
  /** Upper bound on |distance - W1 of the raw samples|; 0 for raw samples. */
  errorBound: number;
}

/**
 * Wasserstein-1 (earth mover's) distance between two raw samples, as
 * scipy.stats.wasserstein_distance: the area between the two empirical CDFs,
 * summed exactly over the merged sorted sample. Non-finite values are
 * dropped. `normalized` divides by the reference's population standard
 * deviation so that thresholds carry across features (W1 is in data units).
 */
export function wassersteinSamples(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): WassersteinResult {
  const x = finiteSorted(reference);
  const y = finiteSorted(current);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { distance: Number.NaN, normalized: Number.NaN, errorBound: 0 };
  let i = 0;
  let j = 0;
  let w = 0;
  let prev = Math.min(x[0], y[0]);
  while (i < n || j < m) {
    const v = j >= m || (i < n && x[i] <= y[j]) ? x[i] : y[j];
    w += Math.abs(i / n - j / m) * (v - prev);
    prev = v;
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
  }
  let mean = 0;
  for (let k = 0; k < n; k++) mean += x[k];
  mean /= n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (x[k] - mean) ** 2;
  const sd = Math.sqrt(ss / n);
  return { distance: w, normalized: sd > 0 ? w / sd : Number.NaN, errorBound: 0 };
}

/** Piecewise model CDF of a histogram: a sorted list of cells with cumulative counts. */
interface Model {
  cells: Cell[];
  /** cumulative count before cell k */
  before: Float64Array;
  n: number;
}

function modelOf(h: ExpHistogram): Model {
  const cells = h.cells();
  const before = new Float64Array(cells.length + 1);
  for (let k = 0; k < cells.length; k++) before[k + 1] = before[k] + cells[k].count;
  return { cells, before, n: h.count };
}

/** Model CDF just to the right of x (x inside or between cells), advancing cursor `c` monotonically. */
function cdfAt(mod: Model, x: number, cur: { k: number }): number {
  const { cells, before, n } = mod;
  while (cur.k < cells.length && cells[cur.k].b <= x) cur.k++;
  if (cur.k >= cells.length) return 1;
  const cell = cells[cur.k];
  if (x < cell.a) return before[cur.k] / n;
  return (before[cur.k] + fractionBelow(cell, x) * cell.count) / n;
}

/**
 * ∫ |A + B t| · p · L · e^{L t} dt over t in [0, 1] — the integral of a
 * function linear in ln(y) over y in [p, p e^L] (the log-uniform pieces).
 */
function integrateLogLinear(A: number, B: number, p: number, L: number): number {
  const lnp = Math.log(p);
  const part = (t0: number, t1: number): number => {
    // ∫ (A + B t) p L e^{Lt} dt = (x1 - x0)(A + B t1) + B ((t1 - t0) x0 - (x1 - x0) / L), x_t = p e^{Lt}
    const x0 = Math.exp(lnp + L * t0);
    const dl = L * (t1 - t0);
    const dx = dl < 1 ? x0 * Math.expm1(dl) : Math.exp(lnp + L * t1) - x0;
    return dx * (A + B * t1) + (B === 0 ? 0 : B * ((t1 - t0) * x0 - dx / L));
  };
  const root = B !== 0 ? -A / B : Number.NaN;
  if (root > 0 && root < 1) return Math.abs(part(0, root)) + Math.abs(part(root, 1));
  return Math.abs(part(0, 1));
}

/** ∫ |A + B t| (v - u) dt over t in [0, 1]. */
function integrateLinear(A: number, B: number, width: number): number {
  const root = B !== 0 ? -A / B : Number.NaN;
  if (root > 0 && root < 1) return ((Math.abs(A) * root + Math.abs(A + B) * (1 - root)) / 2) * width;
  return Math.abs(A + B / 2) * width;
}

/**
 * Wasserstein-1 distance between two histograms: the area between their
 * model CDFs (the cdf() interpolation, log-uniform within buckets), integrated
 * in closed form between consecutive breakpoints of either model. Moving each
 * observation anywhere within its bucket changes W1 by at most its distance
 * moved, so errorBound = Σ_cells (count/n)·width over both histograms bounds
 * the difference to the raw-sample W1. The reference standard deviation for
 * `normalized` is the model's (exact mean sum/count, second moment from the
 * log-uniform cells), so it carries a relative error of the order of the
 * bucket width.
 */
export function wassersteinHistograms(reference: ExpHistogram, current: ExpHistogram): WassersteinResult {
  if (!(reference.count > 0) || !(current.count > 0)) {
    return { distance: Number.NaN, normalized: Number.NaN, errorBound: Number.NaN };
  }
  const [ra, rb] = sameZeroThreshold(reference, current);
  const ma = modelOf(ra);
  const mb = modelOf(rb);
  // breakpoints: the cell ends of both models (each list is already ascending), merged
  const ends = (cells: Cell[]) => {
    const out = new Float64Array(2 * cells.length);
    for (let k = 0; k < cells.length; k++) {
      out[2 * k] = cells[k].a;
      out[2 * k + 1] = cells[k].b;
    }
    return out;
  };
  const pa = ends(ma.cells);
  const pb = ends(mb.cells);
  const pts = new Float64Array(pa.length + pb.length);
  for (let i = 0, j = 0, k = 0; k < pts.length; k++) {
    pts[k] = j >= pb.length || (i < pa.length && pa[i] <= pb[j]) ? pa[i++] : pb[j++];
  }
  // [-t, t]: the zero bucket, where both model CDFs are linear in x
  const t = ra.zeroThreshold;
  const ca = { k: 0 };
  const cb = { k: 0 };
  let w = 0;
  for (let i = 0; i + 1 < pts.length; i++) {
    const u = pts[i];
    const v = pts[i + 1];
    if (!(v > u)) continue;
    const Du = cdfAt(ma, u, ca) - cdfAt(mb, u, cb);
    const Dv = leftLimit(ma, v, ca) - leftLimit(mb, v, cb);
    if (u >= t && u > 0) {
      w += integrateLogLinear(Du, Dv - Du, u, lnRatio(v, u));
    } else if (v <= -t && v < 0) {
      // y = -x runs over [-v, -u]; at y = -v the difference is Dv
      w += integrateLogLinear(Dv, Du - Dv, -v, lnRatio(u, v));
    } else {
      w += integrateLinear(Du, Dv - Du, v - u);
    }
  }
  let bound = 0;
  for (const m of [ma, mb]) {
    let s = 0;
    for (const c of m.cells) s += c.count * (c.b - c.a);
    bound += s / m.n;
  }
  const sd = modelStd(ra, ma);
  return { distance: w, normalized: sd > 0 ? w / sd : Number.NaN, errorBound: bound };
}

/** The two histograms, or clones of them widened to a common zero threshold. */
export function sameZeroThreshold(a: ExpHistogram, b: ExpHistogram): [ExpHistogram, ExpHistogram] {
  if (a.zeroThreshold === b.zeroThreshold) return [a, b];
  const ha = a.clone();
  const hb = b.clone();
  while (ha.zeroThreshold !== hb.zeroThreshold) {
    if (ha.zeroThreshold < hb.zeroThreshold) ha.widenZeroThreshold(hb.zeroThreshold);
    else hb.widenZeroThreshold(ha.zeroThreshold);
  }
  return [ha, hb];
}

/** Model CDF at v from the left (mass strictly below v plus the continuous part up to v). */
function leftLimit(mod: Model, v: number, cur: { k: number }): number {
  const { cells, before, n } = mod;
  let k = cur.k;
  while (k < cells.length && cells[k].b < v) k++;
  if (k >= cells.length) return 1;
  const cell = cells[k];
  if (v <= cell.a) return before[k] / n;
  return (before[k] + fractionBelow(cell, v) * cell.count) / n;
}

function modelStd(h: ExpHistogram, m: Model): number {
  const mean = h.sum / h.count;
  let s2 = 0;
  for (const c of m.cells) {
    const { a, b } = c;
    let ex2: number;
    if (a === b) ex2 = a * a;
    else if (c.kind === 2) ex2 = (a * a + a * b + b * b) / 3;
    else ex2 = (b * b - a * a) / (2 * lnRatio(b, a)); // log-uniform: E[x²] = (b² - a²) / (2 ln(b/a))
    s2 += c.count * ex2;
  }
  const v = s2 / h.count - mean * mean;
  return v > 0 ? Math.sqrt(v) : 0;
}
