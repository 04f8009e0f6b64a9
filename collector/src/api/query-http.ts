// The query side: /metrics for Prometheus, the JSON API, health probes and
// the status page.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { SampledPrediction } from "../analysis/feedback.js";
import type { ObjectiveStatus } from "../analysis/slo.js";
import { BaselineError, parseBaseline } from "../baselines/format.js";
import type { BaselineStore } from "../baselines/store.js";
import { PROTOBUF_CONTENT_TYPE, wantsProtobuf } from "../export/protobuf-exposition.js";
import { renderStatusPage } from "./status-page.js";
import type { ModelSummary } from "./summary.js";

export interface FeedbackItem {
  requestId: string;
  label: string;
  model?: string;
}

export interface QueryBackend {
  metricsText(): string;
  /** The same exposition as Prometheus protobuf (with native histograms), for scrapers that ask for it. */
  metricsProto?(): Uint8Array;
  models(): string[];
  summary(model: string): ModelSummary;
  driftReport(model: string): unknown;
  sloReport(model: string): { model: string; objectives: ObjectiveStatus[] } | undefined;
  feedback(items: FeedbackItem[]): unknown[];
  reviews(opts: { model?: string; limit: number; offset: number }): {
    total: number;
    items: SampledPrediction[];
  };
  windowSeconds(): number;
  /** Features the model has reported (numeric and categorical), for checking a baseline against. */
  liveFeatures(model: string): string[];
  ready(): boolean;
  baselines: BaselineStore;
}

const MAX_BASELINE_BYTES = 32 * 1024 * 1024;
const MAX_FEEDBACK_BYTES = 8 * 1024 * 1024;
const MAX_FEEDBACK_ITEMS = 10_000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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
        reject(new ApiError(413, `body exceeds ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(new ApiError(400, `body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on("error", reject);
  });
}

/** Accepts {request_id, label[, model]} or an array of them (camelCase requestId too). */
function parseFeedback(body: unknown): FeedbackItem[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length > MAX_FEEDBACK_ITEMS)
    throw new ApiError(413, `at most ${MAX_FEEDBACK_ITEMS} labels per request`);
  return list.map((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    const requestId = o.request_id ?? o.requestId;
    const where = Array.isArray(body) ? `item ${i}: ` : "";
    if (typeof requestId !== "string" || requestId === "")
      throw new ApiError(400, `${where}request_id must be a non-empty string`);
    if (typeof o.label !== "string" && typeof o.label !== "number" && typeof o.label !== "boolean") {
      throw new ApiError(400, `${where}label must be a string, number or boolean`);
    }
    if (o.model !== undefined && typeof o.model !== "string")
      throw new ApiError(400, `${where}model must be a string`);
    return { requestId, label: String(o.label), model: o.model as string | undefined };
  });
}

function intParam(url: URL, name: string, dflt: number, max: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new ApiError(400, `${name} must be an integer from 0 to ${max}`);
  return n;
}

const baselineUrl = (model: string, version?: string) =>
  `/api/v1/baselines/${encodeURIComponent(model)}${version === undefined ? "" : `?version=${encodeURIComponent(version)}`}`;

/**
 * The 404 body for a baseline that is not stored: which ones the model does
 * have and how to address them, since a versioned baseline is only found
 * with ?version.
 */
function missingBaseline(b: QueryBackend, model: string, version: string | undefined) {
  const { hasDefault, versions } = b.baselines.versionsOf(model);
  const wanted = version === undefined ? "no default baseline" : `no baseline for version "${version}"`;
  const have = [
    ...(hasDefault ? [`a default baseline (${baselineUrl(model)})`] : []),
    ...(versions.length
      ? [
          `${versions.length === 1 ? "a baseline for version" : "baselines for versions"} ${versions.map((v) => `"${v}"`).join(", ")} (ask with ${baselineUrl(model, versions[0])})`,
        ]
      : []),
  ];
  const error =
    have.length === 0
      ? `model "${model}" has no baseline at all; push one with \`mlwatch baseline push\` or PUT ${baselineUrl(model)}`
      : `model "${model}" has ${wanted}; it has ${have.join(" and ")}`;
  return { error, model, hasDefault, versions };
}

/**
 * A body's modelVersion says which baseline it is, and the URL must say the
 * same: without ?version the request is about the model's default baseline.
 * Storing a versioned body there anyway would leave the user's GET of the
 * same URL answering 404.
 */
function checkAddressedVersion(model: string, body: string | undefined, query: string | undefined): void {
  if (body === query) return;
  if (query === undefined) {
    throw new ApiError(
      400,
      `baseline is for version "${body}" of model "${model}": add ?version=${body} to the URL (PUT ${baselineUrl(model, body)}); without ?version the request addresses the model's default baseline, which has no modelVersion`,
    );
  }
  if (body === undefined) {
    throw new ApiError(
      400,
      `baseline has no modelVersion, so it is model "${model}"'s default, but the URL asks for version "${query}": drop ?version, or build the baseline with --model-version ${query}`,
    );
  }
  throw new ApiError(400, `baseline is for version "${body}", not "${query}" as ?version=${query} says`);
}

export function createQueryServer(backend: QueryBackend): Server {
  return createServer((req, res) => {
    handle(backend, req, res).catch((e: Error) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof BaselineError) return json(res, 400, { error: e.message });
      if (e instanceof ApiError) return json(res, e.status, { error: e.message });
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
    if (b.metricsProto && wantsProtobuf(req.headers.accept)) {
      const body = b.metricsProto();
      res.writeHead(200, { "content-type": PROTOBUF_CONTENT_TYPE, vary: "Accept" });
      res.end(body);
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", vary: "Accept" });
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
  const model = /^\/api\/v1\/models\/([^/]+)(?:\/(summary|drift|slo))?$/.exec(path);
  if (model && method === "GET") {
    const name = decodeURIComponent(model[1]);
    if (model[2] === "slo") {
      const slo = b.sloReport(name);
      return slo ? json(res, 200, slo) : json(res, 404, { error: `no SLO configured for model "${name}"` });
    }
    if (!b.models().includes(name)) return json(res, 404, { error: `no data for model "${name}"` });
    return json(res, 200, model[2] === "drift" ? b.driftReport(name) : b.summary(name));
  }
  if (path === "/api/v1/feedback" && method === "POST") {
    const items = parseFeedback(await readJson(req, MAX_FEEDBACK_BYTES));
    const results = b.feedback(items) as Array<{ status: string }>;
    const joined = results.filter((r) => r.status === "joined").length;
    return json(res, 200, { joined, unknown: results.length - joined, results });
  }
  if (path === "/api/v1/reviews" && method === "GET") {
    const m = url.searchParams.get("model") ?? undefined;
    return json(
      res,
      200,
      b.reviews({
        model: m,
        limit: intParam(url, "limit", 100, 1000),
        offset: intParam(url, "offset", 0, 1e9),
      }),
    );
  }
  if (path === "/api/v1/baselines" && method === "GET") {
    return json(res, 200, {
      baselines: b.baselines.list().map((x) => ({
        model: x.model,
        modelVersion: x.modelVersion ?? null,
        createdAt: x.createdAt,
        origin: x.source?.origin ?? null,
        features: Object.keys(x.features),
      })),
    });
  }
  const baseline = /^\/api\/v1\/baselines\/([^/]+)$/.exec(path);
  if (baseline) {
    const name = decodeURIComponent(baseline[1]);
    // An empty ?version= means the default baseline, as no ?version does.
    const version = url.searchParams.get("version") || undefined;
    if (method === "GET") {
      const found = b.baselines.getExact(name, version);
      return found ? json(res, 200, found.baseline) : json(res, 404, missingBaseline(b, name, version));
    }
    if (method === "PUT") {
      const parsed = parseBaseline(await readJson(req, MAX_BASELINE_BYTES));
      checkAddressedVersion(name, parsed.modelVersion, version);
      const live = b.liveFeatures(name);
      const stored = b.baselines.put(parsed, { model: name, version: version ?? "", liveFeatures: live });
      const names = Object.keys(stored.features);
      const warnings = [
        ...names
          .filter((f) => live.length > 0 && !live.includes(f))
          .map((f) => `feature "${f}" is not reported by the model`),
        ...live
          .filter((f) => !names.includes(f))
          .map((f) => `the model reports feature "${f}", which has no baseline`),
      ];
      return json(res, 200, {
        model: stored.model,
        modelVersion: stored.modelVersion ?? null,
        features: names,
        warnings,
      });
    }
    if (method === "DELETE") {
      return b.baselines.delete(name, version)
        ? json(res, 200, { deleted: name, modelVersion: version ?? null })
        : json(res, 404, missingBaseline(b, name, version));
    }
    return json(res, 405, { error: "use GET, PUT or DELETE" });
  }
  json(res, 404, { error: `no route for ${method} ${path}` });
}
