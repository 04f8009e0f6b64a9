// Requests that belong on the query side but reach the OTLP port (an API
// call, a scrape, a browser) are told, by the real collector process, that
// this is the OTLP port and on which port the query side listens.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectorHandle, startCollector } from "../support/processes.js";

let c: CollectorHandle;
let queryPort: string;
beforeAll(async () => {
  c = await startCollector();
  queryPort = new URL(c.query).port;
});
afterAll(() => c?.close());

const where = () =>
  `this is the collector's OTLP/HTTP port, which serves only POST /v1/metrics and POST /v1/logs; the API (/api/v1/...), /metrics and the status page are on port ${queryPort}`;

describe("the OTLP port", () => {
  it("answers an API call sent to it with where the API is, in the request's OTLP encoding", async () => {
    // What `mlwatch baseline push --url <the OTLP address>` sends.
    const r = await fetch(`${c.otlp}/api/v1/baselines/x`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.json()).toEqual({ message: `PUT /api/v1/baselines/x: ${where()}` });
  });

  it.each(["/metrics", "/", "/api/v1/models"])("answers GET %s in plain text", async (path) => {
    const r = await fetch(`${c.otlp}${path}`, { headers: { accept: "text/plain" } });
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await r.text()).toBe(`GET ${path}: ${where()}\n`);
  });

  it("says the same on a GET of an OTLP path, and the query port does serve those", async () => {
    const r = await fetch(`${c.otlp}/v1/metrics`);
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST");
    expect(await r.text()).toBe(
      `use POST: this is the OTLP/HTTP port; the API (/api/v1/...), /metrics and the status page are on port ${queryPort}\n`,
    );
    expect((await fetch(`${c.query}/metrics`)).status).toBe(200);
    expect((await fetch(`${c.query}/`)).status).toBe(200);
  });

  it("still answers an OTLP exporter's wrong path as OTLP", async () => {
    const r = await fetch(`${c.otlp}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array(),
    });
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/x-protobuf");
    // A google.rpc.Status with only field 2, the message.
    const body = new Uint8Array(await r.arrayBuffer());
    expect(body[0]).toBe(0x12);
    expect(new TextDecoder().decode(body)).toContain(`port ${queryPort}`);
  });
});
