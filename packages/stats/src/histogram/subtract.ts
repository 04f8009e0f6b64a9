// ExpHistogram.subtract()'s two ways: at the histogram's own scale without a
// copy (the ingest path's), and the general one on a copy that first aligns
// zero thresholds and scales; both end in settleAfterSubtract(). The class
// keeps subtract() and thin private methods that call these (the fast-path
// tests count the calls of subtractAtScale). Not merge, nor the cumulative
// step's own subtraction (cumulative/delta.ts).

import type { ExpHistogram } from "../exphist.js";
import { occupiedExtent } from "./cells.js";
import { checkContained, removeContained, subtractFail, tol } from "./range.js";

/** subtract() in general: on a copy, aligning zero thresholds and scales first. */
export function subtractByCopy(h: ExpHistogram, other: ExpHistogram): void {
  const me = h.clone();
  const o = me.alignZeroThreshold(other);
  if (o.hasBuckets() && o._scale < me._scale) me.downscale(me._scale - o._scale);
  const os = o._scale - me._scale;
  if (o._count > me._count + tol(me._count)) subtractFail(`count ${o._count} > ${me._count}`);
  if (o._zeroCount > me._zeroCount + tol(me._zeroCount))
    subtractFail(`zero count ${o._zeroCount} > ${me._zeroCount}`);
  for (const [name, mine, theirs] of [
    ["positive", me.pos, o.pos],
    ["negative", me.neg, o.neg],
  ] as const) {
    if (theirs.isEmpty) continue;
    // aggregate other's buckets at my scale, then compare
    const agg = new Map<number, number>();
    for (let i = theirs.lo; i <= theirs.hi; i++) {
      const v = theirs.counts[i - theirs.base];
      if (v !== 0) agg.set(i >> os, (agg.get(i >> os) ?? 0) + v);
    }
    for (const [i, v] of agg) {
      const have = mine.get(i);
      if (v > have + tol(have)) subtractFail(`${name} bucket ${i} at scale ${me._scale}: ${v} > ${have}`);
    }
    for (const [i, v] of agg) {
      const slot = i - mine.base;
      const left = mine.counts[slot] - v;
      mine.counts[slot] = left > tol(v) ? left : 0;
    }
    mine.total = 0;
    for (let i = mine.lo; i <= mine.hi; i++) mine.total += mine.counts[i - mine.base];
    mine.trim();
    if (mine.isEmpty) mine.clear();
  }
  settleAfterSubtract(me, o);
  h.assign(me);
}

/**
 * subtract() when no copy is needed: same zero threshold, and `o` at h's
 * scale or finer (or without buckets), so h keeps its scale. Everything is checked before anything changes; the result is the
 * general path's, float for float.
 */
export function subtractAtScale(h: ExpHistogram, o: ExpHistogram): void {
  const os = o._scale - h._scale;
  if (o._count > h._count + tol(h._count)) subtractFail(`count ${o._count} > ${h._count}`);
  if (o._zeroCount > h._zeroCount + tol(h._zeroCount))
    subtractFail(`zero count ${o._zeroCount} > ${h._zeroCount}`);
  checkContained("positive", h.pos, o.pos, os, h._scale);
  checkContained("negative", h.neg, o.neg, os, h._scale);
  removeContained(h.pos, o.pos, os);
  removeContained(h.neg, o.neg, os);
  settleAfterSubtract(h, o);
}

/** The bookkeeping after `o`'s buckets left h: counts, sum, and extremes that can only move inwards. */
export function settleAfterSubtract(h: ExpHistogram, o: ExpHistogram): void {
  const zc = h._zeroCount - o._zeroCount;
  h._zeroCount = zc > tol(o._zeroCount) ? zc : 0;
  const cnt = h._count - o._count;
  h._count = cnt > tol(o._count) ? cnt : 0;
  h._rejected = Math.max(0, h._rejected - o._rejected);
  if (h._count === 0) {
    h._sum = 0;
    h._min = Number.POSITIVE_INFINITY;
    h._max = Number.NEGATIVE_INFINITY;
    h._zeroCount = 0;
    h.pos.clear();
    h.neg.clear();
    h._scale = h.maxScale;
  } else {
    h._sum -= o._sum;
    const [lo, hi] = occupiedExtent(h);
    // only an extreme that `other` may have removed can move, and only inwards to a bucket bound
    if (o._min <= h._min) h._min = Math.max(h._min, lo);
    if (o._max >= h._max) h._max = Math.min(h._max, hi);
    if (!h.hasBuckets()) h._scale = h.maxScale;
  }
}
