import { ExpHistogram } from "@mlwatch/stats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HistogramWindow } from "../src/store/histogram-window.js";

function hist(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe("HistogramWindow", () => {
  it("equals the merge of the slots inside the window, as slots are packed and dropped", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 40 }),
            fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 20 }),
          ),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 8 }),
        (events, slots) => {
          const w = new HistogramWindow(1000, slots);
          // In time order, as the collector receives them.
          const sorted = [...events].sort((a, b) => a[0] - b[0]);
          for (const [second, values] of sorted) w.add(second * 1000, hist(values));
          const now = (sorted.at(-1)?.[0] ?? 0) * 1000;
          const expected = new ExpHistogram();
          for (const [second, values] of sorted)
            if (second > now / 1000 - slots) expected.merge(hist(values));
          const got = w.merged(now);
          expect(got.count).toBe(expected.count);
          expect(got.sum).toBeCloseTo(expected.sum, 6);
          const e = expected.clone();
          if (e.scale > got.scale) e.downscale(e.scale - got.scale);
          expect(got.toJSON().positive).toEqual(e.toJSON().positive);
          expect(got.toJSON().negative).toEqual(e.toJSON().negative);
        },
      ),
    );
  });

  it("holds exactly the slots a plain list would, add after add, as records wrap round its buffer", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            // seconds since the last add: the same slot, the next, or a jump
            fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 12 })),
            // mostly like-sized deltas, now and then a much wider one
            fc.array(fc.double({ min: 1, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 60 }),
          ),
          { minLength: 50, maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 10 }),
        (steps, slots) => {
          const w = new HistogramWindow(1000, slots);
          const list = new Map<number, ExpHistogram>();
          let second = 0;
          for (const [gap, values] of steps) {
            second += gap;
            const h = hist(values);
            w.add(second * 1000, h);
            const slot = Math.max(second, ...list.keys());
            if (!list.has(slot)) list.set(slot, new ExpHistogram());
            list.get(slot)!.merge(h);
            for (const k of list.keys()) if (k <= slot - slots) list.delete(k);
            const expected = [...list].map(([k, v]) => ({ slot: k, value: v.toJSON() }));
            expect(w.toJSON()).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("forgets everything once the window has moved past it, and round-trips through a checkpoint", () => {
    const w = new HistogramWindow(1000, 3);
    w.add(0, hist([1, 2]));
    w.add(1000, hist([3]));
    w.add(2500, hist([4, 5, 6]));
    expect(w.merged(2999).count).toBe(6);
    expect(w.merged(3000).count).toBe(4);
    const copy = new HistogramWindow(1000, 3);
    copy.load(JSON.parse(JSON.stringify(w.toJSON())));
    expect(copy.merged(3000).toJSON()).toEqual(w.merged(3000).toJSON());
    expect(w.merged(10_000).count).toBe(0);
  });

  it("never changes the histogram it was given", () => {
    const w = new HistogramWindow(1000, 2);
    const d = hist([1, 2, 3]);
    const before = d.toJSON();
    w.add(0, d);
    w.add(100, hist([4]));
    expect(d.toJSON()).toEqual(before);
  });
});
