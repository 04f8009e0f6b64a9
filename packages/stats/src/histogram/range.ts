// One signed range of an exponential histogram's buckets (Range) and the
// bucket arithmetic on ranges that merge() and subtract() are built from.
// Not the histogram (exphist.ts), and nothing here knows about packed bytes
// or OTLP points.

export const DEFAULT_MAX_SIZE = 160;

/** The counts of a range that has never held a bucket. */
export const EMPTY = new Float64Array(0);

/**
 * One signed range of buckets: a dense Float64Array of counts in which slot `k`
 * holds bucket index `base + k`; `[lo, hi]` is the occupied index range
 * (empty when hi < lo). Capacity grows by doubling up to the histogram's
 * maxSize, leaving slack on both sides so that widening the range rarely moves
 * data.
 */
export class Range {
  counts: Float64Array = EMPTY;
  base = 0;
  lo = 0;
  hi = -1;
  /** Sum of the counts in this range. */
  total = 0;

  get isEmpty(): boolean {
    return this.hi < this.lo;
  }

  get(index: number): number {
    return index < this.lo || index > this.hi ? 0 : this.counts[index - this.base];
  }

  copy(): Range {
    const r = new Range();
    r.counts = this.counts.slice();
    r.base = this.base;
    r.lo = this.lo;
    r.hi = this.hi;
    r.total = this.total;
    return r;
  }

  clear(): void {
    this.counts = EMPTY;
    this.base = 0;
    this.lo = 0;
    this.hi = -1;
    this.total = 0;
  }

  /** Make room for the index range [lo, hi] (span must be <= maxSize). */
  reserve(lo: number, hi: number, maxSize: number): void {
    if (!this.isEmpty) {
      if (this.lo < lo) lo = this.lo;
      if (this.hi > hi) hi = this.hi;
    }
    const cap = this.counts.length;
    if (lo >= this.base && hi < this.base + cap) {
      this.lo = lo;
      this.hi = hi;
      return;
    }
    const span = hi - lo + 1;
    let newCap = cap === 0 ? 8 : cap * 2;
    if (newCap < span) newCap = span;
    if (newCap > maxSize) newCap = Math.max(maxSize, span);
    const next = new Float64Array(newCap);
    const newBase = lo - ((newCap - span) >> 1);
    if (!this.isEmpty) {
      next.set(this.counts.subarray(this.lo - this.base, this.hi - this.base + 1), this.lo - newBase);
    }
    this.counts = next;
    this.base = newBase;
    this.lo = lo;
    this.hi = hi;
  }

  /** Re-bucket to a scale `by` steps coarser: index i becomes i >> by. */
  downscale(by: number): void {
    if (by <= 0 || this.isEmpty) return;
    const lo = this.lo >> by;
    const hi = this.hi >> by;
    const cap = this.counts.length;
    const next = new Float64Array(cap);
    const newBase = lo - ((cap - (hi - lo + 1)) >> 1);
    const c = this.counts;
    for (let i = this.lo; i <= this.hi; i++) {
      const v = c[i - this.base];
      if (v !== 0) next[(i >> by) - newBase] += v;
    }
    this.counts = next;
    this.base = newBase;
    this.lo = lo;
    this.hi = hi;
  }

  /** The non-empty buckets at a scale `shift` steps coarser, indices ascending (see ExpHistogram.bucketsAt). */
  reindexed(shift: number): { index: Int32Array; counts: Float64Array; length: number } {
    if (this.isEmpty) return { index: new Int32Array(0), counts: new Float64Array(0), length: 0 };
    const cap = (this.hi >> shift) - (this.lo >> shift) + 1;
    const index = new Int32Array(cap);
    const counts = new Float64Array(cap);
    let n = -1;
    const c = this.counts;
    for (let i = this.lo; i <= this.hi; i++) {
      const v = c[i - this.base];
      if (v === 0) continue;
      const j = i >> shift;
      if (n >= 0 && index[n] === j) counts[n] += v;
      else {
        n++;
        index[n] = j;
        counts[n] = v;
      }
    }
    return { index, counts, length: n + 1 };
  }

  /** The occupied buckets, trimmed, as ExpHistogramJSON holds a range. */
  toJSON(): { offset: number; counts: number[] } {
    const t = this.copy();
    t.trim();
    if (t.isEmpty) return { offset: 0, counts: [] as number[] };
    return { offset: t.lo, counts: Array.from(t.counts.subarray(t.lo - t.base, t.hi - t.base + 1)) };
  }

  /** Drop empty buckets at both ends of the occupied range. */
  trim(): void {
    const c = this.counts;
    while (this.lo <= this.hi && c[this.lo - this.base] === 0) this.lo++;
    while (this.hi >= this.lo && c[this.hi - this.base] === 0) this.hi--;
    if (this.hi < this.lo) {
      this.lo = 0;
      this.hi = -1;
    }
  }
}

/** Adds the counts of `theirs`, at a scale `os` steps finer, into `mine`. */
export function addShifted(mine: Range, theirs: Range, os: number, maxSize: number): void {
  if (theirs.isEmpty) return;
  mine.reserve(theirs.lo >> os, theirs.hi >> os, maxSize);
  const tc = theirs.counts;
  const mc = mine.counts;
  const tb = theirs.base;
  const mb = mine.base;
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const v = tc[i - tb];
    if (v !== 0) mc[(i >> os) - mb] += v;
  }
  mine.total += theirs.total;
}

/** Smallest k >= 0 such that [lo >> k, hi >> k] spans at most maxSize buckets. */
export function shiftToFit(lo: number, hi: number, maxSize: number): number {
  let k = 0;
  while ((hi >> k) - (lo >> k) + 1 > maxSize) k++;
  return k;
}

/** Tolerance of subtract() for counts that are not whole numbers. */
export function tol(x: number): number {
  return 1e-9 * Math.max(1, Math.abs(x));
}

export function subtractFail(what: string): never {
  throw new Error(`ExpHistogram.subtract: the histogram to subtract is not contained in this one (${what})`);
}

/**
 * Throws unless every bucket of `theirs`, summed at a scale `os` steps
 * coarser (runs of equal `i >> os`, in index order), fits in `mine`.
 */
export function checkContained(name: string, mine: Range, theirs: Range, os: number, scale: number): void {
  if (theirs.isEmpty) return;
  const tc = theirs.counts;
  const tb = theirs.base;
  let j = 0;
  let v = 0;
  let open = false;
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const c = tc[i - tb];
    if (c === 0) continue;
    const k = i >> os;
    if (open && k !== j) {
      const have = mine.get(j);
      if (v > have + tol(have)) subtractFail(`${name} bucket ${j} at scale ${scale}: ${v} > ${have}`);
      v = 0;
    }
    j = k;
    v += c;
    open = true;
  }
  if (open) {
    const have = mine.get(j);
    if (v > have + tol(have)) subtractFail(`${name} bucket ${j} at scale ${scale}: ${v} > ${have}`);
  }
}

/** Takes the (checked) buckets of `theirs`, `os` steps finer, out of `mine`; then totals and trims it. */
export function removeContained(mine: Range, theirs: Range, os: number): void {
  if (theirs.isEmpty) return;
  const tc = theirs.counts;
  const tb = theirs.base;
  const mc = mine.counts;
  const mb = mine.base;
  let j = 0;
  let v = 0;
  let open = false;
  // Buckets outside mine's occupied range hold 0 and, being checked, are left as they are.
  for (let i = theirs.lo; i <= theirs.hi; i++) {
    const c = tc[i - tb];
    if (c === 0) continue;
    const k = i >> os;
    if (open && k !== j) {
      if (j >= mine.lo && j <= mine.hi) {
        const left = mc[j - mb] - v;
        mc[j - mb] = left > tol(v) ? left : 0;
      }
      v = 0;
    }
    j = k;
    v += c;
    open = true;
  }
  if (open && j >= mine.lo && j <= mine.hi) {
    const left = mc[j - mb] - v;
    mc[j - mb] = left > tol(v) ? left : 0;
  }
  let total = 0;
  for (let i = mine.lo; i <= mine.hi; i++) total += mc[i - mb];
  mine.total = total;
  mine.trim();
  if (mine.isEmpty) mine.clear();
}
