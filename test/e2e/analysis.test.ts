// The analysis end to end: the real SDK exports over OTLP to the real
// collector process, which compares its windows with stored baselines. Time
// is compressed by configuring short windows (seconds instead of minutes).

import { readFileSync } from "node:fs";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  startCollector,
  sumOf,
} from "../support/processes.js";
import { normals, seeded } from "../support/random.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function collector(yaml: string[]): Promise<CollectorHandle> {
  const c = await startCollector(yaml);
  cleanup.push(() => c.close());
  return c;
}

function sdk(
  c: CollectorHandle,
  model: string,
  exportMs = 60_000,
): { monitoring: Monitoring; monitor: ModelMonitor } {
  const monitoring = startMonitoring({
    endpoint: c.otlp,
    exportIntervalMillis: exportMs,
    registerGlobal: false,
  });
  cleanup.push(() => monitoring.shutdown());
  const monitor = new ModelMonitor({ modelName: model, meter: monitoring.meterProvider.getMeter("e2e") });
  return { monitoring, monitor };
}

async function putBaseline(c: CollectorHandle, body: unknown, model: string): Promise<void> {
  const r = await fetch(`${c.query}/api/v1/baselines/${model}`, {
    method: "PUT",
    body: JSON.stringify(body),
  });
  expect(r.status, await r.clone().text()).toBe(200);
}

async function scrape(c: CollectorHandle) {
  return parseExposition(await (await fetch(`${c.query}/metrics`)).text());
}

interface DriftReport {
  atMs: number;
  features: Array<{ feature: string; samples: number; score?: { value: number; severity: string } }>;
  concept: { samples: number } | null;
}

/** The drift report of the last analysis pass (the snapshot /metrics serves too), or undefined before the model has data. */
async function driftReport(c: CollectorHandle, model: string): Promise<DriftReport | undefined> {
  const r = await fetch(`${c.query}/api/v1/models/${model}/drift`);
  return r.ok ? ((await r.json()) as DriftReport) : undefined;
}

/** Waits for an analysis pass whose window holds exactly `n` confidence values of `model`. */
async function conceptSamples(c: CollectorHandle, model: string, n: number): Promise<void> {
  await eventually(async () => (await driftReport(c, model))?.concept?.samples === n, 60_000);
}

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FixtureCase {
  name: string;
  a: number[];
  b: number[];
  ks: { d: number };
}

describe("data drift against the statistics fixtures", () => {
  it("the collector's KS for each fixture pair is within 0.01 of the exact raw-sample D", {
    timeout: 180_000,
  }, async () => {
    const fixtures = JSON.parse(
      readFileSync(new URL("../../packages/stats/fixtures/samples.json", import.meta.url), "utf8"),
    ) as { cases: FixtureCase[] };
    const cases = fixtures.cases.filter((c) => c.b.length >= 100);
    expect(cases.length).toBeGreaterThanOrEqual(10);
    const c = await collector([
      "windows: { slotSeconds: 1, analysisSeconds: 600 }",
      "analysis: { intervalSeconds: 0.2, drift: { minSamples: 50 } }",
    ]);
    const model = "fixtures";
    const features = Object.fromEntries(cases.map((k, i) => [`f${i}`, histogramOf(k.a)]));
    await putBaseline(c, makeBaseline({ model, features }), model);
    const { monitoring, monitor } = sdk(c, model);
    cases.forEach((k, i) => {
      for (const v of k.b) monitor.recordFeature(`f${i}`, v);
    });
    await monitoring.forceFlush();
    const samples = await eventually(async () => {
      const s = await scrape(c);
      const scored = s.filter((x) => x.name === "ml_data_drift_score" && x.labels.model_name === model);
      const complete = cases.every(
        (k, i) =>
          sumOf(s, "ml_data_drift_window_samples", { model_name: model, feature_name: `f${i}` }) ===
          k.b.length,
      );
      return scored.length === cases.length && complete ? s : undefined;
    }, 60_000);
    for (const [i, k] of cases.entries()) {
      const d = sumOf(samples, "ml_data_drift_score", { model_name: model, feature_name: `f${i}` });
      expect(Math.abs(d - k.ks.d), `${k.name}: collector D ${d}, exact ${k.ks.d}`).toBeLessThanOrEqual(0.01);
    }
  });
});

/** Records `perTick` predictions every 50 ms until stopped, with features drawn by `draw`. */
function stream(
  monitor: ModelMonitor,
  perTick: number,
  draw: () => Record<string, number>,
): { stop(): void } {
  const t = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      monitor.recordRequest(0.01);
      monitor.recordPrediction({ features: draw() });
    }
  }, 50);
  return { stop: () => clearInterval(t) };
}

/**
 * Polls the drift report and keeps the highest score seen per feature. Each score is timed by the
 * analysis pass that computed it (the report's atMs), not by when this poller, slowed down on a busy
 * machine, got to read it.
 */
function watchScores(c: CollectorHandle, model: string) {
  const max = new Map<string, number>();
  const seen: Array<{ t: number; feature: string; score: number; severity: string }> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const report = await driftReport(c, model);
      for (const d of report?.features ?? []) {
        if (!d.score) continue;
        max.set(d.feature, Math.max(max.get(d.feature) ?? 0, d.score.value));
        seen.push({ t: report!.atMs, feature: d.feature, score: d.score.value, severity: d.score.severity });
      }
      await sleep(150);
    }
  })();
  return {
    max,
    seen,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const windowYaml = [
  "windows: { slotSeconds: 0.5, analysisSeconds: 3 }",
  "analysis: { intervalSeconds: 0.25, drift: { minSamples: 500 } }",
];

function normalBaseline(model: string, seed: number) {
  return makeBaseline({
    model,
    features: {
      a: histogramOf(normals(seed, 20_000, 0, 1)),
      b: histogramOf(normals(seed + 1, 20_000, 10, 2)),
      c: histogramOf(normals(seed + 2, 20_000, -5, 0.5)),
    },
  });
}

describe("the drift report", () => {
  it("bins each feature at the baseline's 5 % quantiles, merging ties, and its distributions cover the whole window", {
    timeout: 180_000,
  }, async () => {
    const c = await collector([
      "windows: { slotSeconds: 1, analysisSeconds: 600 }",
      "analysis: { intervalSeconds: 0.2, drift: { minSamples: 50 } }",
    ]);
    const model = "binned";
    // k is 0 in 30 % of rows: its 0 %, 5 %, …, 30 % quantiles are all 0, one edge, so 15 edges and 14 bins.
    const r = seeded(11);
    const ks = Array.from({ length: 20_000 }, (_, i) => (i < 6000 ? 0 : 1 + r()));
    await putBaseline(
      c,
      makeBaseline({ model, features: { a: histogramOf(normals(31, 20_000, 0, 1)), k: histogramOf(ks) } }),
      model,
    );
    const { monitoring, monitor } = sdk(c, model);
    // The window moved 3σ: about a fifth of its values lie above the baseline's maximum.
    const live = normals(32, 2000, 3, 1);
    for (let i = 0; i < live.length; i++) {
      monitor.recordFeature("a", live[i]);
      monitor.recordFeature("k", i % 2 === 0 ? 0 : 1 + r());
    }
    await monitoring.forceFlush();
    type Binned = {
      feature: string;
      samples: number;
      distributions: { edges: number[]; baseline: number[]; current: number[] } | null;
    };
    const report = await eventually(async () => {
      const rep = (await driftReport(c, model)) as unknown as { features: Binned[] } | undefined;
      const f = rep?.features ?? [];
      return f.length === 2 && f.every((x) => x.samples === 2000 && x.distributions) ? f : undefined;
    }, 60_000);
    const a = report.find((x) => x.feature === "a")!.distributions!;
    const k = report.find((x) => x.feature === "k")!.distributions!;
    expect(a.edges).toHaveLength(21);
    expect(k.edges).toHaveLength(15);
    expect(k.edges[0]).toBe(0);
    // The first bin runs from 0 to the 35 % quantile: the zeros and the next 5 %.
    expect(k.baseline[0]).toBeCloseTo(0.35, 9);
    for (const d of [a, k]) {
      expect(d.baseline).toHaveLength(d.edges.length - 1);
      expect(d.current).toHaveLength(d.edges.length - 1);
      for (let i = 1; i < d.edges.length; i++) expect(d.edges[i]).toBeGreaterThan(d.edges[i - 1]);
      const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
      expect(sum(d.baseline)).toBeCloseTo(1, 9);
      expect(sum(d.current)).toBeCloseTo(1, 9);
    }
    // Each of a's bins holds about 5 % of the baseline; the shifted window piles up in the last.
    for (const m of a.baseline) expect(Math.abs(m - 0.05)).toBeLessThan(0.01);
    const above = live.filter((v) => v > a.edges[20]).length / live.length;
    expect(above).toBeGreaterThan(0.1);
    expect(a.current[19]).toBeGreaterThan(above);
  });
});

describe("data drift over sliding windows", () => {
  it("a stationary stream over many windows raises no warning-level drift on any feature", {
    timeout: 180_000,
  }, async () => {
    const c = await collector(windowYaml);
    const model = "stationary";
    await putBaseline(c, normalBaseline(model, 100), model);
    const { monitor } = sdk(c, model, 250);
    const r = seeded(7);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const s = stream(monitor, 50, () => ({ a: gauss(), b: 10 + 2 * gauss(), c: -5 + 0.5 * gauss() }));
    const watch = watchScores(c, model);
    await sleep(15_000); // five windows of 3 s
    s.stop();
    await watch.stop();
    expect(watch.seen.length).toBeGreaterThan(30);
    for (const f of ["a", "b", "c"]) expect(watch.max.get(f), f).toBeLessThan(0.15);
    expect(watch.seen.filter((x) => x.severity === "warning" || x.severity === "critical")).toEqual([]);
  });

  it("a mean shift on one feature is flagged by the first window that holds only shifted values, while the others stay below info", {
    timeout: 240_000,
  }, async () => {
    const c = await collector(windowYaml);
    const model = "shifting";
    await putBaseline(c, normalBaseline(model, 200), model);
    const { monitoring, monitor } = sdk(c, model, 250);
    const r = seeded(8);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const draw = (shift: number) => () => ({
      a: gauss() + shift,
      b: 10 + 2 * gauss(),
      c: -5 + 0.5 * gauss(),
    });
    const watch = watchScores(c, model);
    // Phases are driven by what the collector has seen, not by the wall clock: on a busy machine the
    // stream, the exporter and the analysis passes all slow down, and a fixed sleep would end a phase
    // before its window is full.
    const windowMs = 3000;
    const slotMs = 500;
    let s = stream(monitor, 50, draw(0));
    await eventually(async () => watch.seen.some((x) => x.feature === "a"), 120_000);
    /**
     * Switches the stream to `shift` once everything recorded before is exported (so no older value
     * lands in a later slot), then waits for the first scored pass whose window began after the switch.
     */
    const shiftTo = async (shift: number) => {
      s.stop();
      await monitoring.forceFlush();
      const at = Date.now();
      s = stream(monitor, 50, draw(shift));
      const pure = (x: { t: number; feature: string }) => x.feature === "a" && x.t >= at + windowMs + slotMs;
      await eventually(async () => watch.seen.some(pure), 120_000);
      return watch.seen.find(pure)!;
    };
    // 0.5σ: KS D = 2Φ(0.25) − 1 ≈ 0.197, past the warning threshold (0.15).
    const half = await shiftTo(0.5);
    // 1σ: D ≈ 0.383, past critical (0.25).
    const one = await shiftTo(1);
    s.stop();
    await watch.stop();
    expect(["warning", "critical"], `0.5σ: ${JSON.stringify(half)}`).toContain(half.severity);
    expect(one.severity, `1σ: ${JSON.stringify(one)}`).toBe("critical");
    expect(watch.max.get("b")).toBeLessThan(0.1);
    expect(watch.max.get("c")).toBeLessThan(0.1);
  });
});

describe("concept drift", () => {
  it("a drop in confidence moves the confidence PSI past 0.2, and a change of class mix the class PSI", {
    timeout: 180_000,
  }, async () => {
    const c = await collector([
      "windows: { slotSeconds: 1, analysisSeconds: 300 }",
      "analysis: { intervalSeconds: 0.2 }",
    ]);
    const model = "concept";
    const r = seeded(9);
    const confident = () => 0.75 + 0.24 * r();
    const ref = new ExpHistogram();
    for (let i = 0; i < 10_000; i++) ref.record(confident());
    await putBaseline(
      c,
      makeBaseline({ model, features: {}, confidence: ref, classes: { positive: 6000, negative: 4000 } }),
      model,
    );
    const { monitoring, monitor } = sdk(c, model);
    for (let i = 0; i < 2000; i++) {
      monitor.recordPrediction({
        predictedClass: i % 10 < 6 ? "positive" : "negative",
        confidence: confident(),
      });
    }
    await monitoring.forceFlush();
    // An analysis pass over exactly these 2000 predictions (the window is far longer than the test).
    await conceptSamples(c, model, 2000);
    const before = await scrape(c);
    expect(sumOf(before, "ml_low_confidence_share", { model_name: model })).toBe(0);
    expect(sumOf(before, "ml_concept_drift_psi", { model_name: model })).toBeLessThan(0.1);
    expect(sumOf(before, "ml_concept_drift_class_psi", { model_name: model })).toBeLessThan(0.01);

    // The model grows unsure, and says "negative" far more often.
    for (let i = 0; i < 6000; i++) {
      monitor.recordPrediction({
        predictedClass: i % 10 < 2 ? "positive" : "negative",
        confidence: 0.4 + 0.3 * r(),
      });
    }
    await monitoring.forceFlush();
    await conceptSamples(c, model, 8000);
    const after = await scrape(c);
    expect(sumOf(after, "ml_concept_drift_psi", { model_name: model })).toBeGreaterThan(0.2);
    expect(sumOf(after, "ml_concept_drift_class_psi", { model_name: model })).toBeGreaterThan(0.2);
    expect(sumOf(after, "ml_concept_drift_severity", { model_name: model })).toBe(3);
    // 6000 of the 8000 predictions in the window are below the 0.7 threshold.
    expect(sumOf(after, "ml_low_confidence_share", { model_name: model })).toBeCloseTo(0.75, 2);
  });
});

describe("accuracy", () => {
  it("outcomes with 60% correct bring ml_accuracy_by_segment to 0.6", { timeout: 180_000 }, async () => {
    const c = await collector([
      "windows: { slotSeconds: 1, analysisSeconds: 300 }",
      "analysis: { intervalSeconds: 0.2 }",
    ]);
    const model = "accurate";
    const { monitoring, monitor } = sdk(c, model);
    const r = seeded(10);
    let correct = 0;
    for (let i = 0; i < 5000; i++) {
      const ok = r() < 0.6;
      if (ok) correct++;
      monitor.recordOutcome("ground_truth_sample", ok);
    }
    await monitoring.forceFlush();
    // An analysis pass that has counted all 5000 outcomes (the summary reads the snapshot /metrics serves).
    await eventually(async () => {
      const r = await fetch(`${c.query}/api/v1/models/${model}`);
      if (!r.ok) return undefined;
      const summary = (await r.json()) as { accuracy: Array<{ segment: string; total: number }> };
      return summary.accuracy.find((a) => a.segment === "ground_truth_sample")?.total === 5000;
    }, 60_000);
    const s = await scrape(c);
    const acc = sumOf(s, "ml_accuracy_by_segment", { model_name: model, segment: "ground_truth_sample" });
    expect(acc).toBeCloseTo(correct / 5000, 12);
    expect(Math.abs(acc - 0.6)).toBeLessThanOrEqual(0.02);
  });
});

describe("SLOs", () => {
  it("under injected latency, burn rates and remaining budget equal a hand computation", {
    timeout: 180_000,
  }, async () => {
    const model = "slo_model";
    const c = await collector([
      "windows: { slotSeconds: 1, analysisSeconds: 300 }",
      "analysis: { intervalSeconds: 0.2 }",
      `models: { ${model}: { slo: { period: 1d, objectives: [`,
      "  { name: latency, kind: latency, thresholdSeconds: 0.2, target: 0.9 },",
      "  { name: availability, kind: availability, target: 0.99, excludeErrorTypes: [ValidationError] },",
      "  { name: throughput, kind: throughput, minRequestsPerSecond: 0.5 } ] } } }",
    ]);
    const { monitoring, monitor } = sdk(c, model);
    // 300 fast requests, then injected latency: 60 slow ones. 9 server errors and 5 validation errors among them.
    for (let i = 0; i < 300; i++)
      monitor.recordRequest(0.05, { error: i < 9 ? new TypeError("boom") : undefined });
    for (let i = 0; i < 60; i++) {
      const error = i < 5 ? Object.assign(new Error("bad input"), { name: "ValidationError" }) : undefined;
      monitor.recordRequest(0.5, { error });
    }
    await monitoring.forceFlush();
    const report = await eventually(async () => {
      const r = await fetch(`${c.query}/api/v1/models/${model}/slo`);
      if (!r.ok) return undefined;
      const j = (await r.json()) as {
        objectives: Array<{
          name: string;
          sli: number | null;
          errorBudgetRemaining: number | null;
          windows: Array<{ window: string; burnRate: number | null; events: number }>;
        }>;
      };
      return j.objectives.every((o) => o.windows[0].events === 360) ? j : undefined;
    }, 60_000);
    const byName = new Map(report.objectives.map((o) => [o.name, o]));
    // Latency: 60 of 360 slower than 0.2 s. Error ratio 1/6; budget 1 − 0.9 = 0.1.
    const latency = byName.get("latency")!;
    const latencyBurn = 60 / 360 / 0.1;
    expect(latency.sli).toBeCloseTo(300 / 360, 9);
    for (const w of latency.windows) expect(w.burnRate, w.window).toBeCloseTo(latencyBurn, 9);
    expect(latency.errorBudgetRemaining).toBeCloseTo(1 - latencyBurn, 9);
    // Availability: 9 server errors of 360 (validation errors excluded). Budget 0.01.
    const availability = byName.get("availability")!;
    const availabilityBurn = 9 / 360 / 0.01;
    for (const w of availability.windows) expect(w.burnRate, w.window).toBeCloseTo(availabilityBurn, 9);
    expect(availability.errorBudgetRemaining).toBeCloseTo(1 - availabilityBurn, 9);
    // The same numbers on /metrics.
    const s = await scrape(c);
    expect(sumOf(s, "ml_slo_burn_rate", { model_name: model, slo: "latency", window: "1h" })).toBeCloseTo(
      latencyBurn,
      9,
    );
    expect(sumOf(s, "ml_slo_error_budget_remaining", { model_name: model, slo: "availability" })).toBeCloseTo(
      1 - availabilityBurn,
      9,
    );
    // Throughput over 5 minutes: 360 requests / 300 s = 1.2 req/s.
    const throughput = byName.get("throughput")!;
    expect(throughput.windows.find((w) => w.window === "5m")?.burnRate).toBeNull();
  });
});

describe("baselines through the API", () => {
  it("refuses bad baselines with a clear reason and keeps what is stored", { timeout: 180_000 }, async () => {
    const c = await collector([]);
    const model = "guarded";
    const good = makeBaseline({ model, modelVersion: "2", features: { x: histogramOf([1, 2, 3]) } });
    const put = (body: unknown, query = "") =>
      fetch(`${c.query}/api/v1/baselines/${model}${query}`, { method: "PUT", body: JSON.stringify(body) });
    expect((await put(good, "?version=2")).status).toBe(200);

    const cases: Array<[string, unknown, string, RegExp]> = [
      ["wrong format version", { ...good, version: 2 }, "?version=2", /version/],
      ["unknown key", { ...good, colour: "red" }, "?version=2", /colour/],
      [
        "counts that do not add up",
        {
          ...good,
          features: {
            x: {
              kind: "numeric",
              histogram: { ...(good.features.x as { histogram: object }).histogram, count: 5 },
            },
          },
        },
        "?version=2",
        /features\.x\.histogram/,
      ],
      ["another model's baseline", { ...good, model: "other" }, "?version=2", /model "other"/],
      ["a mismatched version", good, "?version=3", /version "2", not "3"/],
      ["not JSON at all", "{{", "?version=2", /JSON|invalid/],
    ];
    for (const [name, body, q, message] of cases) {
      const r =
        typeof body === "string"
          ? await fetch(`${c.query}/api/v1/baselines/${model}${q}`, { method: "PUT", body })
          : await put(body, q);
      expect(r.status, name).toBe(400);
      expect(((await r.json()) as { error: string }).error, name).toMatch(message);
    }
    const stored = await fetch(`${c.query}/api/v1/baselines/${model}?version=2`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(good);

    // Once the model reports features x and y, a baseline of only unknown features is refused,
    // and one that covers them partly is stored with warnings.
    const { monitoring, monitor } = sdk(c, model);
    for (let i = 0; i < 10; i++) monitor.recordPrediction({ features: { x: i, y: i } });
    await monitoring.forceFlush();
    await eventually(async () => {
      const r = await fetch(`${c.query}/api/v1/models/${model}`);
      return r.ok;
    }, 60_000);
    const unknown = await put(makeBaseline({ model, features: { z: histogramOf([1, 2]) } }));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(
      /match none of the features .* reports \(x, y\)/,
    );
    const partly = await put(
      makeBaseline({ model, features: { x: histogramOf([1, 2]), q: histogramOf([3]) } }),
    );
    expect(partly.status).toBe(200);
    expect(((await partly.json()) as { warnings: string[] }).warnings).toEqual([
      'feature "q" is not reported by the model',
      'the model reports feature "y", which has no baseline',
    ]);
    expect(await (await fetch(`${c.query}/api/v1/baselines/${model}?version=2`)).json()).toEqual(good);
  });
});
