// Hostile clients against the real collector process over loopback: valid
// OTLP inside every decoder limit, sent to exhaust memory, to crowd out other
// clients, or to hold the process open at SIGTERM. Each case runs while a
// legitimate replica (the real SDK and its OTLP exporter) records requests,
// and asserts that the replica is accepted and counted exactly, that resident
// memory stays under the bound docs/collector.md gives for the case's limits,
// and, where the case says so, that SIGTERM ends within shutdown.graceSeconds
// with a last checkpoint written. docs/bad-input.md has a row per case (a test
// below checks the two lists match).

import { readFileSync, statSync } from "node:fs";
import { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { Instruments } from "@mlwatch/semconv";
import { afterAll, describe, expect, it } from "vitest";
import { anyStr, type Bytes, cat, f64, fLen, fVarint, kv } from "../../collector/test/otlp/pb.js";
import { decodePartialProto } from "../support/partial-success.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  ROOT,
  startCollector,
  sumOf,
} from "../support/processes.js";

const MiB = 1024 * 1024;
const DELTA = 1;
const CUMULATIVE = 2;

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

// ---- OTLP/protobuf building (field numbers as in collector/src/otlp/decode-metrics-proto.ts)

let clock = BigInt(Date.now()) * 1_000_000n;
const tick = () => {
  clock += 1_000_000n;
  return clock;
};

const attrBytes = (o: Record<string, string>): Bytes[] => Object.entries(o).map(([k, v]) => kv(k, anyStr(v)));

/** A number point (int value) with its attributes as encoded KeyValues. */
function intPoint(attrs: Bytes[], value: number, start?: bigint): Bytes {
  const time = tick();
  return cat(...attrs.map((a) => fLen(7, a)), f64(2, start ?? time - 1000n), f64(3, time), f64(6, value));
}

const sum = (name: string, temporality: number, points: Bytes[]) =>
  cat(
    fLen(1, name),
    fLen(7, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality), fVarint(3, true))),
  );

function request(metrics: Bytes[], resource: Bytes[] = attrBytes({ "service.name": "hostile" })): Bytes {
  const scopeMetrics = cat(fLen(1, fLen(1, "hostile-test")), ...metrics.map((m) => fLen(2, m)));
  return fLen(1, cat(fLen(1, cat(...resource.map((a) => fLen(1, a)))), fLen(2, scopeMetrics)));
}

/** A 60 000-byte string, distinct per (tag, i), that gzip squeezes to almost nothing. */
const bigString = (tag: string, i: number) => `${tag}-${i}-`.padEnd(60_000, "x");

// ---- talking to the collector

interface Answer {
  status: number;
  rejected: number;
  message: string;
}

async function post(c: { otlp: string }, body: Bytes, gzip = false): Promise<Answer> {
  const res = await fetch(`${c.otlp}/v1/metrics`, {
    method: "POST",
    headers: {
      "content-type": "application/x-protobuf",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    },
    body: gzip ? gzipSync(body) : body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    ...((res.status === 200 && decodePartialProto(bytes)) || { rejected: 0, message: "" }),
  };
}

async function scrape(c: { query: string }) {
  return parseExposition(await (await fetch(`${c.query}/metrics`)).text());
}

const rss = async (c: { query: string }) => sumOf(await scrape(c), "mlwatch_collector_resident_memory_bytes");

/** Waits until ml_requests_total of `model` equals `n`, and fails with the last value if it never does. */
async function requestsReach(c: { query: string }, model: string, n: number, timeoutMs = 60_000) {
  let last = Number.NaN;
  try {
    await eventually(async () => {
      last = sumOf(await scrape(c), "ml_requests_total", { model_name: model });
      return last === n || undefined;
    }, timeoutMs);
  } catch {
    throw new Error(`ml_requests_total{model_name="${model}"} is ${last}, expected ${n}`);
  }
}

// ---- the legitimate replica: the real SDK, exporting cumulative points every 200 ms

interface Replica {
  monitoring: Monitoring;
  monitor: ModelMonitor;
  recorded: number;
  /** Records one request every 5 ms until stop(). */
  run(): void;
  stop(): Promise<void>;
}

function replica(otlp: string, model: string, instance = `${model}-replica`): Replica {
  const monitoring = startMonitoring({
    endpoint: otlp,
    exportIntervalMillis: 200,
    exportTimeoutMillis: 10_000,
    registerGlobal: false,
    logs: false,
    resourceAttributes: { "service.instance.id": instance },
  });
  const monitor = new ModelMonitor({ modelName: model, meter: monitoring.meterProvider.getMeter("legit") });
  let timer: NodeJS.Timeout | undefined;
  const r: Replica = {
    monitoring,
    monitor,
    recorded: 0,
    run() {
      timer = setInterval(() => {
        monitor.recordRequest(0.01);
        r.recorded++;
      }, 5);
    },
    async stop() {
      clearInterval(timer);
      await monitoring.forceFlush();
    },
  };
  cleanup.push(() => monitoring.shutdown());
  return r;
}

/**
 * The resident-memory bound of docs/collector.md ("Memory bound") for a
 * collector's limits, with the default window of 30 slots: a base; request
 * bodies being received; the one request being decoded; the worst-case
 * price of a tracked stream, of the series of counter and histogram
 * instruments, of a waiting sampled prediction and of an open connection.
 */
function memoryBound(l: {
  maxStreams: number;
  maxSeriesPerMetric: number;
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxConcurrentRequests: number;
  connections?: number;
}): number {
  const KiB = 1024;
  const slots = 30;
  const histograms = Object.values(Instruments).filter((i) => i.kind === "histogram").length;
  const counters = Object.keys(Instruments).length - histograms;
  return (
    150 * MiB +
    l.maxConcurrentRequests * l.maxBodyBytes +
    10 * l.maxDecompressedBytes +
    l.maxStreams * 3 * KiB +
    l.maxSeriesPerMetric * (counters * 3 * KiB + histograms * (2 * KiB + slots * 1.3 * KiB)) +
    MAX_PENDING * 4 * KiB +
    (l.connections ?? 0) * 40 * KiB
  );
}

/** analysis.sampledPredictions.maxPending of the collectors here (a term of the bound). */
const MAX_PENDING = 1000;

const GRACE_SECONDS = 2;

/** Starts a collector with a file (for checkpoints) on the given limits; its handle is closed after the file. */
async function collectorWith(lines: string[]): Promise<CollectorHandle> {
  const c = await startCollector([
    ...lines,
    `analysis: { intervalSeconds: 0.5, sampledPredictions: { maxPending: ${MAX_PENDING} } }`,
    `shutdown: { graceSeconds: ${GRACE_SECONDS} }`,
  ]);
  cleanup.push(() => c.close());
  // points stamped after the collector's start are new to it (its memory horizon), so counted whole
  clock = BigInt(Date.now()) * 1_000_000n;
  return c;
}

/**
 * SIGTERM while the attack goes on: the collector must exit 0 within the
 * grace period (plus the time a last checkpoint and exit take on a busy
 * machine), and a collector started again on its file must serve the
 * legitimate replica's requests, all of them: the last checkpoint held them.
 */
async function stopsInGraceWithCheckpoint(c: CollectorHandle, model: string, recorded: number) {
  const t0 = Date.now();
  expect(await c.stop("SIGTERM")).toBe(0);
  expect(Date.now() - t0).toBeLessThan((GRACE_SECONDS + 8) * 1000);
  const again = await startCollector([], c.dir).catch(() => undefined);
  // startCollector writes a config of its own: started on the same file, with default limits
  if (again === undefined) throw new Error("the collector did not start again on its file");
  cleanup.push(() => again.stop());
  expect(sumOf(await scrape(again), "ml_requests_total", { model_name: model })).toBe(recorded);
}

/** A length-delimited field, built with Buffers. */
function lenField(field: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = (field << 3) | 2;
  const end = writeVarint(head, 1, payload.length);
  return Buffer.concat([head.subarray(0, end), payload]);
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let i = at;
  while (n >= 128) {
    buf[i++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[i++] = n;
  return i;
}

/**
 * `n` NumberDataPoints (Sum.data_points, field 1), each with the string
 * attributes `attrsOf(i)` (ASCII, shorter than 100 bytes) and the same
 * times and value, written straight into one buffer: the floods below
 * encode millions of points, and building them part by part costs more
 * than the collector takes to ingest them.
 */
function encodePoints(first: number, n: number, attrsOf: (i: number) => string[], times: Buffer): Buffer {
  const buf = Buffer.alloc(n * 320);
  let at = 0;
  const body = Buffer.alloc(300);
  for (let i = first; i < first + n; i++) {
    const kv = attrsOf(i);
    let b = 0;
    for (let j = 0; j < kv.length; j += 2) {
      const k = kv[j];
      const v = kv[j + 1];
      const anyLen = 2 + v.length;
      const kvLen = 2 + k.length + 2 + anyLen;
      body[b++] = 0x3a; // attributes = 7
      body[b++] = kvLen;
      body[b++] = 0x0a; // key = 1
      body[b++] = k.length;
      b += body.write(k, b, "latin1");
      body[b++] = 0x12; // value = 2
      body[b++] = anyLen;
      body[b++] = 0x0a; // string_value = 1
      body[b++] = v.length;
      b += body.write(v, b, "latin1");
    }
    b += times.copy(body, b);
    buf[at++] = 0x0a; // data_points = 1
    at = writeVarint(buf, at, b);
    at += body.copy(buf, at, 0, b);
  }
  return buf.subarray(0, at);
}

/** `n` delta points of one counter, `attrsOf(i)` giving each point's attributes as [key, value, ...], in requests of 40 000. */
async function flood(
  c: { otlp: string },
  metric: string,
  first: number,
  n: number,
  attrsOf: (i: number) => string[],
) {
  const batch = 40_000;
  for (let sent = first; sent < first + n; sent += batch) {
    const time = tick();
    const times = Buffer.from(cat(f64(2, time - 1000n), f64(3, time), f64(6, 1)));
    const points = encodePoints(sent, Math.min(batch, first + n - sent), attrsOf, times);
    const data = Buffer.concat([points, Buffer.from(cat(fVarint(2, DELTA), fVarint(3, true)))]);
    const m = Buffer.concat([lenField(1, Buffer.from(metric)), lenField(7, data)]);
    const scope = Buffer.concat([lenField(1, lenField(1, Buffer.from("flood"))), lenField(2, m)]);
    const r = await post(c, lenField(1, Buffer.concat([lenField(1, Buffer.alloc(0)), lenField(2, scope)])));
    expect(r.status).toBe(200);
    expect(r.rejected).toBe(0);
  }
}

// ---- the cases, in the order of docs/bad-input.md's "Hostile clients" table

interface Case {
  name: string;
  timeout: number;
  run(): Promise<void>;
}

const cases: Case[] = [
  {
    name: "Resources and points with maximal attributes",
    timeout: 300_000,
    async run() {
      const limits = {
        maxStreams: 20_000,
        maxSeriesPerMetric: 1000,
        maxBodyBytes: 8 * MiB,
        maxDecompressedBytes: 16 * MiB,
        maxConcurrentRequests: 4,
      };
      const c = await collectorWith([
        `otlp: { port: 0, maxBodyBytes: ${limits.maxBodyBytes}, maxDecompressedBytes: ${limits.maxDecompressedBytes}, maxConcurrentRequests: ${limits.maxConcurrentRequests} }`,
        `limits: { maxSeriesPerMetric: ${limits.maxSeriesPerMetric}, maxStreams: ${limits.maxStreams} }`,
      ]);
      const legit = replica(c.otlp, "legit-wide");
      legit.run();
      const before = await rss(c);
      let peak = 0;
      const rounds = 25;
      for (let i = 0; i < rounds; i++) {
        // A new resource of 128 attributes of 60 000 bytes (7.7 MB decoded, ~15 KB gzipped) ...
        const resource = Array.from({ length: 128 }, (_, j) => kv(`r${j}`, anyStr(bigString(`res${j}`, i))));
        const wideResource = request(
          [
            sum("ml.requests", CUMULATIVE, [
              intPoint(attrBytes({ "ml.model.name": "wide-resource", "ml.model.version": "1" }), 1),
            ]),
          ],
          resource,
        );
        expect((await post(c, wideResource, true)).status).toBe(200);
        // ... and a point of 128 such attributes, its model name among them.
        const pointAttrs = [
          kv("ml.model.name", anyStr(bigString("model", i))),
          ...Array.from({ length: 127 }, (_, j) => kv(`p${j}`, anyStr(bigString(`pt${j}`, i)))),
        ];
        const widePoint = request([sum("ml.requests", CUMULATIVE, [intPoint(pointAttrs, 1)])]);
        expect((await post(c, widePoint, true)).status).toBe(200);
        if (i % 10 === 9) peak = Math.max(peak, await rss(c));
      }
      await legit.stop();
      // Every point counted: the wide resources' under their model, the wide points' under model names cut to
      // limits.maxLabelLength (each name still its own series).
      await requestsReach(c, "legit-wide", legit.recorded);
      await requestsReach(c, "wide-resource", rounds);
      const samples = await scrape(c);
      const long = samples.filter(
        (s) => s.name === "ml_requests_total" && s.labels.model_name?.startsWith("model-"),
      );
      expect(long).toHaveLength(rounds);
      for (const s of long) expect(s.labels.model_name.length).toBeLessThanOrEqual(256);
      const grown = Math.max(peak, await rss(c)) - before;
      expect(grown).toBeLessThan(memoryBound(limits) - 150 * MiB);
      // The checkpoint is bounded too: no stream key or label keeps its 7.7 MB of attributes.
      expect(statSync(`${c.dir}/collector.db`).size).toBeLessThan(64 * MiB);
      await stopsInGraceWithCheckpoint(c, "legit-wide", legit.recorded);
    },
  },
  {
    name: "10^6 distinct values of each attribute, then a new model",
    timeout: 600_000,
    async run() {
      const limits = {
        maxStreams: 20_000,
        maxSeriesPerMetric: 1000,
        maxBodyBytes: 8 * MiB,
        maxDecompressedBytes: 32 * MiB,
        maxConcurrentRequests: 4,
      };
      const c = await collectorWith([
        `otlp: { port: 0, maxBodyBytes: ${limits.maxBodyBytes}, maxDecompressedBytes: ${limits.maxDecompressedBytes}, maxConcurrentRequests: ${limits.maxConcurrentRequests} }`,
        `limits: { maxSeriesPerMetric: ${limits.maxSeriesPerMetric}, maxStreams: ${limits.maxStreams} }`,
      ]);
      const established = replica(c.otlp, "legit-established");
      established.run();
      await new Promise((r) => setTimeout(r, 500));
      const million = 1_000_000;
      const before = await rss(c);
      const grownAt: number[] = [];
      // A million new model names, in two halves: what the collector keeps per model must level off.
      for (let half = 0; half < 2; half++) {
        await flood(c, "ml.requests", half * 500_000, 500_000, (i) => ["ml.model.name", `m-${i}`]);
        grownAt.push((await rss(c)) - before);
      }
      expect(grownAt[1] - grownAt[0]).toBeLessThan(40 * MiB);
      const one = ["ml.model.name", "flood-one"];
      await flood(c, "ml.predictions", 0, million, (i) => [...one, "ml.prediction.class", `c-${i}`]);
      await flood(c, "ml.feature.category", 0, million, (i) => [
        ...one,
        "ml.feature.name",
        `f-${i}`,
        "ml.feature.category",
        "a",
      ]);
      await flood(c, "ml.segment.outcomes", 0, million, (i) => [
        ...one,
        "ml.segment",
        `s-${i}`,
        "ml.outcome",
        "correct",
      ]);
      const grown = (await rss(c)) - before;
      expect(grown).toBeLessThan(memoryBound(limits) - 150 * MiB);
      // A model that starts now still gets series and streams of its own, and both are counted exactly.
      const late = replica(c.otlp, "legit-late");
      late.run();
      await new Promise((r) => setTimeout(r, 1500));
      await late.stop();
      await established.stop();
      await requestsReach(c, "legit-established", established.recorded);
      await requestsReach(c, "legit-late", late.recorded);
      await stopsInGraceWithCheckpoint(c, "legit-late", late.recorded);
    },
  },
  {
    name: "One client fills the stream table",
    timeout: 120_000,
    async run() {
      const maxStreams = 2000;
      const c = await collectorWith([`limits: { maxStreams: ${maxStreams} }`]);
      const established = replica(c.otlp, "legit-established");
      established.run();
      await new Promise((r) => setTimeout(r, 500));
      // One model's cumulative streams, more than the whole table holds.
      const points = Array.from({ length: maxStreams + 500 }, (_, i) =>
        intPoint(attrBytes({ "ml.model.name": "flood-streams", "ml.endpoint": `/e${i}` }), 1),
      );
      const r = await post(c, request([sum("ml.requests", CUMULATIVE, points)]));
      expect(r.status).toBe(200);
      expect(r.rejected).toBeGreaterThanOrEqual(500);
      expect(r.message).toMatch(/stream_limit|maxStreams/);
      // A new model and a new replica of the established one still get streams: not refused, counted exactly.
      const late = replica(c.otlp, "legit-late");
      const second = replica(c.otlp, "legit-established", "second-replica");
      late.run();
      second.run();
      await new Promise((r) => setTimeout(r, 1500));
      await Promise.all([late.stop(), second.stop(), established.stop()]);
      await requestsReach(c, "legit-late", late.recorded);
      await requestsReach(c, "legit-established", established.recorded + second.recorded);
      const rejected = sumOf(await scrape(c), "mlwatch_collector_rejected_points_total", {
        reason: "stream_limit",
      });
      expect(rejected).toBe(r.rejected);
    },
  },
  {
    name: "500 slow connections",
    timeout: 180_000,
    async run() {
      const limits = {
        maxStreams: 500_000,
        maxSeriesPerMetric: 10_000,
        maxBodyBytes: 8 * MiB,
        maxDecompressedBytes: 64 * MiB,
        maxConcurrentRequests: 4,
        connections: 500,
      };
      const c = await collectorWith([
        `otlp: { port: 0, maxConcurrentRequests: ${limits.maxConcurrentRequests}, requestTimeoutSeconds: 120 }`,
      ]);
      const port = Number(new URL(c.otlp).port);
      const before = await rss(c);
      const sockets: Socket[] = [];
      const drip = setInterval(() => {
        for (const s of sockets) if (!s.destroyed) s.write("a");
      }, 1000);
      try {
        for (let i = 0; i < limits.connections; i++) {
          const s = new Socket();
          s.on("error", () => undefined);
          s.connect(port, "127.0.0.1");
          // half send their headers a byte at a time and never finish them; half finish them, then send
          // a body of 1 MB a byte a second
          s.write(
            i % 2 === 0
              ? "POST /v1/metrics HTTP/1.1\r\nhost: x\r\nx-slow: "
              : "POST /v1/metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000000\r\n\r\n",
          );
          sockets.push(s);
        }
        const legit = replica(c.otlp, "legit-slow");
        legit.run();
        await new Promise((r) => setTimeout(r, 3000));
        await legit.stop();
        await requestsReach(c, "legit-slow", legit.recorded);
        expect((await rss(c)) - before).toBeLessThan(memoryBound(limits) - 150 * MiB);
        // the slow clients are still connected when the collector is told to stop
        expect(sockets.filter((s) => !s.destroyed).length).toBeGreaterThan(limits.connections / 2);
        await stopsInGraceWithCheckpoint(c, "legit-slow", legit.recorded);
      } finally {
        clearInterval(drip);
        for (const s of sockets) s.destroy();
      }
    },
  },
];

describe("hostile clients against the real collector", () => {
  for (const c of cases) it(c.name, () => c.run(), c.timeout);
});

describe("docs/bad-input.md", () => {
  it("has one row per hostile-client test, in the same order", () => {
    const doc = readFileSync(`${ROOT}docs/bad-input.md`, "utf8");
    const table = doc.slice(doc.indexOf("## Hostile clients"));
    const rows = table
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| Client") && !l.startsWith("| ---"))
      .map((l) => l.split("|")[1].trim());
    expect(rows).toEqual(cases.map((c) => c.name));
  });
});
