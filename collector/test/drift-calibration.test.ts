// Size-aware drift severity in the collector, in process (store.ingest and
// analyzeNow with simulated time, no listeners): stationary windows at four
// sizes raise no warning over many re-tested windows, a new stream warms up
// before it may raise anything, the report names the ranges that moved, and
// a rollout's versions are compared with each other.

import { ExpHistogram } from "@mlwatch/stats";
import { afterEach, describe, expect, it } from "vitest";
import { makeBaseline } from "../src/baselines/format.js";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const open: Collector[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.stop();
});

/** A collector in memory: 10 s windows of 1 s slots, analysed every second. */
function collector(drift: Record<string, unknown> = {}): Collector {
  const c = new Collector(
    parseConfig({
      storage: { path: ":memory:" },
      windows: { slotSeconds: 1, analysisSeconds: 10 },
      analysis: { intervalSeconds: 1, drift: { minSamples: 50, ...drift } },
    }),
    () => {},
  );
  open.push(c);
  return c;
}

function histogram(values: Iterable<number>): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

function feed(c: Collector, model: string, feature: string, values: number[], atMs: number, version = "1") {
  const attributes = Object.assign(Object.create(null), {
    "ml.model.name": model,
    "ml.model.version": version,
    "ml.feature.name": feature,
  });
  c.store.ingest(
    { kind: "histogram", metric: "ml.feature.value", attributes, delta: histogram(values) },
    atMs,
  );
}

const T0 = Date.UTC(2026, 0, 1);

describe("stationary streams", () => {
  it("60 windows each at 100, 300, 1000 and 5000 values, re-tested every second: no warning, info at most once in all 240", () => {
    const sizes = [100, 300, 1000, 5000];
    const features = ["a", "b", "c"];
    let info = 0;
    const warnings: string[] = [];
    for (const [k, n] of sizes.entries()) {
      const c = collector();
      const r = seeded(100 + k);
      const model = `m${n}`;
      c.baselines.put(
        makeBaseline({
          model,
          features: Object.fromEntries(
            features.map((f, i) => [f, histogram(Array.from({ length: 10_000 }, () => 3 * i + gauss(r)))]),
          ),
        }),
      );
      const infoWindows = new Set<string>();
      // 60 windows of 10 s after a 10 s warm-up, analysed each second over the last 10 s.
      for (let s = 0; s < 10 * 61; s++) {
        const t = T0 + s * 1000;
        for (const [i, f] of features.entries())
          feed(
            c,
            model,
            f,
            Array.from({ length: n / 10 }, () => 3 * i + gauss(r)),
            t,
          );
        const snap = c.analyzeNow(t + 999);
        for (const d of snap.drift) {
          const sev = d.score?.severity;
          if (sev === "warning" || sev === "critical")
            warnings.push(`${model}/${d.feature} at ${s}s: ${d.score?.value}`);
          if (sev === "info") infoWindows.add(`${d.feature}@${Math.floor(s / 10)}`);
        }
        if (s >= 10)
          expect(
            snap.drift.every((d) => d.score !== undefined),
            `scored at ${s}s`,
          ).toBe(true);
      }
      info += new Set([...infoWindows].map((w) => w.split("@")[1])).size;
    }
    expect(warnings).toEqual([]);
    expect(info).toBeLessThanOrEqual(1);
  }, 120_000);

  it("the exported threshold is what chance reaches at the window's size: above the 0.1 floor at 100 values, the floor at 5000", () => {
    const c = collector();
    const r = seeded(5);
    c.baselines.put(
      makeBaseline({
        model: "m",
        features: { a: histogram(Array.from({ length: 10_000 }, () => gauss(r))) },
      }),
    );
    const thresholdAt = (n: number, s0: number) => {
      let snap = c.analyzeNow(T0 + s0 * 1000);
      for (let s = s0; s < s0 + 20; s++) {
        feed(
          c,
          "m",
          "a",
          Array.from({ length: n / 10 }, () => gauss(r)),
          T0 + s * 1000,
        );
        snap = c.analyzeNow(T0 + s * 1000 + 999);
      }
      return snap.drift[0].score!.thresholds;
    };
    const small = thresholdAt(100, 0);
    expect(small.info).toBeGreaterThan(0.2);
    expect(small.warning).toBe(small.info);
    const large = thresholdAt(5000, 40);
    expect(large).toEqual({ info: 0.1, warning: 0.15, critical: 0.25 });
    const text = c.metricsText(T0 + 60_000 - 1);
    expect(text).toMatch(
      /ml_data_drift_threshold\{model_name="m",feature_name="a",severity="warning"\} 0\.15/,
    );
  });
});

describe("warm-up", () => {
  it("a new stream gets no severity until its window spans the warm-up, though its sample count is exported", () => {
    const c = collector();
    const r = seeded(6);
    c.baselines.put(
      makeBaseline({
        model: "m",
        features: { a: histogram(Array.from({ length: 10_000 }, () => gauss(r))) },
      }),
    );
    // A stream 2σ off from its first second: plainly drifted, yet too young to judge for 10 s.
    const seen: Array<{ s: number; reason?: string; severity?: string }> = [];
    for (let s = 0; s < 14; s++) {
      feed(
        c,
        "m",
        "a",
        Array.from({ length: 500 }, () => 2 + gauss(r)),
        T0 + s * 1000,
      );
      const d = c.analyzeNow(T0 + s * 1000 + 500).drift[0];
      seen.push({ s, reason: d.reason, severity: d.score?.severity });
      if (s < 10) {
        expect(d.samples).toBe(500 * (s + 1));
        expect(c.metricsText(T0 + s * 1000 + 500)).toContain(
          `ml_data_drift_window_samples{model_name="m",feature_name="a"} ${500 * (s + 1)}`,
        );
        // Scored for the record, but no severity, threshold or attribution while young.
        expect(c.metricsText(T0 + s * 1000 + 500)).toContain(
          'ml_data_drift_score{model_name="m",feature_name="a"',
        );
        for (const family of ["ml_data_drift_severity", "ml_data_drift_threshold", "ml_data_drift_top_range"])
          expect(c.metricsText(T0 + s * 1000 + 500)).not.toContain(family);
        expect(c.summary("m", T0 + s * 1000 + 500).drift[0].severity).toBeNull();
      }
    }
    expect(
      seen.filter((x) => x.s < 10).every((x) => x.reason === "warming_up" && x.severity === "none"),
    ).toBe(true);
    expect(seen.filter((x) => x.s >= 10).map((x) => x.severity)).toEqual([
      "critical",
      "critical",
      "critical",
      "critical",
    ]);
  });

  it("warmupSeconds shortens the warm-up; a stream that goes away warms up again when it returns", () => {
    const c = collector({ warmupSeconds: 3 });
    const r = seeded(7);
    c.baselines.put(
      makeBaseline({
        model: "m",
        features: { a: histogram(Array.from({ length: 10_000 }, () => gauss(r))) },
      }),
    );
    const pass = (s: number) => {
      feed(
        c,
        "m",
        "a",
        Array.from({ length: 500 }, () => 2 + gauss(r)),
        T0 + s * 1000,
      );
      return c.analyzeNow(T0 + s * 1000 + 500).drift[0];
    };
    expect(pass(0).reason).toBe("warming_up");
    expect(pass(2).reason).toBe("warming_up");
    expect(pass(3).score?.severity).toBe("critical");
    // Gone for longer than the window: nothing left to judge, and when it comes back it is young again.
    expect(c.analyzeNow(T0 + 20_000).drift.map((d) => [d.samples, d.reason])).toEqual([
      [0, "too_few_samples"],
    ]);
    expect(pass(21).reason).toBe("warming_up");
    expect(pass(24).score?.severity).toBe("critical");
  });
});

describe("what moved", () => {
  it("names the value ranges whose share moved most, with baseline and current shares, in the report and on /metrics", () => {
    const c = collector();
    const r = seeded(8);
    const base = Array.from({ length: 20_000 }, () => gauss(r));
    c.baselines.put(makeBaseline({ model: "m", features: { a: histogram(base) } }));
    // 38 % of the window now lies in [−5, −2], where the baseline has about 2 %.
    const live: number[] = [];
    for (let s = 0; s < 11; s++) {
      const xs = Array.from({ length: 300 }, () => (r() < 0.38 ? -5 + 3 * r() : gauss(r)));
      live.push(...xs);
      feed(c, "m", "a", xs, T0 + s * 1000);
      if (s < 10) c.analyzeNow(T0 + s * 1000 + 999);
    }
    const now = T0 + 10_999;
    const snap = c.analyzeNow(now);
    const d = snap.drift[0];
    expect(d.score?.severity).toBe("critical");
    expect(d.moved).toHaveLength(3);
    // The top range is the baseline's lowest bin, which holds the values pushed below its 5 % quantile.
    const top = d.moved![0];
    expect(top.range).toMatch(/^\(-inf, -1\.6\d*\]$/);
    const edge = Number(top.range.slice(7, -1));
    const share = (xs: number[]) => xs.filter((x) => x <= edge).length / xs.length;
    const windowValues = live.slice(300); // the first second has left the 10 s window
    expect(Math.abs(top.current - share(windowValues))).toBeLessThan(0.01);
    expect(Math.abs(top.baseline - share(base))).toBeLessThan(0.005);
    for (let i = 1; i < 3; i++)
      expect(Math.abs(d.moved![i].current - d.moved![i].baseline)).toBeLessThanOrEqual(
        Math.abs(top.current - top.baseline),
      );
    const report = c.driftReport("m", now) as { features: Array<{ moved?: unknown }> };
    expect(report.features[0].moved).toEqual(d.moved);
    const text = c.metricsText(now);
    const line = text
      .split("\n")
      .find((l) => l.startsWith('ml_data_drift_top_range{model_name="m",feature_name="a",rank="1"'));
    expect(line).toContain(`range="${top.range}"`);
    expect(line).toContain(`baseline_share="${Number(top.baseline.toPrecision(4))}"`);
    expect(Number(line!.split(" ").pop())).toBeCloseTo(top.current, 9);
  });
});

describe("version against version", () => {
  it("a newer version's shifted feature is compared with the version that was live first; the others stay quiet", () => {
    const c = collector();
    const r = seeded(9);
    const pass = (s: number, v2: boolean) => {
      const t = T0 + s * 1000;
      feed(
        c,
        "m",
        "a",
        Array.from({ length: 300 }, () => gauss(r)),
        t,
        "1",
      );
      feed(
        c,
        "m",
        "b",
        Array.from({ length: 300 }, () => 5 + gauss(r)),
        t,
        "1",
      );
      if (v2) {
        feed(
          c,
          "m",
          "a",
          Array.from({ length: 300 }, () => 1 + gauss(r)),
          t,
          "2",
        );
        feed(
          c,
          "m",
          "b",
          Array.from({ length: 300 }, () => 5 + gauss(r)),
          t,
          "2",
        );
      }
      return c.analyzeNow(t + 500).versionDrift;
    };
    for (let s = 0; s < 5; s++) expect(pass(s, false)).toEqual([]);
    // The rollout starts at 5 s: v2 warms up for a window, then is judged against v1.
    for (let s = 5; s < 15; s++) expect(pass(s, true).every((v) => v.reason === "warming_up")).toBe(true);
    const v = pass(15, true);
    expect(v.map((x) => [x.feature, x.version, x.referenceVersion])).toEqual([
      ["a", "2", "1"],
      ["b", "2", "1"],
    ]);
    const [a, b] = v;
    // 1σ: D = 2Φ(0.5) − 1 ≈ 0.38.
    expect(a.score?.severity).toBe("critical");
    expect(Math.abs(a.score!.value - 0.383)).toBeLessThan(0.05);
    expect(b.score?.severity).toBe("none");
    expect(a.moved?.length).toBeGreaterThan(0);
    const text = c.metricsText(T0 + 15_500);
    const line = text
      .split("\n")
      .find((l) =>
        l.startsWith(
          'ml_version_drift_score{model_name="m",feature_name="a",model_version="2",reference_version="1"}',
        ),
      );
    expect(Number(line?.split(" ").pop())).toBeCloseTo(a.score!.value, 9);
    expect(text).toContain(
      'ml_version_drift_severity{model_name="m",feature_name="a",model_version="2",reference_version="1"} 3',
    );
  });
});
