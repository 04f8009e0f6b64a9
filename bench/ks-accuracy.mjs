// Histogram KS against the exact raw-sample D, by window size: a window of n
// normal values against a 10 000-value baseline, with and without a shift.
// Prints the mean, 95th percentile and largest error (histogram D − exact D).
// Run with `node bench/ks-accuracy.mjs` after `npm run build`.

import { ExpHistogram, ksHistograms } from "../packages/stats/dist/index.js";
import { mulberry } from "./random.mjs";

/** The exact two-sample D of raw samples (ksSamples without its costly exact p-value). */
function exactD(a, b) {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

function normals(r, n, mean) {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

function hist(xs) {
  const h = new ExpHistogram();
  for (const x of xs) h.record(x);
  return h;
}

export function measure({
  sizes = [100, 300, 1000, 3000, 10000],
  reps = 300,
  shifts = [0, 0.5],
  seed = 1,
} = {}) {
  const r = mulberry(seed);
  const rows = [];
  for (const shift of shifts) {
    for (const n of sizes) {
      const errs = [];
      let covered = 0;
      for (let k = 0; k < reps; k++) {
        const a = normals(r, 10_000, 0);
        const b = normals(r, n, shift);
        const res = ksHistograms(hist(a), hist(b));
        const e = res.d - exactD(a, b);
        errs.push(e);
        if (Math.abs(e) <= res.errorBound + 1e-12) covered++;
      }
      errs.sort((x, y) => x - y);
      const abs = errs.map(Math.abs).sort((x, y) => x - y);
      rows.push({
        shift,
        n,
        mean: errs.reduce((s, x) => s + x, 0) / reps,
        p95abs: abs[Math.floor(0.95 * reps)],
        maxabs: abs[reps - 1],
        covered: covered / reps,
      });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("shift  n      mean err   p95 |err|  max |err|  within errorBound");
  for (const x of measure()) {
    console.log(
      `${x.shift.toFixed(1).padEnd(6)} ${String(x.n).padEnd(6)} ${x.mean.toFixed(4).padStart(8)}   ${x.p95abs.toFixed(4)}     ${x.maxabs.toFixed(4)}     ${(x.covered * 100).toFixed(0)} %`,
    );
  }
}
