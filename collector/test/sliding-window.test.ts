import { describe, expect, it } from "vitest";
import { CountWindow } from "../src/store/sliding-window.js";

describe("CountWindow", () => {
  it("merges the slots inside the window and forgets older ones", () => {
    const w = new CountWindow(1000, 3); // a 3 s window of 1 s slots
    w.add(0, 1);
    w.add(999, 2);
    w.add(1000, 4);
    w.add(2500, 8);
    expect(w.merged(2999)).toBe(15);
    expect(w.merged(3000)).toBe(12); // slot 0 left the window
    w.add(3100, 16); // reuses slot 0's place
    expect(w.merged(3100)).toBe(28);
    expect(w.merged(10_000)).toBe(0);
    expect(w.isEmpty(10_000)).toBe(true);
  });

  it("drops a value older than the slot now held in its place", () => {
    const w = new CountWindow(1000, 2);
    w.add(5000, 1);
    w.add(3000, 100); // same ring position as 5000, two slots older
    expect(w.merged(5000)).toBe(1);
  });

  it("keeps the first of two checkpointed values for one slot, as before a restart", () => {
    const w = new CountWindow(1000, 4);
    w.load([
      { slot: 2, value: 5 },
      { slot: 2, value: 7 },
      { slot: 6, value: 1 }, // same place as slot 2, newer: takes it
    ]);
    expect(w.toJSON()).toEqual([{ slot: 6, value: 1 }]);
    w.load([{ slot: 5, value: 3 }]);
    expect(w.merged(6000)).toBe(4);
  });

  it("round-trips through JSON", () => {
    const w = new CountWindow(1000, 4);
    w.add(1000, 3);
    w.add(2000, 5);
    const copy = new CountWindow(1000, 4);
    copy.load(JSON.parse(JSON.stringify(w.toJSON())));
    expect(copy.merged(2000)).toBe(8);
  });
});
