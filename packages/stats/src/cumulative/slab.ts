// The memory the bucket arrays of cumulative-to-delta results live in: one
// shared slab of doubles that deltas take views of, and the allocation of
// the arrays a stream's own previous point keeps. Not the arithmetic of the
// step (delta.ts, advance.ts).

import { DEFAULT_MAX_SIZE, EMPTY, type Range } from "../histogram/range.js";

// DELTA_SLAB: bucket arrays of the deltas advanceCumulative() hands out are views into it, shared
// by every delta: allocating a Float64Array of its own costs about as much as the whole step, and
// a delta is normally consumed (merged or cloned) at once. A delta kept as it is pins its slab:
// keep a clone(). Only reserveTransient() touches it.
const SLAB_DOUBLES = 8192;
let DELTA_SLAB = EMPTY;
let slabAt = 0;

/** reserve() on the empty range `r`, with its counts in the shared slab. */
export function reserveTransient(r: Range, lo: number, hi: number): void {
  const span = hi - lo + 1;
  const cap = Math.max(8, span);
  if (slabAt + cap > DELTA_SLAB.length) {
    DELTA_SLAB = new Float64Array(Math.max(cap, SLAB_DOUBLES));
    slabAt = 0;
  }
  r.counts = DELTA_SLAB.subarray(slabAt, slabAt + cap);
  slabAt += cap;
  r.base = lo - ((cap - span) >> 1);
  r.lo = lo;
  r.hi = hi;
}

/**
 * Gives the range a new, zeroed array for [lo, hi] (at most DEFAULT_MAX_SIZE
 * buckets), with a quarter more room, centred: a stream's cumulative range
 * keeps widening a little, and each new array costs about as much as a step.
 */
export function reallocateFor(r: Range, lo: number, hi: number): void {
  const span = hi - lo + 1;
  const cap = Math.min(DEFAULT_MAX_SIZE, Math.max(8, span + (span >> 2) + 4));
  r.counts = new Float64Array(cap);
  r.base = lo - ((cap - span) >> 1);
  r.lo = lo;
  r.hi = hi;
}
