// Benchmarks of @mlwatch/stats (build first: node scripts/pnpm.mjs exec tsc -b packages/stats).
// Run alone with `node bench/stats.bench.mjs`, or with every bench via `pnpm bench`.
// Each figure is the median of several timed runs after a warm-up (process.hrtime.bigint).

import { pathToFileURL } from "node:url";
import {
  ExpHistogram,
  ksHistograms,
  ksSamples,
  psiHistograms,
  quantileEdges,
  wassersteinHistograms,
} from "../packages/stats/dist/index.js";

/** Deterministic normal variates (xorshift32 + Box–Muller), so runs are comparable. */
function normals(n, mean, sd, seed) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** Median over `runs` timings of `fn`, each doing `ops` operations; ns per operation. */
function timeNs(fn, ops, runs = 9) {
  for (let i = 0; i < 3; i++) fn(); // warm-up (JIT)
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function histogramOf(values) {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

export async function run() {
  const rows = [];
  let sink = 0; // keeps results alive so that nothing is optimised away

  // record(): 1M values of a normal feature around 100 (steady state: the range is already allocated)
  const vals = normals(1_000_000, 100, 20, 7);
  const rec = new ExpHistogram();
  rows.push({
    name: "ExpHistogram.record (1M normal values)",
    value: timeNs(() => {
      for (let i = 0; i < vals.length; i++) rec.record(vals[i]);
    }, vals.length),
    unit: "ns/op",
  });
  // a signed feature spanning many decades: both ranges, zeros, downscaled to scale 2-3
  const wide = normals(1_000_000, 0, 1, 11).map((v) => v * 10 ** (3 * v));
  const recWide = new ExpHistogram();
  rows.push({
    name: "ExpHistogram.record (1M signed values over ~9 decades)",
    value: timeNs(() => {
      for (let i = 0; i < wide.length; i++) recWide.record(wide[i]);
    }, wide.length),
    unit: "ns/op",
  });

  // merge(): two histograms with ~160 occupied buckets each (N(0,1) spans both signs and many octaves)
  const a = histogramOf(normals(20_000, 0, 1, 1));
  const b = histogramOf(normals(20_000, 0.1, 1, 2));
  const acc = a.clone();
  const buckets = `${a.positiveSpan}+${a.negativeSpan} buckets`;
  rows.push({
    name: `ExpHistogram.merge (into an accumulator, ${buckets})`,
    value: timeNs(() => {
      for (let i = 0; i < 10_000; i++) acc.merge(b);
    }, 10_000),
    unit: "ns/op",
  });
  rows.push({
    name: `ExpHistogram.clone + merge (${buckets})`,
    value: timeNs(() => {
      for (let i = 0; i < 10_000; i++) {
        const c = a.clone();
        c.merge(b);
        sink += c.count;
      }
    }, 10_000),
    unit: "ns/op",
  });

  // two-sample KS on histograms (D, error bound and p-value)
  rows.push({
    name: "ksHistograms (160-bucket histograms, 20k vs 20k, shift 0.1 sd)",
    value:
      timeNs(() => {
        for (let i = 0; i < 2_000; i++) sink += ksHistograms(a, b).d;
      }, 2_000) / 1000,
    unit: "µs/op",
  });
  const same = histogramOf(normals(20_000, 0, 1, 3));
  rows.push({
    name: "ksHistograms (same distribution, 20k vs 20k)",
    value:
      timeNs(() => {
        for (let i = 0; i < 2_000; i++) sink += ksHistograms(a, same).d;
      }, 2_000) / 1000,
    unit: "µs/op",
  });
  const big = histogramOf(normals(200_000, 0, 1, 4));
  const small = histogramOf(normals(1_000, 0.3, 1, 5));
  rows.push({
    name: "ksHistograms (baseline 200k vs window 1k, shift 0.3 sd)",
    value:
      timeNs(() => {
        for (let i = 0; i < 2_000; i++) sink += ksHistograms(big, small).d;
      }, 2_000) / 1000,
    unit: "µs/op",
  });
  rows.push({
    name: "wassersteinHistograms (160 buckets)",
    value:
      timeNs(() => {
        for (let i = 0; i < 1_000; i++) sink += wassersteinHistograms(a, b).distance;
      }, 1_000) / 1000,
    unit: "µs/op",
  });
  const edges = quantileEdges(a, 10);
  rows.push({
    name: "psiHistograms (10 decile bins)",
    value:
      timeNs(() => {
        for (let i = 0; i < 1_000; i++) sink += psiHistograms(a, b, edges);
      }, 1_000) / 1000,
    unit: "µs/op",
  });
  rows.push({
    name: "ExpHistogram.quantile(0.99)",
    value: timeNs(() => {
      for (let i = 0; i < 10_000; i++) sink += a.quantile(0.99);
    }, 10_000),
    unit: "ns/op",
  });

  // raw-sample KS with the exact p-value, for comparison (3000 vs 2500 values)
  const ra = normals(3_000, 0, 1, 8);
  const rb = normals(2_500, 0.1, 1, 9);
  rows.push({
    name: "ksSamples (3000 vs 2500 raw values, exact p-value)",
    value: timeNs(() => (sink += ksSamples(ra, rb).d), 1, 5) / 1e6,
    unit: "ms/op",
  });

  if (sink === 42) console.log(""); // never true in practice; defeats dead-code elimination
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}`);
  for (const row of await run()) {
    console.log(
      `${row.name.padEnd(70)} ${String(Number(row.value.toPrecision(4))).padStart(10)} ${row.unit}`,
    );
  }
}
