// Deterministic random numbers for the benches, so that every run times the same data.
// (test/support/random.ts has the tests' generator; the benches run as plain .mjs and cannot
// import TypeScript.)

/** xorshift32, uniform in (0, 1): the collector, analysis and load benches' payloads. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
}

/** mulberry32, uniform in [0, 1): the same stream as the tests' seeded() for the same seed. */
export function mulberry(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal value by Box–Muller from two draws of `r` (which must not return 0). */
export const normal = (r) => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
