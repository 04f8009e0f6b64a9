// A sliding window of exponential histograms, built for memory: every slot,
// the one being filled included, is kept packed (ExpHistogram.pack: ~40
// bytes plus one or two per bucket of the occupied span) in one byte buffer
// per series (with a little spare room, see byte-room.ts), so a window of N
// slots costs N small records and no live histogram. A delta joins the
// newest slot through ExpHistogram.mergePacked, which adds it into the
// packed counts in place when their span and widths hold it. Old slots drop
// off the front as the window moves.

import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";
import { withRoom } from "./byte-room.js";
import type { SlotJSON } from "./sliding-window.js";

const NONE = new Uint8Array(0);

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Writes v as a varint at `at`; returns the next offset. */
function writeVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[at++] = v;
  return at;
}

// readVarint() hands its second result back through here rather than in a fresh array.
let READ_AT = 0;

/** Reads a varint at `at`; the offset after it is left in READ_AT. */
function readVarint(buf: Uint8Array, at: number): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[at++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      READ_AT = at;
      return v;
    }
    mul *= 0x80;
  }
}

// Each further slot of a merge is unpacked into this one histogram: a histogram of
// its own per slot would cost a bucket array allocated outside the heap, several
// times the price of the merge itself.
const SLOT = new ExpHistogram();

export class HistogramWindow {
  /**
   * The slots held, oldest first, in records[start, length): slot id
   * (varint), length (varint), packed histogram. Slots that leave the
   * window only move `start` on; the records are moved back to the front
   * when the buffer's end is reached (see writeRecord).
   */
  private records: Uint8Array = NONE;
  private start = 0;
  private length = 0;
  /** Number of records held. */
  private held = 0;
  /** Slot id of the newest record (meaningless while there are none). */
  private newestSlot = 0;
  /** Offset of the newest record. */
  private newestAt = 0;

  constructor(
    private readonly slotMs: number,
    private readonly slotCount: number,
  ) {
    if (!(slotMs > 0) || !(slotCount >= 1))
      throw new RangeError("HistogramWindow needs slotMs > 0 and slotCount >= 1");
  }

  slotOf(timeMs: number): number {
    return Math.floor(timeMs / this.slotMs);
  }

  /** Adds values observed at timeMs (collector receive time). `delta` is read, never kept. */
  add(timeMs: number, delta: ExpHistogram): void {
    const slot = this.slotOf(timeMs);
    if (this.length > this.start && slot <= this.newestSlot) {
      // Late data for an older slot still in the window lands in the newest slot.
      if (slot > this.newestSlot - this.slotCount) this.mergeIntoNewest(delta);
      return;
    }
    this.append(slot, delta.packView());
  }

  /** The merge of every slot within the window ending at nowMs. */
  merged(nowMs: number): ExpHistogram {
    const newest = this.slotOf(nowMs);
    const oldest = newest - this.slotCount + 1;
    let out: ExpHistogram | undefined;
    this.forEachRecord((slot, bytes) => {
      if (slot < oldest || slot > newest) return;
      if (out === undefined) {
        out = ExpHistogram.unpack(bytes);
      } else {
        SLOT.unpackFrom(bytes);
        out.merge(SLOT);
      }
    });
    return out ?? new ExpHistogram();
  }

  /** Every slot held, oldest first (for checkpoints). */
  toJSON(): SlotJSON<ExpHistogramJSON>[] {
    const out: SlotJSON<ExpHistogramJSON>[] = [];
    this.forEachRecord((slot, bytes) => out.push({ slot, value: ExpHistogram.unpack(bytes).toJSON() }));
    return out;
  }

  /**
   * Every slot held as one base64 string of its packed records, oldest first
   * (for checkpoints: the bytes as they are, nothing unpacked, so a
   * checkpoint costs several times less than with JSON bucket arrays; see
   * docs/benchmarks.md).
   */
  toPacked(): string {
    const r = this.records;
    return Buffer.from(r.buffer, r.byteOffset + this.start, this.length - this.start).toString("base64");
  }

  /** Restores slots from a checkpoint (replacing what is held): toPacked()'s string, or toJSON()'s slots. */
  load(slots: string | SlotJSON<ExpHistogramJSON>[]): void {
    this.records = NONE;
    this.start = 0;
    this.length = 0;
    this.held = 0;
    if (typeof slots === "string") {
      const buf = new Uint8Array(Buffer.from(slots, "base64"));
      let at = 0;
      let last = Number.NEGATIVE_INFINITY;
      while (at < buf.length) {
        const slot = readVarint(buf, at);
        const len = readVarint(buf, READ_AT);
        const body = READ_AT;
        if (!(slot > last) || body + len > buf.length)
          throw new Error("window: packed slots out of order or cut short");
        last = slot;
        // unpacked and packed again: bytes that are not a packed histogram are refused here
        this.append(slot, ExpHistogram.unpack(buf.subarray(body, body + len)).packView());
        at = body + len;
      }
      return;
    }
    for (const s of [...slots].sort((a, b) => a.slot - b.slot))
      this.append(s.slot, ExpHistogram.fromJSON(s.value).packView());
  }

  /** Bytes held for the window, spare room included (for memory accounting). */
  get packedBytes(): number {
    return this.records.length;
  }

  /** Adds a record (copying `packed`) for a slot newer than any held, dropping the slots that leave the window. */
  private append(slot: number, packed: Uint8Array): void {
    const oldest = slot - this.slotCount + 1;
    const buf = this.records;
    // the records of slots that leave the window, oldest first, are stepped over
    let keepFrom = this.start;
    while (keepFrom < this.length && readVarint(buf, keepFrom) < oldest) {
      const len = readVarint(buf, READ_AT);
      keepFrom = READ_AT + len;
      this.held--;
    }
    this.held++;
    this.newestAt = this.writeRecord(keepFrom, this.length - keepFrom, slot, packed);
    this.newestSlot = slot;
  }

  /** Merges a delta into the newest slot, rewriting its record. */
  private mergeIntoNewest(delta: ExpHistogram): void {
    const slot = readVarint(this.records, this.newestAt);
    const len = readVarint(this.records, READ_AT);
    const body = this.records.subarray(READ_AT, READ_AT + len);
    const merged = ExpHistogram.mergePacked(body, delta);
    if (merged !== body)
      this.newestAt = this.writeRecord(this.start, this.newestAt - this.start, slot, merged);
  }

  /**
   * Keeps the `kept` bytes at `from` followed by a record for `slot`, and
   * returns the record's offset. In place when the buffer has room (see
   * byte-room.ts): where they are while the record fits after them, else
   * moved to the front first, so that a full window moves its records once
   * every few slots rather than with every slot. A window still filling up
   * grows fourfold (up to room for all its slots at their average size so
   * far) rather than a little with every slot; once full, it is trimmed to
   * its size (plus a little room).
   */
  private writeRecord(from: number, kept: number, slot: number, packed: Uint8Array): number {
    const need = kept + varintLength(slot) + varintLength(packed.length) + packed.length;
    const full = this.held >= this.slotCount;
    let buf = this.records;
    let at = 0;
    // A full window whose buffer is well over its size (room guessed while filling) is trimmed.
    if (need <= buf.length && !(full && buf.length > need + (need >> 2) + 16)) {
      if (from + need <= buf.length) at = from;
      else buf.copyWithin(0, from, from + kept);
    } else {
      // room for up to four times as many slots while filling (fewer reallocations on the way);
      // a series that only ever fills a few slots is never trimmed, so it holds at most that
      buf = withRoom(full ? need : Math.ceil(need * Math.min(4, this.slotCount / this.held)));
      buf.set(this.records.subarray(from, from + kept), 0);
      this.records = buf;
    }
    const record = at + kept;
    buf.set(packed, writeVarint(buf, writeVarint(buf, record, slot), packed.length));
    this.start = at;
    this.length = at + need;
    return record;
  }

  private forEachRecord(fn: (slot: number, bytes: Uint8Array) => void): void {
    const buf = this.records;
    let at = this.start;
    while (at < this.length) {
      const slot = readVarint(buf, at);
      const len = readVarint(buf, READ_AT);
      const start = READ_AT;
      fn(slot, buf.subarray(start, start + len));
      at = start + len;
    }
  }
}
