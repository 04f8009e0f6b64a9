// The status page in a real browser: headless Chromium (Debian's package)
// loads it from the real collector and we read the rendered DOM: each
// model's health, the reasons (as the shipped rules would judge), when its
// data last arrived, the labels behind its accuracy, and the report links.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { type CollectorHandle, eventually, startCollector, toolAvailable } from "../support/processes.js";
import { normals } from "../support/random.js";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), "mlwatch-chromium-"));
  try {
    return execFileSync("chromium", [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

let c: CollectorHandle;
afterAll(() => c?.close());

/** The HTML of one model's card in a page. */
function card(dom: string, model: string): string {
  const start = dom.lastIndexOf('<section class="model', dom.indexOf(`data-model="${model}"`));
  expect(start, `no card for ${model}`).toBeGreaterThanOrEqual(0);
  return dom.slice(start, dom.indexOf("</section>", start));
}

/** The reasons on a card, as [alert ("" for none), severity, text]. */
function reasons(html: string): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  const li =
    /<li class="[^"]*" data-signal="[^"]*" data-severity="(\w+)"(?: data-alert="(\w+)")?>(.*?)<\/li>/g;
  for (const m of html.matchAll(li))
    out.push([
      m[2] ?? "",
      m[1],
      m[3]
        .replace(/<\/?b>/g, "")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&"),
    ]);
  return out;
}

describe.runIf(toolAvailable("chromium"))("status page in Chromium", () => {
  it("judges each model as the shipped rules would, says why, when data came, and links its reports", {
    timeout: 180_000,
  }, async () => {
    // "troubled" has SLOs in the collector config (so an SLO report); "calm" has none.
    c = await startCollector([
      // No warm-up: this test is about the judgement of a scored window, not about its age.
      "analysis: { intervalSeconds: 0.2, drift: { warmupSeconds: 0 } }",
      "models: { troubled: { slo: { objectives: [ { name: availability, kind: availability, target: 0.99 }, { name: accuracy, kind: accuracy, target: 0.85, segment: ground_truth_sample } ] } } }",
    ]);
    const ref = new ExpHistogram();
    for (const v of normals(1, 10_000, 0, 1)) ref.record(v);
    for (const model of ["calm", "troubled"]) {
      await fetch(`${c.query}/api/v1/baselines/${model}`, {
        method: "PUT",
        body: JSON.stringify(makeBaseline({ model, features: { x: ref } })),
      });
    }
    const monitoring = startMonitoring({
      endpoint: c.otlp,
      exportIntervalMillis: 60_000,
      registerGlobal: false,
    });
    const meter = monitoring.meterProvider.getMeter("page");
    const calm = new ModelMonitor({ modelName: "calm", meter });
    const troubled = new ModelMonitor({ modelName: "troubled", meter });
    const xs = normals(2, 2000, 0, 1);
    for (const [i, x] of xs.entries()) {
      calm.recordRequest(0.02);
      calm.recordFeature("x", x);
      calm.recordPrediction({ predictedClass: "a", confidence: 0.95 });
      // 10% of requests fail, 45% of predictions are below the 0.7 confidence threshold, x is shifted.
      troubled.recordRequest(0.02, { error: i % 10 === 0 ? new RangeError("bad") : undefined });
      troubled.recordFeature("x", x + 1.5);
      troubled.recordPrediction({ predictedClass: "a", confidence: i % 20 < 9 ? 0.5 : 0.95 });
    }
    // Labels: calm right 200 times in 200, troubled right 90 times in 150.
    for (let i = 0; i < 200; i++) calm.recordOutcome("ground_truth_sample", true);
    for (let i = 0; i < 150; i++) troubled.recordOutcome("ground_truth_sample", i < 90);
    const sentAt = Date.now();
    await monitoring.shutdown();
    // An analysis pass that has scored all 2000 values of x for both models (a page judging the error
    // rate alone, before the drift is scored, is not yet the state asserted below).
    await eventually(async () => {
      for (const model of ["calm", "troubled"]) {
        const r = await fetch(`${c.query}/api/v1/models/${model}`);
        if (!r.ok) return false;
        const s = (await r.json()) as {
          requestsTotal: number;
          drift: Array<{ feature: string; samples: number; severity: string | null }>;
        };
        const x = s.drift.find((d) => d.feature === "x");
        if (s.requestsTotal !== xs.length || x?.samples !== xs.length || x.severity === null) return false;
      }
      return true;
    }, 60_000);

    const dom = chromium(["--dump-dom", `${c.query}/`]);
    const calmCard = card(dom, "calm");
    const troubledCard = card(dom, "troubled");
    expect(calmCard).toContain('data-health="healthy"');
    expect(troubledCard).toContain('data-health="critical"');

    expect(reasons(calmCard)).toEqual([]);
    expect(calmCard).toContain("All signals within the alert thresholds");
    // Judged against the default latency objective (0.5 s): within it, so coloured healthy.
    expect(calmCard).toMatch(/<div class="sev-ok" data-signal="latencyP95"><b>[\d.]+ ms<\/b>/);
    expect(calmCard).toContain("accuracy on ground_truth_sample (200 labels)");
    expect(calmCard).toContain("no SLO in the collector config");

    const got = reasons(troubledCard);
    const byAlert = (alert: string) => got.filter(([a]) => a === alert);
    expect(byAlert("HighErrorRate")).toEqual([
      [
        "HighErrorRate",
        "critical",
        "error rate 10% is above the critical threshold 5% — HighErrorRate (critical) fires if the 5 min error rate stays above it for 5 min",
      ],
    ]);
    expect(byAlert("ErrorBudgetBurn")).toEqual([
      [
        "ErrorBudgetBurn",
        "critical",
        "SLO availability: error budget burning 10.0× over 6 h and 10.0× over 30 min, above 6× — ErrorBudgetBurn (critical) fires if it stays so for 2 min",
      ],
    ]);
    expect(byAlert("LowModelAccuracy")).toEqual([
      [
        "LowModelAccuracy",
        "critical",
        "accuracy 60% on ground_truth_sample (150 labels) is below the critical threshold 70% — LowModelAccuracy (critical) fires if it stays below it for 30 min",
      ],
    ]);
    expect(byAlert("HighLowConfidencePredictions")).toEqual([
      [
        "HighLowConfidencePredictions",
        "warning",
        "45% of predictions had low confidence, above the 20% alert threshold — HighLowConfidencePredictions (warning) fires if the 1 h share stays above it for 1 h",
      ],
    ]);
    // Critical drift of x: DataDriftDetected's most severe tier is warning.
    expect(byAlert("DataDriftDetected")).toHaveLength(1);
    expect(byAlert("DataDriftDetected")[0][1]).toBe("warning");
    expect(byAlert("DataDriftDetected")[0][2]).toMatch(
      /^feature x: critical drift \(ks 0\.\d{3}, critical at 0\.250 for 2000 values\); \d+(\.\d+)? % of values now in \(1\.6\d*, \+inf\), baseline 5 % — DataDriftDetected \(warning\) fires if it stays warning or worse for 1 h$/,
    );
    // Both SLOs' budgets are overspent: noted, as no shipped rule alerts on a spent budget.
    expect(byAlert("")).toEqual([
      [
        "",
        "info",
        "SLO availability: error budget overspent (1000% of it spent) — no shipped rule alerts on a spent budget; the burn-rate alerts judge how fast it goes",
      ],
      [
        "",
        "info",
        "SLO accuracy: error budget overspent (266.67% of it spent) — no shipped rule alerts on a spent budget; the burn-rate alerts judge how fast it goes",
      ],
    ]);
    expect(got).toHaveLength(7);
    expect(troubledCard).toMatch(/<div class="sev-critical" data-signal="errorRate"><b>10%<\/b>/);
    expect(troubledCard).toMatch(/<div class="sev-warning" data-signal="lowConfidence"><b>45%<\/b>/);
    expect(troubledCard).toContain("accuracy on ground_truth_sample (150 labels)");
    expect(troubledCard).toMatch(/<tr class="sev-warning" data-feature="x">/);
    // The drift table shows the thresholds at this window's size (2000 values: the reference design's)
    // and what moved: x shifted 1.5σ, so the baseline's top 5 % now holds about 44 % of the values.
    expect(troubledCard).toMatch(/<td class="threshold"[^>]*>0\.100 \/ 0\.150 \/ 0\.250<\/td>/);
    const moved =
      /<td class="moved">(\d+(?:\.\d+)?) % of values now in \(1\.6\d*, \+inf\), baseline 5 %<\/td>/.exec(
        troubledCard,
      );
    expect(moved, troubledCard).not.toBeNull();
    expect(Math.abs(Number(moved![1]) - 44)).toBeLessThan(5);
    expect(calmCard).toMatch(/<td class="moved"><\/td>/);
    // No latency objective in its SLOs, so no latency rule: p95 is shown uncoloured.
    expect(troubledCard).toMatch(/<div class="unjudged" data-signal="latencyP95"/);

    // The API gives the same judgement as the page.
    const api = (await (await fetch(`${c.query}/api/v1/models/troubled`)).json()) as {
      health: { status: string; findings: Array<{ alert: string | null }> };
    };
    expect(api.health.status).toBe("critical");
    expect(api.health.findings.map((f) => f.alert ?? "").sort()).toEqual(got.map(([a]) => a).sort());

    // When data last arrived: after the export was sent, before now.
    for (const html of [calmCard, troubledCard]) {
      const last = Number(/data-last-data="(\d+)"/.exec(html)?.[1]);
      expect(last).toBeGreaterThanOrEqual(sentAt);
      expect(last).toBeLessThanOrEqual(Date.now());
      expect(html).toMatch(/last data <time data-last-data="\d+" datetime="[^"]+">\d+ s ago<\/time>/);
    }

    // The links lead to the model's drift report and SLO status.
    const href = (html: string, cls: string) =>
      new RegExp(`<a class="${cls}" href="([^"]+)"`).exec(html)?.[1];
    expect(href(calmCard, "drift-report")).toBe("/api/v1/models/calm/drift");
    expect(href(calmCard, "slo-report")).toBeUndefined();
    expect(href(troubledCard, "drift-report")).toBe("/api/v1/models/troubled/drift");
    expect(href(troubledCard, "slo-report")).toBe("/api/v1/models/troubled/slo");
    const drift = await fetch(`${c.query}${href(troubledCard, "drift-report")}`);
    expect(drift.status).toBe(200);
    expect(((await drift.json()) as { features: Array<{ feature: string }> }).features[0].feature).toBe("x");
    const slo = await fetch(`${c.query}${href(troubledCard, "slo-report")}`);
    expect(slo.status).toBe(200);
    const objectives = ((await slo.json()) as { objectives: Array<{ name: string }> }).objectives;
    expect(objectives.map((o) => o.name)).toEqual(["availability", "accuracy"]);

    const shot = join(c.dir, "status.png");
    chromium(["--window-size=1200,900", `--screenshot=${shot}`, `${c.query}/`]);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
  });
});
