// The packed byte form of an exponential histogram, at the level of bytes:
// the version and flag bits, the fixed widths a range's counts are stored
// at, and the little-endian readers and writers of totals and counts. The
// layout, in order: version byte, flags byte, zigzag scale, float64 zero
// threshold (only with its flag), float64 sum, min and max, the three totals
// (count, zero count, rejected: uint32 or, with PACK_WIDE_TOTALS, float64),
// then per range (positive, negative) a varint span n, and when n > 0 the
// zigzag first index and n counts at the range's width.
// Not the writing or reading of whole histograms (writer.ts, reader.ts,
// codec.ts).

import type { Range } from "../histogram/range.js";

export const PACK_VERSION = 0x20;
/** count, zeroCount and rejected as float64 (else uint32: whole numbers below 2^32). */
export const PACK_WIDE_TOTALS = 0x01;
/** A float64 zero threshold follows the scale (else it is +0). */
export const PACK_ZERO_THRESHOLD = 0x02;
// Bucket count widths, two bits per range (positive at bit 2, negative at bit 4):
// whole numbers in 1, 2 or 4 bytes, or float64 for anything else.
export const W8 = 0;
export const W16 = 1;
export const W32 = 2;
export const WF64 = 3;
export const WIDTH_BYTES = [1, 2, 4, 8];
export const WIDTH_MAX = [0xff, 0xffff, 0xffffffff, Number.POSITIVE_INFINITY];

/** The narrowest width for a range whose largest count is `max` (`whole`: all whole numbers). */
export function widthFor(max: number, whole: boolean): number {
  if (!whole) return WF64;
  return max <= 0xff ? W8 : max <= 0xffff ? W16 : max <= 0xffffffff ? W32 : WF64;
}

/** The narrowest width that holds every count of the range. */
export function rangeWidth(r: Range): number {
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
export function narrowTotal(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

// float64 bytes go through this register (little-endian platforms, as Node's are) instead of a
// DataView, which costs more to create than reading a whole small histogram. Only getF64 and
// setF64 touch it, each within one call.
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

export function getF64(b: Uint8Array, at: number): number {
  if (BIG_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[at + i];
  else for (let i = 0; i < 8; i++) F64_BYTES[i] = b[at + i];
  return F64[0];
}

export function setF64(b: Uint8Array, at: number, v: number): void {
  F64[0] = v;
  if (BIG_ENDIAN) for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[7 - i];
  else for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[i];
}

export function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

export function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/** The count of width `w` at b[at]. */
export function getCount(b: Uint8Array, at: number, w: number): number {
  if (w === W8) return b[at];
  if (w === W16) return b[at] | (b[at + 1] << 8);
  return w === W32 ? getU32(b, at) : getF64(b, at);
}

/** Writes a count (which fits) at width `w`. */
export function setCount(b: Uint8Array, at: number, w: number, v: number): void {
  if (w === W8) b[at] = v;
  else if (w === W16) {
    b[at] = v & 0xff;
    b[at + 1] = v >>> 8;
  } else if (w === W32) setU32(b, at, v);
  else setF64(b, at, v);
}
