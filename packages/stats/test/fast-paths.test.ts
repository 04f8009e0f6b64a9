// Property tests (fast-check): the ingest fast paths of ExpHistogram give
// exactly what the general paths give — subtract() without a copy against
// the copying subtract, and advanceCumulative() against fromOtlp() followed
// by the copying subtract — including scale changes, zero thresholds,
// resets, missing fields and points that are not contained; and the packed
// forms: advancePacked() and mergePacked() in place against unpack, the
// general operation and pack.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExpHistogram, type OtlpExpHistogramPoint } from "../src/index.js";

fc.configureGlobal({ numRuns: Number(process.env.FC_NUM_RUNS ?? 300) });

/** The general (copying) subtract, private in the class. */
function subtractByCopy(h: ExpHistogram, other: ExpHistogram): void {
  (h as unknown as { subtractByCopy(o: ExpHistogram): void }).subtractByCopy(other);
}

const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.double({ min: 1e-9, max: 1e-3, noNaN: true }),
  fc.double({ min: 40, max: 60, noNaN: true }),
  fc.integer({ min: -20, max: 20 }),
  fc.constant(0),
);
const values = fc.array(value, { minLength: 0, maxLength: 200 });
const maxSize = fc.oneof(fc.integer({ min: 2, max: 24 }), fc.constant(160));
const zeroThreshold = fc.constantFrom(0, 1e-6, 0.5);

function build(xs: number[], opts: { maxSize?: number; zeroThreshold?: number } = {}): ExpHistogram {
  const h = new ExpHistogram(opts);
  for (const x of xs) h.record(x);
  return h;
}

/** Everything observable about a histogram, as plain data. */
function state(h: ExpHistogram) {
  return {
    json: h.toJSON(),
    rejected: h.rejected,
    maxSize: h.maxSize,
    maxScale: h.maxScale,
    positiveSpan: Math.max(0, h.positiveSpan),
    negativeSpan: Math.max(0, h.negativeSpan),
  };
}

/** Outcome of a subtract: the resulting state, or the error message. */
function outcome(f: () => void, h: ExpHistogram) {
  try {
    f();
    return { ok: state(h) };
  } catch (e) {
    return { error: (e as Error).message, unchanged: state(h) };
  }
}

/** Counts the calls of a private method of ExpHistogram while fn runs. */
function countCalls(method: string, fn: () => void): number {
  const proto = ExpHistogram.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = proto[method];
  let n = 0;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    n++;
    return original.apply(this, a);
  };
  try {
    fn();
  } finally {
    proto[method] = original;
  }
  return n;
}

describe("subtract without a copy", () => {
  it("equals the copying subtract, contained or not, at any pair of scales and thresholds", () => {
    let tried = 0;
    const fast = countCalls("subtractAtScale", () =>
      fc.assert(
        fc.property(
          values,
          values,
          values,
          maxSize,
          maxSize,
          zeroThreshold,
          zeroThreshold,
          fc.integer({ min: 0, max: 3 }),
          (xs, ys, zs, sizeA, sizeB, ztA, ztB, rejected) => {
            // a holds ys (so b = ys is contained unless scales or thresholds get in the way); c is unrelated
            const a = build([...xs, ...ys], { maxSize: sizeA, zeroThreshold: ztA });
            for (let i = 0; i < rejected; i++) a.record(Number.NaN);
            const b = build(ys, { maxSize: sizeB, zeroThreshold: ztB });
            if (rejected > 1) b.record(Number.POSITIVE_INFINITY);
            const c = build(zs, { maxSize: sizeB, zeroThreshold: ztA });
            for (const other of [b, c, a.clone()]) {
              tried++;
              const fast = a.clone();
              const general = a.clone();
              const before = state(other);
              expect(outcome(() => fast.subtract(other), fast)).toEqual(
                outcome(() => subtractByCopy(general, other), general),
              );
              expect(state(other)).toEqual(before);
            }
          },
        ),
      ),
    );
    expect(fast).toBeGreaterThan(tried / 3); // the fast path was exercised
  });

  it("leaves the histogram unchanged when the other is not contained", () => {
    const a = build([1, 2, 3]);
    const b = build([1, 2, 3, 4]);
    const before = state(a);
    expect(() => a.subtract(b)).toThrow(/not contained/);
    expect(state(a)).toEqual(before);
  });
});

/** An OTLP point of a histogram, optionally with empty buckets at both ends. */
function toOtlp(h: ExpHistogram, padLeft = 0, padRight = 0): OtlpExpHistogramPoint {
  const j = h.toJSON();
  const range = (r: { offset: number; counts: number[] }) =>
    r.counts.length === 0
      ? { offset: 0, bucketCounts: [] }
      : {
          offset: r.offset - padLeft,
          bucketCounts: [...new Array(padLeft).fill(0), ...r.counts, ...new Array(padRight).fill(0)],
        };
  return {
    scale: j.scale,
    zeroCount: j.zeroCount,
    zeroThreshold: j.zeroThreshold,
    count: j.count,
    sum: j.sum,
    min: j.count > 0 ? j.min : undefined,
    max: j.count > 0 ? j.max : undefined,
    positive: range(j.positive),
    negative: range(j.negative),
  };
}

type Mutation =
  | "none"
  | "reset"
  | "lessInABucket"
  | "noMinMax"
  | "noSum"
  | "stringCount"
  | "otherThreshold"
  | "finerScale"
  | "tooWide";

/** The changes made to an SDK's next point, "none" (the steady state) more often than each other. */
const MUTATIONS: Mutation[] = [
  "none",
  "none",
  "none",
  "reset",
  "lessInABucket",
  "noMinMax",
  "noSum",
  "stringCount",
  "otherThreshold",
  "finerScale",
  "tooWide",
];

/** What the general path makes of the step from p1 to p2: the new state and the delta (or an error). */
function reference(p1: OtlpExpHistogramPoint, p2: OtlpExpHistogramPoint) {
  let next: ExpHistogram;
  try {
    next = ExpHistogram.fromOtlp(p2);
  } catch (e) {
    return { invalid: (e as Error).message };
  }
  const delta = next.clone();
  try {
    subtractByCopy(delta, ExpHistogram.fromOtlp(p1));
  } catch (e) {
    return { next: state(next), notContained: (e as Error).message };
  }
  return { next: state(next), delta: delta.count > 0 ? state(delta) : null };
}

describe("advanceCumulative", () => {
  it("equals fromOtlp() of the next point minus the previous one, or changes nothing", () => {
    let tried = 0;
    let taken = 0;
    fc.assert(
      fc.property(
        values,
        values,
        maxSize,
        zeroThreshold,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(...MUTATIONS),
        (xs, ys, size, zt, padLeft, padRight, mutation) => {
          // an SDK's cumulative histogram, exported twice
          const sdk = build(xs, { maxSize: size, zeroThreshold: zt });
          const p1 = toOtlp(sdk, padLeft, padRight);
          for (const y of ys) sdk.record(y);
          let p2 = toOtlp(sdk, padRight, padLeft);
          switch (mutation) {
            case "reset":
              p2 = toOtlp(build(ys, { maxSize: size, zeroThreshold: zt }));
              break;
            case "lessInABucket": {
              const b = p2.positive.bucketCounts.length > 0 ? p2.positive : p2.negative;
              const k = b.bucketCounts.findIndex((c) => c > 0);
              if (k >= 0) {
                b.bucketCounts[k] -= 1;
                p2.count -= 1;
              }
              break;
            }
            case "noMinMax":
              p2.min = undefined;
              p2.max = undefined;
              break;
            case "noSum":
              p2.sum = undefined;
              break;
            case "stringCount":
              (p2 as unknown as { count: string }).count = String(p2.count);
              break;
            case "otherThreshold":
              p2.zeroThreshold = zt + 1e-9;
              break;
            case "finerScale": {
              // the same counts declared one scale finer (a different histogram, possibly a reset)
              p2.scale += 1;
              break;
            }
            case "tooWide":
              p2.positive = {
                offset: p2.positive.offset - 200,
                bucketCounts: [...new Array(200).fill(0), ...p2.positive.bucketCounts],
              };
              break;
          }
          const ref = reference(p1, p2);
          const last = ExpHistogram.fromOtlp(p1);
          const before = state(last);
          const got = last.advanceCumulative(p2);
          tried++;
          if (got !== undefined) taken++;
          if (got === undefined) {
            expect(state(last)).toEqual(before);
            const fits = p2.positive.bucketCounts.length <= 160 && p2.negative.bucketCounts.length <= 160;
            if (mutation === "none" && fits) {
              // the steady state of a stream takes the fast path (an empty point does not)
              expect(p2.count).toBe(0);
            }
            return;
          }
          expect(ref.invalid).toBeUndefined();
          expect(ref.notContained).toBeUndefined();
          expect(state(last)).toEqual(ref.next);
          expect(got === null ? null : state(got)).toEqual(ref.delta);
        },
      ),
    );
    expect(taken).toBeGreaterThan(tried / 5); // the fast path was exercised
  });

  it("handles a stream's successive exports, the delta of each being what was recorded in between", () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 8 }), maxSize, (batches, size) => {
        const sdk = new ExpHistogram({ maxSize: size });
        const last = ExpHistogram.fromOtlp(toOtlp(sdk));
        const sum = new ExpHistogram({ maxSize: 160 });
        for (const batch of batches) {
          for (const x of batch) sdk.record(x);
          const p = toOtlp(sdk);
          const d = last.advanceCumulative(p);
          if (p.count > 0) expect(d).not.toBeUndefined();
          else expect(d).toBeUndefined(); // an empty point: the general path
          if (d) sum.merge(d);
          if (d === undefined) last.subtract(last); // what the general path would leave: the same point
          expect(state(last)).toEqual(state(ExpHistogram.fromOtlp(p)));
        }
        expect(sum.count).toBe(sdk.count);
        expect(sum.zeroCount).toBe(sdk.zeroCount);
        const at = sdk.scale;
        if (sum.count > 0) {
          expect(sum.bucketsAt(1, Math.min(at, sum.scale))).toEqual(
            sdk.bucketsAt(1, Math.min(at, sum.scale)),
          );
          expect(sum.bucketsAt(-1, Math.min(at, sum.scale))).toEqual(
            sdk.bucketsAt(-1, Math.min(at, sum.scale)),
          );
        }
      }),
    );
  });

  it("returns null, and still moves on, when nothing was recorded in between", () => {
    const sdk = build([1, 2, 3, 50]);
    const last = ExpHistogram.fromOtlp(toOtlp(sdk));
    const p = toOtlp(sdk, 2, 1);
    expect(last.advanceCumulative(p)).toBeNull();
    expect(state(last)).toEqual(state(ExpHistogram.fromOtlp(p)));
  });

  it("takes no point with a different maxSize or fewer values than the last", () => {
    const small = ExpHistogram.fromOtlp(toOtlp(build([1, 2])), { maxSize: 20 });
    expect(small.advanceCumulative(toOtlp(build([1, 2, 3])))).toBeUndefined();
    const last = ExpHistogram.fromOtlp(toOtlp(build([1, 2, 3])));
    expect(last.advanceCumulative(toOtlp(build([1, 2])))).toBeUndefined();
  });
});

/** The point with each range's counts encoded as packed varints (with other bytes around them). */
function withVarints(p: OtlpExpHistogramPoint): OtlpExpHistogramPoint {
  const wire = (b: OtlpExpHistogramPoint["positive"]) => {
    if (!b.bucketCounts.every((c) => Number.isSafeInteger(c) && c >= 0)) return b;
    const bytes: number[] = [0xff, 0x07];
    for (const c of b.bucketCounts) {
      let v = c;
      while (v >= 0x80) {
        bytes.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      bytes.push(v);
    }
    const end = bytes.length;
    bytes.push(0x99);
    const varints = { bytes: Uint8Array.from(bytes), start: 2, end, length: b.bucketCounts.length };
    return { offset: b.offset, bucketCounts: [], varints };
  };
  return { ...p, positive: wire(p.positive), negative: wire(p.negative) };
}

/** xs recorded with weight w each (weights past 255 and 65535 make wider packed counts). */
function weighted(xs: number[], w: number, zt = 0): ExpHistogram {
  const h = new ExpHistogram({ zeroThreshold: zt });
  for (const x of xs) h.record(x, w);
  return h;
}

const weight = fc.constantFrom(1, 3, 200, 300, 40_000, 70_000);

// One histogram that advancePacked() writes deltas into, reused across runs as the normaliser does.
const SCRATCH_DELTA = new ExpHistogram();

describe("advancePacked", () => {
  it("equals unpack, advanceCumulative and pack, in place when it can, or changes nothing", () => {
    let tried = 0;
    let taken = 0;
    let inPlace = 0;
    fc.assert(
      fc.property(
        values,
        values,
        fc.constantFrom("same", "wider", "other"),
        weight,
        zeroThreshold,
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(...MUTATIONS),
        (xs, ys, next, w, zt, pad, mutation) => {
          const sdk = weighted(xs, w, zt);
          const p1 = toOtlp(sdk, pad, pad);
          // the same values again keep the bucket span (the steady state); a little further out
          // widens it by a bucket or so, usually at the same scale; others may do anything
          const more = next === "same" ? xs : next === "wider" ? xs.map((x) => x * 1.05) : ys;
          for (const y of more) sdk.record(y, w);
          let p2 = toOtlp(sdk, pad, 0);
          if (mutation === "reset") p2 = toOtlp(weighted(ys, w, zt));
          if (mutation === "lessInABucket") {
            const k = p2.positive.bucketCounts.findIndex((c) => c > 0);
            if (k >= 0) {
              p2.positive.bucketCounts[k] -= 1;
              p2.count -= 1;
            }
          }
          if (mutation === "noMinMax") p2.min = undefined;
          if (mutation === "noSum") p2.sum = undefined;
          if (mutation === "stringCount") (p2 as unknown as { count: string }).count = String(p2.count);
          if (mutation === "otherThreshold") p2.zeroThreshold = zt + 1e-9;
          if (mutation === "finerScale") p2.scale += 1;
          if (mutation === "tooWide")
            p2.negative = { offset: -300, bucketCounts: [1, ...new Array(200).fill(0), 1] };
          const packed = ExpHistogram.fromOtlp(p1).pack();
          const general = ExpHistogram.unpack(packed);
          const prevScale = general.scale;
          const want = general.advanceCumulative(p2);
          // the delta written into a scratch histogram (views of scratch arrays) is the same
          const again = ExpHistogram.advancePacked(packed.slice(), p2, SCRATCH_DELTA);
          const viaScratch = again === undefined ? undefined : again.delta && state(again.delta);
          // the same point with its counts still as varints, as the collector's decoder leaves them
          const asWire = ExpHistogram.advancePacked(packed.slice(), withVarints(p2));
          const wireResult = asWire && {
            delta: asWire.delta && state(asWire.delta),
            packed: asWire.packed.slice(),
          };
          const bytes = packed.slice();
          const got = ExpHistogram.advancePacked(bytes, p2);
          expect(wireResult).toEqual(
            got && { delta: got.delta && state(got.delta), packed: got.packed.slice() },
          );
          tried++;
          if (got === undefined) {
            expect(bytes).toEqual(packed);
            // declined only where the general path declines too, or at another scale
            if (p2.scale === prevScale) expect(want).toBeUndefined();
            return;
          }
          taken++;
          if (got.packed === bytes) inPlace++;
          expect(want).not.toBeUndefined();
          expect(got.delta === null ? null : state(got.delta)).toEqual(want ? state(want) : null);
          expect(viaScratch).toEqual(want ? state(want) : null);
          expect(got.packed.slice()).toEqual(general.pack());
        },
      ),
    );
    // both ways were exercised: in place, and packed anew
    expect(inPlace).toBeGreaterThan(tried / 15);
    expect(taken - inPlace).toBeGreaterThan(tried / 20);
  });

  it("packs the point anew when its counts outgrow the packed widths", () => {
    const sdk = weighted([1, 2, 3], 200);
    const packed = ExpHistogram.fromOtlp(toOtlp(sdk)).pack();
    sdk.record(2, 100); // 300 no longer fits a byte
    const got = ExpHistogram.advancePacked(packed, toOtlp(sdk));
    expect(got?.delta?.count).toBe(100);
    expect(got?.packed).not.toBe(packed);
    expect(got?.packed.length).toBeGreaterThan(packed.length);
    expect(ExpHistogram.unpack(got?.packed ?? packed).toJSON()).toEqual(sdk.toJSON());
  });
});

describe("advancePacked into a scratch histogram", () => {
  it("hands out a delta that reads as zero outside its buckets, after a longer stream's step", () => {
    const step = (xs: number[], ys: number[]) => {
      const sdk = weighted(xs, 1);
      const packed = ExpHistogram.fromOtlp(toOtlp(sdk)).pack();
      for (const y of ys) sdk.record(y);
      return { packed, p: toOtlp(sdk) };
    };
    // at a coarse scale, both spread over many buckets: A over more positions than B
    const wide = [1, 3, 7, 20, 60, 150];
    const a = step(wide, wide);
    ExpHistogram.advancePacked(a.packed, a.p, SCRATCH_DELTA); // leaves differences in many positions
    const b = step([1, 40], [1, 40]);
    expect(b.p.scale).toBe(a.p.scale);
    const viaScratch = ExpHistogram.advancePacked(b.packed.slice(), b.p, SCRATCH_DELTA)?.delta?.clone();
    const owned = ExpHistogram.advancePacked(b.packed.slice(), b.p)?.delta?.clone();
    expect(viaScratch && owned).toBeTruthy();
    // widening the copies reaches positions the earlier step wrote: they must hold nothing
    viaScratch?.record(100);
    owned?.record(100);
    expect(viaScratch?.toJSON()).toEqual(owned?.toJSON());
  });

  it("reads counts left as varints of any length (up to 2^53), as fromOtlp does", () => {
    const counts = [1, 2 ** 30, 2 ** 52 + 1, 0, 5];
    const p: OtlpExpHistogramPoint = {
      scale: 0,
      zeroCount: 0,
      count: counts.reduce((a, b) => a + b, 0),
      sum: 1,
      min: 1,
      max: 64,
      positive: { offset: 0, bucketCounts: counts },
      negative: { offset: 0, bucketCounts: [] },
    };
    const want = ExpHistogram.fromOtlp(p).toJSON();
    expect(ExpHistogram.fromOtlp(withVarints(p)).toJSON()).toEqual(want);
    const first = { ...p, count: 3, positive: { offset: 0, bucketCounts: [1, 1, 1] } };
    const got = ExpHistogram.advancePacked(ExpHistogram.fromOtlp(first).pack(), withVarints(p));
    expect(ExpHistogram.unpack(got?.packed ?? new Uint8Array(0)).toJSON()).toEqual(want);
  });

  it("refuses a scratch histogram made with other options", () => {
    const s = step1();
    expect(() => ExpHistogram.advancePacked(s.packed, s.p, new ExpHistogram({ maxSize: 20 }))).toThrow(
      /default options/,
    );
  });

  it("leaves a -0 count outside the packed span alone (four-byte and float64 widths)", () => {
    const point = (pos: number[], neg: number[]) => {
      const all = [...pos, ...neg].map((c) => Math.abs(c));
      const count = all.reduce((a, b) => a + b, 0);
      return {
        scale: 0,
        zeroCount: 0,
        count,
        sum: 1,
        min: -8,
        max: 8,
        positive: { offset: 1, bucketCounts: pos },
        negative: { offset: 1, bucketCounts: neg },
      };
    };
    for (const [before, after] of [
      [point([0, 0, 70_000], [2]), point([0, -0, 70_001], [2])],
      [point([70_000], [2]), point([70_001, -0], [2])],
      [point([0, 0, 2.5], [2]), point([-0, 0, 3.5], [2])],
      [point([2.5], [1.5]), point([3.5, -0], [1.5, -0])],
    ]) {
      const packed = ExpHistogram.fromOtlp(before).pack();
      const general = ExpHistogram.unpack(packed);
      general.advanceCumulative(after);
      const got = ExpHistogram.advancePacked(packed, after);
      expect(got?.packed.slice()).toEqual(general.pack());
      expect(ExpHistogram.unpack(got?.packed ?? new Uint8Array(0)).toJSON()).toEqual(general.toJSON());
    }
  });

  it("writes a -0 count that replaces 0 in a float64 range, as pack() of the new point does", () => {
    const p1 = {
      scale: 0,
      zeroCount: 0,
      count: 2.5,
      sum: -9,
      min: -5,
      max: -1,
      positive: { offset: 0, bucketCounts: [] },
      negative: { offset: 0, bucketCounts: [0.5, 0, 2] },
    };
    const p2 = { ...p1, count: 3.5, sum: -12, negative: { offset: 0, bucketCounts: [1.5, -0, 2] } };
    const packed = ExpHistogram.fromOtlp(p1).pack();
    const general = ExpHistogram.unpack(packed);
    general.advanceCumulative(p2);
    const got = ExpHistogram.advancePacked(packed, p2);
    expect(got?.packed.slice()).toEqual(general.pack());
  });
});

function step1() {
  const sdk = weighted([1, 2, 3], 1);
  const packed = ExpHistogram.fromOtlp(toOtlp(sdk)).pack();
  sdk.record(2);
  return { packed, p: toOtlp(sdk) };
}

describe("mergePacked in place", () => {
  it("gives pack()'s bytes of the merge, in place when the delta fits the span and widths", () => {
    let tried = 0;
    let inPlace = 0;
    fc.assert(
      fc.property(values, fc.nat(), fc.nat(), weight, weight, (xs, from, len, wa, wb) => {
        const a = weighted(xs, wa);
        // a part of a's values: the usual delta into a window slot
        const b = weighted(xs.slice(from % (xs.length + 1), (from % (xs.length + 1)) + len), wb);
        if (b.scale > a.scale) b.downscale(b.scale - a.scale);
        const want = ExpHistogram.unpack(a.pack());
        want.merge(b);
        const wanted = want.pack();
        const packed = a.pack();
        const got = ExpHistogram.mergePacked(packed, b);
        tried++;
        if (got === packed) inPlace++;
        expect(got.slice()).toEqual(wanted);
      }),
    );
    expect(inPlace).toBeGreaterThan(tried / 4);
  });
});
