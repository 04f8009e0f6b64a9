// Writing the packed form (format.ts): a growable byte buffer with the
// field writers pack() and the packed fast paths need, and the one writer
// they all share. Not the choice of what to write (codec.ts, and
// cumulative/advance-packed.ts for a point packed anew).

import { PACK_VERSION, PACK_ZERO_THRESHOLD, setCount, setF64, setU32, W8, WIDTH_BYTES } from "./format.js";

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

/** Growable byte buffer for pack(). */
export class PackWriter {
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

  /**
   * One range: its span, the index `lo` of c[from], then c[from..to] at
   * width `w` (which holds every one of them); a span of 0 alone when
   * to < from.
   */
  range(c: Float64Array, lo: number, from: number, to: number, w: number): void {
    if (to < from) {
      this.varint(0);
      return;
    }
    this.varint(to - from + 1);
    this.zigzag(lo);
    const size = WIDTH_BYTES[w];
    this.room(size * (to - from + 1));
    const b = this.buf;
    let n = this.n;
    if (w === W8) for (let i = from; i <= to; i++) b[n++] = c[i];
    else for (let i = from; i <= to; i++, n += size) setCount(b, n, w, c[i]);
    this.n = n;
  }

  /** The bytes written so far, as a view that the next packWriter() reuses. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }

  reset(): void {
    this.n = 0;
  }
}

// The one writer of every packed result (pack, packView, mergePacked, advancePacked): it keeps
// the room it has grown to, so packing allocates only what pack() copies out. Hence a packed
// view is good until the next packing, whoever does it.
const PACK_WRITER = new PackWriter();

/** The shared writer, emptied for a new packed histogram. */
export function packWriter(): PackWriter {
  PACK_WRITER.reset();
  return PACK_WRITER;
}
