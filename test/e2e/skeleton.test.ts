// The walking skeleton end to end: the real SDK exports through the real OTel
// JS OTLP exporters (protobuf and JSON) over loopback to the real collector
// process, which is scraped on /metrics.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelMonitor, type OtlpProtocol, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  startCollector,
  sumOf,
  toolAvailable,
} from "../support/processes.js";
import { normals } from "../support/random.js";

const N = 3000;
const ERROR_EVERY = 40; // 75 errors out of 3000

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

async function runScenario(
  protocol: OtlpProtocol,
  model: string,
): Promise<{ collector: CollectorHandle; metrics: string }> {
  const collector = await startCollector([
    "windows: { slotSeconds: 1, analysisSeconds: 120 }",
    "analysis: { intervalSeconds: 0.2 }",
  ]);
  collectors.push(collector);
  // Baseline: three features from the same reference distributions.
  const baseline = makeBaseline({
    model,
    features: {
      stable: histogramOf(normals(1, 20_000, 50, 10)),
      signed: histogramOf(normals(2, 20_000, 0, 1)),
      shifted: histogramOf(normals(3, 20_000, 50, 10)),
    },
  });
  const put = await fetch(`${collector.query}/api/v1/baselines/${model}`, {
    method: "PUT",
    body: JSON.stringify(baseline),
  });
  expect(put.status).toBe(200);

  const monitoring = startMonitoring({
    endpoint: collector.otlp,
    protocol,
    exportIntervalMillis: 60_000,
    registerGlobal: false,
  });
  const monitor = new ModelMonitor({
    modelName: model,
    modelVersion: "2.1.0",
    endpoint: "/predict",
    meter: monitoring.meterProvider.getMeter("e2e"),
  });
  const stable = normals(11, N, 50, 10);
  const signed = normals(12, N, 0, 1);
  const shifted = normals(13, N, 65, 10); // a 1.5σ shift: KS D ≈ 0.55
  for (let i = 0; i < N; i++) {
    monitor.recordRequest(0.005 + (i % 100) / 1000, {
      error: i % ERROR_EVERY === 0 ? new RangeError("bad input") : undefined,
    });
    monitor.recordPrediction({
      predictedClass: i % 3 === 0 ? "negative" : "positive",
      confidence: 0.5 + (i % 50) / 100,
      features: { stable: stable[i], signed: signed[i], shifted: shifted[i] },
    });
    // Export mid-way too, so the collector differences two cumulative points.
    if (i === N / 2) await monitoring.forceFlush();
  }
  await monitoring.forceFlush();
  await monitoring.shutdown();
  // Analysis runs every 0.2 s; wait for a pass that has seen the last export, in a scrape whose running
  // totals include it too (with a storage file they may be served as of the last checkpoint).
  const metrics = await eventually(async () => {
    const text = await (await fetch(`${collector.query}/metrics`)).text();
    const s = parseExposition(text);
    const windowSamples = sumOf(s, "ml_data_drift_window_samples", {
      model_name: model,
      feature_name: "shifted",
    });
    return windowSamples === N && sumOf(s, "ml_requests_total", { model_name: model }) === N
      ? text
      : undefined;
  }, 60_000);
  return { collector, metrics };
}

const collectors: CollectorHandle[] = [];
afterAll(async () => {
  for (const c of collectors) await c.close();
});

describe.each<OtlpProtocol>(["http/protobuf", "http/json"])(
  "SDK → OTLP %s → collector → /metrics",
  (protocol) => {
    it("counts every request and error, and scores drift on the shifted feature only", {
      timeout: 180_000,
    }, async () => {
      const model = `skeleton_${protocol.replace("/", "_")}`;
      const { metrics } = await runScenario(protocol, model);
      const samples = parseExposition(metrics);
      const m = { model_name: model };
      expect(sumOf(samples, "ml_requests_total", m)).toBe(N);
      expect(
        sumOf(samples, "ml_requests_total", { ...m, model_version: "2.1.0", endpoint: "/predict" }),
      ).toBe(N);
      expect(sumOf(samples, "ml_errors_total", { ...m, error_type: "RangeError" })).toBe(N / ERROR_EVERY);
      expect(sumOf(samples, "ml_request_duration_seconds_count", m)).toBe(N);
      expect(sumOf(samples, "ml_request_duration_seconds_bucket", { ...m, le: "+Inf" })).toBe(N);
      expect(sumOf(samples, "ml_predictions_by_class_total", { ...m, predicted_class: "negative" })).toBe(
        N / 3,
      );

      const drift = (feature: string) =>
        sumOf(samples, "ml_data_drift_score", { ...m, feature_name: feature });
      expect(drift("shifted")).toBeGreaterThan(0.25);
      expect(drift("stable")).toBeLessThan(0.1);
      expect(drift("signed")).toBeLessThan(0.1);
      expect(sumOf(samples, "ml_data_drift_window_samples", { ...m, feature_name: "signed" })).toBe(N);
    });
  },
);

describe.runIf(toolAvailable("promtool"))("exposition", () => {
  it("passes promtool check metrics", { timeout: 180_000 }, async () => {
    const { collector, metrics } = await runScenario("http/protobuf", "promtool_check");
    const file = join(collector.dir, "metrics.txt");
    writeFileSync(file, metrics);
    // promtool reads the exposition on stdin and exits non-zero on any problem, lint included.
    const out = execFileSync(
      "sh",
      ["-c", `promtool check metrics < ${JSON.stringify(file)} 2>&1; echo "exit=$?"`],
      {
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe("exit=0");
  });
});
