// The attribute cache of the protobuf decoder: a data point's attributes
// come as the same bytes in every export of its stream, so the decoded
// object of a recent run of KeyValue fields is kept by those bytes and
// handed out again (frozen) without decoding. Bounded by two generations of
// entries. Not attribute decoding itself (any-value.ts) nor wire reading
// (proto-reader.ts).

import { readAttribute } from "./any-value.js";
import { LEN, type ProtoReader } from "./proto-reader.js";
import type { Attributes, DecodeLimits } from "./types.js";
import { newAttributes } from "./values.js";

// A data point's attributes are the same bytes in every export of its stream, so the
// attribute objects of recent runs are kept by those bytes: a point whose attributes were
// seen lately gets the same (frozen) object again without decoding them, and the normaliser
// recognises its stream by that object. Two generations of at most RUN_CACHE_SIZE entries
// each bound the memory, whatever the attribute cardinality.
const RUN_CACHE_SIZE = 4096;
/** Longer runs are decoded each time: the cache holds at most 2 × 4096 runs of this size. */
const RUN_CACHE_MAX_BYTES = 1024;

export interface AttributeRun {
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

// The cache itself, one per process and owned by this module: shared by every request (and both
// decoders' ProtoReaders) because its worth is in the next export of the same streams.
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
