// A sliding window made of fixed time slots. Each slot holds one aggregate
// (a count or a histogram) merged from every replica that reported in that
// slot, so memory depends on the number of slots, not on traffic.

export interface Aggregate<T> {
  empty(): T;
  /** Adds b into a, returning a (may mutate a). */
  add(a: T, b: T): T;
  clone(a: T): T;
}

export interface SlotJSON<T> {
  slot: number;
  value: T;
}

export class SlidingWindow<T> {
  private readonly slots: Array<{ slot: number; value: T } | undefined>;

  constructor(
    private readonly agg: Aggregate<T>,
    private readonly slotMs: number,
    private readonly slotCount: number,
  ) {
    if (!(slotMs > 0) || !(slotCount >= 1))
      throw new RangeError("SlidingWindow needs slotMs > 0 and slotCount >= 1");
    this.slots = new Array(slotCount);
  }

  slotOf(timeMs: number): number {
    return Math.floor(timeMs / this.slotMs);
  }

  /** Adds a value observed at timeMs (collector receive time). */
  add(timeMs: number, value: T): void {
    const slot = this.slotOf(timeMs);
    const i = slot % this.slotCount;
    const cur = this.slots[i];
    if (cur && cur.slot === slot) {
      cur.value = this.agg.add(cur.value, value);
    } else if (!cur || cur.slot < slot) {
      this.slots[i] = { slot, value: this.agg.add(this.agg.empty(), value) };
    }
    // A value for a slot older than the one held here is outside the window: dropped.
  }

  /** The merge of all slots within the window ending at nowMs (the current slot included). */
  merged(nowMs: number): T {
    const newest = this.slotOf(nowMs);
    const oldest = newest - this.slotCount + 1;
    // Start from a copy of the first slot rather than an empty aggregate: an
    // empty histogram starts at the finest scale and would downscale again and again.
    let out: T | undefined;
    for (const s of this.slots) {
      if (!s || s.slot < oldest || s.slot > newest) continue;
      out = out === undefined ? this.agg.clone(s.value) : this.agg.add(out, s.value);
    }
    return out ?? this.agg.empty();
  }

  /** True when no slot inside the window ending at nowMs holds data. */
  isEmpty(nowMs: number): boolean {
    const oldest = this.slotOf(nowMs) - this.slotCount + 1;
    return !this.slots.some((s) => s && s.slot >= oldest);
  }

  toJSON(): SlotJSON<T>[] {
    return this.slots.filter((s): s is { slot: number; value: T } => s !== undefined);
  }

  load(slots: SlotJSON<T>[]): void {
    for (const s of slots) {
      const i = s.slot % this.slotCount;
      const cur = this.slots[i];
      if (!cur || cur.slot < s.slot) this.slots[i] = { slot: s.slot, value: s.value };
    }
  }
}
