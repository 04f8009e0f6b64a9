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
  const j = h.toJSON();
  const width = 2 ** -j.scale;
  const clamp = (v: number) => Math.min(Math.max(v, j.min), j.max);
  // Zero bucket and every negative value sit at or below the lowest positive bound.
  const low = j.zeroCount + j.negative.counts.reduce((a, b) => a + b, 0);
  if (low > 0) into[bucketIndex(bounds, clamp(0))] += low;
  const counts = j.positive.counts;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    const index = j.positive.offset + i;
    const mid = 2 ** ((index + 0.5) * width);
    into[bucketIndex(bounds, clamp(mid))] += c;
  }
}
