// One analysis pass of the collector over many feature series (target: 10k
// feature series in ≤ 1 s). The window store is filled directly with
// realistic histograms — 1000 models × 10 numeric features, each window
// holding 2000 values spread over 30 slots — and every model has a baseline.
// Run alone with `node bench/analysis.bench.mjs` (after `pnpm build`), or via `pnpm bench`.

import { pathToFileURL } from "node:url";
import { makeBaseline } from "../collector/dist/baselines/format.js";
import { Collector } from "../collector/dist/collector.js";
import { parseConfig } from "../collector/dist/config/config.js";
import { ExpHistogram } from "../packages/stats/dist/index.js";
import { normal, rng } from "./random.mjs";

function normalHistogram(r, n, mean, sd) {
  const h = new ExpHistogram();
  for (let i = 0; i < n; i++) h.record(mean + sd * normal(r));
  return h;
}

export async function run({ models = 1000, features = 10 } = {}) {
  const base = { storage: { path: ":memory:" }, windows: { slotSeconds: 10, analysisSeconds: 300 } };
  let config;
  try {
    // Judged from the first pass (no warm-up), so that the pass also pays for the size-aware
    // thresholds and for naming what moved on the drifting feature f0 of every model.
    config = parseConfig({ ...base, analysis: { drift: { warmupSeconds: 0 } } });
  } catch {
    config = parseConfig(base); // code from before the warm-up existed (to compare before and after)
  }
  const c = new Collector(config, () => {});
  const r = rng(42);
  const now = Date.now();
  const perSlot = 2000 / 30;
  for (let m = 0; m < models; m++) {
    const model = `model_${m}`;
    const base = {};
    for (let f = 0; f < features; f++) base[`f${f}`] = normalHistogram(r, 5000, 50 + f, 5);
    c.baselines.put(makeBaseline({ model, features: base }));
    for (let f = 0; f < features; f++) {
      for (let slot = 0; slot < 30; slot++) {
        const attributes = Object.assign(Object.create(null), {
          "ml.model.name": model,
          "ml.model.version": "1",
          "ml.feature.name": `f${f}`,
        });
        const delta = normalHistogram(r, Math.round(perSlot), 50 + f + (f === 0 ? 2 : 0), 5);
        c.store.ingest(
          { kind: "histogram", metric: "ml.feature.value", attributes, delta },
          now - slot * 10_000,
        );
      }
    }
  }
  const series = models * features;
  const times = [];
  const cpu = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const u0 = process.cpuUsage();
    const snap = c.analyzeNow(now);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1e6);
    if (snap.drift.length !== series || snap.drift.some((d) => !d.score))
      throw new Error("analysis did not score every series");
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return [
    {
      name: `analysis pass, ${series} feature series (KS vs baseline), median of 5`,
      value: median,
      unit: "s",
    },
    { name: "analysis cost per feature series", value: (median / series) * 1e6, unit: "µs" },
    // CPU time moves less than wall time when other work shares the machine.
    {
      name: "analysis pass CPU time (user + system), median of 5",
      value: cpu[Math.floor(cpu.length / 2)],
      unit: "s",
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run()) console.log(`${row.name}: ${row.value.toFixed(3)} ${row.unit}`);
}
