// One step of a cumulative stream, previous point to delta: in place on the
// previous point held as a histogram (advanceCumulative) or as packed bytes
// (advancePacked, the collector's steady state). Each step checks the whole
// point before it changes anything, so a point the fast path does not take
// leaves everything as it was for the general path (fromOtlp + subtract).
// Not public API: ExpHistogram.advanceCumulative/advancePacked are.

import type { ExpHistogram } from "../exphist.js";
import { DEFAULT_MAX_SIZE, tol } from "../histogram/range.js";
import { MAX_SCALE, MIN_SCALE } from "../mapping.js";
import { materializeBuckets, type OtlpExpHistogramPoint } from "../otlp/point.js";
import { RangeScan, readOtlpRange, scanAtScale, scanPacked } from "../otlp/range-scan.js";
import {
  getF64,
  getU32,
  narrowTotal,
  PACK_WIDE_TOTALS,
  PACK_ZERO_THRESHOLD,
  setF64,
  setU32,
  widthFor,
} from "../packed/format.js";
import { locate } from "../packed/reader.js";
import { packWriter } from "../packed/writer.js";
import {
  assignOtlpRange,
  containsRange,
  deltaFromScratch,
  deltaHead,
  otlpMinusRange,
  settleDeltaExtremes,
  takePointTotals,
  takesPoint,
  viewDifferences,
  writeChanged,
} from "./delta.js";

/** What ExpHistogram.advancePacked() hands back: the delta and the new point packed. */
export interface PackedAdvance {
  delta: ExpHistogram | null;
  packed: Uint8Array;
}

// The scans of a step's positive and negative range, and the result of advancePacked(): one of
// each for every step, since a step reads them out before the next one starts; a RangeScan
// holds three 160-slot arrays that a step would otherwise allocate.
const SCAN_POS = new RangeScan();
const SCAN_NEG = new RangeScan();
const ADVANCE: PackedAdvance = { delta: null, packed: new Uint8Array(0) };

/** ExpHistogram.advanceCumulative() of `h`; `fresh` makes the delta (a histogram with default options). */
export function advanceCumulative(
  h: ExpHistogram,
  p: OtlpExpHistogramPoint,
  fresh: () => ExpHistogram,
): ExpHistogram | null | undefined {
  if (h.maxSize !== DEFAULT_MAX_SIZE || h.maxScale !== MAX_SCALE || h._rejected !== 0) return undefined;
  if (p === null || typeof p !== "object") return undefined;
  materializeBuckets(p.positive);
  materializeBuckets(p.negative);
  const scale = p.scale;
  if (typeof scale !== "number" || !Number.isInteger(scale) || scale > h._scale || scale < MIN_SCALE)
    return undefined;
  const os = h._scale - scale;
  if (!takesPoint(p, h._count, h._zeroThreshold)) return undefined;
  const { count, zeroCount } = p;
  // numbers: takesPoint() checked them
  const sum = p.sum as number;
  const min = p.min as number;
  const max = p.max as number;
  const zt = p.zeroThreshold ?? 0;
  if (os === 0) return advanceAtScale(h, p, count, zeroCount, zt, sum, min, max, fresh);
  // The two ranges: validated, trimmed to [first, last] and summed as fromOtlp() does.
  const ps = SCAN_POS;
  const ns = SCAN_NEG;
  if (!readOtlpRange(p.positive, zeroCount, ps) || !readOtlpRange(p.negative, ps.sum, ns)) return undefined;
  if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
  if (h._zeroCount > zeroCount + tol(zeroCount)) return undefined;
  if (!containsRange(ps, h.pos, os) || !containsRange(ns, h.neg, os)) return undefined;

  const delta = deltaHead(h._count, h._zeroCount, h._sum, zt, scale, count, zeroCount, sum, undefined, fresh);
  if (delta !== null) {
    otlpMinusRange(delta.pos, ps, h.pos, os);
    otlpMinusRange(delta.neg, ns, h.neg, os);
    settleDeltaExtremes(delta, h._min, h._max, min, max);
  }
  assignOtlpRange(h.pos, ps);
  assignOtlpRange(h.neg, ns);
  h._scale = scale;
  takePointTotals(h, zt, count, sum, min, max, zeroCount);
  return delta;
}

/**
 * advanceCumulative() for a point at the histogram's scale (the usual
 * case): one pass per range validates the counts, checks containment and
 * works out the differences (into a scratch array) before anything
 * changes; then the delta and the histogram are written.
 */
function advanceAtScale(
  h: ExpHistogram,
  p: OtlpExpHistogramPoint,
  count: number,
  zeroCount: number,
  zt: number,
  sum: number,
  min: number,
  max: number,
  fresh: () => ExpHistogram,
): ExpHistogram | null | undefined {
  const ps = SCAN_POS;
  const ns = SCAN_NEG;
  if (!scanAtScale(p.positive, zeroCount, h.pos, ps) || !scanAtScale(p.negative, ps.sum, h.neg, ns))
    return undefined;
  if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
  if (h._zeroCount > zeroCount + tol(zeroCount)) return undefined;

  const delta = deltaHead(
    h._count,
    h._zeroCount,
    h._sum,
    zt,
    h._scale,
    count,
    zeroCount,
    sum,
    undefined,
    fresh,
  );
  if (delta !== null) {
    deltaFromScratch(delta.pos, ps, !h.pos.isEmpty);
    deltaFromScratch(delta.neg, ns, !h.neg.isEmpty);
    settleDeltaExtremes(delta, h._min, h._max, min, max);
  }
  assignOtlpRange(h.pos, ps);
  assignOtlpRange(h.neg, ns);
  takePointTotals(h, zt, count, sum, min, max, zeroCount);
  return delta;
}

/** ExpHistogram.advancePacked(); `fresh` makes the delta when there is no `into`. */
export function advancePacked(
  packed: Uint8Array,
  p: OtlpExpHistogramPoint,
  into: ExpHistogram | undefined,
  fresh: () => ExpHistogram,
): PackedAdvance | undefined {
  if (into !== undefined && (into.maxSize !== DEFAULT_MAX_SIZE || into.maxScale !== MAX_SCALE))
    throw new RangeError("ExpHistogram.advancePacked: `into` must be made with the default options");
  const L = locate(packed);
  if (L === null || p === null || typeof p !== "object") return undefined;
  if (L.posN > DEFAULT_MAX_SIZE || L.negN > DEFAULT_MAX_SIZE || L.scale > MAX_SCALE) return undefined;
  const wideBefore = (L.flags & PACK_WIDE_TOTALS) !== 0;
  const t = L.totalsAt;
  const prevCount = wideBefore ? getF64(packed, t) : getU32(packed, t);
  const prevZero = wideBefore ? getF64(packed, t + 8) : getU32(packed, t + 4);
  const rejected = wideBefore ? getF64(packed, t + 16) : getU32(packed, t + 8);
  if (rejected !== 0) return undefined; // advanceCumulative() declines too
  if (p.scale !== L.scale || !takesPoint(p, prevCount, L.zeroThreshold)) return undefined;
  const { scale, count, zeroCount } = p;
  // numbers: takesPoint() checked them
  const sum = p.sum as number;
  const min = p.min as number;
  const max = p.max as number;
  const zt = p.zeroThreshold ?? 0;
  const pw = L.posWidth;
  const nw = L.negWidth;
  const ps = SCAN_POS;
  const ns = SCAN_NEG;
  if (!scanPacked(p.positive, zeroCount, packed, L.posN, L.posLo, L.posAt, pw, ps)) return undefined;
  if (!scanPacked(p.negative, ps.sum, packed, L.negN, L.negLo, L.negAt, nw, ns)) return undefined;
  if (Math.abs(ns.sum - count) > 1e-9 * Math.max(1, count)) return undefined;
  if (prevZero > zeroCount + tol(zeroCount)) return undefined;

  const s = L.sumAt;
  const prevSum = getF64(packed, s);
  const delta = deltaHead(prevCount, prevZero, prevSum, zt, scale, count, zeroCount, sum, into, fresh);
  if (delta !== null) {
    if (into !== undefined) {
      viewDifferences(delta.pos, ps);
      viewDifferences(delta.neg, ns);
    } else {
      deltaFromScratch(delta.pos, ps, L.posN > 0);
      deltaFromScratch(delta.neg, ns, L.negN > 0);
    }
    settleDeltaExtremes(delta, getF64(packed, s + 8), getF64(packed, s + 16), min, max);
  }
  const wide = !(narrowTotal(count) && narrowTotal(zeroCount));
  const ztFlag = Object.is(zt, 0) ? 0 : PACK_ZERO_THRESHOLD;
  const pw2 = widthFor(ps.max, ps.whole);
  const nw2 = widthFor(ns.max, ns.whole);
  const out = ADVANCE;
  out.delta = delta;
  const samePos =
    ps.last < ps.first ? L.posN === 0 : L.posN === ps.last - ps.first + 1 && L.posLo === ps.offset + ps.first;
  const sameNeg =
    ns.last < ns.first ? L.negN === 0 : L.negN === ns.last - ns.first + 1 && L.negLo === ns.offset + ns.first;
  const sameFlags = wide === wideBefore && ztFlag === (L.flags & PACK_ZERO_THRESHOLD);
  if (sameFlags && pw2 === pw && nw2 === nw && samePos && sameNeg) {
    writeChanged(packed, L.posAt, pw, ps, ps.first);
    writeChanged(packed, L.negAt, nw, ns, ns.first);
    setF64(packed, s, sum);
    setF64(packed, s + 8, min);
    setF64(packed, s + 16, max);
    if (wide) {
      setF64(packed, t, count);
      setF64(packed, t + 8, zeroCount);
    } else {
      setU32(packed, t, count);
      setU32(packed, t + 4, zeroCount);
    }
    out.packed = packed;
    return out;
  }
  // the span or a width changed: the point packed anew, as pack() writes it
  const w = packWriter();
  w.head((wide ? PACK_WIDE_TOTALS : 0) | (pw2 << 2) | (nw2 << 4), scale, zt, sum, min, max);
  w.total(count, wide);
  w.total(zeroCount, wide);
  w.total(0, wide);
  w.range(ps.values, ps.offset + ps.first, ps.first, ps.last, pw2);
  w.range(ns.values, ns.offset + ns.first, ns.first, ns.last, nw2);
  out.packed = w.written();
  return out;
}
