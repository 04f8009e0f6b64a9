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

/** Adds the histogram's counts into `into` (length bounds.length + 1, last is +Inf). */
export function addClassicCounts(h: ExpHistogram, bounds: readonly number[], into: number[]): void {
  const empty = h.count === 0;
  const min = empty ? 0 : h.min;
  const max = empty ? 0 : h.max;
  const width = 2 ** -h.scale;
  // Zero bucket and every negative value sit at or below the lowest positive bound.
  const neg = h.bucketView(-1);
  let negative = 0;
  for (let i = neg.lo; i <= neg.hi; i++) negative += neg.counts[i - neg.base];
  const low = h.zeroCount + negative;
  if (low > 0) into[bucketIndex(bounds, Math.min(Math.max(0, min), max))] += low;
  const pos = h.bucketView(1);
  const counts = pos.counts;
  const base = pos.base;
  for (let index = pos.lo; index <= pos.hi; index++) {
    const c = counts[index - base];
    if (c === 0) continue;
    const mid = 2 ** ((index + 0.5) * width);
    into[bucketIndex(bounds, Math.min(Math.max(mid, min), max))] += c;
  }
}
