import { lnRatio, lowerBoundary, MAX_SCALE, MIN_SCALE, mapToIndex } from "./mapping.js";

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

/**
 * Bucket counts as they come on the wire: `length` packed varints in
 * bytes[start, end), each a whole number below 2^53 (the decoder that made
 * it checked them).
 */
export interface VarintCounts {
  bytes: Uint8Array;
  start: number;
  end: number;
  length: number;
}

/**
 * One range of an OTLP point: the counts of buckets offset, offset + 1, ...;
 * with `varints`, they are those (and `bucketCounts` is empty) until
 * materializeBuckets() decodes them.
 */
export interface OtlpBuckets {
  offset: number;
  bucketCounts: number[];
  varints?: VarintCounts;
}

/** An OTLP `ExponentialHistogramDataPoint` as decoded by the collector. */
export interface OtlpExpHistogramPoint {
  scale: number;
  zeroCount: number;
  zeroThreshold?: number;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  positive: OtlpBuckets;
  negative: OtlpBuckets;
}

/** Decodes a range's varints (if it still has them) into its bucketCounts. */
export function materializeBuckets(b: OtlpBuckets | undefined | null): void {
  if (b === undefined || b === null || typeof b !== "object" || b.varints === undefined) return;
  const { bytes, start, end, length } = b.varints;
  const out: number[] = new Array(length);
  let q = start;
  for (let k = 0; k < length && q < end; k++) {
    let v = 0;
    let mul = 1;
    let c: number;
    do {
      c = bytes[q++];
      v += (c & 0x7f) * mul;
      mul *= 0x80;
    } while (c >= 0x80 && q < end);
    out[k] = v;
  }
  b.bucketCounts = out;
  b.varints = undefined;
}

export interface ExpHistogramOptions {
  /** Maximum number of buckets per range (positive / negative). Default 160. */
  maxSize?: number;
  /** Scale of an empty histogram; it only ever decreases as the range widens. Default 20. */
  maxScale?: number;
  /** Values with |v| <= zeroThreshold go to the zero bucket. Default 0. */
  zeroThreshold?: number;
}

export const DEFAULT_MAX_SIZE = 160;

const EMPTY = new Float64Array(0);

// The packed form (pack()): a version byte, a flags byte, the scale, then
// float64 totals and fixed-width bucket counts, so that a packed histogram
// can take more counts in place (addPacked, advancePacked) while its bucket
// span and widths hold.
const PACK_VERSION = 0x20;
/** count, zeroCount and rejected as float64 (else uint32: whole numbers below 2^32). */
const PACK_WIDE_TOTALS = 0x01;
/** A float64 zero threshold follows the scale (else it is +0). */
const PACK_ZERO_THRESHOLD = 0x02;
// Bucket count widths, two bits per range (positive at bit 2, negative at bit 4):
// whole numbers in 1, 2 or 4 bytes, or float64 for anything else.
const W8 = 0;
const W16 = 1;
const W32 = 2;
const WF64 = 3;
const WIDTH_BYTES = [1, 2, 4, 8];
const WIDTH_MAX = [0xff, 0xffff, 0xffffffff, Number.POSITIVE_INFINITY];

/** The narrowest width that holds every count of the range. */
function rangeWidth(r: Range): number {
  let max = 0;
  for (let i = r.lo; i <= r.hi; i++) {
    const v = r.counts[i - r.base];
    // (v | 0) === v: a whole number below 2^31, the usual count, without the call
    if (((v | 0) !== v || v < 0) && !(Number.isSafeInteger(v) && v >= 0)) return WF64;
    if (v > max) max = v;
  }
  return widthFor(max, true);
}

/** True for the whole numbers a packed total holds as uint32. */
function narrowTotal(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/**
 * The checks advanceCumulative() makes of the next point's totals: a count
 * above 0 and at least `prevCount`, a zero count, finite sum, min and max
 * (min <= max), and the zero threshold `zt`.
 */
function takesPoint(p: OtlpExpHistogramPoint, prevCount: number, zt: number): boolean {
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

/** Writes the whole number v (< 2^53) as a varint at b[n]; returns the next offset. */
function putVarint(b: Uint8Array, n: number, v: number): number {
  while (v >= 0x10000000) {
    // past 2^28 the bit operators would wrap
    b[n++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    b[n++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[n++] = v;
  return n;
}

// float64 bytes go through these (little-endian platforms, as Node's are) instead of a DataView,
// which costs more to create than reading a whole small histogram.
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function getF64(b: Uint8Array, at: number): number {
  if (BIG_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[at + i];
  else for (let i = 0; i < 8; i++) F64_BYTES[i] = b[at + i];
  return F64[0];
}

function setF64(b: Uint8Array, at: number, v: number): void {
  F64[0] = v;
  if (BIG_ENDIAN) for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[7 - i];
  else for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[i];
}

function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/** The count of width `w` at b[at]. */
function getCount(b: Uint8Array, at: number, w: number): number {
  if (w === W8) return b[at];
  if (w === W16) return b[at] | (b[at + 1] << 8);
  return w === W32 ? getU32(b, at) : getF64(b, at);
}

/** Writes a count (which fits) at width `w`. */
function setCount(b: Uint8Array, at: number, w: number, v: number): void {
  if (w === W8) b[at] = v;
  else if (w === W16) {
    b[at] = v & 0xff;
    b[at + 1] = v >>> 8;
  } else if (w === W32) setU32(b, at, v);
  else setF64(b, at, v);
}

/** Growable byte buffer for pack(). */
class PackWriter {
  private buf = new Uint8Array(64);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }

  varint(v: number): void {
    this.room(10);
    this.n = putVarint(this.buf, this.n, v);
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  float(v: number): void {
    this.room(8);
    setF64(this.buf, this.n, v);
    this.n += 8;
  }

  u32(v: number): void {
    this.room(4);
    setU32(this.buf, this.n, v);
    this.n += 4;
  }

  /**
   * The version byte, the flags (`flags`: totals and widths; the zero
   * threshold's flag is worked out here), the scale, the zero threshold
   * unless it is +0, then sum, min and max.
   */
  head(flags: number, scale: number, zt: number, sum: number, min: number, max: number): void {
    const hasZt = !Object.is(zt, 0);
    this.byte(PACK_VERSION);
    this.byte(flags | (hasZt ? PACK_ZERO_THRESHOLD : 0));
    this.zigzag(scale);
    if (hasZt) this.float(zt);
    this.float(sum);
    this.float(min);
    this.float(max);
  }

  /** One of the three totals: float64 when `wide`, else uint32. */
  total(v: number, wide: boolean): void {
    if (wide) this.float(v);
    else this.u32(v);
  }

  /** c[from..to] at width `w` (which holds every one of them). */
  counts(c: Float64Array, from: number, to: number, w: number): void {
    const size = WIDTH_BYTES[w];
    this.room(size * (to - from + 1));
    const b = this.buf;
    let n = this.n;
    if (w === W8) for (let i = from; i <= to; i++) b[n++] = c[i];
    else for (let i = from; i <= to; i++, n += size) setCount(b, n, w, c[i]);
    this.n = n;
  }

  /** The bytes written so far, as a view that the next reset() reuses. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }

  reset(): void {
    this.n = 0;
  }
}

// One writer for every pack(): it keeps the room it has grown to, so packing
// allocates only its result.
const WRITER = new PackWriter();

/** A range as pack() writes it: span, first index, then the counts at width `w`. */
function packRange(w: PackWriter, r: Range, width: number): void {
  if (r.isEmpty) {
    w.varint(0);
    return;
  }
  w.varint(r.hi - r.lo + 1);
  w.zigzag(r.lo);
  w.counts(r.counts, r.lo - r.base, r.hi - r.base, width);
}

/** packRange() of a scan's values[first..last] (bucket offset + k). */
function packScanned(w: PackWriter, scan: RangeScan, width: number): void {
  if (scan.last < scan.first) {
    w.varint(0);
    return;
  }
  w.varint(scan.last - scan.first + 1);
  w.zigzag(scan.offset + scan.first);
  w.counts(scan.values, scan.first, scan.last, width);
}

class PackReader {
  n = 0;

  constructor(public buf: Uint8Array) {}

  /** Starts over on other bytes (a reader kept for reuse). */
  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.n = 0;
    return this;
  }

  get atEnd(): boolean {
    return this.n === this.buf.length;
  }

  /** Moves past k bytes, which must be there. */
  skip(k: number): number {
    const at = this.n;
    if (at + k > this.buf.length) throw new Error("ExpHistogram.unpack: truncated");
    this.n = at + k;
    return at;
  }

  byte(): number {
    return this.buf[this.skip(1)];
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new Error("ExpHistogram.unpack: varint too long");
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  float(): number {
    return getF64(this.buf, this.skip(8));
  }

  u32(): number {
    return getU32(this.buf, this.skip(4));
  }
}

/**
 * Where the parts of a packed histogram are (see locate()), for the
 * operations that change one in place.
 */
class PackedLayout {
  flags = 0;
  scale = 0;
  zeroThreshold = 0;
  /** Offset of sum; min and max follow, then the three totals. */
  sumAt = 0;
  totalsAt = 0;
  posN = 0;
  posLo = 0;
  posAt = 0;
  negN = 0;
  negLo = 0;
  negAt = 0;

  get posWidth(): number {
    return (this.flags >> 2) & 3;
  }
  get negWidth(): number {
    return (this.flags >> 4) & 3;
  }
}

const LAYOUT = new PackedLayout();
const LOCATOR = new PackReader(new Uint8Array(0));

/**
 * Reads the layout of a packed histogram into LAYOUT: false when the bytes are
 * not one, or end early or late (for the caller to take the path that says why).
 */
function locate(buf: Uint8Array): boolean {
  const r = LOCATOR.reset(buf);
  const L = LAYOUT;
  try {
    if (r.byte() !== PACK_VERSION) return false;
    L.flags = r.byte();
    L.scale = r.zigzag();
    L.zeroThreshold = (L.flags & PACK_ZERO_THRESHOLD) !== 0 ? r.float() : 0;
    L.sumAt = r.skip(24);
    L.totalsAt = r.skip((L.flags & PACK_WIDE_TOTALS) !== 0 ? 24 : 12);
    L.posN = r.varint();
    L.posLo = L.posN > 0 ? r.zigzag() : 0;
    L.posAt = r.skip(L.posN * WIDTH_BYTES[L.posWidth]);
    L.negN = r.varint();
    L.negLo = L.negN > 0 ? r.zigzag() : 0;
    L.negAt = r.skip(L.negN * WIDTH_BYTES[L.negWidth]);
  } catch {
    return false;
  }
  return r.atEnd;
}

/**
 * One signed range of buckets: a dense Float64Array of counts in which slot `k`
 * holds bucket index `base + k`; `[lo, hi]` is the occupied index range
 * (empty when hi < lo). Capacity grows by doubling up to the histogram's
 * maxSize, leaving slack on both sides so that widening the range rarely moves
 * data.
 */
/** Adds the counts of `theirs`, at a scale `os` steps finer, into `mine`. */
function addShifted(mine: Range, theirs: Range, os: number, maxSize: number): void {
  if (theirs.isEmpty) return;
  mine.reserve(theirs.lo >> os, theirs.hi >> os, maxSize);
  const tc = theirs.counts;
  const mc = mine.counts;
  const tb = theirs.base;
  const mb = mine.base;
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const v = tc[i - tb];
    if (v !== 0) mc[(i >> os) - mb] += v;
  }
  mine.total += theirs.total;
}

class Range {
  counts: Float64Array = EMPTY;
  base = 0;
  lo = 0;
  hi = -1;
  /** Sum of the counts in this range. */
  total = 0;

  get isEmpty(): boolean {
    return this.hi < this.lo;
  }

  get(index: number): number {
    return index < this.lo || index > this.hi ? 0 : this.counts[index - this.base];
  }

  copy(): Range {
    const r = new Range();
    r.counts = this.counts.slice();
    r.base = this.base;
    r.lo = this.lo;
    r.hi = this.hi;
    r.total = this.total;
    return r;
  }

  clear(): void {
    this.counts = EMPTY;
    this.base = 0;
    this.lo = 0;
    this.hi = -1;
    this.total = 0;
  }

  /** Make room for the index range [lo, hi] (span must be <= maxSize). */
  reserve(lo: number, hi: number, maxSize: number): void {
    if (!this.isEmpty) {
      if (this.lo < lo) lo = this.lo;
      if (this.hi > hi) hi = this.hi;
    }
    const cap = this.counts.length;
    if (lo >= this.base && hi < this.base + cap) {
      this.lo = lo;
      this.hi = hi;
      return;
    }
    const span = hi - lo + 1;
    let newCap = cap === 0 ? 8 : cap * 2;
    if (newCap < span) newCap = span;
    if (newCap > maxSize) newCap = Math.max(maxSize, span);
    const next = new Float64Array(newCap);
    const newBase = lo - ((newCap - span) >> 1);
    if (!this.isEmpty) {
      next.set(this.counts.subarray(this.lo - this.base, this.hi - this.base + 1), this.lo - newBase);
    }
    this.counts = next;
    this.base = newBase;
    this.lo = lo;
    this.hi = hi;
  }

  /** Re-bucket to a scale `by` steps coarser: index i becomes i >> by. */
  downscale(by: number): void {
    if (by <= 0 || this.isEmpty) return;
    const lo = this.lo >> by;
    const hi = this.hi >> by;
    const cap = this.counts.length;
    const next = new Float64Array(cap);
    const newBase = lo - ((cap - (hi - lo + 1)) >> 1);
    const c = this.counts;
    for (let i = this.lo; i <= this.hi; i++) {
      const v = c[i - this.base];
      if (v !== 0) next[(i >> by) - newBase] += v;
    }
    this.counts = next;
    this.base = newBase;
    this.lo = lo;
    this.hi = hi;
  }

  /** Drop empty buckets at both ends of the occupied range. */
  trim(): void {
    const c = this.counts;
    while (this.lo <= this.hi && c[this.lo - this.base] === 0) this.lo++;
    while (this.hi >= this.lo && c[this.hi - this.base] === 0) this.hi--;
    if (this.hi < this.lo) {
      this.lo = 0;
      this.hi = -1;
    }
  }
}

/** Tolerance of subtract() for counts that are not whole numbers. */
function tol(x: number): number {
  return 1e-9 * Math.max(1, Math.abs(x));
}

function subtractFail(what: string): never {
  throw new Error(`ExpHistogram.subtract: the histogram to subtract is not contained in this one (${what})`);
}

/**
 * Throws unless every bucket of `theirs`, summed at a scale `os` steps
 * coarser (runs of equal `i >> os`, in index order), fits in `mine`.
 */
function checkContained(name: string, mine: Range, theirs: Range, os: number, scale: number): void {
  if (theirs.isEmpty) return;
  const tc = theirs.counts;
  const tb = theirs.base;
  let j = 0;
  let v = 0;
  let open = false;
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const c = tc[i - tb];
    if (c === 0) continue;
    const k = i >> os;
    if (open && k !== j) {
      const have = mine.get(j);
      if (v > have + tol(have)) subtractFail(`${name} bucket ${j} at scale ${scale}: ${v} > ${have}`);
      v = 0;
    }
    j = k;
    v += c;
    open = true;
  }
  if (open) {
    const have = mine.get(j);
    if (v > have + tol(have)) subtractFail(`${name} bucket ${j} at scale ${scale}: ${v} > ${have}`);
  }
}

/** Takes the (checked) buckets of `theirs`, `os` steps finer, out of `mine`; then totals and trims it. */
function removeContained(mine: Range, theirs: Range, os: number): void {
  if (theirs.isEmpty) return;
  const tc = theirs.counts;
  const tb = theirs.base;
  const mc = mine.counts;
  const mb = mine.base;
  let j = 0;
  let v = 0;
  let open = false;
  // Buckets outside mine's occupied range hold 0 and, being checked, are left as they are.
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const c = tc[i - tb];
    if (c === 0) continue;
    const k = i >> os;
    if (open && k !== j) {
      if (j >= mine.lo && j <= mine.hi) {
        const left = mc[j - mb] - v;
        mc[j - mb] = left > tol(v) ? left : 0;
      }
      v = 0;
    }
    j = k;
    v += c;
    open = true;
  }
  if (open && j >= mine.lo && j <= mine.hi) {
    const left = mc[j - mb] - v;
    mc[j - mb] = left > tol(v) ? left : 0;
  }
  let total = 0;
  for (let i = mine.lo; i <= mine.hi; i++) total += mc[i - mb];
  mine.total = total;
  mine.trim();
  if (mine.isEmpty) mine.clear();
}

const NO_COUNTS: number[] = [];
/**
 * Reads an OTLP bucket range for advanceCumulative(): false when fromOtlp()
 * would reject it or downscale it, or when a count is not a plain number.
 * Sets out.counts, out.offset, the first and last non-zero positions, and
 * out.sum to `sum` plus the counts added in order (as fromOtlp() checks them).
 */
function readOtlpRange(r: OtlpBuckets | undefined | null, sum: number, out: RangeScan): boolean {
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
function scanAtScale(r: OtlpBuckets | undefined | null, sum: number, old: Range, out: RangeScan): boolean {
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
 * True when the buckets of `r` lie within the packed span of `n` buckets
 * from index `lo` (width `w`, at packed[at]) and each sum is a whole number
 * that still fits the width.
 */
function fitsPacked(packed: Uint8Array, n: number, lo: number, at: number, w: number, r: Range): boolean {
  if (r.isEmpty) return true;
  if (w === WF64 || r.lo < lo || r.hi > lo + n - 1) return false;
  const max = WIDTH_MAX[w];
  const size = WIDTH_BYTES[w];
  const c = r.counts;
  for (let i = r.lo; i <= r.hi; i++) {
    const v = c[i - r.base];
    if (v === 0) continue;
    const sum = getCount(packed, at + (i - lo) * size, w) + v;
    if (!(sum <= max) || !Number.isInteger(v)) return false;
  }
  return true;
}

/** Adds the counts of `r` into the packed span (checked by fitsPacked). */
function addToPacked(packed: Uint8Array, lo: number, at: number, w: number, r: Range): void {
  const size = WIDTH_BYTES[w];
  const c = r.counts;
  for (let i = r.lo; i <= r.hi; i++) {
    const v = c[i - r.base];
    if (v === 0) continue;
    const p = at + (i - lo) * size;
    setCount(packed, p, w, getCount(packed, p, w) + v);
  }
}

/**
 * What a scan of one range of an OTLP point finds (readOtlpRange,
 * scanAtScale, scanPacked): one object per sign, reused by every scan
 * rather than a result allocated per call on the ingest path.
 */
class RangeScan {
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

const SCAN_POS = new RangeScan();
const SCAN_NEG = new RangeScan();

/**
 * scanAtScale() against a packed previous point: `n` buckets from index `lo`
 * at width `w` at packed[at]; what it finds goes to `out`.
 */
function scanPacked(
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
function scanSmallVarints(
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

/** Sets `r` to the differences of a scan, as deltaFromScratch() would (trimmed), in place: a view of the scan's scratch. */
function viewDifferences(r: Range, scan: RangeScan): void {
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
function writeChanged(packed: Uint8Array, at: number, w: number, scan: RangeScan, from: number): void {
  const size = WIDTH_BYTES[w];
  const values = scan.values;
  const changed = scan.changed;
  for (let j = 0; j < scan.nChanged; j++) {
    const k = changed[j];
    setCount(packed, at + (k - from) * size, w, values[k]);
  }
}

/** The narrowest width for a range whose largest count is `max` (`whole`: all whole numbers). */
function widthFor(max: number, whole: boolean): number {
  if (!whole) return WF64;
  return max <= 0xff ? W8 : max <= 0xffff ? W16 : max <= 0xffffffff ? W32 : WF64;
}

/**
 * Sets the empty range `out` to the differences a scan left in
 * scratch[first..last] (bucket offset + k), laid out as otlpMinusRange()
 * does; trimmed when the old range had buckets.
 */
function deltaFromScratch(out: Range, scan: RangeScan, trim: boolean): void {
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
function containsRange(scan: RangeScan, old: Range, os: number): boolean {
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
function otlpMinusRange(out: Range, scan: RangeScan, old: Range, os: number): void {
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

// Bucket arrays of the deltas advanceCumulative() hands out are views into a
// shared slab: allocating a Float64Array of its own costs about as much as
// the whole cumulative-to-delta step, and a delta is normally consumed (merged
// or cloned) at once. A delta kept as it is pins its slab: keep a clone().
const SLAB_DOUBLES = 8192;
let slab = EMPTY;
let slabAt = 0;

/** reserve() on the empty range `r`, with its counts in the shared slab. */
function reserveTransient(r: Range, lo: number, hi: number): void {
  const span = hi - lo + 1;
  const cap = Math.max(8, span);
  if (slabAt + cap > slab.length) {
    slab = new Float64Array(Math.max(cap, SLAB_DOUBLES));
    slabAt = 0;
  }
  r.counts = slab.subarray(slabAt, slabAt + cap);
  slabAt += cap;
  r.base = lo - ((cap - span) >> 1);
  r.lo = lo;
  r.hi = hi;
}

/**
 * Gives the range a new, zeroed array for [lo, hi] (at most DEFAULT_MAX_SIZE
 * buckets), with a quarter more room, centred: a stream's cumulative range
 * keeps widening a little, and each new array costs about as much as a step.
 */
function reallocateFor(r: Range, lo: number, hi: number): void {
  const span = hi - lo + 1;
  const cap = Math.min(DEFAULT_MAX_SIZE, Math.max(8, span + (span >> 2) + 4));
  r.counts = new Float64Array(cap);
  r.base = lo - ((cap - span) >> 1);
  r.lo = lo;
  r.hi = hi;
}

/** Sets `r` to a scan's counts[first..last] (index offset + k), reusing its array when the range fits in it. */
function assignOtlpRange(r: Range, scan: RangeScan): void {
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

/** Smallest k >= 0 such that [lo >> k, hi >> k] spans at most maxSize buckets. */
function shiftToFit(lo: number, hi: number, maxSize: number): number {
  let k = 0;
  while ((hi >> k) - (lo >> k) + 1 > maxSize) k++;
  return k;
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
  private _zeroThreshold: number;
  private _scale: number;
  private _count = 0;
  private _sum = 0;
  private _min = Number.POSITIVE_INFINITY;
  private _max = Number.NEGATIVE_INFINITY;
  private _zeroCount = 0;
  private _rejected = 0;
  private pos = new Range();
  private neg = new Range();

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

  private hasBuckets(): boolean {
    return !this.pos.isEmpty || !this.neg.isEmpty;
  }

  /** Add every observation of `other` into this histogram (exact: counts are summed at the common scale). */
  merge(other: ExpHistogram): void {
    if (other._count === 0 && other._rejected === 0) return;
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
    const me = this.clone();
    let o = other;
    while (o._zeroThreshold !== me._zeroThreshold) {
      if (o._zeroThreshold < me._zeroThreshold) {
        if (o === other) o = other.clone();
        o.widenZeroThreshold(me._zeroThreshold);
      } else {
        me.widenZeroThreshold(o._zeroThreshold);
      }
    }
    if (o.hasBuckets() && o._scale < me._scale) me.downscale(me._scale - o._scale);
    const os = o._scale - me._scale;
    const tol = (x: number) => 1e-9 * Math.max(1, Math.abs(x));
    const fail = (what: string) => {
      throw new Error(
        `ExpHistogram.subtract: the histogram to subtract is not contained in this one (${what})`,
      );
    };
    if (o._count > me._count + tol(me._count)) fail(`count ${o._count} > ${me._count}`);
    if (o._zeroCount > me._zeroCount + tol(me._zeroCount))
      fail(`zero count ${o._zeroCount} > ${me._zeroCount}`);
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
        if (v > have + tol(have)) fail(`${name} bucket ${i} at scale ${me._scale}: ${v} > ${have}`);
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
    me.settleAfterSubtract(o);
    this.assign(me);
  }

  /**
   * subtract() when no copy is needed: same zero threshold, and `other` at
   * this scale or finer (or without buckets), so this histogram keeps its
   * scale. Everything is checked before anything changes; the result is the
   * general path's, float for float.
   */
  private subtractAtScale(o: ExpHistogram): void {
    const os = o._scale - this._scale;
    if (o._count > this._count + tol(this._count)) subtractFail(`count ${o._count} > ${this._count}`);
    if (o._zeroCount > this._zeroCount + tol(this._zeroCount))
      subtractFail(`zero count ${o._zeroCount} > ${this._zeroCount}`);
    checkContained("positive", this.pos, o.pos, os, this._scale);
    checkContained("negative", this.neg, o.neg, os, this._scale);
    removeContained(this.pos, o.pos, os);
    removeContained(this.neg, o.neg, os);
    this.settleAfterSubtract(o);
  }

  /** The bookkeeping after `o`'s buckets left this one: counts, sum, and extremes that can only move inwards. */
  private settleAfterSubtract(o: ExpHistogram): void {
    const zc = this._zeroCount - o._zeroCount;
    this._zeroCount = zc > tol(o._zeroCount) ? zc : 0;
    const cnt = this._count - o._count;
    this._count = cnt > tol(o._count) ? cnt : 0;
    this._rejected = Math.max(0, this._rejected - o._rejected);
    if (this._count === 0) {
      this._sum = 0;
      this._min = Number.POSITIVE_INFINITY;
      this._max = Number.NEGATIVE_INFINITY;
      this._zeroCount = 0;
      this.pos.clear();
      this.neg.clear();
      this._scale = this.maxScale;
    } else {
      this._sum -= o._sum;
      const [lo, hi] = this.occupiedExtent();
      // only an extreme that `other` may have removed can move, and only inwards to a bucket bound
      if (o._min <= this._min) this._min = Math.max(this._min, lo);
      if (o._max >= this._max) this._max = Math.min(this._max, hi);
      if (!this.hasBuckets()) this._scale = this.maxScale;
    }
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
    if (this.maxSize !== DEFAULT_MAX_SIZE || this.maxScale !== MAX_SCALE || this._rejected !== 0)
      return undefined;
    if (p === null || typeof p !== "object") return undefined;
    materializeBuckets(p.positive);
    materializeBuckets(p.negative);
    const scale = p.scale;
    if (typeof scale !== "number" || !Number.isInteger(scale) || scale > this._scale || scale < MIN_SCALE)
      return undefined;
    const os = this._scale - scale;
    if (!takesPoint(p, this._count, this._zeroThreshold)) return undefined;
    const { count, zeroCount } = p;
    // numbers: takesPoint() checked them
    const sum = p.sum as number;
    const min = p.min as number;
    const max = p.max as number;
    const zt = p.zeroThreshold ?? 0;
    if (os === 0) return this.advanceAtScale(p, count, zeroCount, zt, sum, min, max);
    // The two ranges: validated, trimmed to [first, last] and summed as fromOtlp() does.
    const ps = SCAN_POS;
    const ns = SCAN_NEG;
    if (!readOtlpRange(p.positive, zeroCount, ps) || !readOtlpRange(p.negative, ps.sum, ns)) return undefined;
    if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
    if (this._zeroCount > zeroCount + tol(zeroCount)) return undefined;
    if (!containsRange(ps, this.pos, os) || !containsRange(ns, this.neg, os)) return undefined;

    const delta = this.deltaHead(zt, scale, count, zeroCount, sum);
    if (delta !== null) {
      otlpMinusRange(delta.pos, ps, this.pos, os);
      otlpMinusRange(delta.neg, ns, this.neg, os);
      delta.settleDeltaExtremes(this._min, this._max, min, max);
    }
    assignOtlpRange(this.pos, ps);
    assignOtlpRange(this.neg, ns);
    this._scale = scale;
    this.takePointTotals(zt, count, sum, min, max, zeroCount);
    return delta;
  }

  /**
   * advanceCumulative() for a point at this histogram's scale (the usual
   * case): one pass per range validates the counts, checks containment and
   * works out the differences (into a scratch array) before anything
   * changes; then the delta and this histogram are written.
   */
  private advanceAtScale(
    p: OtlpExpHistogramPoint,
    count: number,
    zeroCount: number,
    zt: number,
    sum: number,
    min: number,
    max: number,
  ): ExpHistogram | null | undefined {
    const ps = SCAN_POS;
    const ns = SCAN_NEG;
    if (!scanAtScale(p.positive, zeroCount, this.pos, ps) || !scanAtScale(p.negative, ps.sum, this.neg, ns))
      return undefined;
    if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
    if (this._zeroCount > zeroCount + tol(zeroCount)) return undefined;

    const delta = this.deltaHead(zt, this._scale, count, zeroCount, sum);
    if (delta !== null) {
      deltaFromScratch(delta.pos, ps, !this.pos.isEmpty);
      deltaFromScratch(delta.neg, ns, !this.neg.isEmpty);
      delta.settleDeltaExtremes(this._min, this._max, min, max);
    }
    assignOtlpRange(this.pos, ps);
    assignOtlpRange(this.neg, ns);
    this.takePointTotals(zt, count, sum, min, max, zeroCount);
    return delta;
  }

  /**
   * The delta from this histogram (the previous cumulative point) to a point
   * with these totals, with its scalar fields set and no buckets yet; null
   * when the point adds nothing (count within tolerance of this one's).
   */
  private deltaHead(
    zt: number,
    scale: number,
    count: number,
    zeroCount: number,
    sum: number,
  ): ExpHistogram | null {
    return ExpHistogram.deltaOf(this._count, this._zeroCount, this._sum, zt, scale, count, zeroCount, sum);
  }

  /** deltaHead() from a previous point's count, zero count and sum; written into `into` when given. */
  private static deltaOf(
    prevCount: number,
    prevZero: number,
    prevSum: number,
    zt: number,
    scale: number,
    count: number,
    zeroCount: number,
    sum: number,
    into?: ExpHistogram,
  ): ExpHistogram | null {
    const cnt = count - prevCount;
    if (!(cnt > tol(prevCount))) return null;
    let d: ExpHistogram;
    if (into === undefined) {
      d = new ExpHistogram();
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
   * mergePacked() in place: adds h into `packed` when both are at the same
   * scale and zero threshold, every bucket of h lies within the packed span
   * and every new count fits its width, and returns true; otherwise changes
   * nothing and returns false. The bytes are those pack() would write for
   * the merge: span, widths and layout are unchanged.
   */
  private static addPacked(packed: Uint8Array, h: ExpHistogram): boolean {
    const L = LAYOUT;
    if (!locate(packed) || (L.flags & PACK_WIDE_TOTALS) !== 0) return false;
    if (L.scale !== h._scale || L.zeroThreshold !== h._zeroThreshold || L.scale > MAX_SCALE) return false;
    if (L.posN > DEFAULT_MAX_SIZE || L.negN > DEFAULT_MAX_SIZE) return false;
    const t = L.totalsAt;
    const count = getU32(packed, t) + h._count;
    const zeroCount = getU32(packed, t + 4) + h._zeroCount;
    const rejected = getU32(packed, t + 8) + h._rejected;
    if (!narrowTotal(count) || !narrowTotal(zeroCount) || !narrowTotal(rejected)) return false;
    const pos = h.pos;
    const neg = h.neg;
    if (
      !fitsPacked(packed, L.posN, L.posLo, L.posAt, L.posWidth, pos) ||
      !fitsPacked(packed, L.negN, L.negLo, L.negAt, L.negWidth, neg)
    )
      return false;
    addToPacked(packed, L.posLo, L.posAt, L.posWidth, pos);
    addToPacked(packed, L.negLo, L.negAt, L.negWidth, neg);
    const s = L.sumAt;
    const min = getF64(packed, s + 8);
    const max = getF64(packed, s + 16);
    setF64(packed, s, getF64(packed, s) + h._sum);
    // the comparisons merge() makes, so that the bytes are the same as through unpack and merge
    // biome-ignore lint/complexity/useMathMinMax: see above
    setF64(packed, s + 8, h._min < min ? h._min : min);
    // biome-ignore lint/complexity/useMathMinMax: see above
    setF64(packed, s + 16, h._max > max ? h._max : max);
    setU32(packed, t, count);
    setU32(packed, t + 4, zeroCount);
    setU32(packed, t + 8, rejected);
    return true;
  }

  /** The scalar fields of a cumulative point this histogram now stands for (its ranges already set). */
  private takePointTotals(
    zt: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    zeroCount: number,
  ): void {
    this._zeroThreshold = zt;
    this._count = count;
    this._sum = sum;
    this._min = min;
    this._max = max;
    this._zeroCount = zeroCount;
  }

  /**
   * Min and max of a delta between cumulative points: the new point's, except
   * where the previous point already held that extreme, which then narrows
   * to the delta's own buckets.
   */
  private settleDeltaExtremes(prevMin: number, prevMax: number, min: number, max: number): void {
    this._min = min;
    this._max = max;
    const [lo, hi] = this.occupiedExtent();
    if (prevMin <= min) this._min = Math.max(min, lo);
    if (prevMax >= max) this._max = Math.min(max, hi);
    if (!this.hasBuckets()) this._scale = this.maxScale;
  }

  /** [smallest, largest] value that the occupied buckets (and zero bucket) can hold. */
  private occupiedExtent(): [number, number] {
    const s = this._scale;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const zt = this._zeroThreshold;
    if (!this.neg.isEmpty) {
      lo = -lowerBoundary(this.neg.hi + 1, s);
      hi = -innerBound(this.neg.lo, s);
    }
    if (this._zeroCount > 0) {
      lo = Math.min(lo, zt === 0 ? 0 : -zt);
      hi = Math.max(hi, zt);
    }
    if (!this.pos.isEmpty) {
      lo = Math.min(lo, innerBound(this.pos.lo, s));
      hi = lowerBoundary(this.pos.hi + 1, s);
    }
    return [lo, hi];
  }

  private assign(h: ExpHistogram): void {
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
    const w = WRITER;
    w.reset();
    const wide = !(narrowTotal(this._count) && narrowTotal(this._zeroCount) && narrowTotal(this._rejected));
    const zt = this._zeroThreshold;
    const pw = rangeWidth(this.pos);
    const nw = rangeWidth(this.neg);
    const head = (wide ? PACK_WIDE_TOTALS : 0) | (pw << 2) | (nw << 4);
    w.head(head, this._scale, zt, this._sum, this._min, this._max);
    w.total(this._count, wide);
    w.total(this._zeroCount, wide);
    w.total(this._rejected, wide);
    packRange(w, this.pos, pw);
    packRange(w, this.neg, nw);
    return w.written();
  }

  /** The histogram packed by pack(); throws on bytes that are not one. */
  static unpack(buf: Uint8Array, opts: ExpHistogramOptions = {}): ExpHistogram {
    const h = new ExpHistogram(opts);
    h.readPacked(buf, false);
    return h;
  }

  /**
   * Sets this histogram to a packed one (as unpack() would make it with this
   * histogram's options), keeping its own bucket arrays when they have room:
   * for one scratch histogram that stands for many packed ones in turn.
   * Throws on bytes that are not a packed histogram, leaving this one unusable.
   */
  unpackFrom(buf: Uint8Array): void {
    this.readPacked(buf, true);
  }

  /** unpack() into this histogram: bucket arrays of exactly the packed span, or (`roomy`) of maxSize, reused. */
  private readPacked(buf: Uint8Array, roomy: boolean): void {
    const r = new PackReader(buf);
    if (buf.length === 0 || r.byte() !== PACK_VERSION)
      throw new Error("ExpHistogram.unpack: not a packed histogram");
    const flags = r.byte();
    const wide = (flags & PACK_WIDE_TOTALS) !== 0;
    this._scale = r.zigzag();
    this._zeroThreshold = (flags & PACK_ZERO_THRESHOLD) !== 0 ? r.float() : 0;
    this._sum = r.float();
    this._min = r.float();
    this._max = r.float();
    this._count = wide ? r.float() : r.u32();
    this._zeroCount = wide ? r.float() : r.u32();
    this._rejected = wide ? r.float() : r.u32();
    for (let which = 0; which < 2; which++) {
      const range = which === 0 ? this.pos : this.neg;
      const width = (flags >> (which === 0 ? 2 : 4)) & 3;
      const n = r.varint();
      if (!range.isEmpty) range.counts.fill(0, range.lo - range.base, range.hi - range.base + 1);
      range.lo = 0;
      range.hi = -1;
      range.total = 0;
      if (n === 0) continue;
      if (n > this.maxSize) throw new Error("ExpHistogram.unpack: more buckets than maxSize");
      const lo = r.zigzag();
      const cap = roomy ? this.maxSize : n;
      if (!roomy || range.counts.length < cap) range.counts = new Float64Array(cap);
      const c = range.counts;
      range.base = lo - ((cap - n) >> 1);
      range.lo = lo;
      range.hi = lo + n - 1;
      const size = WIDTH_BYTES[width];
      let at = r.skip(n * size);
      const to = lo - range.base + n;
      let total = 0;
      for (let i = lo - range.base; i < to; i++, at += size) {
        const v = getCount(buf, at, width);
        c[i] = v;
        total += v;
      }
      range.total = total;
    }
    if (!r.atEnd) throw new Error("ExpHistogram.unpack: trailing bytes");
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
    if (ExpHistogram.addPacked(packed, h)) return packed;
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
    if (into !== undefined && (into.maxSize !== DEFAULT_MAX_SIZE || into.maxScale !== MAX_SCALE))
      throw new RangeError("ExpHistogram.advancePacked: `into` must be made with the default options");
    const L = LAYOUT;
    if (!locate(packed) || p === null || typeof p !== "object") return undefined;
    if (L.posN > DEFAULT_MAX_SIZE || L.negN > DEFAULT_MAX_SIZE || L.scale > MAX_SCALE) return undefined;
    const wideBefore = (L.flags & PACK_WIDE_TOTALS) !== 0;
    const t = L.totalsAt;
    const prevCount = wideBefore ? getF64(packed, t) : getU32(packed, t);
    const prevZero = wideBefore ? getF64(packed, t + 8) : getU32(packed, t + 4);
    const rejected = wideBefore ? getF64(packed, t + 16) : getU32(packed, t + 8);
    if (rejected !== 0) return undefined; // advanceCumulative() declines too
    if (p.scale !== L.scale || !takesPoint(p, prevCount, L.zeroThreshold)) return undefined;
    const { scale, count, zeroCount } = p;
    // numbers: takesPoint() checked them
    const sum = p.sum as number;
    const min = p.min as number;
    const max = p.max as number;
    const zt = p.zeroThreshold ?? 0;
    const pw = L.posWidth;
    const nw = L.negWidth;
    const ps = SCAN_POS;
    const ns = SCAN_NEG;
    if (!scanPacked(p.positive, zeroCount, packed, L.posN, L.posLo, L.posAt, pw, ps)) return undefined;
    if (!scanPacked(p.negative, ps.sum, packed, L.negN, L.negLo, L.negAt, nw, ns)) return undefined;
    if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
    if (prevZero > zeroCount + tol(zeroCount)) return undefined;

    const s = L.sumAt;
    const prevSum = getF64(packed, s);
    const delta = ExpHistogram.deltaOf(prevCount, prevZero, prevSum, zt, scale, count, zeroCount, sum, into);
    if (delta !== null) {
      if (into !== undefined) {
        viewDifferences(delta.pos, ps);
        viewDifferences(delta.neg, ns);
      } else {
        deltaFromScratch(delta.pos, ps, L.posN > 0);
        deltaFromScratch(delta.neg, ns, L.negN > 0);
      }
      delta.settleDeltaExtremes(getF64(packed, s + 8), getF64(packed, s + 16), min, max);
    }
    const wide = !(narrowTotal(count) && narrowTotal(zeroCount));
    const ztFlag = Object.is(zt, 0) ? 0 : PACK_ZERO_THRESHOLD;
    const pw2 = widthFor(ps.max, ps.whole);
    const nw2 = widthFor(ns.max, ns.whole);
    const out = ADVANCE;
    out.delta = delta;
    const samePos =
      ps.last < ps.first
        ? L.posN === 0
        : L.posN === ps.last - ps.first + 1 && L.posLo === ps.offset + ps.first;
    const sameNeg =
      ns.last < ns.first
        ? L.negN === 0
        : L.negN === ns.last - ns.first + 1 && L.negLo === ns.offset + ns.first;
    const sameFlags = wide === wideBefore && ztFlag === (L.flags & PACK_ZERO_THRESHOLD);
    if (sameFlags && pw2 === pw && nw2 === nw && samePos && sameNeg) {
      writeChanged(packed, L.posAt, pw, ps, ps.first);
      writeChanged(packed, L.negAt, nw, ns, ns.first);
      setF64(packed, s, sum);
      setF64(packed, s + 8, min);
      setF64(packed, s + 16, max);
      if (wide) {
        setF64(packed, t, count);
        setF64(packed, t + 8, zeroCount);
      } else {
        setU32(packed, t, count);
        setU32(packed, t + 4, zeroCount);
      }
      out.packed = packed;
      return out;
    }
    // the span or a width changed: the point packed anew, as pack() writes it
    const w = WRITER;
    w.reset();
    w.head((wide ? PACK_WIDE_TOTALS : 0) | (pw2 << 2) | (nw2 << 4), scale, zt, sum, min, max);
    w.total(count, wide);
    w.total(zeroCount, wide);
    w.total(0, wide);
    packScanned(w, ps, pw2);
    packScanned(w, ns, nw2);
    out.packed = w.written();
    return out;
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
    if (r.isEmpty) return { index: new Int32Array(0), counts: new Float64Array(0), length: 0 };
    const cap = (r.hi >> shift) - (r.lo >> shift) + 1;
    const index = new Int32Array(cap);
    const counts = new Float64Array(cap);
    let n = -1;
    const c = r.counts;
    for (let i = r.lo; i <= r.hi; i++) {
      const v = c[i - r.base];
      if (v === 0) continue;
      const j = i >> shift;
      if (n >= 0 && index[n] === j) counts[n] += v;
      else {
        n++;
        index[n] = j;
        counts[n] = v;
      }
    }
    return { index, counts, length: n + 1 };
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
    const out: Cell[] = [];
    const s = this._scale;
    const mn = this._min;
    const mx = this._max;
    const zt = this._zeroThreshold;
    const neg = this.neg;
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
    if (this._zeroCount > 0) {
      clampTo(-zt, zt, mn, mx);
      out.push({ a: EA, b: EB, count: this._zeroCount, kind: 2 });
    }
    const pos = this.pos;
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

  /**
   * Interpolated number of observations <= x (see cdf()). Only the bucket
   * holding x needs its boundaries; the others just add up. Allocation-free.
   */
  rank(x: number): number {
    if (Number.isNaN(x) || this._count === 0) return Number.NaN;
    if (x < this._min) return 0;
    if (x >= this._max) return this._count;
    const s = this._scale;
    const mn = this._min;
    const mx = this._max;
    const zt = this._zeroThreshold;
    const neg = this.neg;
    const pos = this.pos;
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
      if (this._zeroCount > 0) {
        clampTo(-zt, zt, mn, mx);
        cum += this._zeroCount * partial(x, 2);
      }
      return cum;
    }
    cum += this._zeroCount;
    const i = mapToIndex(x, s);
    const end = Math.min(i - 1, pos.hi);
    for (let j = pos.lo; j <= end; j++) cum += pos.counts[j - pos.base];
    const c = pos.get(i);
    if (c > 0) {
      clampTo(Math.max(lowerOf(i, s), zt), upperOf(i, s), mn, mx);
      cum += c * partial(x, 0);
    }
    return Math.min(cum, this._count);
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
    const v = this.valueAtRank(q * this._count);
    return Math.min(this._max, Math.max(this._min, v)) + 0; // + 0 turns -0 into 0
  }

  /** Interpolated value of rank r (0 < r < count) in the bucket where the cumulative count reaches r. */
  private valueAtRank(r: number): number {
    const s = this._scale;
    const mn = this._min;
    const mx = this._max;
    const zt = this._zeroThreshold;
    let cum = 0;
    const neg = this.neg;
    for (let i = neg.hi; i >= neg.lo; i--) {
      const c = neg.counts[i - neg.base];
      if (c === 0) continue;
      if (cum + c >= r) {
        clampTo(-upperOf(i, s), -Math.max(lowerOf(i, s), zt), mn, mx);
        return inverse((r - cum) / c, 1);
      }
      cum += c;
    }
    if (this._zeroCount > 0) {
      if (cum + this._zeroCount >= r) {
        clampTo(-zt, zt, mn, mx);
        return inverse((r - cum) / this._zeroCount, 2);
      }
      cum += this._zeroCount;
    }
    const pos = this.pos;
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

  /**
   * Counts per classic (Prometheus `le`) bucket: element j counts values in
   * (bounds[j-1], bounds[j]], the last element values above the last bound.
   * Exponential buckets that straddle a bound are split with the cdf()
   * interpolation. When all counts are integers the cumulative counts are
   * rounded to integers (so every element is an integer and they add up to
   * `count` exactly).
   */
  toExplicitBuckets(bounds: readonly number[]): number[] {
    for (let i = 0; i < bounds.length; i++) {
      if (!Number.isFinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
        throw new Error("ExpHistogram.toExplicitBuckets: bounds must be finite and strictly increasing");
      }
    }
    const out = new Array<number>(bounds.length + 1).fill(0);
    if (this._count === 0) return out;
    const integral = Number.isInteger(this._count);
    let prev = 0;
    for (let j = 0; j < bounds.length; j++) {
      let c = this.rank(bounds[j]);
      if (integral) c = Math.round(c);
      if (c < prev) c = prev;
      out[j] = c - prev;
      prev = c;
    }
    out[bounds.length] = this._count - prev;
    return out;
  }

  toJSON(): ExpHistogramJSON {
    const range = (r: Range) => {
      const t = r.copy();
      t.trim();
      if (t.isEmpty) return { offset: 0, counts: [] as number[] };
      return { offset: t.lo, counts: Array.from(t.counts.subarray(t.lo - t.base, t.hi - t.base + 1)) };
    };
    const empty = this._count === 0;
    return {
      scale: this._scale,
      zeroCount: this._zeroCount,
      zeroThreshold: this._zeroThreshold,
      count: this._count,
      sum: this._sum,
      min: empty ? 0 : this._min,
      max: empty ? 0 : this._max,
      positive: range(this.pos),
      negative: range(this.neg),
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
    return ExpHistogram.build(
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
    return ExpHistogram.build(
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
    );
  }

  private static build(
    who: string,
    p: {
      scale: unknown;
      zeroCount: unknown;
      zeroThreshold: unknown;
      count: unknown;
      sum: unknown;
      min: unknown;
      max: unknown;
      positive: { offset: number; counts: number[] };
      negative: { offset: number; counts: number[] };
    },
    opts: ExpHistogramOptions,
    requireSum: boolean,
  ): ExpHistogram {
    const bad = (msg: string): never => {
      throw new Error(`${who}: ${msg}`);
    };
    const nonNeg = (name: string, v: unknown): number => {
      const n = typeof v === "bigint" || typeof v === "string" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
        bad(`${name} must be a finite number >= 0, got ${String(v)}`);
      return n as number;
    };
    if (
      typeof p.scale !== "number" ||
      !Number.isInteger(p.scale) ||
      p.scale < MIN_SCALE ||
      p.scale > MAX_SCALE
    ) {
      bad(`scale must be an integer in [${MIN_SCALE}, ${MAX_SCALE}], got ${String(p.scale)}`);
    }
    const scale = p.scale as number;
    const count = nonNeg("count", p.count);
    const zeroCount = nonNeg("zeroCount", p.zeroCount);
    const zeroThreshold = nonNeg("zeroThreshold", p.zeroThreshold);
    let total = zeroCount;
    for (const r of [p.positive, p.negative]) for (const c of r.counts) total += c;
    if (Math.abs(total - count) > 1e-9 * Math.max(1, count)) {
      bad(
        `bucket counts (${total - zeroCount}) plus zeroCount (${zeroCount}) = ${total} do not add up to count ${count}`,
      );
    }
    const finiteOrUndef = (name: string, v: unknown): number | undefined => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v))
        bad(`${name} must be a finite number, got ${String(v)}`);
      return v as number;
    };
    let sum = finiteOrUndef("sum", p.sum);
    if (sum === undefined && requireSum) bad("sum is missing");
    let min = finiteOrUndef("min", p.min);
    let max = finiteOrUndef("max", p.max);
    if (min !== undefined && max !== undefined && count > 0 && min > max) bad(`min ${min} > max ${max}`);

    const h = new ExpHistogram({ ...opts, zeroThreshold, maxScale: opts.maxScale ?? MAX_SCALE });
    h._scale = scale;
    let shift = 0;
    for (const r of [p.positive, p.negative]) {
      if (r.counts.length > 0)
        shift = Math.max(shift, shiftToFit(r.offset, r.offset + r.counts.length - 1, h.maxSize));
    }
    if (scale - shift < MIN_SCALE) bad("bucket range too wide to represent");
    h._scale = scale - shift;
    for (const [r, mine] of [
      [p.positive, h.pos],
      [p.negative, h.neg],
    ] as const) {
      let first = 0;
      let last = r.counts.length - 1;
      while (first <= last && r.counts[first] === 0) first++;
      while (last >= first && r.counts[last] === 0) last--;
      if (first > last) continue;
      mine.reserve((r.offset + first) >> shift, (r.offset + last) >> shift, h.maxSize);
      for (let k = first; k <= last; k++) {
        const c = r.counts[k];
        if (c !== 0) mine.counts[((r.offset + k) >> shift) - mine.base] += c;
        mine.total += c;
      }
    }
    h._count = count;
    h._zeroCount = zeroCount;
    if (count > 0) {
      const [lo, hi] = h.occupiedExtent();
      if (min === undefined) min = lo;
      if (max === undefined) max = hi;
      if (min > max) bad(`min ${min} > max ${max}`);
      h._min = min;
      h._max = max;
      if (sum === undefined) sum = h.estimateSum();
    } else {
      sum = 0;
    }
    h._sum = sum as number;
    return h;
  }

  private estimateSum(): number {
    let s = 0;
    for (const cell of this.cells()) s += cell.count * valueAtFraction(cell, 0.5);
    return s;
  }
}

/** What ExpHistogram.advancePacked() hands back: the delta and the new point packed. */
export interface PackedAdvance {
  delta: ExpHistogram | null;
  packed: Uint8Array;
}

const ADVANCE: PackedAdvance = { delta: null, packed: new Uint8Array(0) };

// mergePacked() unpacks into this one histogram when it cannot merge in place.
const MERGE = new ExpHistogram();

function rangeIn(
  who: string,
  name: string,
  r: unknown,
  key: "counts" | "bucketCounts",
): { offset: number; counts: number[] } {
  if (r === undefined || r === null) return { offset: 0, counts: [] };
  if (typeof r !== "object") throw new Error(`${who}: ${name} must be an object`);
  const o = r as Record<string, unknown>;
  const offset = o.offset ?? 0;
  if (typeof offset !== "number" || !Number.isInteger(offset) || Math.abs(offset) > 2 ** 31) {
    throw new Error(`${who}: ${name}.offset must be an integer, got ${String(offset)}`);
  }
  const raw = o[key] ?? [];
  if (!Array.isArray(raw)) throw new Error(`${who}: ${name}.${key} must be an array`);
  const counts = raw.map((v, i) => {
    const n = typeof v === "bigint" || typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
      throw new Error(`${who}: ${name}.${key}[${i}] must be a finite number >= 0, got ${String(v)}`);
    }
    return n;
  });
  return { offset, counts };
}

// Output registers of clampTo (avoids allocating a tuple on hot paths).
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
