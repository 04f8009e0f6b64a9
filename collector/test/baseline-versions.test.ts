// The baseline of the version that carries the traffic is used when it has
// one; otherwise the model's default. Real SDK → OTLP → in-process collector.

import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeBaseline } from "../src/baselines/format.js";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";

let collector: Collector;
let otlp: string;
beforeAll(async () => {
  collector = new Collector(
    parseConfig({
      otlp: { port: 0 },
      query: { port: 0 },
      storage: { path: ":memory:" },
      analysis: { intervalSeconds: 60 },
    }),
    () => {},
  );
  otlp = (await collector.start()).otlp;
});
afterAll(() => collector.stop());

function uniform(lo: number, hi: number, n: number): ExpHistogram {
  const h = new ExpHistogram();
  for (let i = 0; i < n; i++) h.record(lo + ((hi - lo) * (i + 0.5)) / n);
  return h;
}

async function send(version: string, values: number[]): Promise<void> {
  const m = startMonitoring({ endpoint: otlp, exportIntervalMillis: 60_000, registerGlobal: false });
  const monitor = new ModelMonitor({
    modelName: "versioned",
    modelVersion: version,
    meter: m.meterProvider.getMeter("t"),
  });
  for (const v of values) {
    monitor.recordRequest(0.01);
    monitor.recordFeature("x", v);
  }
  await m.shutdown();
}

it("compares the live version's window with that version's baseline, else the default", async () => {
  // Version 1 lives in [0, 10]; version 2 was trained on [10, 20].
  collector.baselines.put(makeBaseline({ model: "versioned", features: { x: uniform(0, 10, 5000) } }));
  collector.baselines.put(
    makeBaseline({ model: "versioned", modelVersion: "2", features: { x: uniform(10, 20, 5000) } }),
  );
  await send(
    "2",
    Array.from({ length: 2000 }, (_, i) => 10 + (10 * (i + 0.5)) / 2000),
  );
  let x = collector.analyzeNow().drift.find((d) => d.feature === "x")!;
  expect(x.score!.value).toBeLessThan(0.05); // v2 data against v2's baseline

  // Once version 3 (no baseline of its own) carries most traffic, the default applies.
  await send(
    "3",
    Array.from({ length: 5000 }, (_, i) => 10 + (10 * (i + 0.5)) / 5000),
  );
  x = collector.analyzeNow().drift.find((d) => d.feature === "x")!;
  expect(x.score!.value).toBeGreaterThan(0.9);
});
