// Reading the packed form (format.ts): a bounds-checked field reader, and
// locate(), which finds where the parts of a packed histogram are so that
// the in-place operations (codec.ts addPacked, cumulative/advance-packed.ts)
// can change them without unpacking. Not the building of a histogram from
// bytes (codec.ts readPacked).

import {
  getF64,
  getU32,
  PACK_VERSION,
  PACK_WIDE_TOTALS,
  PACK_ZERO_THRESHOLD,
  WIDTH_BYTES,
} from "./format.js";

export class PackReader {
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
export class PackedLayout {
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

// What locate() found last, and the reader it uses: one of each, since locating runs once per
// point on the ingest path and its result is read at once, before the next locate().
const LAYOUT = new PackedLayout();
const LOCATOR = new PackReader(new Uint8Array(0));

/**
 * The layout of a packed histogram, valid until the next call; null when
 * the bytes are not one, or end early or late (for the caller to take the
 * path that says why).
 */
export function locate(buf: Uint8Array): PackedLayout | null {
  const r = LOCATOR.reset(buf);
  const L = LAYOUT;
  try {
    if (r.byte() !== PACK_VERSION) return null;
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
    return null;
  }
  return r.atEnd ? L : null;
}
