// Building a histogram from outside data, checked: the validation behind
// ExpHistogram.fromJSON() and fromOtlp() (scale, counts that add up, finite
// sum, min <= max), downscaling a range too wide for maxSize, and the
// documented estimates for a missing min, max or sum. Not the public entry
// points themselves (exphist.ts), and not the unchecked fast paths of the
// ingest (cumulative/).

import type { ExpHistogram, ExpHistogramJSON, ExpHistogramOptions } from "../exphist.js";
import { MAX_SCALE, MIN_SCALE } from "../mapping.js";
import { estimateSum, occupiedExtent } from "./cells.js";
import { shiftToFit } from "./range.js";

/** A point's fields as fromJSON() and fromOtlp() hand them to buildChecked(), not yet checked. */
export type UncheckedPoint = {
  [K in Exclude<keyof ExpHistogramJSON, "positive" | "negative">]: unknown;
} & Pick<ExpHistogramJSON, "positive" | "negative">;

/**
 * The histogram `p` describes, or an Error naming the problem (prefixed by
 * `who`). `make` is ExpHistogram's constructor, handed in so that this
 * module does not import the class; it runs once the fields are checked.
 */
export function buildChecked(
  who: string,
  p: UncheckedPoint,
  opts: ExpHistogramOptions,
  requireSum: boolean,
  make: (opts: ExpHistogramOptions) => ExpHistogram,
): ExpHistogram {
  const bad = (msg: string): never => {
    throw new Error(`${who}: ${msg}`);
  };
  const nonNeg = (name: string, v: unknown): number => {
    const n = typeof v === "bigint" || typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
      bad(`${name} must be a finite number >= 0, got ${String(v)}`);
    return n as number;
  };
  if (
    typeof p.scale !== "number" ||
    !Number.isInteger(p.scale) ||
    p.scale < MIN_SCALE ||
    p.scale > MAX_SCALE
  ) {
    bad(`scale must be an integer in [${MIN_SCALE}, ${MAX_SCALE}], got ${String(p.scale)}`);
  }
  const scale = p.scale as number;
  const count = nonNeg("count", p.count);
  const zeroCount = nonNeg("zeroCount", p.zeroCount);
  const zeroThreshold = nonNeg("zeroThreshold", p.zeroThreshold);
  let total = zeroCount;
  for (const r of [p.positive, p.negative]) for (const c of r.counts) total += c;
  if (Math.abs(total - count) > 1e-9 * Math.max(1, count)) {
    bad(
      `bucket counts (${total - zeroCount}) plus zeroCount (${zeroCount}) = ${total} do not add up to count ${count}`,
    );
  }
  const finiteOrUndef = (name: string, v: unknown): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v))
      bad(`${name} must be a finite number, got ${String(v)}`);
    return v as number;
  };
  let sum = finiteOrUndef("sum", p.sum);
  if (sum === undefined && requireSum) bad("sum is missing");
  let min = finiteOrUndef("min", p.min);
  let max = finiteOrUndef("max", p.max);
  if (min !== undefined && max !== undefined && count > 0 && min > max) bad(`min ${min} > max ${max}`);

  const h = make({ ...opts, zeroThreshold, maxScale: opts.maxScale ?? MAX_SCALE });
  h._scale = scale;
  let shift = 0;
  for (const r of [p.positive, p.negative]) {
    if (r.counts.length > 0)
      shift = Math.max(shift, shiftToFit(r.offset, r.offset + r.counts.length - 1, h.maxSize));
  }
  if (scale - shift < MIN_SCALE) bad("bucket range too wide to represent");
  h._scale = scale - shift;
  for (const [r, mine] of [
    [p.positive, h.pos],
    [p.negative, h.neg],
  ] as const) {
    let first = 0;
    let last = r.counts.length - 1;
    while (first <= last && r.counts[first] === 0) first++;
    while (last >= first && r.counts[last] === 0) last--;
    if (first > last) continue;
    mine.reserve((r.offset + first) >> shift, (r.offset + last) >> shift, h.maxSize);
    for (let k = first; k <= last; k++) {
      const c = r.counts[k];
      if (c !== 0) mine.counts[((r.offset + k) >> shift) - mine.base] += c;
      mine.total += c;
    }
  }
  h._count = count;
  h._zeroCount = zeroCount;
  if (count > 0) {
    const [lo, hi] = occupiedExtent(h);
    if (min === undefined) min = lo;
    if (max === undefined) max = hi;
    if (min > max) bad(`min ${min} > max ${max}`);
    h._min = min;
    h._max = max;
    if (sum === undefined) sum = estimateSum(h);
  } else {
    sum = 0;
  }
  h._sum = sum as number;
  return h;
}

/** A range of a JSON or OTLP point, checked: its offset and its counts as numbers. */
export function rangeIn(
  who: string,
  name: string,
  r: unknown,
  key: "counts" | "bucketCounts",
): { offset: number; counts: number[] } {
  if (r === undefined || r === null) return { offset: 0, counts: [] };
  if (typeof r !== "object") throw new Error(`${who}: ${name} must be an object`);
  const o = r as Record<string, unknown>;
  const offset = o.offset ?? 0;
  if (typeof offset !== "number" || !Number.isInteger(offset) || Math.abs(offset) > 2 ** 31) {
    throw new Error(`${who}: ${name}.offset must be an integer, got ${String(offset)}`);
  }
  const raw = o[key] ?? [];
  if (!Array.isArray(raw)) throw new Error(`${who}: ${name}.${key} must be an array`);
  const counts = raw.map((v, i) => {
    const n = typeof v === "bigint" || typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
      throw new Error(`${who}: ${name}.${key}[${i}] must be a finite number >= 0, got ${String(v)}`);
    }
    return n;
  });
  return { offset, counts };
}
