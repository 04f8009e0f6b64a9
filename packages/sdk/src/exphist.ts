// A cumulative base-2 exponential histogram for non-negative values that
// reproduces, bucket for bucket, what the OTel JS SDK's exponential histogram
// aggregation exports for the same values: the same index mapping (including
// its rounding), the same minimal downscaling when a range outgrows maxSize,
// the same scale reported for an all-zero histogram, and the same way the
// cumulative sum is formed (one partial sum per collection interval, added to
// the previous total). The SDK's hot path records into this directly instead
// of going through an OTel instrument, which would hash the attribute set on
// every call.
//
// The one deliberate difference: when a collection interval saw only zeros,
// the OTel JS SDK merges that interval as "scale 0" and so collapses the
// cumulative histogram to scale 0 for good; this class keeps the resolution.
//
// Negative values never reach it: the SDK records their magnitudes on a
// separate series (ml.feature.sign="negative").

import type { ExponentialHistogram } from "@opentelemetry/sdk-metrics";

export const MAX_SCALE = 20;
const MIN_NORMAL = 2 ** -1022;
const EXP_MASK = 0x7ff00000;
const MANTISSA_HI_MASK = 0xfffff;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Which 32-bit word of a float64 holds the sign and exponent depends on endianness.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** log2(e)·2^scale for scales 0..20, computed exactly as OTel's ldexp(LOG2E, scale). */
const SCALE_FACTOR = new Float64Array(MAX_SCALE + 1);
for (let s = 0; s <= MAX_SCALE; s++) SCALE_FACTOR[s] = Math.LOG2E * 2 ** s;

/**
 * Bucket index of a positive finite value at `scale`, computed the way the
 * OTel JS SDK does: for scale > 0 the logarithm method with Math.floor (exact
 * at powers of two), for scale <= 0 the IEEE-754 exponent.
 */
export function otelIndex(value: number, scale: number): number {
  if (scale > 0) {
    if (value <= MIN_NORMAL) return (-1022 << scale) - 1;
    f64[0] = value;
    const hi = u32[HI];
    if ((hi & MANTISSA_HI_MASK) === 0 && u32[LO] === 0)
      return ((((hi & EXP_MASK) >> 20) - 1023) << scale) - 1;
    const index = Math.floor(Math.log(value) * SCALE_FACTOR[scale]);
    const maxIndex = (1024 << scale) - 1;
    return Math.min(index, maxIndex);
  }
  const shift = -scale;
  if (value < MIN_NORMAL) return shift < 2 ? (-1022 >> shift) - 1 : -1022 >> shift;
  f64[0] = value;
  const hi = u32[HI];
  const exp = ((hi & EXP_MASK) >> 20) - 1023;
  const powerOfTwo = (hi & MANTISSA_HI_MASK) === 0 && u32[LO] === 0;
  return (powerOfTwo ? exp - 1 : exp) >> shift;
}

const EMPTY = new Float64Array(0);
const INITIAL_CAPACITY = 16;

export class ExpHistogramAccumulator {
  readonly maxSize: number;
  count = 0;
  zeroCount = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Current scale of the buckets (reported as 0 while only zeros were recorded). */
  scale = MAX_SCALE;
  /** Sum of the values recorded since the last collection. */
  private intervalSum = 0;
  /** Sum reported at the last collection. */
  private reportedSum = 0;
  /** counts[k] holds bucket index base + k; [lo, hi] is the occupied range (empty when hi < lo). */
  private counts: Float64Array = EMPTY;
  private base = 0;
  private lo = 0;
  private hi = -1;

  constructor(maxSize = 160) {
    this.maxSize = maxSize;
  }

  /** Records a value; the caller guarantees a finite number >= 0. */
  record(value: number): void {
    this.count++;
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
    if (value === 0) {
      this.zeroCount++;
      return;
    }
    this.intervalSum += value;
    let index = otelIndex(value, this.scale);
    if (index < this.lo || index > this.hi) index = this.extend(index, value);
    this.counts[index - this.base]++;
  }

  /** Slow path of record(): widens the occupied range to take `index`, downscaling first if it would not fit. */
  private extend(index: number, value: number): number {
    if (this.hi < this.lo) {
      if (this.counts.length === 0) this.counts = new Float64Array(Math.min(INITIAL_CAPACITY, this.maxSize));
      this.base = index - (this.counts.length >> 1);
      this.lo = index;
      this.hi = index;
      return index;
    }
    let lo = Math.min(index, this.lo);
    let hi = Math.max(index, this.hi);
    if (hi - lo >= this.maxSize) {
      let change = 0;
      while (hi - lo >= this.maxSize) {
        hi >>= 1;
        lo >>= 1;
        change++;
      }
      this.downscale(change);
      index = otelIndex(value, this.scale);
      lo = Math.min(index, this.lo);
      hi = Math.max(index, this.hi);
    }
    if (lo < this.base || hi >= this.base + this.counts.length) this.relocate(lo, hi);
    this.lo = lo;
    this.hi = hi;
    return index;
  }

  /** Moves the occupied buckets into an array that has room for [lo, hi], centred. */
  private relocate(lo: number, hi: number): void {
    const span = hi - lo + 1;
    let capacity = this.counts.length;
    if (span > capacity) capacity = Math.max(span, Math.min(this.maxSize, capacity * 2));
    const next = new Float64Array(capacity);
    const base = lo - ((capacity - span) >> 1);
    next.set(this.counts.subarray(this.lo - this.base, this.hi - this.base + 1), this.lo - base);
    this.counts = next;
    this.base = base;
  }

  /** Merges pairs of buckets `change` times (scale -= change); counts are preserved. */
  private downscale(change: number): void {
    this.scale -= change;
    if (this.hi < this.lo) return;
    const lo = this.lo >> change;
    const hi = this.hi >> change;
    const capacity = this.counts.length;
    const next = new Float64Array(capacity);
    const base = lo - ((capacity - (hi - lo + 1)) >> 1);
    const c = this.counts;
    for (let i = this.lo; i <= this.hi; i++) {
      const v = c[i - this.base];
      if (v !== 0) next[(i >> change) - base] += v;
    }
    this.counts = next;
    this.base = base;
    this.lo = lo;
    this.hi = hi;
  }

  /**
   * The cumulative point for a collection. Ends the current interval: the
   * interval's partial sum is added to the total the way the OTel SDK merges
   * a delta into the previous cumulative point.
   */
  collect(): ExponentialHistogram {
    this.reportedSum = this.intervalSum + this.reportedSum;
    this.intervalSum = 0;
    const empty = this.hi < this.lo;
    return {
      count: this.count,
      sum: this.reportedSum,
      min: this.min,
      max: this.max,
      scale: this.count === this.zeroCount ? 0 : this.scale,
      zeroCount: this.zeroCount,
      positive: {
        offset: empty ? 0 : this.lo,
        bucketCounts: empty
          ? []
          : Array.from(this.counts.subarray(this.lo - this.base, this.hi - this.base + 1)),
      },
      negative: { offset: 0, bucketCounts: [] },
    };
  }
}

/**
 * Classic (explicit-bounds) buckets kept beside an exponential histogram for
 * the Prometheus pull endpoint, whose exporter cannot show exponential
 * histograms. Bucket i counts values in (bounds[i-1], bounds[i]].
 */
export class ExplicitBuckets {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  record(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}
