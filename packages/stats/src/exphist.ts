// The exponential histogram itself (ExpHistogram): its state, record,
// merge, subtract, scale and zero-threshold changes, and the read side
// (quantiles, CDF, cells, JSON), each public method in one place with its
// contract. The work of the bigger operations is in the modules beside it:
// histogram/ (bucket ranges, the in-bucket value model, checked building,
// subtraction), packed/ (the packed byte form), cumulative/ (the
// cumulative-to-delta step of the ingest) and otlp/ (OTLP points and their
// bucket ranges). Not a place for I/O, wire formats or caches.

import { advanceCumulative, advancePacked, type PackedAdvance } from "./cumulative/advance.js";
import { buildChecked, rangeIn } from "./histogram/build.js";
import { type Cell, cellsOf, explicitBuckets, rank, valueAtRank } from "./histogram/cells.js";
import { addShifted, DEFAULT_MAX_SIZE, Range, shiftToFit } from "./histogram/range.js";
import { subtractAtScale, subtractByCopy } from "./histogram/subtract.js";
import { lowerBoundary, MAX_SCALE, MIN_SCALE, mapToIndex } from "./mapping.js";
import { materializeBuckets, type OtlpExpHistogramPoint } from "./otlp/point.js";
import { addPacked, packView, readPacked } from "./packed/codec.js";

// Kept importable from here, where they were before the split (drift.ts uses them).
export { type Cell, fractionBelow } from "./histogram/cells.js";
export { DEFAULT_MAX_SIZE } from "./histogram/range.js";

/** Serialised form of an {@link ExpHistogram}; counts per range start at bucket index `offset`. */
export interface ExpHistogramJSON {
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  count: number;
  sum: number;
  /** Exact minimum of the recorded values; 0 when `count` is 0. */
  min: number;
  /** Exact maximum of the recorded values; 0 when `count` is 0. */
  max: number;
  positive: { offset: number; counts: number[] };
  negative: { offset: number; counts: number[] };
}

export interface ExpHistogramOptions {
  /** Maximum number of buckets per range (positive / negative). Default 160. */
  maxSize?: number;
  /** Scale of an empty histogram; it only ever decreases as the range widens. Default 20. */
  maxScale?: number;
  /** Values with |v| <= zeroThreshold go to the zero bucket. Default 0. */
  zeroThreshold?: number;
}

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    throw new Error(`ExpHistogram: ${name} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

/** A read-only view of one range's bucket counts (see ExpHistogram.bucketView). */
export interface BucketView {
  readonly counts: Float64Array;
  readonly base: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * Base-2 exponential histogram following the OpenTelemetry data model.
 *
 * - `record` maps a value to bucket `i` with `base^i < |v| <= base^(i+1)`,
 *   `base = 2^(2^-scale)`; values with `|v| <= zeroThreshold` go to the zero
 *   bucket. When a range would need more than `maxSize` buckets the whole
 *   histogram is downscaled (pairs of buckets merged) just enough to fit.
 * - NaN and ±Infinity are not recorded: they only increment `rejected`, so
 *   they never reach `count`, `sum`, `min`, `max` or any bucket. A weight
 *   `count` that is not a finite number > 0 is also rejected (0 is a no-op).
 * - `min`/`max` are exact; they are NaN for an empty histogram.
 */
export class ExpHistogram {
  readonly maxSize: number;
  readonly maxScale: number;
  // The state. Public only for the modules beside this one that work on it (histogram/,
  // packed/, cumulative/); @internal keeps it out of the package's declared API (stripInternal).
  /** @internal */ _zeroThreshold: number;
  /** @internal */ _scale: number;
  /** @internal */ _count = 0;
  /** @internal */ _sum = 0;
  /** @internal */ _min = Number.POSITIVE_INFINITY;
  /** @internal */ _max = Number.NEGATIVE_INFINITY;
  /** @internal */ _zeroCount = 0;
  /** @internal */ _rejected = 0;
  /** @internal */ pos = new Range();
  /** @internal */ neg = new Range();

  constructor(opts: ExpHistogramOptions = {}) {
    this.maxSize = checkInt("maxSize", opts.maxSize ?? DEFAULT_MAX_SIZE, 2, 1 << 20);
    this.maxScale = checkInt("maxScale", opts.maxScale ?? MAX_SCALE, MIN_SCALE, MAX_SCALE);
    const zt = opts.zeroThreshold ?? 0;
    if (!(zt >= 0 && Number.isFinite(zt))) {
      throw new Error(`ExpHistogram: zeroThreshold must be a finite number >= 0, got ${String(zt)}`);
    }
    this._zeroThreshold = zt;
    this._scale = this.maxScale;
  }

  get count(): number {
    return this._count;
  }
  get sum(): number {
    return this._sum;
  }
  get min(): number {
    return this._count > 0 ? this._min : Number.NaN;
  }
  get max(): number {
    return this._count > 0 ? this._max : Number.NaN;
  }
  get scale(): number {
    return this._scale;
  }
  get zeroCount(): number {
    return this._zeroCount;
  }
  get zeroThreshold(): number {
    return this._zeroThreshold;
  }
  /** Number of record() calls ignored because the value (or weight) was NaN or infinite. */
  get rejected(): number {
    return this._rejected;
  }
  /** Number of populated buckets span (hi - lo + 1) of the positive / negative range. */
  get positiveSpan(): number {
    return this.pos.hi - this.pos.lo + 1;
  }
  get negativeSpan(): number {
    return this.neg.hi - this.neg.lo + 1;
  }

  record(value: number, count = 1): void {
    // `x - x === 0` is false exactly for NaN and ±Infinity.
    if (value - value !== 0 || !(count > 0) || count - count !== 0) {
      if (count !== 0) this._rejected++;
      return;
    }
    if (value === 0) value = 0; // -0 → +0, so that min/max do not depend on the order of zeros
    this._count += count;
    this._sum += value * count;
    if (value < this._min) this._min = value;
    if (value > this._max) this._max = value;
    const abs = value < 0 ? -value : value;
    if (abs <= this._zeroThreshold) {
      this._zeroCount += count;
      return;
    }
    let idx = mapToIndex(abs, this._scale);
    const r = value > 0 ? this.pos : this.neg;
    if (idx < r.lo || idx > r.hi) {
      if (idx < r.base || idx >= r.base + r.counts.length) {
        idx = this.grow(r, idx);
      } else if (r.isEmpty) {
        r.lo = r.hi = idx;
      } else if (idx < r.lo) {
        r.lo = idx;
      } else {
        r.hi = idx;
      }
      if (r.hi - r.lo + 1 > this.maxSize) idx = this.grow(r, idx);
    }
    r.counts[idx - r.base] += count;
    r.total += count;
  }

  /** Slow path of record(): make room for `idx` in range `r`, downscaling if needed; returns the (possibly remapped) index. */
  private grow(r: Range, idx: number): number {
    const lo = r.isEmpty ? idx : Math.min(r.lo, idx);
    const hi = r.isEmpty ? idx : Math.max(r.hi, idx);
    // (r.lo/r.hi may already include idx when called after a provisional extension)
    const k = shiftToFit(lo, hi, this.maxSize);
    if (k > 0) {
      this.downscale(k);
      idx >>= k;
    }
    r.reserve(idx, idx, this.maxSize);
    return idx;
  }

  /** Reduce the scale by `by` (>= 0), merging buckets; counts are preserved exactly. */
  downscale(by: number): void {
    if (by <= 0) return;
    if (this._scale - by < MIN_SCALE)
      throw new Error(`ExpHistogram: cannot downscale below scale ${MIN_SCALE}`);
    this.pos.downscale(by);
    this.neg.downscale(by);
    this._scale -= by;
  }

  /** Raise the zero threshold to at least `t`, moving every bucket that reaches below it into the zero bucket. */
  widenZeroThreshold(t: number): void {
    if (!(t > this._zeroThreshold)) return;
    // A bucket straddling the threshold is absorbed whole and the threshold
    // moves up to its upper boundary, so the zero bucket stays an interval.
    for (;;) {
      let moved = false;
      for (const r of [this.pos, this.neg]) {
        while (!r.isEmpty && lowerBoundary(r.lo, this._scale) < t) {
          const c = r.counts[r.lo - r.base];
          if (c !== 0) {
            this._zeroCount += c;
            r.total -= c;
            r.counts[r.lo - r.base] = 0;
            const ub = lowerBoundary(r.lo + 1, this._scale);
            if (ub > t) {
              t = ub;
              moved = true;
            }
          }
          r.lo++;
          if (r.lo > r.hi) r.clear();
        }
      }
      if (!moved) break;
    }
    this._zeroThreshold = t;
  }

  /**
   * @internal Widens this zero threshold, or that of a copy of `other`, until
   * both agree; returns `other` itself or that copy (`other` is not changed).
   */
  alignZeroThreshold(other: ExpHistogram): ExpHistogram {
    let o = other;
    while (o._zeroThreshold !== this._zeroThreshold) {
      // widening moves a threshold up to a bucket boundary, so alternate until both agree
      if (o._zeroThreshold < this._zeroThreshold) {
        if (o === other) o = other.clone();
        o.widenZeroThreshold(this._zeroThreshold);
      } else {
        this.widenZeroThreshold(o._zeroThreshold);
      }
    }
    return o;
  }

  /** @internal */
  hasBuckets(): boolean {
    return !this.pos.isEmpty || !this.neg.isEmpty;
  }

  /** Add every observation of `other` into this histogram (exact: counts are summed at the common scale). */
  merge(other: ExpHistogram): void {
    if (other._count === 0 && other._rejected === 0) return;
    const o = this.alignZeroThreshold(other);
    if (!this.hasBuckets()) this._scale = Math.min(this.maxScale, Math.max(this._scale, o._scale));
    let scale = o.hasBuckets() ? Math.min(this._scale, o._scale) : this._scale;
    // widen further if the union of the ranges does not fit
    scale -= this.extraShift(this.pos, o.pos, o._scale, scale);
    scale -= this.extraShift(this.neg, o.neg, o._scale, scale);
    this.downscale(this._scale - scale);
    const os = o._scale - scale;
    addShifted(this.pos, o.pos, os, this.maxSize);
    addShifted(this.neg, o.neg, os, this.maxSize);
    this._count += o._count;
    this._sum += o._sum;
    this._zeroCount += o._zeroCount;
    this._rejected += o._rejected;
    if (o._min < this._min) this._min = o._min;
    if (o._max > this._max) this._max = o._max;
  }

  /** How many more steps coarser than `scale` the union of two ranges needs to fit in maxSize. */
  private extraShift(mine: Range, theirs: Range, theirScale: number, scale: number): number {
    if (theirs.isEmpty) return 0;
    const ds = this._scale - scale;
    const os = theirScale - scale;
    let lo = theirs.lo >> os;
    let hi = theirs.hi >> os;
    if (!mine.isEmpty) {
      lo = Math.min(lo, mine.lo >> ds);
      hi = Math.max(hi, mine.hi >> ds);
    }
    return shiftToFit(lo, hi, this.maxSize);
  }

  /**
   * Remove the observations of `other`, which must be a sub-multiset of this
   * histogram once both are at their common (coarser) scale and zero threshold.
   * Throws, leaving this histogram unchanged, otherwise. `min`/`max` stay exact
   * when the extreme values were not removed; otherwise they become the
   * nearest bound of the remaining buckets (a conservative widening).
   */
  subtract(other: ExpHistogram): void {
    if (
      other._zeroThreshold === this._zeroThreshold &&
      (other._scale >= this._scale || !other.hasBuckets())
    ) {
      this.subtractAtScale(other);
    } else {
      this.subtractByCopy(other);
    }
  }

  /** subtract() in general: on a copy, aligning zero thresholds and scales first. */
  private subtractByCopy(other: ExpHistogram): void {
    subtractByCopy(this, other);
  }

  /** subtract() without a copy: same zero threshold, `o` at this scale or finer (or without buckets). */
  private subtractAtScale(o: ExpHistogram): void {
    subtractAtScale(this, o);
  }

  /**
   * One step of turning a cumulative stream into deltas, in place: this
   * histogram holds the stream's previous point (built by fromOtlp() or
   * fromJSON() with default options) and `p` is the next one. When `p` is a
   * valid point with sum, min and max, at this histogram's zero threshold and
   * scale or a coarser one, needs no downscaling (at most maxSize buckets per range),
   * counts at least as many values and contains this histogram bucket by
   * bucket, this histogram becomes `ExpHistogram.fromOtlp(p)` and the result
   * is what `ExpHistogram.fromOtlp(p).subtract(old)` would leave: the new
   * values, or null when that is empty (count 0). Otherwise nothing changes
   * and the result is undefined, for the caller to take the general path.
   *
   * The result is meant to be consumed at once (merged into something, or
   * cloned): its bucket arrays are views into a buffer shared with other
   * results, which a result kept as it is would hold on to.
   */
  advanceCumulative(p: OtlpExpHistogramPoint): ExpHistogram | null | undefined {
    return advanceCumulative(this, p, newHistogram);
  }

  /** @internal Takes over the state of `h` (its ranges too, not copies). */
  assign(h: ExpHistogram): void {
    this._zeroThreshold = h._zeroThreshold;
    this._scale = h._scale;
    this._count = h._count;
    this._sum = h._sum;
    this._min = h._min;
    this._max = h._max;
    this._zeroCount = h._zeroCount;
    this._rejected = h._rejected;
    this.pos = h.pos;
    this.neg = h.neg;
  }

  clone(): ExpHistogram {
    const h = new ExpHistogram({
      maxSize: this.maxSize,
      maxScale: this.maxScale,
      zeroThreshold: this._zeroThreshold,
    });
    h.assign(this);
    h.pos = this.pos.copy();
    h.neg = this.neg.copy();
    return h;
  }

  /**
   * A compact byte form of this histogram, for storing many of them (window
   * slots, a stream's last point): float64 totals and the counts of the
   * occupied bucket span at a fixed width each (1, 2 or 4 bytes for whole
   * numbers, float64 otherwise). About 40 bytes plus one or two per bucket.
   * Read back with ExpHistogram.unpack().
   */
  pack(): Uint8Array {
    return this.packView().slice();
  }

  /**
   * pack() without the copy: a view of a buffer that the next pack,
   * packView or mergePacked call overwrites. For callers that copy the
   * bytes into storage of their own at once.
   */
  packView(): Uint8Array {
    return packView(this);
  }

  /** The histogram packed by pack(); throws on bytes that are not one. */
  static unpack(buf: Uint8Array, opts: ExpHistogramOptions = {}): ExpHistogram {
    const h = new ExpHistogram(opts);
    readPacked(h, buf, false);
    return h;
  }

  /**
   * Sets this histogram to a packed one (as unpack() would make it with this
   * histogram's options), keeping its own bucket arrays when they have room:
   * for one scratch histogram that stands for many packed ones in turn.
   * Throws on bytes that are not a packed histogram, leaving this one unusable.
   */
  unpackFrom(buf: Uint8Array): void {
    readPacked(this, buf, true);
  }

  /**
   * pack() of `unpack(packed)` merged with `h`. When both are at the same
   * scale and zero threshold, h's buckets lie within the packed span and
   * every sum still fits its width (the usual case of a window slot taking
   * the next delta), `packed` itself is updated in place and returned;
   * otherwise the result is, like packView(), a view that the next pack,
   * packView or mergePacked call overwrites. `packed` is returned untouched
   * when h adds nothing.
   */
  static mergePacked(packed: Uint8Array, h: ExpHistogram): Uint8Array {
    if (h._count === 0 && h._rejected === 0) return packed;
    if (addPacked(packed, h)) return packed;
    MERGE.unpackFrom(packed);
    MERGE.merge(h);
    return MERGE.packView();
  }

  /**
   * advanceCumulative() on a packed previous point: when
   * `unpack(packed).advanceCumulative(p)` takes the point at the packed scale
   * (the steady state of a cumulative stream), the result holds its delta
   * (or null) and `pack()` of the new point: `packed` itself, rewritten in
   * place, when the point spans the same buckets at the same widths, else a
   * view that the next pack, packView or mergePacked call overwrites.
   * Otherwise (another scale, an invalid point, a reset ...) nothing changes
   * and the result is undefined, for the caller to take the general path.
   * The result object is reused by the next call. With `into` (a histogram
   * made with default options) the delta is `into`, overwritten, and its
   * buckets are views of scratch arrays: it holds until the next call, for a
   * caller that consumes each delta at once.
   */
  static advancePacked(
    packed: Uint8Array,
    p: OtlpExpHistogramPoint,
    into?: ExpHistogram,
  ): PackedAdvance | undefined {
    return advancePacked(packed, p, into, newHistogram);
  }

  /**
   * The non-empty buckets of one range re-indexed at a scale <= this.scale
   * (indices ascending; buckets that fall together are summed). Used by the
   * two-sample measures to walk two histograms on a common grid.
   */
  bucketsAt(sign: 1 | -1, scale: number): { index: Int32Array; counts: Float64Array; length: number } {
    const r = sign > 0 ? this.pos : this.neg;
    const shift = this._scale - scale;
    if (shift < 0)
      throw new Error(`ExpHistogram.bucketsAt: scale ${scale} is finer than the histogram's ${this._scale}`);
    return r.reindexed(shift);
  }

  /**
   * The bucket counts of the positive (sign > 0) or negative range as they
   * are held, without a copy: bucket `i` (at the current scale) has count
   * `counts[i - base]` for `lo <= i <= hi`; empty when `hi < lo`. Read only,
   * and only until the histogram next changes.
   */
  bucketView(sign: 1 | -1): BucketView {
    return sign > 0 ? this.pos : this.neg;
  }

  /** Bucket count at `index` of the positive (sign > 0) or negative range at the current scale. */
  bucketCount(sign: 1 | -1, index: number): number {
    return (sign > 0 ? this.pos : this.neg).get(index);
  }

  /**
   * The histogram as an ordered list of cells (most negative first): negative
   * buckets, the zero bucket, positive buckets, each with the value extent
   * [a, b] its mass is spread over by cdf()/quantile(): the bucket's
   * boundaries clamped to the exact [min, max] and kept outside the zero
   * bucket's [-zeroThreshold, zeroThreshold]. `kind` 0: log-uniform positive,
   * 1: log-uniform in |v| negative, 2: uniform (zero bucket).
   */
  cells(): Cell[] {
    return cellsOf(this);
  }

  /**
   * Interpolated number of observations <= x (see cdf()). Only the bucket
   * holding x needs its boundaries; the others just add up. Allocation-free.
   */
  rank(x: number): number {
    return rank(this, x);
  }

  /**
   * P(X <= x). Exact at bucket boundaries and outside [min, max]. Within a
   * bucket the mass is taken as spread uniformly in log(|v|) between the
   * bucket's boundaries (clamped to the exact min/max), the natural model for
   * exponential buckets; the zero bucket is spread uniformly over
   * [-zeroThreshold, zeroThreshold] (a point mass at 0 when the threshold is 0).
   */
  cdf(x: number): number {
    if (this._count === 0) return Number.NaN;
    return this.rank(x) / this._count;
  }

  /**
   * Value below which a fraction q of the observations lie: the bucket holding
   * the ceil(q*count)-th smallest observation is found exactly, and the value
   * is interpolated within it with the same log-uniform model as cdf(), so the
   * relative error is at most base - 1 = 2^(2^-scale) - 1. q=0 and q=1 return
   * the exact min and max. NaN for an empty histogram or q outside [0, 1].
   */
  quantile(q: number): number {
    if (this._count === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    if (q === 0) return this._min;
    if (q === 1) return this._max;
    const v = valueAtRank(this, q * this._count);
    return Math.min(this._max, Math.max(this._min, v)) + 0; // + 0 turns -0 into 0
  }

  /**
   * Counts per classic (Prometheus `le`) bucket: element j counts values in
   * (bounds[j-1], bounds[j]], the last element values above the last bound.
   * Exponential buckets that straddle a bound are split with the cdf()
   * interpolation. When all counts are integers the cumulative counts are
   * rounded to integers (so every element is an integer and they add up to
   * `count` exactly).
   */
  toExplicitBuckets(bounds: readonly number[]): number[] {
    return explicitBuckets(this, bounds);
  }

  toJSON(): ExpHistogramJSON {
    const empty = this._count === 0;
    return {
      scale: this._scale,
      zeroCount: this._zeroCount,
      zeroThreshold: this._zeroThreshold,
      count: this._count,
      sum: this._sum,
      min: empty ? 0 : this._min,
      max: empty ? 0 : this._max,
      positive: this.pos.toJSON(),
      negative: this.neg.toJSON(),
    };
  }

  /**
   * Rebuild a histogram from toJSON() output. Validates the structure and
   * throws an Error naming the problem when, e.g., the bucket counts and the
   * zero count do not add up to `count`, a count is negative or not finite, or
   * min > max. A range wider than `maxSize` buckets is downscaled to fit.
   */
  static fromJSON(j: ExpHistogramJSON, opts: ExpHistogramOptions = {}): ExpHistogram {
    if (j === null || typeof j !== "object") throw new Error("ExpHistogram.fromJSON: expected an object");
    return buildChecked(
      "ExpHistogram.fromJSON",
      {
        scale: j.scale,
        zeroCount: j.zeroCount,
        zeroThreshold: j.zeroThreshold,
        count: j.count,
        sum: j.sum,
        min: j.count === 0 ? undefined : j.min,
        max: j.count === 0 ? undefined : j.max,
        positive: rangeIn("ExpHistogram.fromJSON", "positive", j.positive, "counts"),
        negative: rangeIn("ExpHistogram.fromJSON", "negative", j.negative, "counts"),
      },
      opts,
      true,
      newHistogram,
    );
  }

  /**
   * Build from an OTLP exponential histogram data point. `sum`, `min` and
   * `max` are optional in OTLP: a missing min/max is replaced by the nearest
   * bound of the occupied buckets, a missing sum by the sum of bucket
   * midpoints times counts (documented estimates). Leading/trailing empty
   * buckets are dropped. Validation as in fromJSON().
   */
  static fromOtlp(p: OtlpExpHistogramPoint, opts: ExpHistogramOptions = {}): ExpHistogram {
    if (p === null || typeof p !== "object") throw new Error("ExpHistogram.fromOtlp: expected an object");
    materializeBuckets(p.positive);
    materializeBuckets(p.negative);
    return buildChecked(
      "ExpHistogram.fromOtlp",
      {
        scale: p.scale,
        zeroCount: p.zeroCount,
        zeroThreshold: p.zeroThreshold ?? 0,
        count: p.count,
        sum: p.sum,
        min: p.min,
        max: p.max,
        positive: rangeIn("ExpHistogram.fromOtlp", "positive", p.positive, "bucketCounts"),
        negative: rangeIn("ExpHistogram.fromOtlp", "negative", p.negative, "bucketCounts"),
      },
      opts,
      false,
      newHistogram,
    );
  }
}

// mergePacked() unpacks into this one histogram when it cannot merge in place: it is read out
// (packed) before mergePacked returns, so one serves every call.
const MERGE = new ExpHistogram();

/** A new histogram: the constructor, for the modules that make histograms but do not import the class. */
function newHistogram(opts?: ExpHistogramOptions): ExpHistogram {
  return new ExpHistogram(opts);
}

export type { PackedAdvance };
