// Wire-format reading for the OTLP decoders, on @bufbuild/protobuf's BinaryReader:
// tags, lengths, scalars, strings and packed fields, each checked against the
// end of the enclosing message. Not the reading of OTLP's common messages
// (any-value.ts) nor the cache of attribute runs (attribute-cache.ts).
//
// The reader adds what the decoders need on top of BinaryReader: every read
// is checked against the end of the enclosing message (not just the buffer),
// 64-bit integers come back as plain numbers (rejected above 2^53 - 1) or,
// for timestamps, as exact bigints, packed fields decode straight into number
// arrays, and tags come back as one number so the per-field loop allocates
// nothing. Errors are thrown as PathError (see errors.ts).
//
// Strings: invalid UTF-8 is not rejected; it is decoded with U+FFFD
// replacement characters (WHATWG decoding). One bad byte in a label should not
// cost a client its whole batch, and the result is always valid Unicode, safe
// to use in Prometheus labels and JSON.

import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { VarintCounts } from "@mlwatch/stats/otlp";
import type { AttributeRun } from "./attribute-cache.js";
import { fail, rethrowAt } from "./errors.js";
import type { AttrValue, DecodeLimits } from "./types.js";
import { int64ToAttr, toHex } from "./values.js";

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const SGROUP = 3;
export const EGROUP = 4;
export const I32 = 5;

const WIRE_NAMES = ["VARINT", "I64", "LEN", "SGROUP", "EGROUP", "I32", "6", "7"];
const TWO32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Throws the standard message for a known field that arrived with the wrong wire type. */
export function wrongWire(field: number, got: number, expected: number, alt?: number): never {
  const exp =
    alt === undefined
      ? `${expected} (${WIRE_NAMES[expected]})`
      : `${expected} (${WIRE_NAMES[expected]}) or ${alt} (${WIRE_NAMES[alt]})`;
  fail(`field ${field} has wire type ${got} (${WIRE_NAMES[got]}), expected ${exp}`);
}

function tooBig(what: string): never {
  fail(`${what} exceeds 2^53-1 (Number.MAX_SAFE_INTEGER)`);
}

function truncated(): never {
  fail("unexpected end of message: a field runs past the end of its enclosing message");
}

// Short ASCII strings — attribute keys and values, metric and scope names — repeat
// across the points of a request and across requests. A small direct-mapped cache
// returns the same string for the same bytes, which saves building it (and the
// garbage), and lets equal keys share memory downstream.
const INTERN_MAX_BYTES = 32;
const INTERN_SLOTS = 4096; // a power of two
const interned: string[] = new Array<string>(INTERN_SLOTS).fill("");

function internAscii(buf: Uint8Array, s: number, e: number): string | undefined {
  let h = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return undefined;
    h = (Math.imul(h, 31) + c) | 0;
  }
  const slot = (h ^ (h >>> 13)) & (INTERN_SLOTS - 1);
  const cached = interned[slot]!;
  const n = e - s;
  if (cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === buf[s + i]) i++;
    if (i === n) return cached;
  }
  const str = String.fromCharCode.apply(null, buf.subarray(s, e) as unknown as number[]);
  interned[slot] = str;
  return str;
}

export class ProtoReader extends BinaryReader {
  readonly u8: Uint8Array;
  /** The number of entries in the run readAttributeRun() last read. */
  attributeCount = 0;
  /** The cached run readAttributeRun() last took, if it took one. */
  lastRun: AttributeRun | undefined = undefined;
  /**
   * Leave exponential-histogram bucket counts encoded (ExpBuckets.varints)
   * where they come as one packed run, for the normaliser to read in place.
   */
  keepBucketVarints = false;
  readonly dv: DataView;
  readonly limits: DecodeLimits;

  constructor(buf: Uint8Array, limits: DecodeLimits) {
    super(buf, decodeUtf8);
    this.u8 = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.limits = limits;
  }

  /** Reads a tag as `field * 8 + wireType`. One-byte tags (fields 1-15) take the fast path. */
  readTag(end: number): number {
    const b = this.u8[this.pos]!;
    if (b >= 8 && b < 0x80 && (b & 7) < 6) {
      this.pos++;
      return b;
    }
    if (b === 0) fail("invalid tag 0 (field number 0)");
    const [field, wt] = this.tag();
    if (this.pos > end) truncated();
    if (wt === EGROUP) fail(`unexpected end-group tag for field ${field}`);
    return field * 8 + wt;
  }

  /** Reads a length prefix and returns the end offset of the value it announces. */
  readLen(end: number): number {
    const buf = this.u8;
    let p = this.pos;
    let b = buf[p++];
    if (b === undefined) fail("unexpected end of input");
    let n = b & 0x7f;
    if (b >= 0x80) {
      let mul = 128;
      for (let i = 1; ; i++) {
        if (i === 5) fail("length prefix is longer than 5 bytes");
        b = buf[p++];
        if (b === undefined) fail("unexpected end of input");
        n += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 128;
      }
    }
    this.pos = p;
    const left = end - p;
    if (n > left) fail(`length ${n} exceeds the ${Math.max(left, 0)} bytes left in the enclosing message`);
    return p + n;
  }

  // Timestamps repeat: every point of an export has the same time, and a stream's points the same
  // start time. The last two fixed64 values read are kept, so that a repeat costs no new BigInt.
  private t0Lo = -1;
  private t0Hi = -1;
  private t0: bigint = 0n;
  private t1Lo = -1;
  private t1Hi = -1;
  private t1: bigint = 0n;

  /** fixed64 as an exact bigint (timestamps). */
  readFixed64Big(end: number): bigint {
    const p = this.pos;
    if (p + 8 > end) truncated();
    this.pos = p + 8;
    const dv = this.dv;
    const lo = dv.getUint32(p, true);
    const hi = dv.getUint32(p + 4, true);
    if (lo === this.t0Lo && hi === this.t0Hi) return this.t0;
    if (lo === this.t1Lo && hi === this.t1Hi) {
      // keep the most recent in slot 0
      const v = this.t1;
      this.t1Lo = this.t0Lo;
      this.t1Hi = this.t0Hi;
      this.t1 = this.t0;
      this.t0Lo = lo;
      this.t0Hi = hi;
      this.t0 = v;
      return v;
    }
    const v = dv.getBigUint64(p, true);
    this.t1Lo = this.t0Lo;
    this.t1Hi = this.t0Hi;
    this.t1 = this.t0;
    this.t0Lo = lo;
    this.t0Hi = hi;
    this.t0 = v;
    return v;
  }

  /** fixed64 as a number; above 2^53-1 is an error. */
  readFixed64Num(end: number, what: string): number {
    const p = this.pos;
    if (p + 8 > end) truncated();
    this.pos = p + 8;
    const hi = this.dv.getUint32(p + 4, true);
    if (hi > 0x1fffff) tooBig(what);
    return hi * TWO32 + this.dv.getUint32(p, true);
  }

  /** sfixed64 as a number; beyond ±(2^53-1) is an error. */
  readSfixed64Num(end: number, what: string): number {
    const p = this.pos;
    if (p + 8 > end) truncated();
    this.pos = p + 8;
    const hi = this.dv.getInt32(p + 4, true);
    if (hi > 0x1fffff || hi < -0x200000) tooBig(what);
    const v = hi * TWO32 + this.dv.getUint32(p, true);
    if (v < -MAX_SAFE) tooBig(what);
    return v;
  }

  readDouble(end: number): number {
    const p = this.pos;
    if (p + 8 > end) truncated();
    this.pos = p + 8;
    return this.dv.getFloat64(p, true);
  }

  /** A uint64 varint as a number; above 2^53-1 is an error. */
  readVarintNum(end: number, what: string): number {
    const buf = this.u8;
    let p = this.pos;
    let b = buf[p++];
    if (b === undefined) truncated();
    let v = b & 0x7f;
    if (b >= 0x80) {
      let mul = 128;
      for (let i = 1; ; i++) {
        if (i === 10) fail(`${what}: varint is longer than 10 bytes`);
        b = buf[p++];
        if (b === undefined) truncated();
        v += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 128;
      }
    }
    if (p > end) truncated();
    this.pos = p;
    if (v > MAX_SAFE) tooBig(what);
    return v;
  }

  /** uint32 / int32 / enum varint (64-bit varints are truncated to their low 32 bits, as protobuf does). */
  readVarint32(end: number): number {
    const v = this.uint32();
    if (this.pos > end) truncated();
    return v;
  }

  readSint32Checked(end: number): number {
    const v = this.sint32();
    if (this.pos > end) truncated();
    return v;
  }

  readBool(end: number): boolean {
    const v = this.bool();
    if (this.pos > end) truncated();
    return v;
  }

  /** int64 varint as an attribute value: a number when exact, else its decimal string. */
  readInt64Attr(end: number): AttrValue {
    const v = this.int64();
    if (this.pos > end) truncated();
    return int64ToAttr(typeof v === "bigint" ? v : BigInt(v));
  }

  /** A string field, limited to maxStringBytes. */
  readString(end: number): string {
    const e = this.readLen(end);
    const s = this.pos;
    const n = e - s;
    if (n > this.limits.maxStringBytes) {
      fail(`string of ${n} bytes exceeds maxStringBytes (${this.limits.maxStringBytes})`);
    }
    this.pos = e;
    if (n === 0) return "";
    if (n <= INTERN_MAX_BYTES) {
      const str = internAscii(this.u8, s, e);
      if (str !== undefined) return str;
    }
    return utf8.decode(this.u8.subarray(s, e));
  }

  /** A bytes field as lowercase hex, limited to maxStringBytes (of input). */
  readBytesHex(end: number): string {
    const e = this.readLen(end);
    const s = this.pos;
    if (e - s > this.limits.maxStringBytes) {
      fail(`bytes value of ${e - s} bytes exceeds maxStringBytes (${this.limits.maxStringBytes})`);
    }
    this.pos = e;
    return toHex(this.u8, s, e);
  }

  /** Skips a field's value without decoding it. */
  skipField(wt: number, field: number, end: number): void {
    switch (wt) {
      case VARINT: {
        const buf = this.u8;
        let p = this.pos;
        for (let i = 0; buf[p++]! >= 0x80; i++) {
          if (i === 9) fail(`field ${field}: varint is longer than 10 bytes`);
        }
        this.pos = p;
        break;
      }
      case I64:
        this.pos += 8;
        break;
      case LEN:
        this.pos = this.readLen(end);
        break;
      case I32:
        this.pos += 4;
        break;
      case SGROUP:
        // Proto2 groups never appear in OTLP but are legal unknown fields; BinaryReader
        // skips them with a recursion limit.
        this.skip(SGROUP, field);
        break;
      case EGROUP:
        fail(`unexpected end-group tag for field ${field}`);
        break;
      default:
        fail(`field ${field} has invalid wire type ${wt}`);
    }
    if (this.pos > end) truncated();
  }

  /**
   * One packed (LEN) run of uint64 elements, checked as
   * readRepeatedVarintNums() checks them (same errors) but left encoded: its
   * place in the buffer and its element count.
   */
  readPackedVarints(end: number, what: string): VarintCounts {
    const e = this.readLen(end);
    const buf = this.u8;
    const start = this.pos;
    // the element count first, as readRepeatedVarintNums() checks it before anything else
    let n = 0;
    for (let i = start; i < e; i++) if (buf[i]! < 0x80) n++;
    if (n > this.limits.maxRepeated) tooMany(what, this.limits.maxRepeated);
    let len = 0; // bytes of the element being read
    for (let i = start; i < e; i++) {
      len++;
      if (buf[i]! < 0x80) {
        // past seven bytes a varint may exceed 2^53: decoded to check
        if (len > 7 && this.varintAt(i - len + 1, i + 1) > MAX_SAFE) tooBig(what);
        len = 0;
      } else if (len === 10) {
        fail(`${what}: varint is longer than 10 bytes`);
      }
    }
    if (len > 0) fail(`${what}: packed varint runs past the end of the field`);
    this.pos = e;
    return { bytes: buf, start, end: e, length: n };
  }

  /** The value of the varint in u8[s, e). */
  private varintAt(s: number, e: number): number {
    let v = 0;
    let mul = 1;
    for (let i = s; i < e; i++) {
      v += (this.u8[i]! & 0x7f) * mul;
      mul *= 128;
    }
    return v;
  }

  /** Packed (LEN) or single (VARINT) uint64 elements appended to `out`. */
  readRepeatedVarintNums(wt: number, field: number, end: number, out: number[], what: string): void {
    const max = this.limits.maxRepeated;
    if (wt === VARINT) {
      if (out.length >= max) tooMany(what, max);
      out.push(this.readVarintNum(end, what));
      return;
    }
    if (wt !== LEN) wrongWire(field, wt, LEN, VARINT);
    const e = this.readLen(end);
    const buf = this.u8;
    let p = this.pos;
    // Count the elements first (one per byte without the continuation bit) so the
    // array is allocated once, at its final size.
    let n = 0;
    for (let i = p; i < e; i++) if (buf[i]! < 0x80) n++;
    const start = out.length;
    if (start + n > max) tooMany(what, max);
    out.length = start + n;
    let k = start;
    while (p < e) {
      let b = buf[p++]!;
      let v: number;
      if (b < 0x80) {
        v = b;
      } else {
        v = b & 0x7f;
        let mul = 128;
        for (let i = 1; ; i++) {
          if (i === 10) fail(`${what}: varint is longer than 10 bytes`);
          if (p >= e) fail(`${what}: packed varint runs past the end of the field`);
          b = buf[p++]!;
          v += (b & 0x7f) * mul;
          if (b < 0x80) break;
          mul *= 128;
        }
        if (v > MAX_SAFE) tooBig(what);
      }
      out[k++] = v;
    }
    this.pos = p;
  }

  /** Packed (LEN) or single (I64) fixed64 elements appended to `out` as numbers. */
  readRepeatedFixed64Nums(wt: number, field: number, end: number, out: number[], what: string): void {
    const max = this.limits.maxRepeated;
    if (wt === I64) {
      if (out.length >= max) tooMany(what, max);
      out.push(this.readFixed64Num(end, what));
      return;
    }
    if (wt !== LEN) wrongWire(field, wt, LEN, I64);
    const e = this.readLen(end);
    const n = e - this.pos;
    if (n % 8 !== 0) fail(`${what}: packed fixed64 field of ${n} bytes is not a multiple of 8`);
    if (out.length + n / 8 > max) tooMany(what, max);
    const dv = this.dv;
    for (let p = this.pos; p < e; p += 8) {
      const hi = dv.getUint32(p + 4, true);
      if (hi > 0x1fffff) tooBig(what);
      out.push(hi * TWO32 + dv.getUint32(p, true));
    }
    this.pos = e;
  }

  /** Packed (LEN) or single (I64) doubles appended to `out`. */
  readRepeatedDoubles(wt: number, field: number, end: number, out: number[], what: string): void {
    const max = this.limits.maxRepeated;
    if (wt === I64) {
      if (out.length >= max) tooMany(what, max);
      out.push(this.readDouble(end));
      return;
    }
    if (wt !== LEN) wrongWire(field, wt, LEN, I64);
    const e = this.readLen(end);
    const n = e - this.pos;
    if (n % 8 !== 0) fail(`${what}: packed double field of ${n} bytes is not a multiple of 8`);
    if (out.length + n / 8 > max) tooMany(what, max);
    const dv = this.dv;
    for (let p = this.pos; p < e; p += 8) out.push(dv.getFloat64(p, true));
    this.pos = e;
  }
}

export function tooMany(what: string, max: number): never {
  fail(`${what} has more than maxRepeated (${max}) elements`);
}

/**
 * One element of a repeated message field (`what`, wire type LEN): read by
 * `read` and kept in `into` unless it gives null (a message the collector
 * does not use). `index` is how many elements of the field came before: the
 * limit applies to it, and an error inside names the element.
 */
export function readRepeatedMessage<T>(
  r: ProtoReader,
  field: number,
  wt: number,
  end: number,
  into: T[],
  index: number,
  what: string,
  read: (r: ProtoReader, end: number) => T | null,
): void {
  if (wt !== LEN) wrongWire(field, wt, LEN);
  if (index >= r.limits.maxRepeated) tooMany(what, r.limits.maxRepeated);
  try {
    const v = read(r, r.readLen(end));
    if (v !== null) into.push(v);
  } catch (e) {
    rethrowAt(e, what, index);
  }
}
