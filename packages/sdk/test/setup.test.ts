// startMonitoring(): the standard OTEL_* variables, OTLP/JSON, the Prometheus
// pull endpoint with the reference design's names, host and runtime metrics,
// flush on shutdown — and, in child processes running the built package, the
// default one-line setup flushing on SIGTERM and on a natural exit.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attr, RuntimeMetricNames, SampledPredictionEvent } from "@mlwatch/semconv";
import { DiagLogLevel, diag } from "@opentelemetry/api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  MlwatchMetricProducer,
  ModelMonitor,
  type Monitoring,
  mlwatchViews,
  startMonitoring,
} from "../src/index.js";
import { allLogRecords, eventually, lastMetrics, type Receiver, startReceiver } from "./support.js";

const receivers: Receiver[] = [];
const monitorings: Monitoring[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}
afterAll(async () => {
  for (const m of monitorings) await m.shutdown();
  for (const r of receivers) await r.close();
});

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith("OTEL_")) delete process.env[k];
  for (const [k, v] of Object.entries(saved)) if (k.startsWith("OTEL_")) process.env[k] = v;
});

const quiet = { registerGlobal: false, shutdownOnExit: false } as const;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Starts monitoring with its Prometheus endpoint on a port that was free a moment before, once the
 * endpoint answers. Another process can take the port in between: the SDK then reports (to the OTel
 * diag logger) that it could not listen there, and this shuts that attempt down and tries another port.
 */
async function onFreePort(
  start: (port: number) => Monitoring,
): Promise<{ monitoring: Monitoring; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const errors: string[] = [];
    const log = (...args: unknown[]) => void errors.push(args.map(String).join(" "));
    const ignore = () => {};
    diag.setLogger(
      { error: log, warn: ignore, info: ignore, debug: ignore, verbose: ignore },
      { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
    );
    try {
      const monitoring = start(port);
      const taken = () => errors.some((e) => e.includes(`:${port}`));
      // The failed listen is reported before any request to the port could have been answered.
      const up = await eventually(async () => {
        if (taken()) return false;
        const signal = AbortSignal.timeout(2000); // whatever else has the port need not answer
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal }).catch(() => undefined);
        return res?.ok ? !taken() : undefined;
      }, 30_000);
      if (up) return { monitoring, port };
      await monitoring.shutdown();
      if (attempt === 5) throw new Error(`no free port for the Prometheus endpoint:\n${errors.join("\n")}`);
    } finally {
      diag.disable();
    }
  }
}

describe("startMonitoring", () => {
  it("honours OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT/PROTOCOL and OTEL_METRIC_EXPORT_INTERVAL", async () => {
    const r = await receiver();
    process.env.OTEL_SERVICE_NAME = "svc-from-env";
    process.env.OTEL_RESOURCE_ATTRIBUTES = "deployment.environment=test,team=ml";
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = r.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    process.env.OTEL_METRIC_EXPORT_INTERVAL = "200";
    const producer = new MlwatchMetricProducer();
    const monitoring = startMonitoring({ ...quiet, serviceName: "overridden-by-env", producer });
    monitorings.push(monitoring);
    const m = new ModelMonitor({
      modelName: "env",
      producer,
      groundTruth: { sampleRate: 1, logger: monitoring.loggerProvider.getLogger("t") },
    });
    m.recordRequest(0.01);
    m.recordPrediction({ requestId: "r1", predictedClass: "a" });
    // No flush: the periodic export at the interval from the environment delivers it.
    const metrics = await eventually(() => {
      const x = lastMetrics(r);
      return x.has("ml.requests") ? x : undefined;
    }, 30_000);
    expect(metrics.get("ml.requests")!.points).toHaveLength(1);
    const resource = r.metrics.at(-1)!.resourceMetrics[0].resource;
    expect(resource["service.name"]).toBe("svc-from-env");
    expect(resource["deployment.environment"]).toBe("test");
    expect(resource.team).toBe("ml");
    expect(typeof resource["service.instance.id"]).toBe("string");
    // The logs went to the same endpoint, as JSON too.
    await monitoring.forceFlush();
    const records = allLogRecords(r);
    expect(records.map((x) => x.eventName)).toEqual([SampledPredictionEvent.eventName]);
    expect(records[0].attributes[Attr.requestId]).toBe("r1");
  });

  it("adds host and runtime metrics for the resources page", async () => {
    const r = await receiver();
    const monitoring = startMonitoring({ ...quiet, endpoint: r.url, producer: new MlwatchMetricProducer() });
    monitorings.push(monitoring);
    // The event-loop delay gauges report once the delay monitor has taken a sample: flush until they do.
    const names = await eventually(async () => {
      await monitoring.forceFlush();
      const x = new Set(lastMetrics(r).keys());
      return x.has(RuntimeMetricNames.eventLoopDelayP99) ? x : undefined;
    });
    for (const n of [
      RuntimeMetricNames.eventLoopDelayP99,
      RuntimeMetricNames.eventLoopUtilization,
      RuntimeMetricNames.heapUsed,
      RuntimeMetricNames.heapLimit,
      RuntimeMetricNames.processMemoryUsage,
      RuntimeMetricNames.processCpuUtilization,
      RuntimeMetricNames.systemCpuUtilization,
      RuntimeMetricNames.systemMemoryUsage,
    ])
      expect(names, n).toContain(n);
    const heap = lastMetrics(r).get(RuntimeMetricNames.heapUsed)!;
    expect(heap.points.some((p) => p.attributes["v8js.heap.space.name"] === "new_space")).toBe(true);
  });

  it("serves a Prometheus endpoint with the reference design's names, labels and classic buckets", async () => {
    const producer = new MlwatchMetricProducer();
    const { monitoring, port } = await onFreePort((port) =>
      startMonitoring({
        ...quiet,
        otlp: false,
        logs: false,
        hostMetrics: false,
        producer,
        prometheus: { port },
      }),
    );
    monitorings.push(monitoring);
    expect(monitoring.prometheusUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    const m = new ModelMonitor({ modelName: "sentiment", modelVersion: "1", endpoint: "/predict", producer });
    m.recordRequest(0.03);
    m.recordRequest(0.7, { error: new RangeError("x") });
    m.recordPrediction({ predictedClass: "positive", confidence: 0.65, features: { n: 3, lang: "en" } });
    m.recordOutcome("ground_truth_sample", true);
    const text = await eventually(async () => {
      const res = await fetch(monitoring.prometheusUrl!).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    });
    const labels = 'model_name="sentiment",model_version="1"';
    expect(text).toContain(`ml_requests_total{${labels},endpoint="/predict"} 2`);
    expect(text).toContain(`ml_errors_total{${labels},endpoint="/predict",error_type="RangeError"} 1`);
    expect(text).toContain(`ml_request_duration_seconds_bucket{${labels},endpoint="/predict",le="0.05"} 1`);
    expect(text).toContain(`ml_request_duration_seconds_bucket{${labels},endpoint="/predict",le="1"} 2`);
    expect(text).toContain(`ml_request_duration_seconds_count{${labels},endpoint="/predict"} 2`);
    expect(text).toContain(`ml_requests_in_progress{${labels}} 0`);
    expect(text).toContain(`ml_predictions_by_class_total{${labels},predicted_class="positive"} 1`);
    expect(text).toContain(`ml_prediction_confidence_bucket{${labels},le="0.6"} 0`);
    expect(text).toContain(`ml_prediction_confidence_bucket{${labels},le="0.7"} 1`);
    expect(text).toContain(`ml_low_confidence_predictions_total{${labels},threshold="0.7"} 1`);
    expect(text).toContain(`ml_feature_category_total{${labels},feature_name="lang",category="en"} 1`);
    expect(text).toContain(
      `ml_segment_outcomes_total{${labels},segment="ground_truth_sample",outcome="correct"} 1`,
    );
    expect(text).not.toContain("ml_feature_value");
    expect(text).toContain('v8js_memory_heap_used{v8js_heap_space_name="new_space"}');
  });

  it("honours OTEL_METRICS_EXPORTER=prometheus and OTEL_EXPORTER_PROMETHEUS_PORT", async () => {
    process.env.OTEL_METRICS_EXPORTER = "prometheus";
    process.env.OTEL_LOGS_EXPORTER = "none";
    const { monitoring, port } = await onFreePort((port) => {
      process.env.OTEL_EXPORTER_PROMETHEUS_PORT = String(port);
      return startMonitoring({
        ...quiet,
        hostMetrics: false,
        runtimeMetrics: false,
        producer: new MlwatchMetricProducer(),
      });
    });
    monitorings.push(monitoring);
    expect(monitoring.prometheusUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    const res = await eventually(() => fetch(monitoring.prometheusUrl!).catch(() => undefined));
    expect(res.status).toBe(200);
  });

  it("flushes what is pending on shutdown()", async () => {
    const r = await receiver();
    const producer = new MlwatchMetricProducer();
    const monitoring = startMonitoring({
      ...quiet,
      endpoint: r.url,
      exportIntervalMillis: 3_600_000,
      producer,
    });
    new ModelMonitor({ modelName: "bye", producer }).recordRequest(0.2);
    expect(r.metrics).toHaveLength(0);
    await monitoring.shutdown();
    expect(lastMetrics(r).get("ml.requests")?.points).toHaveLength(1);
    await monitoring.shutdown(); // idempotent
  });

  it("mlwatchViews() makes every histogram exponential and can cap series per instrument", () => {
    const views = mlwatchViews({ maxSize: 80, cardinalityLimit: 500 });
    expect(views.filter((v) => v.aggregation).map((v) => v.instrumentName)).toEqual([
      "ml.request.duration",
      "ml.prediction.confidence",
      "ml.feature.value",
    ]);
    expect(views.every((v) => v.aggregationCardinalityLimit === 500)).toBe(true);
    const duration = mlwatchViews(100).find((v) => v.instrumentName === "ml.request.duration");
    expect(duration?.aggregation).toMatchObject({ options: { maxSize: 100, recordMinMax: true } });
  });
});

const dist = new URL("../dist/index.js", import.meta.url);

/** A service using the one-line setup, run from the built package in its own process. */
function childScript(endpoint: string, mode: "signal" | "exit"): string {
  const file = join(tmpdir(), `mlwatch-sdk-child-${process.pid}-${mode}.mjs`);
  writeFileSync(
    file,
    `import { ModelMonitor, startMonitoring } from ${JSON.stringify(dist.href)};
startMonitoring({ serviceName: "child", endpoint: ${JSON.stringify(endpoint)}, exportIntervalMillis: 3600000, hostMetrics: false });
const monitor = new ModelMonitor({ modelName: "child", groundTruth: { sampleRate: 1 } });
console.log("mode", monitor.mode);
for (let i = 0; i < 10; i++) {
  const t = monitor.startRequest("/predict");
  monitor.recordPrediction({ requestId: "c" + i, predictedClass: "a", confidence: 0.9 });
  t.end();
}
${mode === "signal" ? 'console.log("ready"); setInterval(() => {}, 1000);' : ""}
`,
  );
  return file;
}

describe("flush on the way out (built package, child processes)", () => {
  it.each(["signal", "exit"] as const)("delivers metrics and sampled predictions on %s", async (mode) => {
    const r = await receiver();
    const child = spawn(process.execPath, [childScript(r.url, mode)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    if (mode === "signal") {
      await eventually(() => (out.includes("ready") ? true : undefined));
      child.kill("SIGTERM");
    }
    const { code, signal } = await exited;
    expect(out).toContain("mode producer");
    if (mode === "signal") expect(signal).toBe("SIGTERM");
    else expect(code).toBe(0);
    const requests = r.metrics
      .flatMap((q) => q.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics)))
      .filter((m) => m.name === "ml.requests");
    expect(requests.at(-1)?.points.map((p) => (p as { value: number }).value)).toEqual([10]);
    expect(allLogRecords(r).filter((l) => l.eventName === SampledPredictionEvent.eventName)).toHaveLength(10);
  });
});
