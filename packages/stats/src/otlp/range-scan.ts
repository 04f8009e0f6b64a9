// Reading one bucket range of an OTLP point on the cumulative fast path, in
// one pass: validate it as ExpHistogram.fromOtlp() would, sum it, and work
// out its differences from the stream's previous point (a Range, or a span
// of packed counts), into a RangeScan the caller owns. scanSmallVarints()
// reads counts still encoded as wire varints. Not the building of deltas or
// of the new point from a scan (cumulative/), and not protobuf decoding.

import { DEFAULT_MAX_SIZE, type Range } from "../histogram/range.js";
import { getCount, W8, W16, WIDTH_BYTES } from "../packed/format.js";
import { materializeBuckets, type OtlpBuckets, type VarintCounts } from "./point.js";

const NO_COUNTS: number[] = [];

/**
 * What a scan of one range of an OTLP point finds (readOtlpRange,
 * scanAtScale, scanPacked): one object per sign, reused by every scan
 * rather than a result allocated per call on the ingest path.
 */
export class RangeScan {
  /** The point's counts (readOtlpRange, scanAtScale). */
  counts: number[] = NO_COUNTS;
  /** values[k]: the point's count at position k (scanPacked). */
  readonly values = new Float64Array(DEFAULT_MAX_SIZE);
  offset = 0;
  /** Positions of the first and last non-zero count (none when last < first). */
  first = 0;
  last = -1;
  /** Positions of the first and last non-zero difference. */
  dFirst = 0;
  dLast = -1;
  /** The sum passed in plus this range's counts, in order (as fromOtlp() checks them). */
  sum = 0;
  /** Sum of the differences. */
  dTotal = 0;
  /** Largest count, and whether every count is a whole number: the width the range needs. */
  max = 0;
  whole = true;
  /** Positions whose count differs from the packed one: changed[0, nChanged). */
  readonly changed = new Int32Array(DEFAULT_MAX_SIZE);
  nChanged = 0;
  /**
   * scratch[k]: the difference at position k. A delta handed out as a view
   * of it (viewDifferences) must read as zero outside its buckets, like any
   * histogram's array: past the positions written last, it is kept zero.
   */
  readonly scratch = new Float64Array(DEFAULT_MAX_SIZE);
  /** scratch[written, ...) is all zeros. */
  written = 0;

  /** What a scan found (first and last positions: -1 for none). */
  found(
    first: number,
    last: number,
    dFirst: number,
    dLast: number,
    sum: number,
    dTotal: number,
    max: number,
    whole: boolean,
    nChanged: number,
  ): void {
    if (first >= 0) {
      this.first = first;
      this.last = last;
    }
    if (dFirst >= 0) {
      this.dFirst = dFirst;
      this.dLast = dLast;
    }
    this.sum = sum;
    this.dTotal = dTotal;
    this.max = max;
    this.whole = whole;
    this.nChanged = nChanged;
  }

  /** Starts a scan: nothing found yet, the running sum at `sum`. */
  start(sum: number): void {
    this.counts = NO_COUNTS;
    this.offset = 0;
    this.first = this.dFirst = 0;
    this.last = this.dLast = -1;
    this.sum = sum;
    this.dTotal = 0;
    this.max = 0;
    this.whole = true;
    this.nChanged = 0;
  }

  /** Zeroes what an earlier, longer scan left past position `len`. */
  clearFrom(len: number): void {
    if (this.written > len) this.scratch.fill(0, len, this.written);
    this.written = len;
  }
}

/**
 * Reads an OTLP bucket range for advanceCumulative(): false when fromOtlp()
 * would reject it or downscale it, or when a count is not a plain number.
 * Sets out.counts, out.offset, the first and last non-zero positions, and
 * out.sum to `sum` plus the counts added in order (as fromOtlp() checks them).
 */
export function readOtlpRange(r: OtlpBuckets | undefined | null, sum: number, out: RangeScan): boolean {
  materializeBuckets(r);
  out.start(sum);
  if (r === undefined || r === null) return true;
  if (typeof r !== "object") return false;
  const offset = r.offset ?? 0;
  const counts = r.bucketCounts ?? NO_COUNTS;
  if (typeof offset !== "number" || !Number.isInteger(offset) || Math.abs(offset) > 2 ** 31) return false;
  if (!Array.isArray(counts) || counts.length > DEFAULT_MAX_SIZE) return false;
  let first = -1;
  let last = -1;
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k];
    if (typeof c !== "number" || !(c >= 0 && c < Number.POSITIVE_INFINITY)) return false;
    if (c !== 0) {
      if (first < 0) first = k;
      last = k;
    }
    sum += c;
  }
  out.counts = counts;
  out.offset = offset;
  out.found(first, last, -1, -1, sum, 0, 0, true, 0);
  return true;
}

/**
 * readOtlpRange(), containsRange() and the differences of otlpMinusRange()
 * in one pass, for a point at the scale of `old`: false when the range is not
 * valid for the fast path or does not contain `old` (which then has buckets
 * outside the point's array, or more in some bucket). The difference at
 * position k goes to out.scratch[k]; out.dTotal is their sum, in order.
 */
export function scanAtScale(
  r: OtlpBuckets | undefined | null,
  sum: number,
  old: Range,
  out: RangeScan,
): boolean {
  materializeBuckets(r);
  out.start(sum);
  if (r === undefined || r === null) return old.isEmpty;
  if (typeof r !== "object") return false;
  const offset = r.offset ?? 0;
  const counts = r.bucketCounts ?? NO_COUNTS;
  if (typeof offset !== "number" || !Number.isInteger(offset) || Math.abs(offset) > 2 ** 31) return false;
  if (!Array.isArray(counts)) return false;
  const n = counts.length;
  if (n > DEFAULT_MAX_SIZE) return false;
  const olo = old.lo;
  const ohi = old.hi;
  if (olo <= ohi && (olo < offset || ohi >= offset + n)) return false;
  out.clearFrom(n);
  const scratch = out.scratch;
  const oc = old.counts;
  const ob = old.base;
  let first = -1;
  let last = -1;
  let dTotal = 0;
  for (let k = 0; k < n; k++) {
    const c = counts[k];
    if (typeof c !== "number" || !(c >= 0 && c < Number.POSITIVE_INFINITY)) return false;
    sum += c;
    if (c !== 0) {
      if (first < 0) first = k;
      last = k;
    }
    const i = offset + k;
    let d = c;
    if (i >= olo && i <= ohi) {
      const v = oc[i - ob];
      if (v !== 0) {
        // subtract(): fail when v > c + tol(c); a difference within tol(v) of zero is zero
        if (v > c && v > c + 1e-9 * Math.max(1, c)) return false;
        d = c - v;
        // biome-ignore lint/complexity/useMathMinMax: this runs once per bucket on the ingest path, where the call costs
        if (!(d > 1e-9 * (v > 1 ? v : 1))) d = 0;
      }
    }
    scratch[k] = d;
    dTotal += d;
  }
  out.counts = counts;
  out.offset = offset;
  out.found(first, last, -1, -1, sum, dTotal, 0, true, 0);
  return true;
}

/**
 * scanAtScale() against a packed previous point: `n` buckets from index `lo`
 * at width `w` at packed[at]; what it finds goes to `out`.
 */
export function scanPacked(
  r: OtlpBuckets | undefined | null,
  sum: number,
  packed: Uint8Array,
  n: number,
  lo: number,
  at: number,
  w: number,
  out: RangeScan,
): boolean {
  out.start(sum);
  if (r === undefined || r === null) return n === 0;
  if (typeof r !== "object") return false;
  const offset = r.offset ?? 0;
  if (typeof offset !== "number" || !Number.isInteger(offset) || Math.abs(offset) > 2 ** 31) return false;
  const vc = r.varints;
  let counts = r.bucketCounts ?? NO_COUNTS;
  if (vc === undefined && !Array.isArray(counts)) return false;
  const len = vc !== undefined ? vc.length : counts.length;
  if (len > DEFAULT_MAX_SIZE) return false;
  // positions of the packed span in counts[], which must hold it
  const from = lo - offset;
  const to = from + n - 1;
  if (n > 0 && (from < 0 || to >= len)) return false;
  out.clearFrom(len);
  const values = out.values;
  if (
    (w === W8 || w === W16) &&
    vc !== undefined &&
    scanSmallVarints(vc, from, to, packed, at, w === W16, sum, out)
  ) {
    out.offset = offset;
    return true;
  }
  if (vc !== undefined) {
    materializeBuckets(r);
    counts = r.bucketCounts;
  }
  const size = WIDTH_BYTES[w];
  const scratch = out.scratch;
  const changed = out.changed;
  let nChanged = 0;
  let first = -1;
  let last = -1;
  let dFirst = -1;
  let dLast = -1;
  let dTotal = 0;
  let max = 0;
  let whole = true;
  let p = at;
  for (let k = 0; k < len; k++) {
    const c = counts[k];
    if (typeof c !== "number" || !(c >= 0 && c < Number.POSITIVE_INFINITY)) return false;
    sum += c;
    let d = c;
    if (c !== 0) {
      if (first < 0) first = k;
      last = k;
      if (c > max) max = c;
      // (c | 0) === c: a whole number below 2^31, the usual count, without the call
      if (whole && (c | 0) !== c) whole = Number.isSafeInteger(c);
    }
    let v = 0;
    if (k >= from && k <= to) {
      v = w === W8 ? packed[p] : getCount(packed, p, w);
      p += size;
      if (v !== 0) {
        // as scanAtScale()
        if (v > c && v > c + 1e-9 * Math.max(1, c)) return false;
        d = c - v;
        // biome-ignore lint/complexity/useMathMinMax: this runs once per bucket on the ingest path, where the call costs
        if (!(d > 1e-9 * (v > 1 ? v : 1))) d = 0;
      }
    }
    // Within the packed span a -0 count replacing 0 is written too, as pack() of the new point
    // would (Object.is); outside it, a zero of either sign is no bucket at all.
    if (c !== v || (k >= from && k <= to && !Object.is(c, v))) changed[nChanged++] = k;
    if (d !== 0) {
      if (dFirst < 0) dFirst = k;
      dLast = k;
    }
    scratch[k] = d;
    values[k] = c;
    dTotal += d;
  }
  out.offset = offset;
  out.found(first, last, dFirst, dLast, sum, dTotal, max, whole, nChanged);
  return true;
}

/**
 * scanPacked()'s loop for its usual case, in one pass and fewer steps: the
 * point's counts left encoded (varints of at most four bytes: whole numbers
 * below 2^28) against packed counts of one or two bytes, none smaller than
 * before (so no tolerance applies, and a count changed exactly where its
 * difference is not zero). False, with `out` half written, for scanPacked()
 * to take its general loop: a longer varint, a count that went down, or a
 * run that does not end where it should.
 */
export function scanSmallVarints(
  vc: VarintCounts,
  from: number,
  to: number,
  packed: Uint8Array,
  at: number,
  twoBytes: boolean,
  sum: number,
  out: RangeScan,
): boolean {
  const bytes = vc.bytes;
  const len = vc.length;
  const values = out.values;
  const scratch = out.scratch;
  const changed = out.changed;
  let q = vc.start;
  let nChanged = 0;
  let max = 0;
  let dTotal = 0;
  let p = at;
  for (let k = 0; k < len; k++) {
    let c = bytes[q++];
    if (c >= 0x80) {
      let b = bytes[q++];
      c = (c & 0x7f) | ((b & 0x7f) << 7);
      if (b >= 0x80) {
        b = bytes[q++];
        c |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = bytes[q++];
          c |= (b & 0x7f) << 21;
          if (b >= 0x80) return false;
        }
      }
    }
    values[k] = c;
    sum += c;
    if (c > max) max = c;
    let d = c;
    if (k >= from && k <= to) {
      if (twoBytes) {
        d = c - (packed[p] | (packed[p + 1] << 8));
        p += 2;
      } else {
        d = c - packed[p++];
      }
      if (d < 0) return false;
    }
    if (d !== 0) changed[nChanged++] = k;
    scratch[k] = d;
    dTotal += d;
  }
  if (q !== vc.end) return false;
  // the first and last non-zero counts, from the ends (a point's range is usually trimmed)
  let first = 0;
  while (first < len && values[first] === 0) first++;
  let last = len - 1;
  while (last > first && values[last] === 0) last--;
  if (first === len) first = last = -1;
  const dFirst = nChanged > 0 ? changed[0] : -1;
  const dLast = nChanged > 0 ? changed[nChanged - 1] : -1;
  out.found(first, last, dFirst, dLast, sum, dTotal, max, true, nChanged);
  return true;
}
