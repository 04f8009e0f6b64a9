// The OTLP/HTTP receiver's answers to bad requests, on a real listener over
// loopback. After every bad request the collector must still accept a good one.

import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";

let collector: Collector;
let otlp: string;

beforeAll(async () => {
  collector = new Collector(
    parseConfig({
      otlp: { port: 0, maxBodyBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024, bearerToken: "t0ken" },
      query: { port: 0 },
      storage: { path: ":memory:" },
    }),
    () => {},
  );
  otlp = (await collector.start()).otlp;
});
afterAll(() => collector.stop());

const auth = { authorization: "Bearer t0ken" };

function goodJson(value = 1): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
        scopeMetrics: [
          {
            scope: { name: "test" },
            metrics: [
              {
                name: "ml.requests",
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: "ml.model.name", value: { stringValue: "recv" } }],
                      startTimeUnixNano: "1",
                      timeUnixNano: String(Date.now() * 1e6 + value),
                      asInt: String(value),
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

async function post(body: string | Uint8Array, headers: Record<string, string>, path = "/v1/metrics") {
  const res = await fetch(`${otlp}${path}`, { method: "POST", body, headers: { ...auth, ...headers } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function stillServes(): Promise<void> {
  const r = await post(goodJson(), { "content-type": "application/json" });
  expect(r.status).toBe(200);
}

describe("OTLP/HTTP receiver", () => {
  it("accepts OTLP/JSON, and gzip", async () => {
    expect((await post(goodJson(), { "content-type": "application/json" })).status).toBe(200);
    const gz = await post(gzipSync(goodJson(2)), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(gz.status).toBe(200);
  });

  const cases: Array<
    [string, () => Promise<{ status: number; text: string; headers: Headers }>, number, RegExp]
  > = [
    [
      "an unknown path",
      () => post(goodJson(), { "content-type": "application/json" }, "/v1/traces"),
      404,
      /v1\/metrics/,
    ],
    ["a wrong content type", () => post(goodJson(), { "content-type": "text/plain" }), 415, /Content-Type/],
    [
      "an unknown content encoding",
      () => post(goodJson(), { "content-type": "application/json", "content-encoding": "br" }),
      415,
      /br/,
    ],
    ["invalid JSON", () => post("{not json", { "content-type": "application/json" }), 400, /undecodable/],
    [
      "bytes that are not protobuf",
      () =>
        post(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), { "content-type": "application/x-protobuf" }),
      400,
      /undecodable/,
    ],
    [
      "a body over the limit",
      () => post(new Uint8Array(128 * 1024), { "content-type": "application/x-protobuf" }),
      413,
      /limit/,
    ],
    [
      "a gzip bomb",
      () =>
        post(gzipSync(Buffer.alloc(16 * 1024 * 1024)), {
          "content-type": "application/x-protobuf",
          "content-encoding": "gzip",
        }),
      413,
      /decompressed/,
    ],
    [
      "corrupt gzip",
      () =>
        post(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), {
          "content-type": "application/json",
          "content-encoding": "gzip",
        }),
      400,
      /gzip/,
    ],
  ];
  it.each(cases)(
    "answers %s with the right status and keeps serving",
    async (_name, send, status, message) => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.text).toMatch(message);
      await stillServes();
    },
  );

  it("requires the bearer token when one is configured", async () => {
    const r = await fetch(`${otlp}/v1/metrics`, {
      method: "POST",
      body: goodJson(),
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(401);
    await stillServes();
  });

  it("answers GET with 405", async () => {
    const r = await fetch(`${otlp}/v1/metrics`, { headers: auth });
    expect(r.status).toBe(405);
  });

  it("reports rejected points in partial_success and keeps the valid ones", async () => {
    const body = JSON.parse(goodJson(5));
    const metrics = body.resourceMetrics[0].scopeMetrics[0].metrics;
    metrics.push({
      name: "ml.feature.value",
      exponentialHistogram: {
        aggregationTemporality: 1,
        dataPoints: [
          {
            attributes: [{ key: "ml.model.name", value: { stringValue: "recv" } }],
            startTimeUnixNano: "1",
            timeUnixNano: "2",
            count: "7",
            scale: 0,
            zeroCount: "0",
            positive: { offset: 0, bucketCounts: ["1", "1"] },
          },
        ],
      },
    });
    const r = await post(JSON.stringify(body), { "content-type": "application/json" });
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.text);
    expect(Number(answer.partialSuccess.rejectedDataPoints)).toBe(1);
    expect(answer.partialSuccess.errorMessage).toMatch(/ml\.feature\.value/);
    expect(collector.metricsText()).toMatch(
      /mlwatch_collector_rejected_points_total\{reason="invalid_histogram"\} 1/,
    );
  });
});
