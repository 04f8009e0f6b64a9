// How an exponential histogram's mass is spread inside its buckets: the
// cells of the value axis, rank() (the CDF's numerator), the value at a rank
// (quantiles), the value extent of the occupied buckets, and the
// log-uniform model behind them. Not the bucket bookkeeping (range.ts) nor
// the histogram's state changes (exphist.ts): everything here only reads.

import type { ExpHistogram } from "../exphist.js";
import { lnRatio, lowerBoundary, mapToIndex } from "../mapping.js";

/** One cell of the ordered value axis: a bucket clamped to [min, max]. */
export interface Cell {
  /** smallest value the cell's mass can take */
  a: number;
  /** largest value the cell's mass can take */
  b: number;
  count: number;
  /** 0: log-uniform positive, 1: log-uniform negative (by magnitude), 2: uniform (zero bucket) */
  kind: 0 | 1 | 2;
}

/** ExpHistogram.cells(): the histogram as ordered cells, most negative first. */
export function cellsOf(h: ExpHistogram): Cell[] {
  const out: Cell[] = [];
  const s = h._scale;
  const mn = h._min;
  const mx = h._max;
  const zt = h._zeroThreshold;
  const neg = h.neg;
  // walking outwards from zero, a bucket's upper boundary is the next one's lower boundary
  let prevIndex = Number.NaN;
  let prevUpper = 0;
  const negCells: Cell[] = [];
  for (let i = neg.lo; i <= neg.hi; i++) {
    const c = neg.counts[i - neg.base];
    if (c === 0) continue;
    const lower = i === prevIndex + 1 ? prevUpper : lowerBoundary(i, s);
    const upper = lowerBoundary(i + 1, s);
    prevIndex = i;
    prevUpper = upper;
    clampTo(-Math.min(upper, Number.MAX_VALUE), -Math.max(subnormalFloor(lower), zt), mn, mx);
    negCells.push({ a: EA, b: EB, count: c, kind: 1 });
  }
  for (let k = negCells.length - 1; k >= 0; k--) out.push(negCells[k]);
  if (h._zeroCount > 0) {
    clampTo(-zt, zt, mn, mx);
    out.push({ a: EA, b: EB, count: h._zeroCount, kind: 2 });
  }
  const pos = h.pos;
  prevIndex = Number.NaN;
  for (let i = pos.lo; i <= pos.hi; i++) {
    const c = pos.counts[i - pos.base];
    if (c === 0) continue;
    const lower = i === prevIndex + 1 ? prevUpper : lowerBoundary(i, s);
    const upper = lowerBoundary(i + 1, s);
    prevIndex = i;
    prevUpper = upper;
    clampTo(Math.max(subnormalFloor(lower), zt), Math.min(upper, Number.MAX_VALUE), mn, mx);
    out.push({ a: EA, b: EB, count: c, kind: 0 });
  }
  return out;
}

/** ExpHistogram.rank(): the interpolated number of observations <= x. */
export function rank(h: ExpHistogram, x: number): number {
  if (Number.isNaN(x) || h._count === 0) return Number.NaN;
  if (x < h._min) return 0;
  if (x >= h._max) return h._count;
  const s = h._scale;
  const mn = h._min;
  const mx = h._max;
  const zt = h._zeroThreshold;
  const neg = h.neg;
  const pos = h.pos;
  let cum = 0;
  if (x < -zt) {
    // buckets with a larger index than x's hold values below x
    const i = mapToIndex(-x, s);
    for (let j = Math.max(i + 1, neg.lo); j <= neg.hi; j++) cum += neg.counts[j - neg.base];
    const c = neg.get(i);
    if (c > 0) {
      clampTo(-upperOf(i, s), -Math.max(lowerOf(i, s), zt), mn, mx);
      cum += c * partial(x, 1);
    }
    return cum;
  }
  cum = neg.total;
  if (x <= zt) {
    if (h._zeroCount > 0) {
      clampTo(-zt, zt, mn, mx);
      cum += h._zeroCount * partial(x, 2);
    }
    return cum;
  }
  cum += h._zeroCount;
  const i = mapToIndex(x, s);
  const end = Math.min(i - 1, pos.hi);
  for (let j = pos.lo; j <= end; j++) cum += pos.counts[j - pos.base];
  const c = pos.get(i);
  if (c > 0) {
    clampTo(Math.max(lowerOf(i, s), zt), upperOf(i, s), mn, mx);
    cum += c * partial(x, 0);
  }
  return Math.min(cum, h._count);
}

/** ExpHistogram.toExplicitBuckets(): counts per classic bucket, split by the cdf() model. */
export function explicitBuckets(h: ExpHistogram, bounds: readonly number[]): number[] {
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      throw new Error("ExpHistogram.toExplicitBuckets: bounds must be finite and strictly increasing");
    }
  }
  const out = new Array<number>(bounds.length + 1).fill(0);
  if (h._count === 0) return out;
  const integral = Number.isInteger(h._count);
  let prev = 0;
  for (let j = 0; j < bounds.length; j++) {
    let c = rank(h, bounds[j]);
    if (integral) c = Math.round(c);
    if (c < prev) c = prev;
    out[j] = c - prev;
    prev = c;
  }
  out[bounds.length] = h._count - prev;
  return out;
}

/** Interpolated value of rank r (0 < r < count) in the bucket where the cumulative count reaches r. */
export function valueAtRank(h: ExpHistogram, r: number): number {
  const s = h._scale;
  const mn = h._min;
  const mx = h._max;
  const zt = h._zeroThreshold;
  let cum = 0;
  const neg = h.neg;
  for (let i = neg.hi; i >= neg.lo; i--) {
    const c = neg.counts[i - neg.base];
    if (c === 0) continue;
    if (cum + c >= r) {
      clampTo(-upperOf(i, s), -Math.max(lowerOf(i, s), zt), mn, mx);
      return inverse((r - cum) / c, 1);
    }
    cum += c;
  }
  if (h._zeroCount > 0) {
    if (cum + h._zeroCount >= r) {
      clampTo(-zt, zt, mn, mx);
      return inverse((r - cum) / h._zeroCount, 2);
    }
    cum += h._zeroCount;
  }
  const pos = h.pos;
  for (let i = pos.lo; i <= pos.hi; i++) {
    const c = pos.counts[i - pos.base];
    if (c === 0) continue;
    if (cum + c >= r) {
      clampTo(Math.max(lowerOf(i, s), zt), upperOf(i, s), mn, mx);
      return inverse((r - cum) / c, 0);
    }
    cum += c;
  }
  return mx;
}

/** [smallest, largest] value that the occupied buckets (and zero bucket) can hold. */
export function occupiedExtent(h: ExpHistogram): [number, number] {
  const s = h._scale;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const zt = h._zeroThreshold;
  if (!h.neg.isEmpty) {
    lo = -lowerBoundary(h.neg.hi + 1, s);
    hi = -innerBound(h.neg.lo, s);
  }
  if (h._zeroCount > 0) {
    lo = Math.min(lo, zt === 0 ? 0 : -zt);
    hi = Math.max(hi, zt);
  }
  if (!h.pos.isEmpty) {
    lo = Math.min(lo, innerBound(h.pos.lo, s));
    hi = lowerBoundary(h.pos.hi + 1, s);
  }
  return [lo, hi];
}

/** The sum of bucket midpoints (in the cells' model) times counts: the estimate fromOtlp() uses. */
export function estimateSum(h: ExpHistogram): number {
  let s = 0;
  for (const cell of cellsOf(h)) s += cell.count * valueAtFraction(cell, 0.5);
  return s;
}

// Output registers of clampTo, read by its callers in this module at once: they spare a tuple
// per bucket on the rank and quantile paths.
let EA = 0;
let EB = 0;
/** Clamp a bucket's value extent [a, b] to the exact [mn, mx]; result in EA, EB. */
function clampTo(a: number, b: number, mn: number, mx: number): void {
  let lo = Math.max(a, mn);
  let hi = Math.min(b, mx);
  if (lo > hi) {
    // only possible within an ulp of a bucket boundary (log-method mapping)
    const v = mn > b ? lo : hi;
    lo = v;
    hi = v;
  }
  EA = lo;
  EB = hi;
}

/** Fraction of the mass of the cell [EA, EB] (see clampTo) at values <= x; kind as in Cell. */
function partial(x: number, kind: 0 | 1 | 2): number {
  if (x >= EB) return 1;
  if (x < EA) return 0;
  const f = fractionBelow({ a: EA, b: EB, count: 0, kind }, x);
  return f > 0 ? Math.min(f, 1) : 0;
}

/** Value below which a fraction f of the mass of the cell [EA, EB] lies. */
function inverse(f: number, kind: 0 | 1 | 2): number {
  return valueAtFraction({ a: EA, b: EB, count: 0, kind }, f);
}

/** Value below which a fraction f in [0, 1] of a cell's mass lies (inverse of fractionBelow). */
function valueAtFraction(cell: Cell, f: number): number {
  const { a, b } = cell;
  if (a === b) return a;
  if (cell.kind === 2) return a + f * (b - a);
  // log-uniform in |v| (for a negative cell both a and b are negative, b / a in (0, 1])
  const r = Math.exp(f * lnRatio(b, a));
  return r < Number.POSITIVE_INFINITY
    ? a * r
    : Math.sign(a) * Math.exp(Math.log(Math.abs(a)) + f * lnRatio(b, a));
}

/** Fraction of a cell's mass at values <= x, for x inside [a, b] (the model of cdf()). */
export function fractionBelow(cell: Cell, x: number): number {
  const { a, b } = cell;
  if (a === b) return x >= b ? 1 : 0;
  if (cell.kind === 2) return (x - a) / (b - a);
  if (cell.kind === 0) return lnRatio(x, a) / lnRatio(b, a);
  return lnRatio(a, x) / lnRatio(a, b);
}

/** Lower boundary of bucket i, or the smallest subnormal for the bucket that also holds the subnormals. */
function innerBound(i: number, s: number): number {
  return subnormalFloor(lowerBoundary(i, s));
}

/** A lower bucket boundary below 2^-1022 belongs to the bucket that also holds the subnormals. */
function subnormalFloor(b: number): number {
  return b < 2 ** -1022 ? Number.MIN_VALUE : b;
}

/** Bucket boundaries kept inside the positive normal float64 range, so logs stay finite. */
function lowerOf(i: number, s: number): number {
  return innerBound(i, s);
}
function upperOf(i: number, s: number): number {
  return Math.min(lowerBoundary(i + 1, s), Number.MAX_VALUE);
}
