// Ground truth end to end: the SDK samples predictions and sends them as
// OTLP log records to the real collector; labels posted to its feedback API
// join them, and accuracy follows.

import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { afterAll, expect, it } from "vitest";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  startCollector,
  sumOf,
} from "../support/processes.js";
import { seeded } from "../support/random.js";

let c: CollectorHandle;
afterAll(() => c?.close());

it("labels with 60% correct bring accuracy to 0.6, and the review queue empties", {
  timeout: 180_000,
}, async () => {
  c = await startCollector(["analysis: { intervalSeconds: 0.2, accuracy: { lastLabels: 100 } }"]);
  const model = "reviewed";
  const monitoring = startMonitoring({
    endpoint: c.otlp,
    exportIntervalMillis: 60_000,
    registerGlobal: false,
  });
  const monitor = new ModelMonitor({
    modelName: model,
    modelVersion: "3",
    meter: monitoring.meterProvider.getMeter("e2e"),
    groundTruth: { sampleRate: 1, logger: monitoring.loggerProvider.getLogger("e2e") },
  });
  const N = 1000;
  const predicted = (i: number) => (i % 3 === 0 ? "negative" : "positive");
  for (let i = 0; i < N; i++) {
    monitor.recordPrediction({ requestId: `req-${i}`, predictedClass: predicted(i), confidence: 0.9 });
  }
  await monitoring.forceFlush();
  await monitoring.shutdown();

  const queue = await eventually(async () => {
    const q = (await (await fetch(`${c.query}/api/v1/reviews?model=${model}&limit=3`)).json()) as {
      total: number;
      items: Array<{ requestId: string; predictedClass: string; model: string; version: string }>;
    };
    return q.total === N ? q : undefined;
  }, 60_000);
  expect(queue.items[0]).toMatchObject({
    requestId: "req-0",
    predictedClass: "negative",
    model,
    version: "3",
  });

  // Reviewers agree with the model on exactly 60% of the predictions, in a shuffled order.
  const r = seeded(60);
  const agreeing = new Set(
    Array.from({ length: N }, (_, i) => i)
      .sort(() => r() - 0.5)
      .slice(0, (N * 3) / 5),
  );
  const labels = Array.from({ length: N }, (_, i) => {
    const agree = agreeing.has(i);
    return {
      request_id: `req-${i}`,
      label: agree ? predicted(i) : predicted(i) === "positive" ? "negative" : "positive",
      agree,
    };
  });
  const correct = labels.filter((l) => l.agree).length;
  for (let i = 0; i < N; i += 250) {
    const res = await fetch(`${c.query}/api/v1/feedback`, {
      method: "POST",
      body: JSON.stringify(labels.slice(i, i + 250).map(({ request_id, label }) => ({ request_id, label }))),
    });
    expect(((await res.json()) as { joined: number }).joined).toBe(250);
  }
  const again = await fetch(`${c.query}/api/v1/feedback`, {
    method: "POST",
    body: JSON.stringify({ request_id: "req-1", label: "positive" }),
  });
  expect(await again.json()).toMatchObject({ joined: 0, unknown: 1 });

  // Wait for an analysis pass that has joined every label (not just the first batch): the summary is
  // read from the same snapshot as /metrics, and with no more labels coming every later pass agrees.
  await eventually(async () => {
    const r = await fetch(`${c.query}/api/v1/models/${model}`);
    if (!r.ok) return undefined;
    const summary = (await r.json()) as {
      accuracy: Array<{ segment: string; total: number }>;
      accuracyLastLabels: Array<{ segment: string; labels: number }>;
    };
    const window = summary.accuracy.find((a) => a.segment === "ground_truth_sample");
    const last = summary.accuracyLastLabels.find((a) => a.segment === "ground_truth_sample");
    return window?.total === N && last?.labels === 100;
  }, 60_000);
  // A scrape whose outcome counters hold every joined label (with a storage file the collector may serve
  // running totals as of its last checkpoint, which can be older than the analysis pass).
  const s = await eventually(async () => {
    const x = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
    return sumOf(x, "ml_segment_outcomes_total", { model_name: model }) === N ? x : undefined;
  }, 60_000);
  const acc = sumOf(s, "ml_accuracy_by_segment", { model_name: model, segment: "ground_truth_sample" });
  expect(acc).toBeCloseTo(correct / N, 12);
  expect(Math.abs(acc - 0.6)).toBeLessThanOrEqual(0.02);
  const last100 = labels.slice(-100).filter((l) => l.agree).length / 100;
  expect(
    sumOf(s, "ml_accuracy_last_labels", { model_name: model, segment: "ground_truth_sample" }),
  ).toBeCloseTo(last100, 12);
  expect(sumOf(s, "ml_segment_outcomes_total", { model_name: model, outcome: "correct" })).toBe(correct);
  expect(sumOf(s, "mlwatch_collector_pending_reviews")).toBe(0);
});
