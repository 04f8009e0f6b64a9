/**
 * Index mapping of the OpenTelemetry exponential histogram data model.
 *
 * At scale `s` the base is `2^(2^-s)` and bucket `i` covers the half-open
 * interval `(base^i, base^(i+1)]` of absolute values. The mapping is exact at
 * every power of two (read straight from the IEEE-754 exponent bits); between
 * powers of two it uses `ceil(ln(v) * 2^s / ln 2) - 1` for positive scales
 * (the "logarithm method" of the OTel specification, which may be off by one
 * bucket only for values within a few ulps of a bucket boundary) and pure
 * exponent arithmetic for scales <= 0, which is exact.
 *
 * Subnormal values are mapped to the bucket whose upper boundary is the
 * smallest normal number, 2^-1022, as the specification recommends.
 */

export const MIN_SCALE = -10;
export const MAX_SCALE = 20;

// A value's bits are read through this one register, owned by this module: a typed-array view
// costs more to create than the index computation, and each read finishes within one call.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Word order of a float64 viewed as two uint32s depends on the platform's endianness.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Bucket index of a positive, finite, non-zero absolute value at `scale`. */
export function mapToIndex(v: number, scale: number): number {
  f64[0] = v;
  const hi = u32[HI];
  const rawExp = (hi >>> 20) & 0x7ff;
  if (rawExp === 0) {
    // subnormal: the bucket whose upper bound is 2^-1022
    return scale > 0 ? (-1022 << scale) - 1 : -1023 >> -scale;
  }
  const exp = rawExp - 1023;
  const exactPow2 = (hi & 0xfffff) === 0 && u32[LO] === 0;
  if (scale <= 0) return (exactPow2 ? exp - 1 : exp) >> -scale;
  if (exactPow2) return (exp << scale) - 1;
  // v lies strictly inside the octave (2^exp, 2^(exp+1)), i.e. in buckets
  // [exp·2^s, (exp+1)·2^s - 1]; clamping to that range makes the mapping exact
  // next to powers of two, where the logarithm alone can be one bucket off.
  const i = Math.ceil(Math.log(v) * SCALE_FACTOR[scale]) - 1;
  const first = exp << scale;
  if (i < first) return first;
  const last = ((exp + 1) << scale) - 1;
  return Math.min(i, last);
}

const SCALE_FACTOR: number[] = [];
for (let s = 0; s <= MAX_SCALE; s++) SCALE_FACTOR[s] = Math.LOG2E * 2 ** s;

/**
 * Lower boundary `base^index` of bucket `index` at `scale` (absolute value).
 * Exact at powers of two; otherwise correct to about one ulp. Can return 0 or
 * Infinity at the very ends of the float64 range.
 */
export function lowerBoundary(index: number, scale: number): number {
  if (scale <= 0) return pow2(index * 2 ** -scale);
  const e = index >> scale;
  const frac = index - e * 2 ** scale; // 0 <= frac < 2^scale
  if (frac === 0) return pow2(e);
  return Math.exp(frac * LN2_SCALED[scale]) * pow2(e); // 2^(frac/2^s) in [1, 2), times 2^e
}

const LN2_SCALED: number[] = [];
for (let s = 0; s <= MAX_SCALE; s++) LN2_SCALED[s] = Math.LN2 / 2 ** s;

// 2^e for the exponents bucket boundaries can have (a table is faster than Math.pow)
const POW2_OFFSET = 1100;
const POW2 = new Float64Array(2 * POW2_OFFSET);
for (let k = 0; k < POW2.length; k++) POW2[k] = 2 ** (k - POW2_OFFSET);
function pow2(e: number): number {
  return e >= -POW2_OFFSET && e < POW2_OFFSET ? POW2[e + POW2_OFFSET] : 2 ** e;
}

/**
 * ln(x / y) for two numbers of the same sign, also when x / y over- or
 * underflows (bucket bounds near the ends of the float64 range).
 */
export function lnRatio(x: number, y: number): number {
  const r = x / y;
  return r > 0 && r < Number.POSITIVE_INFINITY ? Math.log(r) : Math.log(Math.abs(x)) - Math.log(Math.abs(y));
}
