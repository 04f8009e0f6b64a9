// The example model service: POST /predict and POST /feedback over plain
// node:http, instrumented with @mlwatch/sdk and exporting OTLP to a collector.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { MODEL_NAME, MODEL_VERSION, predict, ValidationError } from "./model.js";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    host: { type: "string", default: "127.0.0.1" },
    otlp: { type: "string", default: "http://127.0.0.1:4318" },
    "export-interval": { type: "string", default: "5000" },
    /** Median of the simulated inference time added to each prediction, in ms. */
    "latency-ms": { type: "string", default: "12" },
    /** Lets callers add latency or fail requests with x-inject-* headers, for demos and tests. */
    "allow-fault-injection": { type: "boolean", default: false },
    "sample-rate": { type: "string", default: "0.1" },
  },
});

const monitoring = startMonitoring({
  serviceName: "sentiment-service",
  endpoint: args.otlp,
  exportIntervalMillis: Number(args["export-interval"]),
});
// A share of predictions (10% by default) is sampled for ground truth: sent to
// the collector's review queue as OTLP log records, and joined here with /feedback labels.
const monitor = new ModelMonitor({
  modelName: MODEL_NAME,
  modelVersion: MODEL_VERSION,
  endpoint: "/predict",
  groundTruth: { sampleRate: Number(args["sample-rate"]) },
});

class ModelTimeoutError extends Error {
  override name = "ModelTimeoutError";
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new ValidationError("body too large");
  }
  try {
    const v = JSON.parse(body);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  throw new ValidationError("body must be a JSON object");
}

/** Log-normal inference time around the configured median, like a real model's long tail. */
function inferenceDelayMs(extra: number): number {
  const median = Number(args["latency-ms"]);
  const u = 1 - Math.random();
  const v = Math.random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(0.35 * normal) + extra;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function handlePredict(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const timer = monitor.startRequest("/predict");
  try {
    const body = await readJson(req);
    const inject = args["allow-fault-injection"];
    const extraMs = inject ? Number(req.headers["x-inject-delay-ms"] ?? 0) || 0 : 0;
    await sleep(inferenceDelayMs(extraMs));
    if (inject && req.headers["x-inject-error"] === "timeout")
      throw new ModelTimeoutError("model did not answer in time");
    const result = predict(body.text);
    const requestId = typeof body.request_id === "string" ? body.request_id : randomUUID();
    monitor.recordPrediction({
      requestId,
      predictedClass: result.label,
      confidence: result.confidence,
      features: result.features,
    });
    timer.end();
    // "sampled": this prediction is in the review queue, so feedback on it counts.
    json(res, 200, {
      request_id: requestId,
      label: result.label,
      confidence: result.confidence,
      sampled: monitor.isSampled(requestId),
    });
  } catch (e) {
    timer.end(e);
    if (e instanceof ValidationError) json(res, 400, { error: e.message });
    else json(res, 503, { error: (e as Error).message });
  }
}

async function handleFeedback(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const body = await readJson(req);
    const outcome = monitor.feedback(String(body.request_id), String(body.label));
    if (outcome === "unknown")
      return json(res, 404, { error: "not a sampled prediction of this replica, or expired" });
    json(res, 200, { status: "recorded", outcome });
  } catch (e) {
    json(res, 400, { error: (e as Error).message });
  }
}

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/predict") return void handlePredict(req, res);
  if (req.method === "POST" && req.url === "/feedback") return void handleFeedback(req, res);
  if (req.method === "GET" && req.url === "/healthz") return json(res, 200, { status: "ok" });
  json(res, 404, { error: "not found" });
});

server.listen(Number(args.port), args.host, () => {
  const a = server.address() as AddressInfo;
  console.log(JSON.stringify({ event: "listening", url: `http://${a.address}:${a.port}` }));
});

async function shutdown(): Promise<void> {
  server.close();
  await monitoring.shutdown().catch(() => {});
  process.exit(0);
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
