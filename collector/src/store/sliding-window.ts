// A sliding window of counts made of fixed time slots. Each slot holds the
// sum of what every replica reported in that slot, so memory depends on the
// number of slots, not on traffic. Slot ids and sums live side by side in one
// array of doubles (16 bytes a slot): a counter series has a window each, and
// an object per slot would cost several times that. A plain array rather than
// a Float64Array: on the heap, it is quicker to make and has less overhead.

export interface SlotJSON<T> {
  slot: number;
  value: T;
}

export class CountWindow {
  /** Ring of [slot id, sum] pairs at 2i and 2i + 1; NaN slot ids are empty. */
  private readonly cells: number[];

  constructor(
    private readonly slotMs: number,
    private readonly slotCount: number,
  ) {
    if (!(slotMs > 0) || !(slotCount >= 1))
      throw new RangeError("CountWindow needs slotMs > 0 and slotCount >= 1");
    this.cells = new Array<number>(2 * slotCount).fill(Number.NaN);
  }

  slotOf(timeMs: number): number {
    return Math.floor(timeMs / this.slotMs);
  }

  /** Adds a value observed at timeMs (collector receive time). */
  add(timeMs: number, value: number): void {
    this.addToSlot(this.slotOf(timeMs), value);
  }

  /** The sum of all slots within the window ending at nowMs (the current slot included). */
  merged(nowMs: number): number {
    const newest = this.slotOf(nowMs);
    const oldest = newest - this.slotCount + 1;
    const c = this.cells;
    let sum = 0;
    for (let i = 0; i < c.length; i += 2) {
      const slot = c[i];
      if (slot >= oldest && slot <= newest) sum += c[i + 1];
    }
    return sum;
  }

  /** True when no slot inside the window ending at nowMs holds data. */
  isEmpty(nowMs: number): boolean {
    const oldest = this.slotOf(nowMs) - this.slotCount + 1;
    const c = this.cells;
    for (let i = 0; i < c.length; i += 2) if (c[i] >= oldest) return false;
    return true;
  }

  toJSON(): SlotJSON<number>[] {
    const out: SlotJSON<number>[] = [];
    const c = this.cells;
    for (let i = 0; i < c.length; i += 2) if (!Number.isNaN(c[i])) out.push({ slot: c[i], value: c[i + 1] });
    return out;
  }

  /** Restores slots from a checkpoint (a slot already held keeps its value). */
  load(slots: SlotJSON<number>[]): void {
    for (const s of slots) this.addToSlot(s.slot, s.value, false);
  }

  /**
   * Takes the slot's place in the ring when what it holds is older (or
   * nothing), and adds to it when it is the same slot and `sum` is set; a
   * value older than the slot held there is outside the window: dropped.
   */
  private addToSlot(slot: number, value: number, sum = true): void {
    const i = 2 * (((slot % this.slotCount) + this.slotCount) % this.slotCount);
    const c = this.cells;
    const held = c[i];
    if (held === slot) {
      if (sum) c[i + 1] += value;
    } else if (Number.isNaN(held) || held < slot) {
      c[i] = slot;
      c[i + 1] = value;
    }
  }
}
