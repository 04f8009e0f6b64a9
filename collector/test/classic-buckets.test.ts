// Classic (explicit-bound) bucket counts from exponential histograms: the walk
// over precomputed thresholds gives exactly what placing each bucket's
// clamped midpoint by binary search gives.

import { DefaultLatencyBuckets } from "@mlwatch/semconv";
import { ExpHistogram } from "@mlwatch/stats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addClassicCounts } from "../src/store/classic-buckets.js";

/** The rule stated in classic-buckets.ts, one bucket at a time. */
function reference(h: ExpHistogram, bounds: readonly number[]): number[] {
  const out = new Array<number>(bounds.length + 1).fill(0);
  const place = (v: number) => {
    const j = bounds.findIndex((b) => b >= v);
    return j < 0 ? bounds.length : j;
  };
  const min = h.count === 0 ? 0 : h.min;
  const max = h.count === 0 ? 0 : h.max;
  const clamp = (v: number) => Math.min(Math.max(v, min), max);
  const neg = h.bucketView(-1);
  let low = h.zeroCount;
  for (let i = neg.lo; i <= neg.hi; i++) low += neg.counts[i - neg.base]!;
  if (low > 0) out[place(clamp(0))]! += low;
  const pos = h.bucketView(1);
  for (let i = pos.lo; i <= pos.hi; i++) {
    const c = pos.counts[i - pos.base]!;
    if (c > 0) out[place(clamp(2 ** ((i + 0.5) * 2 ** -h.scale)))]! += c;
  }
  return out;
}

const boundsArb = fc
  .uniqueArray(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 })
  .map((xs) => xs.sort((a, b) => a - b));

describe("addClassicCounts", () => {
  it("places every bucket where its clamped midpoint falls, at any scale", () => {
    fc.assert(
      fc.property(
        boundsArb,
        fc.array(fc.double({ min: -1e3, max: 1e7, noNaN: true }), { maxLength: 300 }),
        fc.integer({ min: 2, max: 160 }),
        fc.integer({ min: -3, max: 20 }),
        (bounds, values, maxSize, maxScale) => {
          const h = new ExpHistogram({ maxSize, maxScale });
          for (const v of values) h.record(v);
          const got = new Array<number>(bounds.length + 1).fill(0);
          addClassicCounts(h, bounds, got);
          expect(got).toEqual(reference(h, bounds));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("puts values on a bound, just above and just below it, where their buckets' midpoints go", () => {
    const bounds = [...DefaultLatencyBuckets];
    for (const scale of [0, 3, 8, 20]) {
      const h = new ExpHistogram({ maxScale: scale });
      for (const b of bounds)
        for (const v of [b, b * (1 - 1e-12), b * (1 + 1e-12), b * 0.97, b * 1.03]) h.record(v);
      const got = new Array<number>(bounds.length + 1).fill(0);
      addClassicCounts(h, bounds, got);
      expect(got).toEqual(reference(h, bounds));
      expect(got.reduce((a, b) => a + b, 0)).toBe(h.count);
    }
  });
});
