// Converts exponential-histogram counts into classic (explicit-bound) bucket
// counts for Prometheus. Each exponential bucket goes whole to the classic
// bucket holding its logarithmic midpoint (clamped to the histogram's min and
// max), so counts stay integers and totals only ever grow; a value can land
// one classic bucket off only when its exponential bucket straddles a bound,
// an error of at most half an exponential bucket's width.

import type { ExpHistogram } from "@mlwatch/stats";

/** Index of the first bound >= v, or bounds.length for +Inf. */
function bucketIndex(bounds: readonly number[], v: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid] >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Logarithmic midpoint of exponential bucket `index` at a bucket width of `width` (2^-scale) in log2. */
function midpoint(index: number, width: number): number {
  return 2 ** ((index + 0.5) * width);
}

/**
 * For each bound, the first exponential bucket index whose midpoint lies
 * above it at `scale`: walking the buckets upwards, the classic bucket only
 * moves on at these indices, so no midpoint need be computed per bucket.
 */
function thresholds(bounds: readonly number[], scale: number): Float64Array {
  const width = 2 ** -scale;
  const out = new Float64Array(bounds.length);
  for (let j = 0; j < bounds.length; j++) {
    const b = bounds[j];
    // every midpoint is above a bound that is not positive (as bucketIndex() sees a NaN bound too)
    if (!(b > 0)) {
      out[j] = Number.NEGATIVE_INFINITY;
      continue;
    }
    if (b === Number.POSITIVE_INFINITY) {
      out[j] = Number.POSITIVE_INFINITY;
      continue;
    }
    // a guess from the logarithm, then settled on the midpoints themselves
    let i = Math.ceil(Math.log2(b) / width - 0.5);
    while (midpoint(i - 1, width) > b) i--;
    while (midpoint(i, width) <= b) i++;
    out[j] = i;
  }
  return out;
}

// Per bounds array, the thresholds at each scale used so far (a series' scale rarely changes).
const THRESHOLDS = new WeakMap<readonly number[], Map<number, Float64Array>>();

function thresholdsFor(bounds: readonly number[], scale: number): Float64Array {
  let byScale = THRESHOLDS.get(bounds);
  if (byScale === undefined) {
    byScale = new Map();
    THRESHOLDS.set(bounds, byScale);
  }
  let t = byScale.get(scale);
  if (t === undefined) {
    t = thresholds(bounds, scale);
    byScale.set(scale, t);
  }
  return t;
}

/**
 * Adds the histogram's counts into `into` (length bounds.length + 1, last is
 * +Inf). `bounds` ascending, and not changed after the first call with them
 * (the thresholds worked out from them are kept).
 */
export function addClassicCounts(h: ExpHistogram, bounds: readonly number[], into: number[]): void {
  const empty = h.count === 0;
  const min = empty ? 0 : h.min;
  const max = empty ? 0 : h.max;
  // Zero bucket and every negative value sit at or below the lowest positive bound.
  const neg = h.bucketView(-1);
  let negative = 0;
  for (let i = neg.lo; i <= neg.hi; i++) negative += neg.counts[i - neg.base];
  const low = h.zeroCount + negative;
  if (low > 0) into[bucketIndex(bounds, Math.min(Math.max(0, min), max))] += low;
  const pos = h.bucketView(1);
  if (pos.hi < pos.lo) return;
  // a midpoint clamped to [min, max] lands where the midpoint's bucket is, clamped to those of min and max
  const lowest = bucketIndex(bounds, min);
  const highest = bucketIndex(bounds, max);
  const t = thresholdsFor(bounds, h.scale);
  const counts = pos.counts;
  const base = pos.base;
  let j = 0;
  for (let index = pos.lo; index <= pos.hi; index++) {
    const c = counts[index - base];
    if (c === 0) continue;
    while (j < t.length && index >= t[j]) j++;
    into[Math.min(Math.max(j, lowest), highest)] += c;
  }
}
