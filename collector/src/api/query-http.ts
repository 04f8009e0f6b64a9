// The query side: /metrics for Prometheus, the JSON API, health probes and
// the status page.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BaselineError } from "../baselines/format.js";
import type { BaselineStore } from "../baselines/store.js";
import { renderStatusPage } from "./status-page.js";
import type { ModelSummary } from "./summary.js";

export interface QueryBackend {
  metricsText(): string;
  models(): string[];
  summary(model: string): ModelSummary;
  driftReport(model: string): unknown;
  windowSeconds(): number;
  ready(): boolean;
  baselines: BaselineStore;
}

const MAX_BASELINE_BYTES = 32 * 1024 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error(`body exceeds ${limit} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(Object.assign(new Error(`body is not valid JSON: ${(e as Error).message}`), { status: 400 }));
      }
    });
    req.on("error", reject);
  });
}

export function createQueryServer(backend: QueryBackend): Server {
  return createServer((req, res) => {
    handle(backend, req, res).catch((e: Error & { status?: number }) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof BaselineError) return json(res, 400, { error: e.message });
      if (e.status) return json(res, e.status, { error: e.message });
      console.error("mlwatch collector: error handling query:", e);
      json(res, 500, { error: "internal error" });
    });
  });
}

async function handle(b: QueryBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const method = req.method ?? "GET";
  if (method === "GET" && path === "/metrics") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(b.metricsText());
    return;
  }
  if (method === "GET" && path === "/healthz") return json(res, 200, { status: "ok" });
  if (method === "GET" && path === "/readyz") {
    return b.ready() ? json(res, 200, { status: "ready" }) : json(res, 503, { status: "starting" });
  }
  if (method === "GET" && path === "/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      renderStatusPage(
        b.models().map((m) => b.summary(m)),
        b.windowSeconds(),
      ),
    );
    return;
  }
  if (method === "GET" && path === "/api/v1/models") {
    return json(res, 200, { models: b.models().map((m) => b.summary(m)) });
  }
  const model = /^\/api\/v1\/models\/([^/]+)(?:\/(summary|drift))?$/.exec(path);
  if (model && method === "GET") {
    const name = decodeURIComponent(model[1]);
    if (!b.models().includes(name)) return json(res, 404, { error: `no data for model "${name}"` });
    return json(res, 200, model[2] === "drift" ? b.driftReport(name) : b.summary(name));
  }
  if (path === "/api/v1/baselines" && method === "GET") {
    return json(res, 200, {
      baselines: b.baselines.list().map((x) => ({
        model: x.model,
        modelVersion: x.modelVersion ?? null,
        createdAt: x.createdAt,
        features: Object.keys(x.features),
      })),
    });
  }
  const baseline = /^\/api\/v1\/baselines\/([^/]+)$/.exec(path);
  if (baseline) {
    const name = decodeURIComponent(baseline[1]);
    if (method === "GET") {
      const found = b.baselines.get(name);
      return found
        ? json(res, 200, found.baseline)
        : json(res, 404, { error: `no baseline for model "${name}"` });
    }
    if (method === "PUT") {
      const body = (await readJson(req, MAX_BASELINE_BYTES)) as { model?: unknown };
      if (body && typeof body === "object" && body.model !== name) {
        return json(res, 400, { error: `baseline is for model "${String(body.model)}", not "${name}"` });
      }
      const stored = b.baselines.put(body);
      return json(res, 200, { model: stored.model, features: Object.keys(stored.features) });
    }
    if (method === "DELETE") {
      return b.baselines.delete(name)
        ? json(res, 200, { deleted: name })
        : json(res, 404, { error: `no baseline for "${name}"` });
    }
  }
  json(res, 404, { error: `no route for ${method} ${path}` });
}
