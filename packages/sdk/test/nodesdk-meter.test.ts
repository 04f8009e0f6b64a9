// Coexistence, second way: the application runs NodeSDK (with
// auto-instrumentation and mlwatchViews()) and does not add mlwatch's
// producer. A ModelMonitor created without options then records through
// NodeSDK's global meter as plain instruments — exponential histograms thanks
// to the views — and startMonitoring() is not needed at all.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { Attr, Instruments } from "@mlwatch/semconv";
import { metrics } from "@opentelemetry/api";
import { getNodeAutoInstrumentations } from "@opentelemetry/auto-instrumentations-node";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { type MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { afterAll, describe, expect, it } from "vitest";
import { ModelMonitor, mlwatchViews, SDK_NAME } from "../src/index.js";
import { type Receiver, startReceiver } from "./support.js";

let receiver: Receiver;
let sdk: NodeSDK;
afterAll(async () => {
  await sdk?.shutdown();
  await receiver?.close();
});

describe("NodeSDK with auto-instrumentation, ModelMonitor on NodeSDK's meter", () => {
  it("records through the global meter with exponential histograms, beside the HTTP metrics", async () => {
    receiver = await startReceiver();
    process.env.OTEL_TRACES_EXPORTER = "none";
    process.env.OTEL_LOGS_EXPORTER = "none";
    sdk = new NodeSDK({
      serviceName: "nodesdk-meter-app",
      metricReader: new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${receiver.url}/v1/metrics` }),
        exportIntervalMillis: 3_600_000,
      }),
      views: mlwatchViews(),
      instrumentations: [
        getNodeAutoInstrumentations({ "@opentelemetry/instrumentation-fs": { enabled: false } }),
      ],
    });
    sdk.start();
    const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");

    const monitor = new ModelMonitor({ modelName: "sentiment", endpoint: "/predict" });
    expect(monitor.mode).toBe("instruments");
    const server = http.createServer(
      monitor.wrap((_req: IncomingMessage, res: ServerResponse) => {
        monitor.recordPrediction({ predictedClass: "neg", confidence: 0.3, features: { delta: -1.5 } });
        res.end("ok");
      }),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    for (let i = 0; i < 3; i++)
      await new Promise<void>((resolve, reject) =>
        http
          .get({ host: "127.0.0.1", port, path: "/" }, (res) => res.resume().on("end", resolve))
          .on("error", reject),
      );
    await new Promise<void>((r) => server.close(() => r()));
    await (metrics.getMeterProvider() as MeterProvider).forceFlush();

    const rm = receiver.metrics.at(-1)!.resourceMetrics[0];
    expect(rm.resource["service.name"]).toBe("nodesdk-meter-app");
    const all = rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => ({ scope: s.scope.name, m })));
    expect(all.some(({ m }) => m.name === "http.server.request.duration")).toBe(true);
    const ml = new Map(all.filter(({ scope }) => scope === SDK_NAME).map(({ m }) => [m.name, m]));
    expect(ml.get(Instruments.requests.name)!.points.map((p) => (p as { value: number }).value)).toEqual([3]);
    expect(ml.get(Instruments.duration.name)!.kind).toBe("exponential_histogram");
    expect(ml.get(Instruments.confidence.name)!.kind).toBe("exponential_histogram");
    const feature = ml.get(Instruments.featureValue.name)!;
    expect(feature.kind).toBe("exponential_histogram");
    expect(
      feature.points.map((p) => [p.attributes[Attr.featureSign], (p as { count: number }).count]),
    ).toEqual([["negative", 3]]);
  });
});
