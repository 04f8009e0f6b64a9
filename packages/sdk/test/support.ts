// Test support: a real node:http OTLP/HTTP endpoint on loopback that decodes
// what the real OTel exporters send (with the collector's decoders), and can
// be told to answer slowly, with an error status, or not at all.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import type { MetricData, MetricProducer } from "@opentelemetry/sdk-metrics";
import {
  decodeLogsJson,
  decodeLogsProto,
  decodeMetricsJson,
  decodeMetricsProto,
  type LogRecord,
  type LogsRequest,
  type Metric,
  type MetricsRequest,
} from "../../../collector/src/otlp/index.js";

export type Behaviour =
  | { kind: "ok" }
  | { kind: "status"; status: number; retryAfter?: number }
  | { kind: "delay"; ms: number }
  | { kind: "hang" };

export interface Receiver {
  url: string;
  metrics: MetricsRequest[];
  logs: LogsRequest[];
  /** Requests seen per path, whatever the answer. */
  hits: Record<string, number>;
  behaviour: Behaviour;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

export async function startReceiver(behaviour: Behaviour = { kind: "ok" }): Promise<Receiver> {
  const pending = new Set<ServerResponse>();
  const r: Receiver = {
    url: "",
    metrics: [],
    logs: [],
    hits: {},
    behaviour,
    close: async () => {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? "";
    r.hits[path] = (r.hits[path] ?? 0) + 1;
    const buf = await body(req);
    const b = r.behaviour;
    if (b.kind === "hang") {
      pending.add(res);
      return;
    }
    if (b.kind === "status") {
      const headers: Record<string, string> = {};
      if (b.retryAfter !== undefined) headers["retry-after"] = String(b.retryAfter);
      res.writeHead(b.status, headers);
      res.end();
      return;
    }
    if (b.kind === "delay") await new Promise((resolve) => setTimeout(resolve, b.ms));
    const json = (req.headers["content-type"] ?? "").includes("json");
    if (path === "/v1/metrics")
      r.metrics.push(json ? decodeMetricsJson(buf.toString()) : decodeMetricsProto(buf));
    else if (path === "/v1/logs") r.logs.push(json ? decodeLogsJson(buf.toString()) : decodeLogsProto(buf));
    res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
    res.end(json ? "{}" : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

/** Every metric of the last metrics request, by name (scopes merged). */
export function lastMetrics(r: Receiver, scope?: string): Map<string, Metric> {
  const req = r.metrics.at(-1);
  const out = new Map<string, Metric>();
  if (!req) return out;
  for (const rm of req.resourceMetrics)
    for (const sm of rm.scopeMetrics) {
      if (scope !== undefined && sm.scope.name !== scope) continue;
      for (const m of sm.metrics) out.set(m.name, m);
    }
  return out;
}

export function allLogRecords(r: Receiver): LogRecord[] {
  return r.logs.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
}

/** A comparable, order-independent form of a decoded metric: timestamps dropped, points sorted by attributes. */
export function comparable(m: Metric): unknown {
  const points = (m.points as unknown as Array<Record<string, unknown>>).map((p) => {
    const { startTimeUnixNano: _s, timeUnixNano: _t, attributes, ...rest } = p;
    const attrs = Object.fromEntries(
      Object.entries(attributes as object).sort(([a], [b]) => a.localeCompare(b)),
    );
    return { attributes: attrs, ...rest };
  });
  points.sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  const { points: _p, ...meta } = m;
  return { ...meta, points };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `f` until it returns something other than undefined. */
export async function eventually<T>(
  f: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

/** What a producer would hand a reader now, by metric name. */
export async function collected(producer: MetricProducer): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await producer.collect();
  const out = new Map<string, MetricData>();
  for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
  return out;
}

/** The data points of `name` whose attributes include `attrs`. */
export function pointsOf<T = unknown>(
  data: Map<string, MetricData>,
  name: string,
  attrs: Record<string, unknown> = {},
): Array<{ attributes: Record<string, unknown>; value: T }> {
  const m = data.get(name);
  if (!m) return [];
  return (m.dataPoints as unknown as Array<{ attributes: Record<string, unknown>; value: T }>).filter((p) =>
    Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
}

/** Sum of the values (counters) or counts (histograms) of the matching points. */
export function total(
  data: Map<string, MetricData>,
  name: string,
  attrs: Record<string, unknown> = {},
): number {
  return pointsOf<number | { count: number }>(data, name, attrs).reduce(
    (s, p) => s + (typeof p.value === "number" ? p.value : p.value.count),
    0,
  );
}
