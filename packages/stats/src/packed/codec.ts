// A whole histogram to and from its packed form (format.ts): packView()
// (behind pack), readPacked() (behind unpack and unpackFrom) and addPacked(),
// the in-place merge of a histogram into packed bytes (behind mergePacked).
// Not the cumulative-to-delta step on packed bytes (cumulative/), and not
// public API: ExpHistogram's methods are.

import type { ExpHistogram } from "../exphist.js";
import { DEFAULT_MAX_SIZE, type Range } from "../histogram/range.js";
import { MAX_SCALE } from "../mapping.js";
import {
  getCount,
  getF64,
  getU32,
  narrowTotal,
  PACK_VERSION,
  PACK_WIDE_TOTALS,
  PACK_ZERO_THRESHOLD,
  rangeWidth,
  setCount,
  setF64,
  setU32,
  WF64,
  WIDTH_BYTES,
  WIDTH_MAX,
} from "./format.js";
import { locate, PackReader } from "./reader.js";
import { type PackWriter, packWriter } from "./writer.js";

/** ExpHistogram.packView(): the packed bytes of `h`, a view of the shared writer's buffer. */
export function packView(h: ExpHistogram): Uint8Array {
  const w = packWriter();
  const wide = !(narrowTotal(h._count) && narrowTotal(h._zeroCount) && narrowTotal(h._rejected));
  const pw = rangeWidth(h.pos);
  const nw = rangeWidth(h.neg);
  const head = (wide ? PACK_WIDE_TOTALS : 0) | (pw << 2) | (nw << 4);
  w.head(head, h._scale, h._zeroThreshold, h._sum, h._min, h._max);
  w.total(h._count, wide);
  w.total(h._zeroCount, wide);
  w.total(h._rejected, wide);
  packRange(w, h.pos, pw);
  packRange(w, h.neg, nw);
  return w.written();
}

/** A range as packView() writes it: span, first index, then the counts at width `width`. */
function packRange(w: PackWriter, r: Range, width: number): void {
  w.range(r.counts, r.lo, r.lo - r.base, r.hi - r.base, width);
}

/**
 * unpack() into `h`: bucket arrays of exactly the packed span, or (`roomy`)
 * of maxSize, reused. Throws on bytes that are not a packed histogram.
 */
export function readPacked(h: ExpHistogram, buf: Uint8Array, roomy: boolean): void {
  const r = new PackReader(buf);
  if (buf.length === 0 || r.byte() !== PACK_VERSION)
    throw new Error("ExpHistogram.unpack: not a packed histogram");
  const flags = r.byte();
  const wide = (flags & PACK_WIDE_TOTALS) !== 0;
  h._scale = r.zigzag();
  h._zeroThreshold = (flags & PACK_ZERO_THRESHOLD) !== 0 ? r.float() : 0;
  h._sum = r.float();
  h._min = r.float();
  h._max = r.float();
  h._count = wide ? r.float() : r.u32();
  h._zeroCount = wide ? r.float() : r.u32();
  h._rejected = wide ? r.float() : r.u32();
  for (let which = 0; which < 2; which++) {
    const range = which === 0 ? h.pos : h.neg;
    const width = (flags >> (which === 0 ? 2 : 4)) & 3;
    const n = r.varint();
    if (!range.isEmpty) range.counts.fill(0, range.lo - range.base, range.hi - range.base + 1);
    range.lo = 0;
    range.hi = -1;
    range.total = 0;
    if (n === 0) continue;
    if (n > h.maxSize) throw new Error("ExpHistogram.unpack: more buckets than maxSize");
    const lo = r.zigzag();
    const cap = roomy ? h.maxSize : n;
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
 * mergePacked() in place: adds h into `packed` when both are at the same
 * scale and zero threshold, every bucket of h lies within the packed span
 * and every new count fits its width, and returns true; otherwise changes
 * nothing and returns false. The bytes are those pack() would write for
 * the merge: span, widths and layout are unchanged.
 */
export function addPacked(packed: Uint8Array, h: ExpHistogram): boolean {
  const L = locate(packed);
  if (L === null || (L.flags & PACK_WIDE_TOTALS) !== 0) return false;
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
