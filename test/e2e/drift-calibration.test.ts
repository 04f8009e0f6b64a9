// Size-aware drift severity end to end (issue #14): the real SDK exports over
// OTLP to the real collector process. Time is compressed: windows of seconds
// in slots of half a second, re-tested every quarter second. Recording is
// paced by the clock, so a loaded machine still puts about the intended number
// of values in each window; the tests check that it did, so they cannot pass
// on empty windows.

import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { type CollectorHandle, eventually, startCollector } from "../support/processes.js";
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

/** A ModelMonitor exporting to `c` every 250 ms. */
function monitorFor(c: CollectorHandle, model: string) {
  const monitoring = startMonitoring({ endpoint: c.otlp, exportIntervalMillis: 250, registerGlobal: false });
  cleanup.push(() => monitoring.shutdown());
  const monitor = new ModelMonitor({ modelName: model, meter: monitoring.meterProvider.getMeter("e2e") });
  return { monitoring, monitor };
}

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

async function putBaseline(c: CollectorHandle, model: string, features: Record<string, ExpHistogram>) {
  const r = await fetch(`${c.query}/api/v1/baselines/${model}`, {
    method: "PUT",
    body: JSON.stringify(makeBaseline({ model, features })),
  });
  expect(r.status, await r.clone().text()).toBe(200);
}

interface Row {
  feature: string;
  samples: number;
  reason?: string;
  score?: { value: number; severity: string; thresholds: { info: number } };
  moved?: Array<{ range: string; baseline: number; current: number }>;
}
interface Pass {
  model: string;
  atMs: number;
  rows: Row[];
}

async function driftReport(c: CollectorHandle, model: string): Promise<Pass | undefined> {
  const r = await fetch(`${c.query}/api/v1/models/${model}/drift`);
  if (!r.ok) return undefined;
  const j = (await r.json()) as { atMs: number; features: Row[] };
  return { model, atMs: j.atMs, rows: j.features };
}

/**
 * Records `perWindow` predictions per `windowMs`, paced by the clock rather than by the ticks: a busy
 * machine delays ticks, and the values owed are recorded on the next one.
 */
function pacedStream(
  monitor: ModelMonitor,
  perWindow: number,
  windowMs: number,
  draw: () => Record<string, number>,
): { stop(): void } {
  const start = Date.now();
  let recorded = 0;
  const t = setInterval(() => {
    const owed = Math.floor(((Date.now() - start) / windowMs) * perWindow) - recorded;
    for (let k = 0; k < owed; k++, recorded++) monitor.recordPrediction({ features: draw() });
  }, 50);
  return { stop: () => clearInterval(t) };
}

/** Collects every analysis pass of `models` (told apart by the report's atMs) until stopped, polling several times per pass. */
function watchPasses(c: CollectorHandle, models: string[]) {
  const passes: Pass[] = [];
  const lastAt = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const reports = await Promise.all(models.map((m) => driftReport(c, m).catch(() => undefined)));
      for (const p of reports) {
        if (!p || p.rows.length === 0 || p.atMs === lastAt.get(p.model)) continue;
        lastAt.set(p.model, p.atMs);
        passes.push(p);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    passes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const scoredRows = (p: Pass) => p.rows.every((x) => x.score && !x.reason);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe("size-aware drift severity through the real SDK and collector", () => {
  it("stationary streams of 4 features at 100, 300, 1000 and 5000 values per window, 60 windows each: nothing while a stream warms up, no warning at all, info in at most 1 of the 240 model-windows", {
    timeout: 600_000,
  }, async () => {
    const windowMs = 2500;
    const c = await collector([
      "windows: { slotSeconds: 0.5, analysisSeconds: 2.5 }",
      // An in-memory database: no checkpoint to disk competes with the passes for a busy machine's time.
      'storage: { path: ":memory:" }',
      // minSamples below the smallest window, so the 100-value windows are judged (by the size-aware threshold).
      "analysis: { intervalSeconds: 0.5, drift: { minSamples: 50 } }",
    ]);
    const features = Array.from({ length: 4 }, (_, i) => `f${i}`);
    const meanOf = (i: number) => 10 * i - 40;
    const sdOf = (i: number) => 1 + i / 4;
    const runs = [
      { model: "calm_100", perWindow: 100, seed: 401 },
      { model: "calm_300", perWindow: 300, seed: 402 },
      { model: "calm_1000", perWindow: 1000, seed: 403 },
      { model: "calm_5000", perWindow: 5000, seed: 404 },
    ];
    for (const r of runs)
      await putBaseline(
        c,
        r.model,
        Object.fromEntries(
          features.map((f, i) => [
            f,
            histogramOf(normals(r.seed + 1000 * (i + 1), 10_000, meanOf(i), sdOf(i))),
          ]),
        ),
      );
    const watch = watchPasses(
      c,
      runs.map((r) => r.model),
    );
    const streams = runs.map((r) => {
      const { monitor } = monitorFor(c, r.model);
      const rand = seeded(r.seed);
      const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      return pacedStream(monitor, r.perWindow, windowMs, () =>
        Object.fromEntries(features.map((f, i) => [f, meanOf(i) + sdOf(i) * gauss()])),
      );
    });
    cleanup.push(async () => {
      for (const s of streams) s.stop();
      await watch.stop();
    });

    // A window counts toward the 60 when one of its passes (atMs in [k·W, (k+1)·W)) judged every
    // feature on a window that held roughly perWindow values: a slow machine cannot make it vacuous.
    const full = (r: (typeof runs)[number], p: Pass) =>
      scoredRows(p) && p.rows.every((x) => x.samples >= 0.5 * r.perWindow && x.samples <= 2 * r.perWindow);
    const fullWindows = (r: (typeof runs)[number]) =>
      new Set(
        watch.passes
          .filter((p) => p.model === r.model && full(r, p))
          .map((p) => Math.floor(p.atMs / windowMs)),
      ).size;
    // Waits for 60 full windows per model; on a machine too slow for that the expect below says how far it got.
    await eventually(async () => runs.every((r) => fullWindows(r) >= 60), 480_000, 500).catch(
      () => undefined,
    );
    for (const s of streams) s.stop();
    await watch.stop();

    // False alarms first: they are judged over every pass, whatever the machine's speed.
    const judged = watch.passes.flatMap((p) => p.rows.map((x) => ({ ...x, model: p.model, atMs: p.atMs })));
    expect(judged.filter((x) => x.score?.severity === "warning" || x.score?.severity === "critical")).toEqual(
      [],
    );
    // Info counted per window, not per pass (the passes inside one window re-test overlapping data).
    // The bar ("info in at most 1 window in all 240") counts a model-window: one window of one model
    // with info on any feature. Per feature-window (960 of them) the count is held to the same 1.
    const info = judged.filter((x) => x.score?.severity === "info");
    const modelWindows = new Set(info.map((x) => `${x.model}@${Math.floor(x.atMs / windowMs)}`));
    const featureWindows = new Set(
      info.map((x) => `${x.model}/${x.feature}@${Math.floor(x.atMs / windowMs)}`),
    );
    expect(modelWindows.size, [...featureWindows].join(", ")).toBeLessThanOrEqual(1);
    expect(featureWindows.size, [...featureWindows].join(", ")).toBeLessThanOrEqual(1);

    for (const r of runs) {
      const mine = watch.passes.filter((p) => p.model === r.model);
      expect(
        fullWindows(r),
        `${r.model}: ${mine.length} passes, samples ${mine.map((p) => p.rows[0].samples)}`,
      ).toBeGreaterThanOrEqual(60);
      // The windows held about perWindow values (a window is 4 to 5 slots of 0.5 s, by arrival time).
      const samples = mine.filter(scoredRows).flatMap((p) => p.rows.map((x) => x.samples));
      const m = median(samples);
      expect(m, `${r.model}: median values per window`).toBeGreaterThanOrEqual(0.7 * r.perWindow);
      expect(m, `${r.model}: median values per window`).toBeLessThanOrEqual(1.3 * r.perWindow);

      // Warm-up: the first passes see a young window (empty at first, then with values in it) and judge nothing.
      const firstScored = mine.find(scoredRows)!;
      const young = mine.filter((p) => p.atMs < firstScored.atMs);
      expect(
        young.some((p) => p.rows.some((x) => x.samples > 0)),
        `${r.model}: a young window with values`,
      ).toBe(true);
      for (const p of young)
        for (const x of p.rows) {
          expect(["warming_up", "too_few_samples"], `${r.model} ${x.feature}`).toContain(x.reason);
          expect(x.score?.severity ?? "none").toBe("none");
        }
      // ...and at least one of them had enough values to be scored: the warm-up, not minSamples, held it back.
      expect(
        young.some((p) => p.rows.some((x) => x.reason === "warming_up" && x.score)),
        `${r.model}: a scored window held back by the warm-up`,
      ).toBe(true);
      // The warm-up lasts the window's length (the default), counted from the first pass that saw values.
      const firstData = mine.find((p) => p.rows.some((x) => x.samples > 0))!;
      expect(firstScored.atMs - firstData.atMs, `${r.model}: warm-up`).toBeGreaterThanOrEqual(windowMs / 2);
    }
  });

  it("a 1σ mean shift on one feature reaches critical within one window of 3000 values and a 0.5σ shift warning, the other features staying below info", {
    timeout: 240_000,
  }, async () => {
    const windowMs = 3000;
    const slotMs = 500;
    const perWindow = 3000;
    const c = await collector([
      "windows: { slotSeconds: 0.5, analysisSeconds: 3 }",
      "analysis: { intervalSeconds: 0.25, drift: { minSamples: 500 } }",
    ]);
    const model = "shifting";
    await putBaseline(c, model, {
      a: histogramOf(normals(501, 20_000, 0, 1)),
      b: histogramOf(normals(502, 20_000, 10, 2)),
      c: histogramOf(normals(503, 20_000, -5, 0.5)),
    });
    const { monitoring, monitor } = monitorFor(c, model);
    const rand = seeded(504);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const draw = (shift: number) => () => ({
      a: shift + gauss(),
      b: 10 + 2 * gauss(),
      c: -5 + 0.5 * gauss(),
    });
    const watch = watchPasses(c, [model]);
    let s = pacedStream(monitor, perWindow, windowMs, draw(0));
    cleanup.push(async () => {
      s.stop();
      await watch.stop();
    });
    // Phases follow what the collector has seen, not a fixed sleep: first a judged stationary window.
    await eventually(async () => watch.passes.some(scoredRows), 120_000);

    /**
     * Switches the stream to `shift` once everything recorded before is exported (so no older value
     * lands in a later slot), then returns the first judged pass whose whole window began after the switch.
     */
    const shiftTo = async (shift: number) => {
      s.stop();
      await monitoring.forceFlush();
      const at = Date.now();
      s = pacedStream(monitor, perWindow, windowMs, draw(shift));
      const pure = (p: Pass) => p.atMs >= at + windowMs + slotMs && scoredRows(p);
      return eventually(async () => watch.passes.find(pure), 120_000);
    };
    const before = watch.passes.filter(scoredRows);
    // D = 2Φ(δ/2) − 1: 0.5σ gives 0.197, past warning (0.15) and short of critical (0.25).
    const half = await shiftTo(0.5);
    // 1σ gives 0.383, past critical.
    const one = await shiftTo(1);
    s.stop();
    await watch.stop();

    expect(before.length).toBeGreaterThan(0);
    for (const p of before)
      for (const x of p.rows) expect(x.score!.severity, `stationary ${x.feature}`).toBe("none");
    for (const [p, want, d] of [
      [half, "warning", 0.197],
      [one, "critical", 0.383],
    ] as const) {
      const row = (f: string) => p.rows.find((x) => x.feature === f)!;
      const a = row("a");
      // The window held about 3000 values (5 or 6 slots of 0.5 s by arrival time).
      expect(a.samples, JSON.stringify(a)).toBeGreaterThanOrEqual(0.7 * perWindow);
      expect(a.samples, JSON.stringify(a)).toBeLessThanOrEqual(1.3 * perWindow);
      expect(a.score!.severity, JSON.stringify(a)).toBe(want);
      expect(Math.abs(a.score!.value - d), JSON.stringify(a)).toBeLessThan(0.05);
      // The shift moves values up: the range that moved most gained share.
      expect(a.moved?.[0].current, JSON.stringify(a.moved)).toBeGreaterThan(a.moved![0].baseline);
      for (const f of ["b", "c"]) {
        expect(row(f).score!.severity, f).toBe("none");
        expect(row(f).score!.value, f).toBeLessThan(0.1);
      }
    }
    // Not one pass, through both shifts, put the unshifted features at info or above.
    for (const p of watch.passes)
      for (const x of p.rows.filter((r) => r.feature !== "a"))
        expect(x.score?.severity ?? "none", `${x.feature} at ${p.atMs}`).toBe("none");
  });
});
