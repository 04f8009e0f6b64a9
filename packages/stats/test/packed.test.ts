import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExpHistogram } from "../src/index.js";

const values = fc.array(
  fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: 1e-9, max: 1e-3, noNaN: true }),
    fc.constant(0),
  ),
  { maxLength: 400 },
);

describe("pack / unpack", () => {
  it("round-trips any histogram exactly", () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 4, max: 160 }), (xs, maxSize) => {
        const h = new ExpHistogram({ maxSize });
        for (const x of xs) h.record(x);
        const back = ExpHistogram.unpack(h.pack(), { maxSize });
        expect(back.toJSON()).toEqual(h.toJSON());
        expect(back.rejected).toBe(h.rejected);
      }),
    );
  });

  it("keeps fractional counts (float64 form)", () => {
    const h = new ExpHistogram();
    h.record(3, 0.5);
    h.record(-7, 2.25);
    expect(ExpHistogram.unpack(h.pack()).toJSON()).toEqual(h.toJSON());
  });

  it("is compact: about 40 bytes plus one or two per occupied bucket", () => {
    const h = new ExpHistogram();
    let x = 1;
    for (let i = 0; i < 5000; i++) {
      x = (x * 16807) % 2147483647;
      h.record(40 + (x / 2147483647) * 30);
    }
    const j = h.toJSON();
    const span = j.positive.counts.length;
    expect(h.pack().length).toBeLessThanOrEqual(48 + 2 * span);
  });

  it("a packed histogram merges like the original", () => {
    const a = new ExpHistogram();
    const b = new ExpHistogram();
    for (let i = 1; i < 300; i++) {
      a.record(i * 0.37);
      b.record(1000 / i);
    }
    const m1 = a.clone();
    m1.merge(b);
    const m2 = ExpHistogram.unpack(a.pack());
    m2.merge(ExpHistogram.unpack(b.pack()));
    expect(m2.toJSON()).toEqual(m1.toJSON());
  });

  it("mergePacked gives the same bytes as unpack, merge and pack", () => {
    // Weighted values (some fractional) and a sometimes-raised zero threshold reach the slow path too.
    const hist = fc
      .tuple(
        fc.array(
          fc.tuple(
            values,
            fc.oneof(fc.constant(1), fc.constant(3), fc.double({ min: 0.25, max: 4, noNaN: true })),
          ),
          { maxLength: 3 },
        ),
        fc.oneof(fc.constant(0), fc.constant(0.5)),
        fc.oneof(fc.constant(NaN), fc.constant(1)),
      )
      .map(([groups, zt, bad]) => {
        const h = new ExpHistogram();
        if (zt > 0) h.widenZeroThreshold(zt);
        for (const [xs, w] of groups) for (const x of xs) h.record(x, Number.isInteger(w) ? w : w);
        h.record(bad);
        return h;
      });
    fc.assert(
      fc.property(hist, hist, (a, b) => {
        const expected = ExpHistogram.unpack(a.pack());
        expected.merge(b);
        const before = b.toJSON();
        const want = expected.pack();
        // mergePacked returns a view that the next pack overwrites: copied before anything else packs.
        expect(ExpHistogram.mergePacked(a.pack(), b).slice()).toEqual(want);
        expect(b.toJSON()).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it("mergePacked merges a delta at the same scale without unpacking into the exact union", () => {
    // The window's usual case: same scale, whole counts; checked against merging the originals.
    const a = new ExpHistogram();
    const b = new ExpHistogram();
    for (let i = 0; i < 500; i++) a.record(50 + ((i * 37) % 100) / 10);
    for (let i = 0; i < 20; i++) b.record(45 + i);
    b.downscale(b.scale - a.scale);
    const m = a.clone();
    m.merge(b);
    expect(ExpHistogram.unpack(ExpHistogram.mergePacked(a.pack(), b)).toJSON()).toEqual(m.toJSON());
    const packed = a.pack();
    expect(ExpHistogram.mergePacked(packed, new ExpHistogram())).toBe(packed);
  });

  it("unpackFrom turns one scratch histogram into each packed one in turn, as unpack would", () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 6 }), (groups) => {
        const scratch = new ExpHistogram();
        for (const xs of groups) {
          const h = new ExpHistogram();
          for (const x of xs) h.record(x);
          scratch.unpackFrom(h.pack());
          expect(scratch.toJSON()).toEqual(ExpHistogram.unpack(h.pack()).toJSON());
          // what is left of an earlier, wider histogram must not leak in when the range widens again
          const want = ExpHistogram.unpack(h.pack());
          for (const x of [...(groups[0] ?? []).slice(0, 20), 1e5, -1e-3]) {
            scratch.record(x);
            want.record(x);
          }
          expect(scratch.toJSON()).toEqual(want.toJSON());
        }
      }),
      { numRuns: 200 },
    );
  });

  it("refuses bytes that are not a packed histogram", () => {
    expect(() => ExpHistogram.unpack(new Uint8Array([1, 2, 3]))).toThrow(/not a packed histogram/);
    const good = new ExpHistogram();
    good.record(5);
    const bytes = good.pack();
    expect(() => ExpHistogram.unpack(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => ExpHistogram.unpack(new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
  });
});
