// Coexistence with an application that already runs @opentelemetry/sdk-node
// with auto-instrumentation: mlwatch's producer goes into NodeSDK's own
// metric reader, so one OTLP export carries the auto-instrumented HTTP
// metrics and mlwatch's, under NodeSDK's resource; sampled predictions go
// through NodeSDK's logger provider. (The variant where ModelMonitor records
// through NodeSDK's meter is nodesdk-meter.test.ts: NodeSDK registers process
// globals, so each variant runs in its own test process.)

import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { Attr, SampledPredictionEvent } from "@mlwatch/semconv";
import { metrics } from "@opentelemetry/api";
import { logs } from "@opentelemetry/api-logs";
import { getNodeAutoInstrumentations } from "@opentelemetry/auto-instrumentations-node";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { BatchLogRecordProcessor, type LoggerProvider } from "@opentelemetry/sdk-logs";
import { type MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { afterAll, describe, expect, it } from "vitest";
import { ModelMonitor, mlwatchMetricProducer, mlwatchViews, SDK_NAME } from "../src/index.js";
import { allLogRecords, eventually, type Receiver, startReceiver } from "./support.js";

let receiver: Receiver;
let sdk: NodeSDK;
afterAll(async () => {
  await sdk?.shutdown();
  await receiver?.close();
});

describe("NodeSDK with auto-instrumentation, mlwatch's producer in its reader", () => {
  it("exports auto-instrumented HTTP metrics and mlwatch metrics together, and sampled predictions as logs", async () => {
    receiver = await startReceiver();
    process.env.OTEL_TRACES_EXPORTER = "none";
    sdk = new NodeSDK({
      serviceName: "nodesdk-app",
      metricReader: new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${receiver.url}/v1/metrics` }),
        exportIntervalMillis: 3_600_000,
        metricProducers: [mlwatchMetricProducer()],
      }),
      views: mlwatchViews(),
      logRecordProcessors: [
        new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${receiver.url}/v1/logs` }) }),
      ],
      instrumentations: [
        getNodeAutoInstrumentations({ "@opentelemetry/instrumentation-fs": { enabled: false } }),
      ],
    });
    sdk.start();

    // Loaded after start(), as an application's modules are, so the http instrumentation patches it.
    const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");
    const monitor = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "3",
      endpoint: "/predict",
      groundTruth: { sampleRate: 1 },
    });
    expect(monitor.mode).toBe("producer");
    const predict = monitor.wrap(async (id: string) => {
      monitor.recordPrediction({
        requestId: id,
        predictedClass: "positive",
        confidence: 0.8,
        features: { n: 3 },
      });
      return "positive";
    });
    const server = http.createServer(async (req, res) => {
      res.end(await predict(String(req.headers["x-request-id"])));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    for (let i = 0; i < 5; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(
            { host: "127.0.0.1", port, path: "/predict", headers: { "x-request-id": `id-${i}` } },
            (res) => {
              let b = "";
              res.on("data", (c) => {
                b += c;
              });
              res.on("end", () => resolve(b));
            },
          )
          .on("error", reject);
      });
      expect(body).toBe("positive");
    }
    await new Promise<void>((r) => server.close(() => r()));

    // NodeSDK registered its providers globally; flush them through the API.
    await (metrics.getMeterProvider() as MeterProvider).forceFlush();
    await (logs.getLoggerProvider() as LoggerProvider).forceFlush();

    const req = receiver.metrics.at(-1)!;
    expect(req.resourceMetrics).toHaveLength(1);
    const rm = req.resourceMetrics[0];
    expect(rm.resource["service.name"]).toBe("nodesdk-app");
    const byScope = new Map(rm.scopeMetrics.map((s) => [s.scope.name, s.metrics.map((m) => m.name)]));
    const httpMetrics = [...byScope.values()]
      .flat()
      .filter((n) => n.startsWith("http.server") || n.startsWith("http.client"));
    expect(httpMetrics).toEqual(
      expect.arrayContaining(["http.server.request.duration", "http.client.request.duration"]),
    );
    const ml = byScope.get(SDK_NAME) ?? [];
    expect(ml).toEqual(
      expect.arrayContaining(["ml.requests", "ml.request.duration", "ml.predictions", "ml.feature.value"]),
    );
    const requests = rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.name === "ml.requests")!;
    expect(requests.points.map((p) => [p.attributes[Attr.endpoint], (p as { value: number }).value])).toEqual(
      [["/predict", 5]],
    );
    const duration = rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.name === "ml.request.duration")!;
    expect(duration.kind).toBe("exponential_histogram");

    const records = await eventually(() => {
      const r = allLogRecords(receiver).filter((l) => l.eventName === SampledPredictionEvent.eventName);
      return r.length === 5 ? r : undefined;
    });
    expect(records.map((r) => r.attributes[Attr.requestId]).sort()).toEqual([
      "id-0",
      "id-1",
      "id-2",
      "id-3",
      "id-4",
    ]);
    expect(receiver.logs[0].resourceLogs[0].resource["service.name"]).toBe("nodesdk-app");
  });
});
