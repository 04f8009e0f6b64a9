// RED for real express and fastify servers on loopback: requests by route
// template, errors by thrown type or status code, unmatched routes, skipped
// routes, aborted requests, and the in-flight gauge back at zero.

import { Attr } from "@mlwatch/semconv";
import express from "express";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import {
  expressErrorHandler,
  expressMiddleware,
  fastifyPlugin,
  MlwatchMetricProducer,
  ModelMonitor,
  UNMATCHED_ENDPOINT,
} from "../src/index.js";
import { collected, eventually, total } from "./support.js";

class ValidationError extends Error {
  override name = "ValidationError";
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function settle(producer: MlwatchMetricProducer, expectedRequests: number) {
  return eventually(async () => {
    const d = await collected(producer);
    return total(d, "ml.requests") === expectedRequests && total(d, "ml.requests.in_progress") === 0
      ? d
      : undefined;
  });
}

describe("express", () => {
  it("records requests by route template, errors by type or status, unmatched and skipped routes", async () => {
    const producer = new MlwatchMetricProducer();
    const monitor = new ModelMonitor({ modelName: "m", producer });
    const app = express();
    app.use(
      expressMiddleware(monitor, {
        endpoint: (req) => (req.route?.path === "/healthz" ? null : undefined),
      }),
    );
    app.post("/predict", express.json(), (req, res) => {
      monitor.recordPrediction({ predictedClass: String(req.body.label) });
      res.json({ ok: true });
    });
    app.get("/items/:id", (_req, res) => void res.send("item"));
    app.get("/fail", () => {
      throw new ValidationError("bad");
    });
    app.get("/unavailable", (_req, res) => void res.status(503).end());
    // Answers only long after the client gives up (below), however slowly this machine runs the test.
    let slowArrived: () => void = () => {};
    const slowStarted = new Promise<void>((r) => {
      slowArrived = r;
    });
    app.get("/slow", (_req, res) => {
      slowArrived();
      const late = setTimeout(() => res.end("late"), 30_000);
      res.once("close", () => clearTimeout(late));
    });
    app.get("/healthz", (_req, res) => void res.send("ok"));
    const v2 = express.Router();
    v2.post("/score", (_req, res) => void res.send("scored"));
    app.use("/v2", v2);
    app.use(expressErrorHandler());
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err instanceof ValidationError ? 400 : 500).send(err.message);
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post("/predict", { label: "pos" })).status).toBe(200);
    expect((await post("/predict", { label: "neg" })).status).toBe(200);
    expect((await fetch(`${base}/items/1`)).status).toBe(200);
    expect((await fetch(`${base}/items/2`)).status).toBe(200);
    expect((await fetch(`${base}/fail`)).status).toBe(400);
    expect((await fetch(`${base}/unavailable`)).status).toBe(503);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await post("/v2/score", {})).status).toBe(200);
    const abort = new AbortController();
    const aborted = fetch(`${base}/slow`, { signal: abort.signal }).catch(() => "aborted");
    await slowStarted; // the server is handling it: the middleware has started its timer
    abort.abort();
    expect(await aborted).toBe("aborted");

    const d = await settle(producer, 9);
    const req = (endpoint: string) => total(d, "ml.requests", { [Attr.endpoint]: endpoint });
    expect([req("/predict"), req("/items/:id"), req("/v2/score"), req("/fail"), req("/unavailable")]).toEqual(
      [2, 2, 1, 1, 1],
    );
    expect(req(UNMATCHED_ENDPOINT)).toBe(1);
    expect(req("/healthz")).toBe(0);
    expect(req("/slow")).toBe(1);
    const err = (endpoint: string, type: string) =>
      total(d, "ml.errors", { [Attr.endpoint]: endpoint, [Attr.errorType]: type });
    expect(err("/fail", "ValidationError")).toBe(1);
    expect(err("/unavailable", "503")).toBe(1);
    expect(err("/slow", "aborted")).toBe(1);
    expect(total(d, "ml.errors")).toBe(3);
    expect(total(d, "ml.request.duration", { [Attr.endpoint]: "/predict" })).toBe(2);
    expect(total(d, "ml.predictions")).toBe(2);
  });
});

describe("fastify", () => {
  it("records requests by route template and errors by type or status through one plugin", async () => {
    const producer = new MlwatchMetricProducer();
    const monitor = new ModelMonitor({ modelName: "m", producer });
    const app = Fastify();
    await app.register(fastifyPlugin(monitor));
    app.post("/predict", async (request) => {
      monitor.recordPrediction({ predictedClass: String((request.body as { label: string }).label) });
      return { ok: true };
    });
    app.get("/items/:id", async () => "item");
    app.get("/fail", async () => {
      throw new ValidationError("bad");
    });
    app.get("/unavailable", async (_req, reply) => reply.code(503).send("down"));
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const address = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;

    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post("/predict", { label: "pos" })).status).toBe(200);
    expect((await fetch(`${base}/items/7`)).status).toBe(200);
    expect((await fetch(`${base}/fail`)).status).toBe(500);
    expect((await fetch(`${base}/unavailable`)).status).toBe(503);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);

    const d = await settle(producer, 5);
    const req = (endpoint: string) => total(d, "ml.requests", { [Attr.endpoint]: endpoint });
    expect([
      req("/predict"),
      req("/items/:id"),
      req("/fail"),
      req("/unavailable"),
      req(UNMATCHED_ENDPOINT),
    ]).toEqual([1, 1, 1, 1, 1]);
    const err = (endpoint: string, type: string) =>
      total(d, "ml.errors", { [Attr.endpoint]: endpoint, [Attr.errorType]: type });
    expect(err("/fail", "ValidationError")).toBe(1);
    expect(err("/unavailable", "503")).toBe(1);
    expect(total(d, "ml.errors")).toBe(2);
    expect(total(d, "ml.predictions")).toBe(1);
  });
});
