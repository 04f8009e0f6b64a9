// A sliding window of exponential histograms, built for memory: only the
// current slot is a live (growable) histogram; every finished slot is
// packed (ExpHistogram.pack: ~40 bytes plus a byte or two per occupied
// bucket) into one byte buffer per series, so a window of N slots costs
// about one histogram plus N small records, not N histograms. Old slots drop
// off the front as the window moves.

import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";
import type { SlotJSON } from "./sliding-window.js";

const NONE = new Uint8Array(0);

function writeVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Reads a varint at `at`; returns [value, next offset]. */
function readVarint(buf: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[at++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, at];
    mul *= 0x80;
  }
}

export class HistogramWindow {
  private current: { slot: number; h: ExpHistogram } | undefined;
  /** Finished slots, oldest first, as records: slot id (varint), length (varint), packed histogram. */
  private sealed: Uint8Array = NONE;

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

  /** Adds values observed at timeMs (collector receive time). */
  add(timeMs: number, delta: ExpHistogram): void {
    const slot = this.slotOf(timeMs);
    const cur = this.current;
    if (cur && slot <= cur.slot) {
      // Late data for an older slot still in the window lands in the current slot.
      if (slot > cur.slot - this.slotCount) cur.h.merge(delta);
      return;
    }
    if (cur) this.seal(slot);
    this.current = { slot, h: delta.clone() };
  }

  /** The merge of every slot within the window ending at nowMs (the current slot included). */
  merged(nowMs: number): ExpHistogram {
    const newest = this.slotOf(nowMs);
    const oldest = newest - this.slotCount + 1;
    // A current slot the clock has moved past is finished: pack it now.
    if (this.current && this.current.slot < newest) this.seal(newest);
    let out: ExpHistogram | undefined;
    this.forEachSealed((slot, bytes) => {
      if (slot < oldest || slot > newest) return;
      const h = ExpHistogram.unpack(bytes);
      if (out) out.merge(h);
      else out = h;
    });
    const cur = this.current;
    if (cur && cur.slot >= oldest && cur.slot <= newest) {
      if (out) out.merge(cur.h);
      else out = cur.h.clone();
    }
    return out ?? new ExpHistogram();
  }

  /** Every slot held, oldest first (for checkpoints). */
  toJSON(): SlotJSON<ExpHistogramJSON>[] {
    const out: SlotJSON<ExpHistogramJSON>[] = [];
    this.forEachSealed((slot, bytes) => out.push({ slot, value: ExpHistogram.unpack(bytes).toJSON() }));
    if (this.current) out.push({ slot: this.current.slot, value: this.current.h.toJSON() });
    return out;
  }

  /** Restores slots from a checkpoint (all packed; the next add starts a new current slot). */
  load(slots: SlotJSON<ExpHistogramJSON>[]): void {
    const sorted = [...slots].sort((a, b) => a.slot - b.slot);
    const parts: Uint8Array[] = [];
    for (const s of sorted) parts.push(this.record(s.slot, ExpHistogram.fromJSON(s.value).pack()));
    this.sealed = concat(parts);
    this.current = undefined;
  }

  /** Bytes held for finished slots (for memory accounting). */
  get packedBytes(): number {
    return this.sealed.length;
  }

  /** Packs the current slot onto the end, dropping slots that have left the window ending at `newest`. */
  private seal(newest: number): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    const oldest = newest - this.slotCount + 1;
    let keepFrom = this.sealed.length;
    let at = 0;
    while (at < this.sealed.length) {
      const [slot, a] = readVarint(this.sealed, at);
      const [len, b] = readVarint(this.sealed, a);
      if (slot >= oldest) {
        keepFrom = at;
        break;
      }
      at = b + len;
    }
    const kept = this.sealed.subarray(keepFrom);
    const parts = cur.slot >= oldest ? [kept, this.record(cur.slot, cur.h.pack())] : [kept];
    this.sealed = concat(parts);
  }

  private record(slot: number, packed: Uint8Array): Uint8Array {
    const head: number[] = [];
    writeVarint(head, slot);
    writeVarint(head, packed.length);
    const out = new Uint8Array(head.length + packed.length);
    out.set(head);
    out.set(packed, head.length);
    return out;
  }

  private forEachSealed(fn: (slot: number, bytes: Uint8Array) => void): void {
    let at = 0;
    while (at < this.sealed.length) {
      const [slot, a] = readVarint(this.sealed, at);
      const [len, b] = readVarint(this.sealed, a);
      fn(slot, this.sealed.subarray(b, b + len));
      at = b + len;
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  if (n === 0) return NONE;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
