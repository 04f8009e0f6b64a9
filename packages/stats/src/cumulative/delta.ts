// The pieces of one cumulative-to-delta step: the checks a point's totals
// must pass, the delta histogram's head (its totals), its buckets built from
// a RangeScan (a view of the scan, a copy in the delta slab, or the point
// minus the previous one at another scale), and the previous point's
// ranges set to the new point's. Not the order in which a step runs them
// (advance.ts), nor the reading of the point's buckets (otlp/range-scan.ts).

import type { ExpHistogram } from "../exphist.js";
import { occupiedExtent } from "../histogram/cells.js";
import { type Range, removeContained, tol } from "../histogram/range.js";
import type { OtlpExpHistogramPoint } from "../otlp/point.js";
import type { RangeScan } from "../otlp/range-scan.js";
import { setCount, WIDTH_BYTES } from "../packed/format.js";
import { reallocateFor, reserveTransient } from "./slab.js";

/**
 * The checks advanceCumulative() makes of the next point's totals: a count
 * above 0 and at least `prevCount`, a zero count, finite sum, min and max
 * (min <= max), and the zero threshold `zt`.
 */
export function takesPoint(p: OtlpExpHistogramPoint, prevCount: number, zt: number): boolean {
  const { count, zeroCount, sum, min, max } = p;
  return (
    typeof count === "number" &&
    count > 0 &&
    count < Number.POSITIVE_INFINITY &&
    count >= prevCount &&
    typeof zeroCount === "number" &&
    zeroCount >= 0 &&
    zeroCount < Number.POSITIVE_INFINITY &&
    (p.zeroThreshold ?? 0) === zt &&
    typeof sum === "number" &&
    sum - sum === 0 &&
    typeof min === "number" &&
    typeof max === "number" &&
    min <= max &&
    min - min === 0 &&
    max - max === 0
  );
}

/** Sets `r` to the differences of a scan, as deltaFromScratch() would (trimmed), in place: a view of the scan's scratch. */
export function viewDifferences(r: Range, scan: RangeScan): void {
  if (scan.dLast < scan.dFirst) {
    r.clear();
    return;
  }
  r.counts = scan.scratch;
  r.base = scan.offset;
  r.lo = scan.offset + scan.dFirst;
  r.hi = scan.offset + scan.dLast;
  r.total = scan.dTotal;
}

/** Rewrites the counts at the positions a scan found changed; the packed span starts at position `from`. */
export function writeChanged(packed: Uint8Array, at: number, w: number, scan: RangeScan, from: number): void {
  const size = WIDTH_BYTES[w];
  const values = scan.values;
  const changed = scan.changed;
  for (let j = 0; j < scan.nChanged; j++) {
    const k = changed[j];
    setCount(packed, at + (k - from) * size, w, values[k]);
  }
}

/**
 * Sets the empty range `out` to the differences a scan left in
 * scratch[first..last] (bucket offset + k), laid out as otlpMinusRange()
 * does; trimmed when the old range had buckets.
 */
export function deltaFromScratch(out: Range, scan: RangeScan, trim: boolean): void {
  const { scratch, offset, first, last, dTotal: total } = scan;
  if (first > last) return;
  reserveTransient(out, offset + first, offset + last);
  out.counts.set(scratch.subarray(first, last + 1), offset + first - out.base);
  out.total = total;
  if (trim) {
    out.trim();
    if (out.isEmpty) out.clear();
  }
}

/**
 * checkContained() against the counts readOtlpRange() found: true when
 * every bucket of `old`, summed at a scale `os` steps coarser, fits under
 * counts[first..last] (bucket offset + k; zero outside).
 */
export function containsRange(scan: RangeScan, old: Range, os: number): boolean {
  const { counts, offset, first, last } = scan;
  if (old.isEmpty) return true;
  const oc = old.counts;
  const ob = old.base;
  const lo = offset + first;
  const hi = offset + last;
  let j = 0;
  let v = 0;
  let open = false;
  for (let i = old.lo; i <= old.hi; i++) {
    const c = oc[i - ob];
    if (c === 0) continue;
    const k = i >> os;
    if (open && k !== j) {
      const have = j >= lo && j <= hi ? counts[j - offset] : 0;
      if (v > have && v > have + 1e-9 * Math.max(1, have)) return false;
      v = 0;
    }
    j = k;
    v += c;
    open = true;
  }
  if (open) {
    const have = j >= lo && j <= hi ? counts[j - offset] : 0;
    if (v > have && v > have + 1e-9 * Math.max(1, have)) return false;
  }
  return true;
}

/**
 * Sets the empty range `out` to a scan's counts[first..last] (as fromOtlp()
 * builds it) minus `old` at a scale `os` steps finer (checked by containsRange), as
 * subtract() does.
 */
export function otlpMinusRange(out: Range, scan: RangeScan, old: Range, os: number): void {
  const { counts, offset, first, last } = scan;
  if (first > last) return;
  reserveTransient(out, offset + first, offset + last);
  const c = out.counts;
  const at = offset - out.base;
  let total = 0;
  for (let k = first; k <= last; k++) {
    const v = counts[k];
    c[k + at] = v;
    total += v;
  }
  out.total = total;
  removeContained(out, old, os);
}

/** Sets `r` to a scan's counts[first..last] (index offset + k), reusing its array when the range fits in it. */
export function assignOtlpRange(r: Range, scan: RangeScan): void {
  const { counts, offset, first, last } = scan;
  if (first > last) {
    r.clear();
    return;
  }
  const lo = offset + first;
  const hi = offset + last;
  if (!r.isEmpty) r.counts.fill(0, r.lo - r.base, r.hi - r.base + 1);
  const cap = r.counts.length;
  if (lo >= r.base && hi < r.base + cap) {
    r.lo = lo;
    r.hi = hi;
  } else if (hi - lo + 1 <= cap) {
    // the array is all zeros now: centre the new range in it rather than allocate another
    r.base = lo - ((cap - (hi - lo + 1)) >> 1);
    r.lo = lo;
    r.hi = hi;
  } else {
    reallocateFor(r, lo, hi);
  }
  const c = r.counts;
  const at = offset - r.base;
  let total = 0;
  for (let k = first; k <= last; k++) {
    const v = counts[k];
    c[k + at] = v;
    total += v;
  }
  r.total = total;
}

/**
 * The delta from a previous cumulative point (its count, zero count and
 * sum) to a point with these totals, with its scalar fields set and no
 * buckets yet; null when the point adds nothing (count within tolerance of
 * the previous one's). Written into `into` when given, else into a new
 * histogram from `fresh` (ExpHistogram's constructor, handed in so that
 * this module does not import the class it serves).
 */
export function deltaHead(
  prevCount: number,
  prevZero: number,
  prevSum: number,
  zt: number,
  scale: number,
  count: number,
  zeroCount: number,
  sum: number,
  into: ExpHistogram | undefined,
  fresh: () => ExpHistogram,
): ExpHistogram | null {
  const cnt = count - prevCount;
  if (!(cnt > tol(prevCount))) return null;
  let d: ExpHistogram;
  if (into === undefined) {
    d = fresh();
  } else {
    d = into;
    d._rejected = 0;
    d.pos.clear();
    d.neg.clear();
  }
  d._zeroThreshold = zt;
  d._scale = scale;
  d._count = cnt;
  const zc = zeroCount - prevZero;
  d._zeroCount = zc > tol(prevZero) ? zc : 0;
  d._sum = sum - prevSum;
  return d;
}

/**
 * Min and max of a delta between cumulative points: the new point's, except
 * where the previous point already held that extreme, which then narrows
 * to the delta's own buckets.
 */
export function settleDeltaExtremes(
  d: ExpHistogram,
  prevMin: number,
  prevMax: number,
  min: number,
  max: number,
): void {
  d._min = min;
  d._max = max;
  const [lo, hi] = occupiedExtent(d);
  if (prevMin <= min) d._min = Math.max(min, lo);
  if (prevMax >= max) d._max = Math.min(max, hi);
  if (!d.hasBuckets()) d._scale = d.maxScale;
}

/** The scalar fields of a cumulative point `h` now stands for (its ranges already set). */
export function takePointTotals(
  h: ExpHistogram,
  zt: number,
  count: number,
  sum: number,
  min: number,
  max: number,
  zeroCount: number,
): void {
  h._zeroThreshold = zt;
  h._count = count;
  h._sum = sum;
  h._min = min;
  h._max = max;
  h._zeroCount = zeroCount;
}
