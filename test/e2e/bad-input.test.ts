// Hostile and broken OTLP input against the real collector process over
// loopback, one test per row of docs/bad-input.md (a test below checks that the
// two lists match). Each test asserts the documented answer — status,
// partial_success, self-metrics — and that the collector keeps serving: a valid
// request right after is accepted and counted exactly, and /healthz answers.

import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  anyKvlist,
  anyStr,
  type Bytes,
  cat,
  f64,
  fDouble,
  fLen,
  fSint32,
  fVarint,
  kv,
  packedVarints,
  varint,
} from "../../collector/test/otlp/pb.js";
import { decodePartialProto } from "../support/partial-success.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  ROOT,
  startCollector,
  sumOf,
} from "../support/processes.js";

const TOKEN = "bad-input-token";
const MAX_BODY = 4 * 1024 * 1024;
const MAX_DECOMPRESSED = 32 * 1024 * 1024;
const MAX_CONCURRENT = 2;
const MAX_SERIES = 1000;
const MAX_STREAMS = 20_000;

const DELTA = 1;
const CUMULATIVE = 2;

// ---- building OTLP/protobuf requests (field numbers as in collector/src/otlp/decode-metrics-proto.ts)

/** Strictly increasing timestamps, so that no valid point repeats an earlier one by accident (set after the collector starts). */
let clock = 0n;
const tick = () => {
  clock += 1_000_000n;
  return clock;
};

const attrs = (o: Record<string, string>): Bytes[] => Object.entries(o).map(([k, v]) => kv(k, anyStr(v)));

function numPoint(o: { attrs: Bytes[]; value: number; int?: boolean; start?: bigint; time?: bigint }): Bytes {
  const time = o.time ?? tick();
  return cat(
    ...o.attrs.map((a) => fLen(7, a)),
    f64(2, o.start ?? time - 1_000_000_000n),
    f64(3, time),
    o.int ? f64(6, o.value) : fDouble(4, o.value),
  );
}

function expPoint(o: {
  attrs: Bytes[];
  count: number | bigint;
  sum?: number;
  min?: number;
  max?: number;
  scale: number;
  zeroCount?: number;
  positive?: { offset: number; counts: number[] };
  time?: bigint;
}): Bytes {
  const time = o.time ?? tick();
  const e = new Uint8Array(0);
  return cat(
    ...o.attrs.map((a) => fLen(1, a)),
    f64(2, time - 1_000_000_000n),
    f64(3, time),
    f64(4, o.count),
    o.sum !== undefined ? fDouble(5, o.sum) : e,
    fSint32(6, o.scale),
    f64(7, o.zeroCount ?? 0),
    o.positive ? fLen(8, cat(fSint32(1, o.positive.offset), packedCounts(o.positive.counts))) : e,
    o.min !== undefined ? fDouble(12, o.min) : e,
    o.max !== undefined ? fDouble(13, o.max) : e,
  );
}

/** Buckets.bucket_counts (field 2), packed; built without spreading, for very long lists. */
function packedCounts(counts: number[]): Bytes {
  if (counts.every((c) => c >= 0 && c < 128))
    return cat(varint(2 * 8 + 2), varint(counts.length), Uint8Array.from(counts));
  return packedVarints(2, counts);
}

const sumMetric = (name: string, temporality: number, monotonic: boolean, points: Bytes[]) =>
  cat(
    fLen(1, name),
    fLen(7, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality), fVarint(3, monotonic))),
  );
const gaugeMetric = (name: string, points: Bytes[]) =>
  cat(fLen(1, name), fLen(5, cat(...points.map((p) => fLen(1, p)))));
const expMetric = (name: string, temporality: number, points: Bytes[]) =>
  cat(fLen(1, name), fLen(10, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality))));

function metricsRequest(metrics: Bytes[], resource = attrs({ "service.name": "bad-input" })): Bytes {
  const scopeMetrics = cat(fLen(1, fLen(1, "bad-input-test")), ...metrics.map((m) => fLen(2, m)));
  return fLen(1, cat(fLen(1, cat(...resource.map((a) => fLen(1, a)))), fLen(2, scopeMetrics)));
}

const model = (name: string, extra: Record<string, string> = {}) =>
  attrs({ "ml.model.name": name, "ml.model.version": "1", ...extra });

/** A delta increment of ml.requests for `modelName`. */
const requestsPoint = (modelName: string, value = 1, time?: bigint) =>
  sumMetric("ml.requests", DELTA, true, [numPoint({ attrs: model(modelName), value, int: true, time })]);

// ---- talking to the collector

let collector: CollectorHandle;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Uint8Array;
  /** partial_success of a 200 answer, decoded from JSON or protobuf. */
  partial?: { rejected: number; message: string };
}

/**
 * fetch() on a connection of its own. The global fetch keeps connections alive and reuses them, and one
 * that sat idle while a case built a large body on a busy machine can be closed by the collector (its
 * keep-alive timeout) just as it is reused: the request then fails with "other side closed". Here each
 * request has an agent of its own, closed once the answer is in. (Keep-alive still, as fetch asks: the
 * collector then reads the rest of a body it refused instead of closing on it.)
 */
function request(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: Bytes | string | ReadableStream<Uint8Array>;
  } = {},
): Promise<Response> {
  const u = new URL(url);
  const agent = new Agent({ keepAlive: true });
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: init.method ?? "GET",
        headers: init.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
          const status = res.statusCode ?? 0;
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
          agent.destroy(); // the answer is complete: whatever of the body is still being sent can go
        });
      },
    );
    req.on("error", reject);
    const body = init.body;
    if (body instanceof ReadableStream) {
      // Sent as it is read, chunked (no Content-Length), until the collector answers or hangs up.
      (async () => {
        for await (const chunk of body) {
          if (req.destroyed) return;
          if (!req.write(chunk))
            await new Promise((r) => {
              req.once("drain", r);
              req.once("close", r);
            });
        }
        req.end();
      })().catch(reject);
    } else req.end(body);
  });
}

async function post(
  body: Bytes | string | ReadableStream<Uint8Array>,
  o: { type?: string; path?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": o.type ?? "application/x-protobuf" };
  if (o.token !== null) headers.authorization = `Bearer ${o.token ?? TOKEN}`;
  const res = await request(`${collector.otlp}${o.path ?? "/v1/metrics"}`, {
    method: "POST",
    body,
    headers: { ...headers, ...o.headers },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let partial: Answer["partial"];
  if (res.status === 200) {
    if (res.headers.get("content-type")?.startsWith("application/json")) {
      const ps = JSON.parse(text).partialSuccess;
      if (ps)
        partial = {
          rejected: Number(ps.rejectedDataPoints ?? ps.rejectedLogRecords ?? 0),
          message: ps.errorMessage ?? "",
        };
    } else partial = decodePartialProto(bytes);
  }
  return { status: res.status, headers: res.headers, text, body: bytes, partial };
}

async function scrape() {
  return parseExposition(await (await request(`${collector.query}/metrics`)).text());
}

async function selfMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrape(), name, labels);
}

const requestsOf = async (modelName: string) =>
  sumOf(await scrape(), "ml_requests_total", { model_name: modelName });

/** A valid request right after is accepted and counted exactly once; the probes answer. */
async function stillServes(): Promise<void> {
  const before = await requestsOf("canary");
  const r = await post(metricsRequest([requestsPoint("canary")]));
  expect(r.status).toBe(200);
  expect(r.partial).toBeUndefined();
  expect(await requestsOf("canary")).toBe(before + 1);
  expect((await request(`${collector.query}/healthz`)).status).toBe(200);
  expect((await request(`${collector.query}/readyz`)).status).toBe(200);
}

/** Expects a 200 with partial_success rejecting `n` points with a message matching `message`. */
function expectPartial(r: Answer, n: number, message: RegExp): void {
  expect(r.status, r.text).toBe(200);
  expect(r.partial?.rejected).toBe(n);
  expect(r.partial?.message).toMatch(message);
}

/** Expects an error status with a google.rpc.Status body whose message matches. */
function expectError(r: Answer, status: number, message: RegExp): void {
  expect(r.status, r.text).toBe(status);
  expect(r.text).toMatch(message);
}

// ---- the cases: names exactly as the rows of docs/bad-input.md

interface Case {
  name: string;
  run: () => Promise<void>;
  timeout?: number;
}

const cases: Case[] = [
  {
    name: "Truncated protobuf",
    async run() {
      const full = metricsRequest([requestsPoint("truncated", 5)]);
      for (const cut of [1, 7, Math.floor(full.length / 2), full.length - 1]) {
        expectError(
          await post(full.subarray(0, cut)),
          400,
          /undecodable OTLP metrics request: .*(end|length)/,
        );
      }
      expect(await requestsOf("truncated")).toBe(0);
    },
  },
  {
    name: "Wrong wire type for a known field",
    async run() {
      // Metric.name (field 1, a string) sent as a varint.
      const body = fLen(1, fLen(2, fLen(2, cat(fVarint(1, 42)))));
      expectError(
        await post(body),
        400,
        /metrics\[0\]: field 1 has wire type 0 \(VARINT\), expected 2 \(LEN\)/,
      );
    },
  },
  {
    name: "Invalid field number or wire type",
    async run() {
      expectError(await post(new Uint8Array([0x00, 0x01])), 400, /field number 0/);
      expectError(await post(new Uint8Array([0x0f, 0x01])), 400, /undecodable/); // wire type 7
      expectError(await post(cat(varint(8 * 99 + 4))), 400, /end-group/);
    },
  },
  {
    name: "Deeply nested attribute value (protobuf)",
    async run() {
      let v = anyStr("leaf");
      for (let i = 0; i < 10_000; i++) v = anyKvlist(kv("k", v));
      const body = metricsRequest([
        sumMetric("ml.requests", DELTA, true, [numPoint({ attrs: [kv("x", v)], value: 1 })]),
      ]);
      expectError(await post(body), 400, /maxDepth/);
    },
  },
  {
    name: "Deeply nested attribute value (JSON)",
    async run() {
      const n = 50_000;
      const nested =
        '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(n) +
        '{"stringValue":"leaf"}' +
        "}]}}".repeat(n);
      const body = `{"resourceMetrics":[{"resource":{"attributes":[{"key":"x","value":${nested}}]}}]}`;
      expectError(await post(body, { type: "application/json" }), 400, /nest|depth/i);
    },
  },
  {
    name: "A million elements in one repeated field",
    async run() {
      const counts = new Array(1_000_001).fill(1);
      const body = metricsRequest([
        expMetric("ml.request.duration", DELTA, [
          expPoint({
            attrs: model("huge"),
            count: counts.length,
            sum: 1,
            scale: 0,
            positive: { offset: 0, counts },
          }),
        ]),
      ]);
      expectError(await post(body), 400, /maxRepeated/);
    },
  },
  {
    name: "More attributes on one point than maxAttributes",
    async run() {
      const many: Record<string, string> = {};
      for (let i = 0; i < 129; i++) many[`a${i}`] = "v";
      const body = metricsRequest([
        sumMetric("ml.requests", DELTA, true, [numPoint({ attrs: attrs(many), value: 1 })]),
      ]);
      expectError(await post(body), 400, /maxAttributes \(128\)/);
    },
  },
  {
    name: "A string longer than maxStringBytes",
    async run() {
      const body = metricsRequest([requestsPoint("x".repeat(70 * 1024))]);
      expectError(await post(body), 400, /maxStringBytes/);
    },
  },
  {
    name: "Gzip bomb",
    async run() {
      const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED * 4)); // 128 MiB of zeros, ~130 KB on the wire
      expect(bomb.length).toBeLessThan(MAX_BODY);
      expectError(
        await post(bomb, { headers: { "content-encoding": "gzip" } }),
        413,
        /decompressed body exceeds/,
      );
    },
  },
  {
    name: "Body over maxBodyBytes",
    async run() {
      expectError(await post(new Uint8Array(MAX_BODY + 1)), 413, /exceeds the limit/);
    },
  },
  {
    name: "Body over maxBodyBytes without Content-Length",
    async run() {
      let sent = 0;
      const chunk = new Uint8Array(256 * 1024);
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent > MAX_BODY * 2) return c.close();
          sent += chunk.length;
          c.enqueue(chunk);
        },
      });
      const r = await post(stream).catch((e: Error) => e);
      // The collector answers 413 as soon as the limit is passed; the client may see the reset first.
      if (r instanceof Error) expect(String(r.cause ?? r)).toMatch(/reset|closed|socket|EPIPE/i);
      else expectError(r, 413, /exceeds the limit/);
    },
  },
  {
    name: "Corrupt gzip",
    async run() {
      const gz = gzipSync(metricsRequest([requestsPoint("corrupt-gzip")]));
      gz[gz.length - 6] ^= 0xff; // break the CRC
      expectError(await post(gz, { headers: { "content-encoding": "gzip" } }), 400, /gzip/);
      expectError(
        await post(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2]), { headers: { "content-encoding": "gzip" } }),
        400,
        /gzip/,
      );
      expect(await requestsOf("corrupt-gzip")).toBe(0);
    },
  },
  {
    name: "Unsupported Content-Encoding",
    async run() {
      expectError(await post(metricsRequest([]), { headers: { "content-encoding": "br" } }), 415, /br/);
    },
  },
  {
    name: "Wrong Content-Type",
    async run() {
      expectError(await post("ml_requests_total 1", { type: "text/plain" }), 415, /Content-Type/);
      expectError(await post(metricsRequest([]), { type: "application/grpc" }), 415, /Content-Type/);
    },
  },
  {
    name: "Invalid JSON",
    async run() {
      expectError(await post('{"resourceMetrics": [', { type: "application/json" }), 400, /undecodable/);
      expectError(await post('{"resourceMetrics": 5}', { type: "application/json" }), 400, /resourceMetrics/);
    },
  },
  {
    name: "Missing or wrong bearer token",
    async run() {
      const body = metricsRequest([requestsPoint("no-token")]);
      expect((await post(body, { token: null })).status).toBe(401);
      const wrong = await post(body, { token: "guess" });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toBe("Bearer");
      expect(await requestsOf("no-token")).toBe(0);
    },
  },
  {
    name: "Too many requests in flight",
    async run() {
      // Hold MAX_CONCURRENT requests open mid-body, then send one more.
      const url = new URL(`${collector.otlp}/v1/metrics`);
      const answered: number[] = [];
      const hold = () => {
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            "content-type": "application/x-protobuf",
            "content-length": "1000",
            authorization: `Bearer ${TOKEN}`,
          },
        });
        req.on("error", () => {});
        req.on("response", (res) => {
          answered.push(res.statusCode ?? 0);
          res.resume();
        });
        req.write(new Uint8Array(10));
        return req;
      };
      const status = async () => (await post(metricsRequest([]))).status;
      const held = Array.from({ length: MAX_CONCURRENT }, hold);
      await eventually(async () => (await status()) === 429, 60_000);
      const busy = await post(metricsRequest([requestsPoint("busy")]));
      expectError(busy, 429, /busy/);
      expect(busy.headers.get("retry-after")).toBe("1");
      expect(await requestsOf("busy")).toBe(0);
      // Clients that give up mid-body must not keep their slot: all MAX_CONCURRENT slots are free again.
      for (const req of held) req.destroy();
      await eventually(async () => (await status()) === 200, 60_000);
      const again = Array.from({ length: MAX_CONCURRENT }, hold);
      await eventually(async () => (await status()) === 429, 60_000);
      expect(answered).toEqual([]); // every held request got a slot, none was turned away
      for (const req of again) req.destroy();
      await eventually(async () => (await status()) === 200, 60_000);
    },
  },
  {
    name: "Unknown path or method",
    async run() {
      expectError(await post(metricsRequest([]), { path: "/v1/traces" }), 404, /\/v1\/metrics/);
      const get = await request(`${collector.otlp}/v1/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST");
    },
  },
  {
    name: "Empty request",
    async run() {
      const r = await post(new Uint8Array(0));
      expect(r.status).toBe(200);
      expect(r.partial).toBeUndefined();
      const j = await post("{}", { type: "application/json" });
      expect(j.status).toBe(200);
      expect(j.text).toBe("{}");
    },
  },
  {
    name: "NaN and Infinity values",
    async run() {
      const before = await selfMetric("mlwatch_collector_rejected_points_total", { reason: "non_finite" });
      const body = metricsRequest([
        sumMetric("ml.requests", DELTA, true, [
          numPoint({ attrs: model("nan"), value: Number.NaN }),
          numPoint({ attrs: model("nan", { "ml.endpoint": "/inf" }), value: Number.POSITIVE_INFINITY }),
          numPoint({ attrs: model("nan", { "ml.endpoint": "/ok" }), value: 3 }),
        ]),
        gaugeMetric("ml.requests.in_progress", [
          numPoint({ attrs: model("nan"), value: Number.NEGATIVE_INFINITY }),
        ]),
      ]);
      expectPartial(await post(body), 3, /non-finite|NaN|Infinity/);
      // OTLP/JSON spells them as strings.
      const json = JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: "ml.requests",
                    sum: {
                      aggregationTemporality: DELTA,
                      isMonotonic: true,
                      dataPoints: [
                        {
                          attributes: [{ key: "ml.model.name", value: { stringValue: "nan" } }],
                          timeUnixNano: String(tick()),
                          asDouble: "NaN",
                        },
                        {
                          attributes: [{ key: "ml.model.name", value: { stringValue: "nan" } }],
                          timeUnixNano: String(tick()),
                          asDouble: "-Infinity",
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
      expectPartial(await post(json, { type: "application/json" }), 2, /NaN|Infinity/);
      expect(await requestsOf("nan")).toBe(3);
      expect(await selfMetric("mlwatch_collector_rejected_points_total", { reason: "non_finite" })).toBe(
        before + 5,
      );
    },
  },
  {
    name: "NaN or Infinity in a histogram's sum, min or max",
    async run() {
      const bad = (o: { sum?: number; min?: number; max?: number }) =>
        expPoint({
          attrs: model("nan-hist"),
          count: 1,
          sum: 1,
          scale: 0,
          positive: { offset: 0, counts: [1] },
          ...o,
        });
      const body = metricsRequest([
        expMetric("ml.request.duration", DELTA, [
          bad({ sum: Number.NaN }),
          bad({ min: Number.NEGATIVE_INFINITY }),
          bad({ max: Number.NaN }),
          bad({}),
        ]),
      ]);
      expectPartial(await post(body), 3, /ml\.request\.duration: .*(sum|min|max) must be a finite number/);
      expect(sumOf(await scrape(), "ml_request_duration_seconds_count", { model_name: "nan-hist" })).toBe(1);
    },
  },
  {
    name: "Negative counter value",
    async run() {
      const body = metricsRequest([
        sumMetric("ml.requests", DELTA, true, [
          numPoint({ attrs: model("negative"), value: -5, int: true }),
          numPoint({ attrs: model("negative", { "ml.endpoint": "/b" }), value: -0.5 }),
        ]),
      ]);
      expectPartial(await post(body), 2, /monotonic sum is negative/);
      expect(await requestsOf("negative")).toBe(0);
    },
  },
  {
    name: "Negative or fractional histogram bucket counts (OTLP/JSON)",
    async run() {
      const point = (bucketCounts: string[]) =>
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: "ml.request.duration",
                      exponentialHistogram: {
                        aggregationTemporality: DELTA,
                        dataPoints: [
                          {
                            attributes: [
                              { key: "ml.model.name", value: { stringValue: "negative-buckets" } },
                            ],
                            timeUnixNano: String(tick()),
                            count: "1",
                            sum: 1,
                            scale: 0,
                            positive: { offset: 0, bucketCounts },
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
      expectError(
        await post(point(["2", "-1"]), { type: "application/json" }),
        400,
        /bucketCounts|bucket_counts/,
      );
      expectError(
        await post(point(["0.5", "0.5"]), { type: "application/json" }),
        400,
        /bucketCounts|bucket_counts/,
      );
    },
  },
  {
    name: "Histogram scale out of range",
    async run() {
      const at = (scale: number) =>
        expPoint({ attrs: model("scale"), count: 1, sum: 1, scale, positive: { offset: 0, counts: [1] } });
      const body = metricsRequest([
        expMetric("ml.request.duration", DELTA, [at(21), at(-11), at(2 ** 31 - 1), at(-(2 ** 31))]),
      ]);
      expectPartial(await post(body), 4, /scale must be an integer in \[-10, 20\]/);
      expect(
        await selfMetric("mlwatch_collector_rejected_points_total", { reason: "invalid_histogram" }),
      ).toBeGreaterThanOrEqual(4);
    },
  },
  {
    name: "Histogram counts that do not add up",
    async run() {
      const body = metricsRequest([
        expMetric("ml.request.duration", DELTA, [
          expPoint({
            attrs: model("inconsistent"),
            count: 10,
            sum: 5,
            scale: 0,
            positive: { offset: 0, counts: [1, 2] },
          }),
          expPoint({
            attrs: model("inconsistent"),
            count: 1,
            sum: 5,
            scale: 0,
            min: 9,
            max: 1,
            positive: { offset: 3, counts: [1] },
          }),
        ]),
      ]);
      expectPartial(await post(body), 2, /do not add up to count 10.*; .*min 9 > max 1/);
    },
  },
  {
    name: "64-bit values above 2^53",
    async run() {
      const big = (2n ** 62n) as unknown as number;
      expectError(
        await post(metricsRequest([requestsPoint("overflow", big)])),
        400,
        /as_int exceeds 2\^53-1/,
      );
      const hist = metricsRequest([
        expMetric("ml.request.duration", DELTA, [
          expPoint({
            attrs: model("overflow"),
            count: 2n ** 60n,
            sum: 1,
            scale: 0,
            positive: { offset: 0, counts: [1] },
          }),
        ]),
      ]);
      expectError(await post(hist), 400, /count exceeds 2\^53-1/);
      expect(await requestsOf("overflow")).toBe(0);
    },
  },
  {
    name: "Unknown aggregation temporality",
    async run() {
      const body = metricsRequest([
        sumMetric("ml.requests", 0, true, [numPoint({ attrs: model("temporality"), value: 4, int: true })]),
        sumMetric("ml.requests", 7, true, [numPoint({ attrs: model("temporality"), value: 4, int: true })]),
        expMetric("ml.request.duration", 0, [
          expPoint({
            attrs: model("temporality"),
            count: 1,
            sum: 1,
            scale: 0,
            positive: { offset: 0, counts: [1] },
          }),
        ]),
        requestsPoint("temporality", 2),
      ]);
      expectPartial(await post(body), 3, /aggregation temporality is neither delta nor cumulative/);
      expect(await requestsOf("temporality")).toBe(2);
      expect(
        await selfMetric("mlwatch_collector_rejected_points_total", { reason: "unknown_temporality" }),
      ).toBe(3);
    },
  },
  {
    name: "__proto__, constructor and prototype as names",
    async run() {
      const body = metricsRequest(
        [
          sumMetric("ml.requests", DELTA, true, [
            numPoint({
              attrs: [
                ...attrs({
                  "ml.model.name": "__proto__",
                  ["__proto__"]: "x",
                  constructor: "y",
                  prototype: "z",
                }),
                kv("toString", anyKvlist(kv("__proto__", anyStr("polluted")))),
              ],
              value: 7,
              int: true,
            }),
          ]),
          sumMetric("__proto__", DELTA, true, [
            numPoint({ attrs: model("constructor"), value: 1, int: true }),
          ]),
        ],
        attrs({ ["__proto__"]: "r", "service.name": "constructor" }),
      );
      const r = await post(body);
      expect(r.status).toBe(200);
      expect(r.partial).toBeUndefined();
      expect(await requestsOf("__proto__")).toBe(7);
      const m = await request(`${collector.query}/api/v1/models/__proto__`);
      expect(m.status).toBe(200);
      const models = (await (await request(`${collector.query}/api/v1/models`)).json()) as {
        models: Array<{ model: string }>;
      };
      expect(models.models.map((x) => x.model)).toContain("__proto__");
      expect((await request(`${collector.query}/api/v1/models/constructor`)).status).toBe(404);
      // JSON with "__proto__" members where the decoder reads objects.
      const json = `{"__proto__":{"resourceMetrics":[]},"resourceMetrics":[{"__proto__":{"x":1},"scopeMetrics":[{"metrics":[{"name":"ml.requests","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{"__proto__":{"asInt":"99"},"attributes":[{"key":"ml.model.name","value":{"stringValue":"__proto__"}}],"timeUnixNano":"${tick()}","asInt":"1"}]}}]}]}]}`;
      const j = await post(json, { type: "application/json" });
      expect(j.status, j.text).toBe(200);
      expect(await requestsOf("__proto__")).toBe(8);
    },
  },
  {
    name: "Invalid UTF-8 in strings",
    async run() {
      const bad = new Uint8Array([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3]); // "bad" + invalid bytes
      const point = cat(
        fLen(7, cat(fLen(1, "ml.model.name"), fLen(2, fLen(1, bad)))),
        f64(2, tick() - 1_000_000_000n),
        f64(3, tick()),
        f64(6, 2),
      );
      const body = metricsRequest([
        cat(fLen(1, "ml.requests"), fLen(7, cat(fLen(1, point), fVarint(2, DELTA), fVarint(3, true)))),
      ]);
      const r = await post(body);
      expect(r.status).toBe(200);
      expect(await requestsOf("bad\ufffd\ufffd\ufffd")).toBe(2);
    },
  },
  {
    name: "A replayed request",
    async run() {
      const delta = metricsRequest([requestsPoint("replay", 3)]);
      const start = tick();
      const cumulative = metricsRequest([
        sumMetric("ml.requests", CUMULATIVE, true, [
          numPoint({ attrs: model("replay", { "ml.endpoint": "/c" }), value: 10, int: true, start }),
        ]),
      ]);
      for (let i = 0; i < 3; i++) {
        expect((await post(delta)).status).toBe(200);
        expect((await post(cumulative)).status).toBe(200);
      }
      expect(await requestsOf("replay")).toBe(13);
    },
  },
  {
    name: "A point timestamped far in the future",
    async run() {
      const stream = { attrs: model("future"), int: true };
      const future = 4_102_444_800_000_000_000n; // 2100-01-01
      const send = (value: number, time: bigint) =>
        post(metricsRequest([sumMetric("ml.requests", DELTA, true, [numPoint({ ...stream, value, time })])]));
      expect((await send(5, future)).status).toBe(200);
      expect((await send(1, tick())).status).toBe(200); // now earlier than the stream's last point: dropped
      expect(await requestsOf("future")).toBe(5);
      const other = metricsRequest([requestsPoint("future-other", 1)]); // other streams are unaffected
      expect((await post(other)).status).toBe(200);
      expect(await requestsOf("future-other")).toBe(1);
    },
  },
  {
    name: "An instrument sent with a different kind",
    async run() {
      expect((await post(metricsRequest([requestsPoint("kind", 2)]))).status).toBe(200);
      const before = await selfMetric("mlwatch_collector_ignored_points_total");
      const body = metricsRequest([
        gaugeMetric("ml.requests", [numPoint({ attrs: model("kind"), value: 1000 })]),
        expMetric("ml.requests", DELTA, [
          expPoint({
            attrs: model("kind"),
            count: 1,
            sum: 1,
            scale: 0,
            positive: { offset: 0, counts: [1] },
          }),
        ]),
      ]);
      expect((await post(body)).status).toBe(200);
      expect(await requestsOf("kind")).toBe(2);
      expect(await selfMetric("mlwatch_collector_ignored_points_total")).toBe(before + 2);
    },
  },
  {
    name: "Metrics the collector does not use",
    async run() {
      const before = await selfMetric("mlwatch_collector_ignored_points_total");
      const points = Array.from({ length: 500 }, (_, i) =>
        numPoint({ attrs: attrs({ k: `v${i}` }), value: i }),
      );
      const body = metricsRequest([
        sumMetric("system.cpu.time", CUMULATIVE, true, points),
        gaugeMetric("not.ours", [numPoint({ attrs: [], value: Number.NaN })]),
      ]);
      const r = await post(body);
      expect(r.status).toBe(200);
      expect(r.partial).toBeUndefined();
      expect(await selfMetric("mlwatch_collector_ignored_points_total")).toBe(before + 501);
    },
  },
  {
    name: "Sampled-prediction log records without their attributes",
    async run() {
      const record = (a: Record<string, string>) => ({
        timeUnixNano: String(tick()),
        eventName: "ml.prediction.sampled",
        attributes: Object.entries(a).map(([key, v]) => ({ key, value: { stringValue: v } })),
      });
      const body = JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  record({ "ml.model.name": "logs" }),
                  record({ "ml.request.id": "r1" }),
                  record({ "ml.model.name": "logs", "ml.request.id": "r2", "ml.prediction.class": "pos" }),
                ],
              },
            ],
          },
        ],
      });
      const r = await post(body, { type: "application/json", path: "/v1/logs" });
      expectPartial(r, 2, /without model name, request id or predicted class/);
      expect(
        await selfMetric("mlwatch_collector_rejected_points_total", { reason: "invalid_sampled_prediction" }),
      ).toBe(2);
    },
  },
  {
    name: "10^6 distinct attribute values",
    timeout: 180_000,
    async run() {
      const rssBefore = await selfMetric("mlwatch_collector_resident_memory_bytes");
      const cappedBefore = await selfMetric("mlwatch_collector_capped_points_total", {
        metric: "ml.predictions",
      });
      const total = 1_000_000;
      const batch = 40_000; // ~3.5 MB per request, under maxBodyBytes
      const fixed = cat(fLen(7, kv("ml.model.name", anyStr("cardinality"))));
      let peak = 0;
      for (let sent = 0; sent < total; sent += batch) {
        const time = tick();
        const start = f64(2, time - 1_000_000_000n);
        const end = cat(f64(3, time), f64(6, 1));
        const points: Bytes[] = [];
        for (let i = sent; i < sent + batch; i++) {
          points.push(
            fLen(1, cat(fixed, fLen(7, kv("ml.prediction.class", anyStr(`class-${i}`))), start, end)),
          );
        }
        const body = metricsRequest([
          cat(fLen(1, "ml.predictions"), fLen(7, cat(...points, fVarint(2, DELTA), fVarint(3, true)))),
        ]);
        const r = await post(body);
        expect(r.status).toBe(200);
        expect(r.partial).toBeUndefined();
        if ((sent / batch) % 5 === 4)
          peak = Math.max(peak, await selfMetric("mlwatch_collector_resident_memory_bytes"));
      }
      const samples = await scrape();
      // Every value counted: the first MAX_SERIES label sets get their own series, the rest share the overflow series.
      expect(sumOf(samples, "ml_predictions_by_class_total", { model_name: "cardinality" })).toBe(MAX_SERIES);
      expect(sumOf(samples, "ml_predictions_by_class_total", { predicted_class: "__overflow__" })).toBe(
        total - MAX_SERIES,
      );
      expect(sumOf(samples, "mlwatch_collector_capped_points_total", { metric: "ml.predictions" })).toBe(
        cappedBefore + total - MAX_SERIES,
      );
      expect(sumOf(samples, "mlwatch_collector_active_series")).toBeLessThan(20 * MAX_SERIES);
      // State is bounded too: at most MAX_STREAMS replica streams, and the process stays small.
      const rssAfter = sumOf(samples, "mlwatch_collector_resident_memory_bytes");
      expect(Math.max(peak, rssAfter) - rssBefore).toBeLessThan(200 * 1024 * 1024);
      // active_streams is refreshed by each analysis pass: wait for one that started after the last request
      // was answered (the drift report's atMs is when the pass that /metrics now serves ran).
      const sentAt = Date.now();
      await eventually(async () => {
        const r = await request(`${collector.query}/api/v1/models/cardinality/drift`);
        return r.ok && ((await r.json()) as { atMs: number }).atMs > sentAt;
      }, 60_000);
      expect(await selfMetric("mlwatch_collector_active_streams")).toBeLessThanOrEqual(MAX_STREAMS);
    },
  },
  {
    name: "New cumulative streams and gauges past limits.maxStreams",
    timeout: 60_000,
    async run() {
      // Fill the stream table (the previous row left it full or nearly so), then add new cumulative streams.
      const n = MAX_STREAMS + 500;
      const points = Array.from({ length: n }, (_, i) =>
        numPoint({ attrs: model("streams", { "ml.endpoint": `/e${i}` }), value: 1, int: true }),
      );
      const r = await post(metricsRequest([sumMetric("ml.requests", CUMULATIVE, true, points)]));
      expect(r.status).toBe(200);
      expect(r.partial?.rejected).toBeGreaterThanOrEqual(500);
      expect(r.partial?.message).toMatch(/more than limits\.maxStreams \(20000\) streams/);
      const g = await post(
        metricsRequest([
          gaugeMetric("ml.requests.in_progress", [
            numPoint({ attrs: model("streams", { x: "new-gauge" }), value: 1 }),
          ]),
        ]),
      );
      expectPartial(g, 1, /maxStreams/);
      expect(
        await selfMetric("mlwatch_collector_rejected_points_total", { reason: "stream_limit" }),
      ).toBeGreaterThanOrEqual(501);
      // Streams tracked before the limit was reached keep working (the canary below is one of them).
    },
  },
];

beforeAll(async () => {
  collector = await startCollector([
    `otlp: { port: 0, maxBodyBytes: ${MAX_BODY}, maxDecompressedBytes: ${MAX_DECOMPRESSED}, maxConcurrentRequests: ${MAX_CONCURRENT}, bearerToken: ${TOKEN} }`,
    `limits: { maxSeriesPerMetric: ${MAX_SERIES}, maxStreams: ${MAX_STREAMS} }`,
    "analysis: { intervalSeconds: 0.5 }",
    "storage: { path: ':memory:' }",
  ]);
  clock = BigInt(Date.now()) * 1_000_000n;
  // The canary's stream exists before any row can fill the stream table.
  await stillServes();
});
afterAll(async () => {
  await collector?.close();
});

describe("hostile OTLP input against the real collector", () => {
  for (const c of cases) {
    it(
      c.name,
      async () => {
        await c.run();
        await stillServes();
      },
      c.timeout ?? 120_000,
    );
  }
});

describe("docs/bad-input.md", () => {
  it("has one row per test, in the same order", () => {
    const all = readFileSync(`${ROOT}docs/bad-input.md`, "utf8");
    // the "Hostile clients" table is test/e2e/hostile.test.ts's
    const doc = all.slice(0, all.indexOf("## Hostile clients"));
    const rows = doc
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| Input") && !l.startsWith("| ---"))
      .map((l) => l.split("|")[1].trim().replace(/\\(.)/g, "$1")); // markdown escapes such as \_
    expect(rows).toEqual(cases.map((c) => c.name));
  });
});
