// Benchmarks of the collector's ingest path and of its memory (build first: `pnpm build`).
// Run alone with `node bench/collector.bench.mjs`, or with `node bench/run.mjs collector`.
//
// 1. Ingest throughput, one thread: OTLP requests exported by the real OTel JS SDK
//    (cumulative, as the SDK sends them) are decoded, normalised (cumulative → delta)
//    and stored by Collector.ingestMetrics, in data points per second, for protobuf and
//    for OTLP/JSON, next to JSON.parse alone on the same OTLP/JSON text: in a running
//    collector (windows full) and in a fresh one (windows filling).
// 2. Memory per active exponential-histogram series with a 1 h window: every slot holds
//    data, as for a model that serves all the time; cumulative points (as the OTel SDKs
//    send them, mlwatch's included) and delta. Measured in child processes with
//    --expose-gc, per extra series between 400 and 2000 series.
// 3. RSS of a collector holding ~100k active series (default 5 min window), in a child process.
//
// Each throughput figure is the median of several timed runs after a warm-up.
// MLWATCH_BENCH_COLLECTOR=throughput runs part 1 only.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Collector } from "../collector/dist/collector.js";
import { parseConfig } from "../collector/dist/config/config.js";
import { decodeMetricsJson, decodeMetricsProto } from "../collector/dist/otlp/index.js";
import { ExpHistogram } from "../packages/stats/dist/index.js";
import { normal, rng } from "./random.mjs";

const SELF = fileURLToPath(import.meta.url);

// ---- payloads from the real OTel JS SDK (installed for packages/sdk)

function otel() {
  const fromSdk = createRequire(new URL("../packages/sdk/package.json", import.meta.url));
  const fromExporter = createRequire(fromSdk.resolve("@opentelemetry/exporter-metrics-otlp-proto"));
  return {
    sdkMetrics: fromSdk("@opentelemetry/sdk-metrics"),
    resources: fromSdk("@opentelemetry/resources"),
    transformer: fromExporter("@opentelemetry/otlp-transformer"),
  };
}

const FEATURES = 10;
const CLASSES = ["negative", "neutral", "positive"];
const ERRORS = ["ValidationError", "TimeoutError"];
const SEGMENTS = ["all", "ground_truth_sample"];
const CATEGORIES = ["a", "b", "c", "d", "e"];

/**
 * `exports` successive cumulative exports of `models` models, each with the series the
 * SDK makes for a model: requests, errors ×2, latency, in-flight, predictions ×3,
 * confidence, low confidence, 10 numeric features, 2 categorical features × 5 values,
 * outcomes ×4 (34 series, 12 of them exponential histograms); `perExport` predictions
 * per model between exports.
 */
export async function sdkExports({ models, exports, perExport }) {
  const { sdkMetrics, resources, transformer } = otel();
  const { AggregationType, AggregationTemporality, MeterProvider, MetricReader } = sdkMetrics;
  class Reader extends MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    }
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new Reader();
  const exp = { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160, recordMinMax: true } };
  const provider = new MeterProvider({
    resource: resources.resourceFromAttributes({
      "service.name": "bench-service",
      "service.instance.id": "5d9c6b0e-8a43-4a58-9f4e-0c6d1f6f1c11",
      "telemetry.sdk.language": "nodejs",
    }),
    readers: [reader],
    views: ["ml.request.duration", "ml.prediction.confidence", "ml.feature.value"].map((n) => ({
      instrumentName: n,
      aggregation: exp,
    })),
  });
  const meter = provider.getMeter("@mlwatch/sdk", "0.1.0");
  const i = {
    requests: meter.createCounter("ml.requests"),
    errors: meter.createCounter("ml.errors"),
    duration: meter.createHistogram("ml.request.duration", { unit: "s" }),
    inProgress: meter.createUpDownCounter("ml.requests.in_progress"),
    predictions: meter.createCounter("ml.predictions"),
    confidence: meter.createHistogram("ml.prediction.confidence"),
    low: meter.createCounter("ml.predictions.low_confidence"),
    feature: meter.createHistogram("ml.feature.value"),
    category: meter.createCounter("ml.feature.category"),
    outcomes: meter.createCounter("ml.segment.outcomes"),
  };
  const r = rng(7);
  const out = { proto: [], json: [], points: [] };
  for (let e = 0; e < exports; e++) {
    for (let m = 0; m < models; m++) {
      const base = { "ml.model.name": `model-${m}`, "ml.model.version": "1.0.0" };
      const ep = { ...base, "ml.endpoint": "/predict" };
      i.inProgress.add(e === 0 ? 1 : 0, base);
      for (let k = 0; k < perExport; k++) {
        i.requests.add(1, ep);
        if (k % 50 === 0) i.errors.add(1, { ...ep, "error.type": ERRORS[k % 2] });
        i.duration.record(Math.exp(Math.log(0.05) + 0.5 * normal(r)), ep);
        const conf = 0.5 + 0.5 * r();
        i.predictions.add(1, { ...base, "ml.prediction.class": CLASSES[k % 3] });
        i.confidence.record(conf, base);
        if (conf < 0.7) i.low.add(1, { ...base, "ml.confidence.threshold": "0.7" });
        for (let f = 0; f < FEATURES; f++)
          i.feature.record(50 + 10 * normal(r), { ...base, "ml.feature.name": `f${f}` });
        for (let c = 0; c < 2; c++)
          i.category.add(1, {
            ...base,
            "ml.feature.name": `c${c}`,
            "ml.feature.category": CATEGORIES[(k + c) % 5],
          });
        i.outcomes.add(1, {
          ...base,
          "ml.segment": SEGMENTS[k % 2],
          "ml.outcome": k % 7 ? "correct" : "incorrect",
        });
      }
    }
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length) throw new Error(`collect: ${errors}`);
    out.proto.push(transformer.ProtobufMetricsSerializer.serializeRequest(resourceMetrics));
    out.json.push(
      new TextDecoder().decode(transformer.JsonMetricsSerializer.serializeRequest(resourceMetrics)),
    );
    let points = 0;
    for (const sm of resourceMetrics.scopeMetrics)
      for (const md of sm.metrics) points += md.dataPoints.length;
    out.points.push(points);
  }
  await provider.shutdown();
  return out;
}

/** Median of `runs` timings of fn() (after `warm` untimed calls); fn returns elapsed ns of its timed part. */
function medianNs(fn, runs = 9, warm = 3) {
  for (let i = 0; i < warm; i++) fn();
  const t = [];
  for (let i = 0; i < runs; i++) t.push(fn());
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const now = () => process.hrtime.bigint();

export async function ingestThroughput() {
  const config = parseConfig({ storage: { path: ":memory:" } });
  // A running collector's windows are full: each 10 s export starts a slot and the oldest one
  // leaves. The first export of a cumulative stream is only a reference for the next one (a
  // collector that starts after its replicas must not count their history), so the steady
  // state is timed on exports SLOTS+1 .. SLOTS+10 after SLOTS+1 untimed ones; a fresh
  // collector (windows still filling, its first minutes) on exports 1..10 after export 0.
  const SLOTS = Math.ceil(config.windows.analysisSeconds / config.windows.slotSeconds);
  const TIMED = 10;
  const EXPORTS = SLOTS + 1 + TIMED;
  const p = await sdkExports({ models: 100, exports: EXPORTS, perExport: 20 });
  const t0 = Date.now();
  const phases = {
    steady: { from: SLOTS + 1 },
    fresh: { from: 1 },
  };
  for (const ph of Object.values(phases))
    ph.points = p.points.slice(ph.from, ph.from + TIMED).reduce((a, b) => a + b, 0);
  const ingestRun = (decode, payloads, ph) => () => {
    const c = new Collector(config, () => {});
    for (let e = 0; e < ph.from; e++) c.ingestMetrics(decode(payloads[e]), t0 + e * 10_000);
    let ns = 0n;
    for (let e = ph.from; e < ph.from + TIMED; e++) {
      const s = now();
      const r = c.ingestMetrics(decode(payloads[e]), t0 + e * 10_000);
      ns += now() - s;
      if (r.rejected) throw new Error(r.message);
    }
    return Number(ns);
  };
  const timeAll = (fn, payloads, ph) => () => {
    const s = now();
    for (let e = ph.from; e < ph.from + TIMED; e++) fn(payloads[e]);
    return Number(now() - s);
  };
  const perSec = (ph, ns) => ph.points / (ns / 1e9);
  // as the receiver decodes: the body in a Node Buffer (Buffer.concat of its chunks), bucket
  // counts left encoded for the normaliser (keepBucketVarints)
  const proto = p.proto.map((b) => Buffer.concat([b]));
  const receive = (b) => decodeMetricsProto(b, undefined, { keepBucketVarints: true });
  const { steady, fresh } = phases;
  const protoIngest = perSec(steady, medianNs(ingestRun(receive, proto, steady)));
  const jsonParse = perSec(steady, medianNs(timeAll(JSON.parse, p.json, steady)));
  const freshIngest = perSec(fresh, medianNs(ingestRun(receive, proto, fresh)));
  const freshParse = perSec(fresh, medianNs(timeAll(JSON.parse, p.json, fresh)));
  const jsonIngest = perSec(steady, medianNs(ingestRun(decodeMetricsJson, p.json, steady)));
  const protoDecode = perSec(steady, medianNs(timeAll(receive, proto, steady)));
  // Where protobuf ingest goes, per point kind, in the steady state: the same steps as
  // ingestMetrics (normalize, then each observation into the store), timed apart on
  // requests decoded beforehand.
  const split = (keep) => {
    const reqs = proto.map((b) => {
      const r = receive(b);
      for (const rm of r.resourceMetrics)
        for (const sm of rm.scopeMetrics) sm.metrics = sm.metrics.filter((m) => keep(m.kind));
      return r;
    });
    let points = 0;
    for (const r of reqs.slice(steady.from, steady.from + TIMED))
      for (const rm of r.resourceMetrics)
        for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += m.points.length;
    let normalise = [];
    let store = [];
    for (let run = 0; run < 12; run++) {
      const c = new Collector(config, () => {});
      for (let e = 0; e < steady.from; e++) c.ingestMetrics(reqs[e], t0 + e * 10_000);
      let n = 0n;
      let o = 0n;
      for (let e = steady.from; e < steady.from + TIMED; e++) {
        const a = now();
        const r = c.normalizer.normalize(reqs[e], t0 + e * 10_000);
        const b = now();
        for (const x of r.observations) c.observe(x, t0 + e * 10_000);
        o += now() - b;
        n += b - a;
      }
      if (run >= 3) {
        normalise.push(Number(n) / points);
        store.push(Number(o) / points);
      }
    }
    const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
    normalise = median(normalise);
    store = median(store);
    return { normalise, store };
  };
  const hist = split((k) => k === "exponential_histogram");
  const other = split((k) => k !== "exponential_histogram");
  const jsonDecode = perSec(steady, medianNs(timeAll(decodeMetricsJson, p.json, steady)));
  const pts = steady.points / TIMED;
  const payload = (xs) =>
    xs.slice(steady.from, steady.from + TIMED).reduce((a, b) => a + b.length, 0) / TIMED;
  return [
    { name: "payload: OTel JS SDK export, 100 models, 35% histograms", value: pts, unit: "points" },
    { name: "payload size, protobuf", value: payload(p.proto) / pts, unit: "bytes/point" },
    { name: "payload size, OTLP/JSON", value: payload(p.json) / pts, unit: "bytes/point" },
    {
      name: `running collector, ${SLOTS}-slot windows full: exports ${steady.from}..${steady.from + TIMED - 1}`,
      value: TIMED,
      unit: "exports timed",
    },
    { name: "  ingest protobuf (decode+normalise+store)", value: protoIngest, unit: "points/s" },
    { name: "  JSON.parse alone, same payload as OTLP/JSON", value: jsonParse, unit: "points/s" },
    { name: "  ingest protobuf ÷ JSON.parse alone (target ≥ 1)", value: protoIngest / jsonParse, unit: "x" },
    { name: "  ingest OTLP/JSON (decode+normalise+store)", value: jsonIngest, unit: "points/s" },
    {
      name: "  decode only, protobuf (as the receiver: bucket counts left encoded)",
      value: protoDecode,
      unit: "points/s",
    },
    { name: "  decode only, OTLP/JSON (with its JSON.parse)", value: jsonDecode, unit: "points/s" },
    { name: "  normalise, per exponential-histogram point", value: hist.normalise, unit: "ns" },
    { name: "  store (window, totals), per exponential-histogram point", value: hist.store, unit: "ns" },
    { name: "  normalise, per counter or gauge point", value: other.normalise, unit: "ns" },
    { name: "  store, per counter or gauge point", value: other.store, unit: "ns" },
    { name: `fresh collector, windows filling: exports 1..${TIMED}`, value: TIMED, unit: "exports timed" },
    { name: "  ingest protobuf (decode+normalise+store)", value: freshIngest, unit: "points/s" },
    { name: "  JSON.parse alone, same payload as OTLP/JSON", value: freshParse, unit: "points/s" },
    { name: "  ingest protobuf ÷ JSON.parse alone", value: freshIngest / freshParse, unit: "x" },
  ];
}

// ---- memory, in child processes with --expose-gc

/**
 * A decoded request with one exponential-histogram point per series, built without the wire:
 * `values` new values per series; with `running` (one ExpHistogram per series, kept by the
 * caller) the points are cumulative, as the OTel SDKs (and mlwatch's) send them, else delta.
 */
function histogramRequest(series, timeNs, values, r, metric, running, startNs) {
  const points = [];
  const feature = metric === "ml.feature.value";
  for (let s = 0; s < series; s++) {
    const h = running ? running[s] : new ExpHistogram();
    for (let k = 0; k < values; k++)
      h.record(feature ? 50 + 10 * normal(r) : Math.exp(Math.log(0.05) + 0.5 * normal(r)));
    const j = h.toJSON();
    points.push({
      attributes: Object.assign(Object.create(null), {
        "ml.model.name": `model-${s >> 4}`,
        "ml.model.version": "1.0.0",
        ...(feature ? { "ml.feature.name": `f${s & 15}` } : { "ml.endpoint": `/e${s & 15}` }),
      }),
      startTimeUnixNano: running ? startNs : timeNs - 10_000_000_000n,
      timeUnixNano: timeNs,
      count: j.count,
      sum: j.sum,
      min: j.min,
      max: j.max,
      scale: j.scale,
      zeroCount: j.zeroCount,
      zeroThreshold: j.zeroThreshold,
      positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
      negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
    });
  }
  return {
    resourceMetrics: [
      {
        resource: Object.assign(Object.create(null), { "service.name": "bench" }),
        scopeMetrics: [
          {
            scope: { name: "@mlwatch/sdk", version: "0.1.0" },
            metrics: [
              {
                name: metric,
                unit: "s",
                description: "",
                kind: "exponential_histogram",
                temporality: running ? 2 : 1,
                points,
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * Bytes of one ExpHistogram's bucket arrays (two Float64Arrays, one per sign; the
 * fields are private in TypeScript, not at run time), of their occupied index span,
 * and the number of non-zero buckets.
 */
/** V8 heap plus ArrayBuffer backing stores (typed arrays over 64 bytes live outside the heap), after GC. */
function memoryAfterGc() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Child: memory held for `series` exponential-histogram series with a 1 h window, once the
 * window is full. `metric` is ml.feature.value (a feature: window only) or ml.request.duration
 * (latency: window plus the running total and classic buckets kept for Prometheus); 30 values
 * per series per 10 s export, cumulative or delta.
 */
function childSeriesMemory(metric, slotSeconds, temporality, series) {
  const EXPORTS = 360; // one hour of 10 s exports
  const VALUES = 30;
  const config = parseConfig({
    storage: { path: ":memory:" },
    windows: { slotSeconds, analysisSeconds: 3600, staleStreamSeconds: 7200 },
    limits: { maxSeriesPerMetric: 100_000 },
  });
  const r = rng(11);
  const t0 = Date.now();
  const c = new Collector(config, () => {});
  const before = memoryAfterGc();
  // The replicas' own running histograms (cumulative): dropped before the last measurement.
  const running =
    temporality === "cumulative" ? Array.from({ length: series }, () => new ExpHistogram()) : undefined;
  const startNs = BigInt(t0) * 1_000_000n;
  // A cumulative stream's first point is its reference; the next 360 fill the hour.
  c.ingestMetrics(histogramRequest(series, startNs, VALUES, r, metric, running, startNs), t0);
  for (let i = 1; i <= EXPORTS; i++) {
    const nowMs = t0 + i * 10_000;
    c.ingestMetrics(
      histogramRequest(series, BigInt(nowMs) * 1_000_000n, VALUES, r, metric, running, startNs),
      nowMs,
    );
  }
  // An analysis pass, as the running collector makes every few seconds.
  c.analyzeNow(t0 + EXPORTS * 10_000);
  running?.splice(0);
  const held = memoryAfterGc() - before;
  let packed = 0;
  for (const s of c.store.series(metric)) packed += s.window.packedBytes;
  return { held, packed, slots: Math.ceil(3600 / slotSeconds) };
}

/** Child: RSS with ~100k active series of the SDK's mix, default 5 min window of 10 s slots. */
function childManySeries() {
  const MODELS = 3000; // × 34 series = 102 000
  const dir = mkdtempSync(join(tmpdir(), "mlwatch-bench-"));
  const config = parseConfig({
    storage: { path: join(dir, "collector.db"), checkpointSeconds: 3600 },
    limits: { maxSeriesPerMetric: 100_000 },
  });
  const c = new Collector(config, () => {});
  const r = rng(5);
  const t0 = Date.now();
  const rssStart = process.memoryUsage.rss();
  const attrs = (o) => Object.assign(Object.create(null), o);
  const expPoint = (a, timeNs, gen, n) => {
    const h = new ExpHistogram();
    for (let k = 0; k < n; k++) h.record(gen());
    const j = h.toJSON();
    return {
      attributes: a,
      startTimeUnixNano: timeNs - 10_000_000_000n,
      timeUnixNano: timeNs,
      count: j.count,
      sum: j.sum,
      min: j.min,
      max: j.max,
      scale: j.scale,
      zeroCount: j.zeroCount,
      zeroThreshold: j.zeroThreshold,
      positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
      negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
    };
  };
  const out = {};
  const STEPS = 30;
  // the last step comes after the memory figures: it times the checkpoint of one export's changes
  for (let step = 0; step <= STEPS; step++) {
    if (step === STEPS) {
      c.checkpoint(); // everything so far
    }
    const nowMs = t0 + step * 10_000;
    const timeNs = BigInt(nowMs) * 1_000_000n;
    const num = (a, value) => ({
      attributes: a,
      startTimeUnixNano: timeNs - 10_000_000_000n,
      timeUnixNano: timeNs,
      value,
    });
    const m = {};
    const add = (name, kind, point, extra = {}) => {
      m[name] ??= {
        name,
        unit: "",
        description: "",
        kind,
        temporality: 1,
        monotonic: true,
        points: [],
        ...extra,
      };
      m[name].points.push(point);
    };
    for (let k = 0; k < MODELS; k++) {
      const base = { "ml.model.name": `model-${k}`, "ml.model.version": "1.0.0" };
      const ep = { ...base, "ml.endpoint": "/predict" };
      add("ml.requests", "sum", num(attrs(ep), 30));
      for (const e of ERRORS) add("ml.errors", "sum", num(attrs({ ...ep, "error.type": e }), 1));
      add(
        "ml.request.duration",
        "exponential_histogram",
        expPoint(attrs(ep), timeNs, () => Math.exp(Math.log(0.05) + 0.5 * normal(r)), 30),
      );
      add("ml.requests.in_progress", "sum", num(attrs(base), 2), { temporality: 2, monotonic: false });
      for (const cl of CLASSES)
        add("ml.predictions", "sum", num(attrs({ ...base, "ml.prediction.class": cl }), 10));
      add(
        "ml.prediction.confidence",
        "exponential_histogram",
        expPoint(attrs(base), timeNs, () => 0.5 + 0.5 * r(), 30),
      );
      add(
        "ml.predictions.low_confidence",
        "sum",
        num(attrs({ ...base, "ml.confidence.threshold": "0.7" }), 12),
      );
      for (let f = 0; f < FEATURES; f++)
        add(
          "ml.feature.value",
          "exponential_histogram",
          expPoint(attrs({ ...base, "ml.feature.name": `f${f}` }), timeNs, () => 50 + 10 * normal(r), 30),
        );
      for (let cf = 0; cf < 2; cf++)
        for (const cat of CATEGORIES)
          add(
            "ml.feature.category",
            "sum",
            num(attrs({ ...base, "ml.feature.name": `c${cf}`, "ml.feature.category": cat }), 6),
          );
      for (const s of SEGMENTS)
        for (const o of ["correct", "incorrect"])
          add("ml.segment.outcomes", "sum", num(attrs({ ...base, "ml.segment": s, "ml.outcome": o }), 7));
    }
    const res = c.ingestMetrics(
      {
        resourceMetrics: [
          {
            resource: attrs({ "service.name": "bench" }),
            scopeMetrics: [{ scope: { name: "@mlwatch/sdk", version: "0.1.0" }, metrics: Object.values(m) }],
          },
        ],
      },
      nowMs,
    );
    if (res.rejected) throw new Error(res.message);
    if (step === STEPS) {
      let t = performance.now();
      c.checkpoint();
      out.checkpointChangedS = (performance.now() - t) / 1000;
      t = performance.now();
      const text = c.metricsText(nowMs); // what a scrape costs
      out.scrapeS = (performance.now() - t) / 1000;
      out.scrapeBytes = text.length;
      out.dbBytes = statSync(join(dir, "collector.db")).size;
      rmSync(dir, { recursive: true, force: true });
    } else if (step === 0 || step === STEPS - 1) {
      const memory = memoryAfterGc();
      out[step === 0 ? "oneSlot" : "fullWindow"] = { rss: process.memoryUsage.rss(), memory };
    }
  }
  out.series = c.store.seriesCount;
  out.rssStart = rssStart;
  return out;
}

function inChild(name) {
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--max-old-space-size=8192", SELF, `--child=${name}`],
    {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`bench child ${name} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Memory per series: what 2000 series hold minus what 400 hold, per extra series, so that
 * what the collector holds once (code, caches, the analysis snapshot's fixed part) is not
 * spread over the series.
 */
function perSeries(metric, slotSeconds, temporality) {
  const [A, B] = [400, 2000];
  const a = inChild(`series-memory:${metric}:${slotSeconds}:${temporality}:${A}`);
  const b = inChild(`series-memory:${metric}:${slotSeconds}:${temporality}:${B}`);
  return { bytes: (b.held - a.held) / (B - A), packed: b.packed / B, slots: b.slots };
}

function memoryRows() {
  const MB = 1024 * 1024;
  const rows = [];
  for (const [metric, label, slotSeconds, temporality] of [
    ["ml.feature.value", "feature", 300, "cumulative"],
    ["ml.feature.value", "feature", 300, "delta"],
    ["ml.feature.value", "feature", 60, "cumulative"],
    ["ml.feature.value", "feature", 10, "cumulative"],
    ["ml.request.duration", "latency", 300, "cumulative"],
  ]) {
    const s = perSeries(metric, slotSeconds, temporality);
    const target = label === "feature" && slotSeconds === 300 ? " (target ≤ 4 KiB)" : "";
    rows.push({
      name: `${label} series, ${temporality}, 1 h window of ${s.slots} × ${slotSeconds} s slots${target}`,
      value: s.bytes / 1024,
      unit: "KiB/series",
    });
    rows.push({ name: "    of which the window's packed slots", value: s.packed / 1024, unit: "KiB/series" });
  }
  const m = inChild("many-series");
  rows.push(
    {
      name: `${m.series} series, SDK mix, 5 min window: RSS, 1 slot`,
      value: m.oneSlot.rss / MB,
      unit: "MiB",
    },
    { name: "  heap + array buffers, 1 slot", value: m.oneSlot.memory / MB, unit: "MiB" },
    { name: "  RSS, all 30 slots filled (target ≤ 1 GiB)", value: m.fullWindow.rss / MB, unit: "MiB" },
    { name: "  heap + array buffers, all 30 slots filled", value: m.fullWindow.memory / MB, unit: "MiB" },
    {
      name: "  checkpoint of one export's changes (every series)",
      value: m.checkpointChangedS,
      unit: "s",
    },
    { name: "  scrape of /metrics (text exposition)", value: m.scrapeS, unit: "s" },
    { name: "  SQLite file", value: m.dbBytes / MB, unit: "MiB" },
  );
  return rows;
}

/** `MLWATCH_BENCH_COLLECTOR=throughput` runs only the ingest throughput part (quick iterations). */
export async function run() {
  const rows = await ingestThroughput();
  return process.env.MLWATCH_BENCH_COLLECTOR === "throughput" ? rows : [...rows, ...memoryRows()];
}

const child = process.argv.find((a) => a.startsWith("--child="))?.slice(8);
if (child) {
  const [kind, metric, slotSeconds, temporality, series] = child.split(":");
  const out =
    kind === "series-memory"
      ? childSeriesMemory(metric, Number(slotSeconds), temporality, Number(series))
      : childManySeries();
  process.stdout.write(JSON.stringify(out));
} else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}`);
  for (const row of await run()) {
    console.log(
      `${row.name.padEnd(60)} ${String(Number(row.value.toPrecision(4))).padStart(12)} ${row.unit}`,
    );
  }
}
