// Wire-format reading for the OTLP decoders, on @bufbuild/protobuf's BinaryReader.
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
import { fail, rethrowAt } from "./errors.js";
import type { Attributes, AttrValue, DecodeLimits } from "./types.js";
import { doubleToJson, int64ToAttr, kvlistToJson, newAttributes, toHex } from "./values.js";

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

// ---------------------------------------------------------------------------
// common.proto / resource.proto

/**
 * Reads one KeyValue (the LEN value of a `repeated KeyValue` field) into `attrs`;
 * `count` is how many entries the field had before this one. Returns the new count.
 */
export function readAttribute(
  r: ProtoReader,
  end: number,
  attrs: Attributes,
  count: number,
  depth = 1,
): number {
  if (count >= r.limits.maxAttributes) fail(`more than maxAttributes (${r.limits.maxAttributes}) attributes`);
  try {
    readKeyValueInto(r, r.readLen(end), attrs, depth);
  } catch (e) {
    rethrowAt(e, "attributes", count);
  }
  return count + 1;
}

// A data point's attributes are the same bytes in every export of its stream, so the
// attribute objects of recent runs are kept by those bytes: a point whose attributes were
// seen lately gets the same (frozen) object again without decoding them, and the normaliser
// recognises its stream by that object. Two generations of at most RUN_CACHE_SIZE entries
// each bound the memory, whatever the attribute cardinality.
const RUN_CACHE_SIZE = 4096;
/** Longer runs are decoded each time: the cache holds at most 2 × 4096 runs of this size. */
const RUN_CACHE_MAX_BYTES = 1024;

interface AttributeRun {
  /** A copy of the run's bytes. */
  bytes: DataView;
  /** The limits it was decoded under: a run is only taken again under the same ones. */
  limits: AttributeLimits;
  attrs: Attributes;
  count: number;
  /**
   * The run of the point that came next the last time this one was read:
   * points come in the same order export after export, so it is tried
   * first, without hashing. Only set while the run is in the cache, and
   * cleared when it leaves, so that a run out of the cache holds no other:
   * however the cache turns over (or hashes are made to collide), the runs
   * kept alive are at most twice those in it.
   */
  next: AttributeRun | undefined;
  hash: number;
  /**
   * The cache generation the run was last put in, or OUT once it has left
   * (pushed out by another run with its hash, or gone with its generation).
   * A run taken through `next` is put back when it is not in the newest one.
   */
  generation: number;
}

const OUT = -1;

let runsNow = new Map<number, AttributeRun>();
let runsBefore = new Map<number, AttributeRun>();
/** Counts the times runsNow became runsBefore. */
let generation = 0;

export const RUN_HASH_SEED = 0x811c9dc5;

/**
 * One step of the run hash: FNV-1a's multiply on a whole word, then the high
 * half folded down (a multiply alone never carries a change in a word's top
 * bits into the low ones, so runs differing there would collide). Each step
 * is a bijection of the state: runs that differ in one word never collide.
 */
export function runHashStep(h: number, word: number): number {
  const m = Math.imul(h ^ word, 0x01000193);
  return m ^ (m >>> 16);
}

/** The run hash of the bytes [s, e) under `dv`, four bytes (one unaligned load) a step. */
function hashBytes(dv: DataView, s: number, e: number): number {
  let h = RUN_HASH_SEED;
  let i = s;
  for (; i + 4 <= e; i += 4) h = runHashStep(h, dv.getInt32(i, true));
  for (; i < e; i++) h = runHashStep(h, dv.getUint8(i));
  return h;
}

/** The limits that decide whether an attribute run decodes. */
type AttributeLimits = Pick<DecodeLimits, "maxAttributes" | "maxDepth" | "maxStringBytes" | "maxRepeated">;

function sameLimits(a: AttributeLimits, b: AttributeLimits): boolean {
  return (
    a === b ||
    (a.maxAttributes === b.maxAttributes &&
      a.maxDepth === b.maxDepth &&
      a.maxStringBytes === b.maxStringBytes &&
      a.maxRepeated === b.maxRepeated)
  );
}

function sameRun(
  run: AttributeRun | undefined,
  dv: DataView,
  s: number,
  e: number,
  limits: DecodeLimits,
): boolean {
  const n = e - s;
  if (run === undefined || run.bytes.byteLength !== n || !sameLimits(run.limits, limits)) return false;
  const bytes = run.bytes;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (bytes.getInt32(i, true) !== dv.getInt32(s + i, true)) return false;
  for (; i < n; i++) if (bytes.getUint8(i) !== dv.getUint8(s + i)) return false;
  return true;
}

/** The cached run for buf[s, e) under `limits`, if any. */
function cachedRun(
  h: number,
  dv: DataView,
  s: number,
  e: number,
  limits: DecodeLimits,
): AttributeRun | undefined {
  const now = runsNow.get(h);
  if (sameRun(now, dv, s, e, limits)) return now;
  const before = runsBefore.get(h);
  if (!sameRun(before, dv, s, e, limits)) return undefined;
  remember(h, before as AttributeRun);
  return before;
}

/** The cache's hash of a run of bytes (for tests: runs that collide are told apart by their bytes). */
export function attributeRunHash(run: Uint8Array): number {
  return hashBytes(new DataView(run.buffer, run.byteOffset, run.byteLength), 0, run.length);
}

/** How many attribute runs are cached (for tests: the cache stays bounded). */
export function cachedAttributeRuns(): number {
  return runsNow.size + runsBefore.size;
}

function remember(h: number, run: AttributeRun): void {
  if (runsNow.size >= RUN_CACHE_SIZE) {
    // runs of the generation that goes (those taken again since are in runsNow too)
    for (const old of runsBefore.values()) if (old.generation !== generation) leave(old);
    runsBefore = runsNow;
    runsNow = new Map();
    generation++;
  }
  const pushed = runsNow.get(h);
  if (pushed !== undefined && pushed !== run) leave(pushed);
  run.generation = generation;
  runsNow.set(h, run);
}

/** Marks a run as out of the cache (see AttributeRun.next). */
function leave(run: AttributeRun): void {
  run.next = undefined;
  run.generation = OUT;
}

/** Runs reachable from the cache, following `next` (for tests: bounded whatever the input). */
export function reachableAttributeRuns(): number {
  const seen = new Set<AttributeRun>();
  for (const map of [runsNow, runsBefore])
    for (let run of map.values())
      while (run !== undefined && !seen.has(run)) {
        seen.add(run);
        run = run.next as AttributeRun;
      }
  return seen.size;
}

/**
 * Reads the run of `repeated KeyValue` fields number `field` (below 16: a
 * one-byte tag) that starts with the tag at offset `at` (already read: r.pos
 * is past it), up to the first other field. Returns the attributes: frozen
 * and shared with every other point whose run had the same bytes (and
 * limits), or, for a run longer than RUN_CACHE_MAX_BYTES, a new object, or
 * for one that does not look like a run (a tag of more than a byte, a length
 * past the end), a new object with the first entry, for the caller to go on
 * with readAttribute(). The entry count is left in `r.attributeCount`. Errors are
 * those of readAttribute().
 */
export function readAttributeRun(r: ProtoReader, end: number, field: number, at: number): Attributes {
  const tag = field * 8 + LEN;
  const buf = r.u8;
  // Where the run ends, without decoding it; a field that does not parse ends it here (and is
  // then decoded, and refused, by readAttribute as usual).
  let n = 0;
  let runEnd = at;
  scan: while (runEnd < end && buf[runEnd] === tag) {
    let q = runEnd + 1;
    let len = 0;
    let mul = 1;
    for (;;) {
      if (q >= end || mul > 2 ** 28) break scan;
      const b = buf[q++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (len > end - q) break;
    runEnd = q + len;
    n++;
  }
  const cacheable = n > 0 && runEnd - at <= RUN_CACHE_MAX_BYTES;
  const prev = r.lastRun;
  r.lastRun = undefined;
  if (!cacheable) return decodeRun(r, end, at, n);
  let run = prev?.next;
  if (run !== undefined && sameRun(run, r.dv, at, runEnd, r.limits)) {
    // in use: kept in the newest generation, as a hit by hash would be
    if (run.generation !== generation) remember(run.hash, run);
  } else {
    const h = hashBytes(r.dv, at, runEnd);
    run = cachedRun(h, r.dv, at, runEnd, r.limits);
    if (run === undefined) {
      const attrs = Object.freeze(decodeRun(r, end, at, n));
      run = {
        bytes: copyOf(buf, at, runEnd),
        limits: r.limits,
        attrs,
        count: r.attributeCount,
        next: undefined,
        hash: h,
        generation,
      };
      remember(h, run);
    }
    if (prev !== undefined && prev.generation !== OUT) prev.next = run;
  }
  r.lastRun = run;
  r.pos = runEnd;
  r.attributeCount = run.count;
  return run.attrs;
}

/** A copy of buf[s, e) in a buffer of its own (a Buffer's slice() would be a view of the whole request). */
function copyOf(buf: Uint8Array, s: number, e: number): DataView {
  const copy = new Uint8Array(e - s);
  copy.set(buf.subarray(s, e));
  return new DataView(copy.buffer);
}

/** Decodes the `n` attribute fields (at least one) from `at` into a new object; the count goes to r.attributeCount. */
function decodeRun(r: ProtoReader, end: number, at: number, n: number): Attributes {
  const attrs = newAttributes();
  r.pos = at;
  let count = 0;
  for (let i = 0; i < Math.max(n, 1); i++) {
    r.readTag(end);
    count = readAttribute(r, end, attrs, count);
  }
  r.attributeCount = count;
  return attrs;
}

/**
 * One attribute field of a data point (number `field`, its tag at `at`, just
 * read): the point's attributes after it, given those before it (`count`
 * entries). The first field takes the whole run through readAttributeRun();
 * a later one (fields interleaved with others) goes into a copy of a shared
 * object. The new count is left in `r.attributeCount`.
 */
export function readPointAttribute(
  r: ProtoReader,
  end: number,
  field: number,
  at: number,
  attrs: Attributes,
  count: number,
): Attributes {
  if (count === 0) return readAttributeRun(r, end, field, at);
  let into = attrs;
  if (Object.isFrozen(attrs)) {
    into = newAttributes();
    for (const k in attrs) into[k] = attrs[k]!;
  }
  r.attributeCount = readAttribute(r, end, into, count);
  return into;
}

/** KeyValue { key = 1; value = 2 }. Last duplicate wins; an empty value removes the key. */
function readKeyValueInto(r: ProtoReader, end: number, attrs: Attributes, depth: number): void {
  let key = "";
  let value: AttrValue | undefined;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      key = r.readString(end);
    } else if (f === 2) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      try {
        value = readAttrValue(r, r.readLen(end), depth);
      } catch (e) {
        rethrowAt(e, "value");
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  if (value === undefined) delete attrs[key];
  else attrs[key] = value;
}

function checkDepth(r: ProtoReader, depth: number): void {
  if (depth > r.limits.maxDepth) fail(`AnyValue nesting exceeds maxDepth (${r.limits.maxDepth})`);
}

/** AnyValue as an attribute value: scalar, hex for bytes, JSON text for array/kvlist, undefined when empty. */
export function readAttrValue(r: ProtoReader, end: number, depth: number): AttrValue | undefined {
  checkDepth(r, depth);
  let v: AttrValue | undefined;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readString(end);
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end);
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readInt64Attr(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = r.readDouble(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readArrayJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readKvlistJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readBytesHex(end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

/** AnyValue as JSON text ("null" when empty). */
function readAnyJson(r: ProtoReader, end: number, depth: number): string {
  checkDepth(r, depth);
  let v = "null";
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = JSON.stringify(r.readString(end));
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end) ? "true" : "false";
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = String(r.readInt64Attr(end)); // exact digits either way: a valid JSON number
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = doubleToJson(r.readDouble(end));
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readArrayJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readKvlistJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = `"${r.readBytesHex(end)}"`;
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

/** ArrayValue { repeated AnyValue values = 1 } as JSON text; its elements are at depth + 1. */
function readArrayJson(r: ProtoReader, end: number, depth: number): string {
  let s = "[";
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxRepeated) tooMany("values", r.limits.maxRepeated);
      try {
        const item = readAnyJson(r, r.readLen(end), depth + 1);
        s += n === 0 ? item : "," + item;
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return s + "]";
}

/** KeyValueList { repeated KeyValue values = 1 } as JSON text; its values are at depth + 1. */
function readKvlistJson(r: ProtoReader, end: number, depth: number): string {
  const entries = new Map<string, string>();
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxAttributes)
        fail(`kvlist has more than maxAttributes (${r.limits.maxAttributes}) entries`);
      try {
        readKeyValueJson(r, r.readLen(end), entries, depth + 1);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return kvlistToJson(entries);
}

function readKeyValueJson(r: ProtoReader, end: number, entries: Map<string, string>, depth: number): void {
  let key = "";
  let value = "null";
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      key = r.readString(end);
    } else if (f === 2) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      try {
        value = readAnyJson(r, r.readLen(end), depth);
      } catch (e) {
        rethrowAt(e, "value");
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  entries.set(key, value);
}

/**
 * A log body (AnyValue): scalars as attribute values, a kvlist as an Attributes map
 * (nested arrays/kvlists as JSON text), an array as AttrValue[] (nested likewise; if
 * an element is empty the whole array is given as JSON text), empty as null.
 */
export function readBody(r: ProtoReader, end: number): AttrValue | Attributes | AttrValue[] | null {
  checkDepth(r, 1);
  let v: AttrValue | Attributes | AttrValue[] | null = null;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readString(end);
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end);
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readInt64Attr(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = r.readDouble(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readBodyArray(r, r.readLen(end));
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readBodyKvlist(r, r.readLen(end));
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readBytesHex(end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

function readBodyArray(r: ProtoReader, end: number): AttrValue[] | string {
  const start = r.pos;
  const out: AttrValue[] = [];
  let hasEmpty = false;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      const n = out.length;
      if (n >= r.limits.maxRepeated) tooMany("values", r.limits.maxRepeated);
      try {
        const item = readAttrValue(r, r.readLen(end), 2);
        if (item === undefined) hasEmpty = true;
        else out.push(item);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  if (!hasEmpty) return out;
  r.pos = start;
  return readArrayJson(r, end, 1);
}

function readBodyKvlist(r: ProtoReader, end: number): Attributes {
  const attrs: Attributes = Object.create(null);
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxAttributes)
        fail(`kvlist has more than maxAttributes (${r.limits.maxAttributes}) entries`);
      try {
        readKeyValueInto(r, r.readLen(end), attrs, 2);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return attrs;
}

/** Resource { repeated KeyValue attributes = 1; dropped_attributes_count = 2; entity_refs = 3 }. */
export function readResourceInto(r: ProtoReader, end: number, attrs: Attributes): void {
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      n = readAttribute(r, end, attrs, n);
    } else if (f === 2) {
      if (wt !== VARINT) wrongWire(f, wt, VARINT);
      r.skipField(wt, f, end);
    } else {
      r.skipField(wt, f, end);
    }
  }
}

/** InstrumentationScope { name = 1; version = 2; attributes = 3; dropped_attributes_count = 4 } (attributes ignored). */
export function readScopeInto(r: ProtoReader, end: number, scope: { name: string; version: string }): void {
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        scope.name = r.readString(end);
        break;
      case 2:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        scope.version = r.readString(end);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      case 4:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
}
