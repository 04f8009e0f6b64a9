#!/usr/bin/env node
// SDK hot path: the cost of one monitored prediction — RED (in-flight up and
// down, request count, latency) + predicted class + confidence (+ the
// low-confidence counter when below 0.7) + 5 numeric features — through
//   mlwatch   ModelMonitor (pre-aggregated, read by an OTel reader through metricProducers)
//   (a)       the same recordings as plain OTel instrument calls with attributes
//             (attribute objects built once, exponential-histogram views, one reader)
//   (b)       the prom-client equivalent of the reference design (labels per call)
// and the batch API on 1M rows × 20 features. Reported values are medians
// over rounds. Run: `node bench/run.mjs sdk` (after `pnpm build`), or directly.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const sdkDir = new URL("../packages/sdk/", import.meta.url);
const require = createRequire(new URL("package.json", sdkDir));
const sdk = await import(new URL("dist/index.js", sdkDir).href);
const { MeterProvider, MetricReader } = require("@opentelemetry/sdk-metrics");
const prom = require("prom-client");

const FEATURES = ["f0", "f1", "f2", "f3", "f4"];
const CLASSES = ["positive", "negative", "neutral"];

/** Deterministic inputs, cycled through by every variant. */
function inputs(n = 4096) {
  let s = 12345;
  const r = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: n }, () => ({
    cls: CLASSES[Math.floor(r() * 3)],
    conf: r(),
    f: [r() * 500, (r() - 0.5) * 4, r(), r() * r() * 1e5, r() * 10],
  }));
}

class NullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median ns per call of fn(i) over `rounds` rounds of `iters` calls, after a warm-up. */
function measure(fn, { rounds = 25, iters = 20_000, warmup = 50_000 } = {}) {
  for (let i = 0; i < warmup; i++) fn(i);
  const perCall = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn(i);
    perCall.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return median(perCall);
}

function mlwatchVariant(data) {
  const producer = new sdk.MlwatchMetricProducer();
  const reader = new NullReader({ metricProducers: [producer] });
  new MeterProvider({ readers: [reader] });
  const monitor = new sdk.ModelMonitor({
    modelName: "sentiment",
    modelVersion: "1.0.0",
    endpoint: "/predict",
    producer,
  });
  const mask = data.length - 1;
  const op = (i) => {
    const d = data[i & mask];
    const t = monitor.startRequest("/predict");
    monitor.recordPrediction({
      predictedClass: d.cls,
      confidence: d.conf,
      features: { f0: d.f[0], f1: d.f[1], f2: d.f[2], f3: d.f[3], f4: d.f[4] },
    });
    t.end();
  };
  return { op, reader };
}

function mlwatchMeterVariant(data) {
  const reader = new NullReader();
  const provider = new MeterProvider({ readers: [reader], views: sdk.mlwatchViews() });
  const monitor = new sdk.ModelMonitor({
    modelName: "sentiment",
    modelVersion: "1.0.0",
    endpoint: "/predict",
    meter: provider.getMeter(sdk.SDK_NAME, sdk.SDK_VERSION),
  });
  const mask = data.length - 1;
  return (i) => {
    const d = data[i & mask];
    const t = monitor.startRequest("/predict");
    monitor.recordPrediction({
      predictedClass: d.cls,
      confidence: d.conf,
      features: { f0: d.f[0], f1: d.f[1], f2: d.f[2], f3: d.f[3], f4: d.f[4] },
    });
    t.end();
  };
}

function plainOtelVariant(data) {
  const reader = new NullReader();
  const provider = new MeterProvider({ readers: [reader], views: sdk.mlwatchViews() });
  const meter = provider.getMeter(sdk.SDK_NAME, sdk.SDK_VERSION);
  const requests = meter.createCounter("ml.requests", { unit: "{request}" });
  const duration = meter.createHistogram("ml.request.duration", { unit: "s" });
  const inProgress = meter.createUpDownCounter("ml.requests.in_progress", { unit: "{request}" });
  const predictions = meter.createCounter("ml.predictions", { unit: "{prediction}" });
  const confidence = meter.createHistogram("ml.prediction.confidence", { unit: "1" });
  const low = meter.createCounter("ml.predictions.low_confidence", { unit: "{prediction}" });
  const feature = meter.createHistogram("ml.feature.value", { unit: "1" });
  const model = { "ml.model.name": "sentiment", "ml.model.version": "1.0.0" };
  const ep = { ...model, "ml.endpoint": "/predict" };
  const lowAttrs = { ...model, "ml.confidence.threshold": "0.7" };
  const classAttrs = Object.fromEntries(CLASSES.map((c) => [c, { ...model, "ml.prediction.class": c }]));
  const featAttrs = FEATURES.map((f) => ({ ...model, "ml.feature.name": f }));
  const negAttrs = FEATURES.map((f) => ({ ...model, "ml.feature.name": f, "ml.feature.sign": "negative" }));
  const mask = data.length - 1;
  const op = (i) => {
    const d = data[i & mask];
    inProgress.add(1, model);
    const t0 = performance.now();
    predictions.add(1, classAttrs[d.cls]);
    confidence.record(d.conf, model);
    if (d.conf < 0.7) low.add(1, lowAttrs);
    for (let k = 0; k < 5; k++) {
      const v = d.f[k];
      if (v >= 0) feature.record(v, featAttrs[k]);
      else feature.record(-v, negAttrs[k]);
    }
    inProgress.add(-1, model);
    requests.add(1, ep);
    duration.record((performance.now() - t0) / 1000, ep);
  };
  return { op, reader };
}

/** (a) as often written: attribute objects built on every call. */
function plainOtelLiteralsVariant(data) {
  const reader = new NullReader();
  const provider = new MeterProvider({ readers: [reader], views: sdk.mlwatchViews() });
  const meter = provider.getMeter(sdk.SDK_NAME, sdk.SDK_VERSION);
  const requests = meter.createCounter("ml.requests", { unit: "{request}" });
  const duration = meter.createHistogram("ml.request.duration", { unit: "s" });
  const inProgress = meter.createUpDownCounter("ml.requests.in_progress", { unit: "{request}" });
  const predictions = meter.createCounter("ml.predictions", { unit: "{prediction}" });
  const confidence = meter.createHistogram("ml.prediction.confidence", { unit: "1" });
  const low = meter.createCounter("ml.predictions.low_confidence", { unit: "{prediction}" });
  const feature = meter.createHistogram("ml.feature.value", { unit: "1" });
  const name = "sentiment";
  const version = "1.0.0";
  const mask = data.length - 1;
  return (i) => {
    const d = data[i & mask];
    inProgress.add(1, { "ml.model.name": name, "ml.model.version": version });
    const t0 = performance.now();
    predictions.add(1, { "ml.model.name": name, "ml.model.version": version, "ml.prediction.class": d.cls });
    confidence.record(d.conf, { "ml.model.name": name, "ml.model.version": version });
    if (d.conf < 0.7)
      low.add(1, { "ml.model.name": name, "ml.model.version": version, "ml.confidence.threshold": "0.7" });
    for (let k = 0; k < 5; k++) {
      const v = d.f[k];
      if (v >= 0)
        feature.record(v, {
          "ml.model.name": name,
          "ml.model.version": version,
          "ml.feature.name": FEATURES[k],
        });
      else
        feature.record(-v, {
          "ml.model.name": name,
          "ml.model.version": version,
          "ml.feature.name": FEATURES[k],
          "ml.feature.sign": "negative",
        });
    }
    inProgress.add(-1, { "ml.model.name": name, "ml.model.version": version });
    const ep = { "ml.model.name": name, "ml.model.version": version, "ml.endpoint": "/predict" };
    requests.add(1, ep);
    duration.record((performance.now() - t0) / 1000, ep);
  };
}

function promClientVariant(data) {
  const registry = new prom.Registry();
  const requests = new prom.Counter({
    name: "ml_requests_total",
    help: "requests",
    labelNames: ["model_name", "endpoint", "model_version"],
    registers: [registry],
  });
  const latency = new prom.Histogram({
    name: "ml_request_duration_seconds",
    help: "latency",
    labelNames: ["model_name", "endpoint"],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const inProgress = new prom.Gauge({
    name: "ml_requests_in_progress",
    help: "in flight",
    labelNames: ["model_name"],
    registers: [registry],
  });
  const predictions = new prom.Counter({
    name: "ml_predictions_by_class",
    help: "by class",
    labelNames: ["model_name", "predicted_class"],
    registers: [registry],
  });
  const confidence = new prom.Histogram({
    name: "ml_prediction_confidence",
    help: "confidence",
    labelNames: ["model_name"],
    buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [registry],
  });
  const low = new prom.Counter({
    name: "ml_low_confidence_predictions",
    help: "low",
    labelNames: ["model_name", "threshold"],
    registers: [registry],
  });
  const feature = new prom.Histogram({
    name: "ml_feature_value",
    help: "feature values",
    labelNames: ["model_name", "feature_name"],
    buckets: [0.1, 1, 10, 100, 1000, 10000, 100000],
    registers: [registry],
  });
  const mask = data.length - 1;
  return (i) => {
    const d = data[i & mask];
    // As the reference design does: labels resolved on every call.
    requests.labels({ model_name: "sentiment", endpoint: "/predict", model_version: "1.0.0" }).inc();
    inProgress.labels({ model_name: "sentiment" }).inc();
    const t0 = performance.now();
    predictions.labels({ model_name: "sentiment", predicted_class: d.cls }).inc();
    confidence.labels({ model_name: "sentiment" }).observe(d.conf);
    if (d.conf < 0.7) low.labels({ model_name: "sentiment", threshold: "0.7" }).inc();
    for (let k = 0; k < 5; k++)
      feature.labels({ model_name: "sentiment", feature_name: FEATURES[k] }).observe(d.f[k]);
    latency
      .labels({ model_name: "sentiment", endpoint: "/predict" })
      .observe((performance.now() - t0) / 1000);
    inProgress.labels({ model_name: "sentiment" }).dec();
  };
}

function batchBench(rows = 1_000_000, nFeatures = 20) {
  let s = 99;
  const r = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const features = {};
  for (let k = 0; k < nFeatures; k++) {
    const col = new Float64Array(rows);
    const scale = 10 ** (k % 6);
    for (let i = 0; i < rows; i++) col[i] = (r() - (k % 3 === 0 ? 0.3 : 0)) * scale;
    features[`feature_${k}`] = col;
  }
  const confidence = new Float64Array(rows);
  const predictedClass = new Array(rows);
  for (let i = 0; i < rows; i++) {
    confidence[i] = r();
    predictedClass[i] = CLASSES[i % 3];
  }
  const times = [];
  for (let rep = 0; rep < 5; rep++) {
    const producer = new sdk.MlwatchMetricProducer();
    const monitor = new sdk.ModelMonitor({ modelName: "batch", producer });
    const t0 = process.hrtime.bigint();
    monitor.recordBatch({ predictedClass, confidence, features });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

export async function run() {
  const data = inputs();
  const a = plainOtelVariant(data);
  const m = mlwatchVariant(data);
  const variants = [
    ["mlwatch ModelMonitor (pre-aggregated)", m.op],
    ["(a) plain OTel instruments with attributes", a.op],
    ["(a') plain OTel, attribute objects built per call", plainOtelLiteralsVariant(data)],
    ["(b) prom-client, reference design", promClientVariant(data)],
    ["mlwatch ModelMonitor given a meter (plain-instrument mode)", mlwatchMeterVariant(data)],
  ];
  const rows = [];
  for (const [name, op] of variants) {
    const ns = measure(op);
    rows.push({ name: `one monitored prediction: ${name}`, value: ns / 1000, unit: "µs (median)" });
  }
  // Keep the readers reachable and prove they see data (collect once).
  await m.reader.collect();
  await a.reader.collect();
  const seconds = batchBench();
  rows.push({
    name: "recordBatch 1M rows × 20 features + class + confidence",
    value: seconds,
    unit: "s (median of 5)",
  });
  rows.push({ name: "recordBatch per value (22M values)", value: (seconds * 1e9) / 22e6, unit: "ns" });
  return rows;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  for (const row of await run())
    console.log(
      `${row.name.padEnd(80)} ${String(Number(row.value.toPrecision(4))).padStart(10)} ${row.unit}`,
    );
}
