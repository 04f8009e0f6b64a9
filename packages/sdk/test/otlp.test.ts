// What reaches a collector: the real OTel JS OTLP exporters send to a real
// node:http endpoint on loopback, which decodes the requests with the
// collector's decoders. Checks every instrument's name, unit, kind,
// attributes and values against packages/semconv (= docs/semconv.md), and
// that the pre-aggregated fast path exports exactly what plain OTel
// instruments export for the same recordings.

import { Attr, type InstrumentSpec, Instruments, SampledPredictionEvent } from "@mlwatch/semconv";
import type { Attributes } from "@opentelemetry/api";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter as OTLPJsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExpHistogramPoint, Metric, NumberPoint } from "../../../collector/src/otlp/index.js";
import { MlwatchMetricProducer, ModelMonitor, mlwatchViews, SDK_NAME, SDK_VERSION } from "../src/index.js";
import { allLogRecords, comparable, lastMetrics, type Receiver, startReceiver } from "./support.js";

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}
afterAll(async () => {
  for (const r of receivers) await r.close();
});

/** A MeterProvider with mlwatch's views whose reader exports OTLP to `r` only when flushed. */
function pipeline(r: Receiver, producer?: MlwatchMetricProducer, json = false) {
  const url = `${r.url}/v1/metrics`;
  const exporter = json ? new OTLPJsonMetricExporter({ url }) : new OTLPMetricExporter({ url });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
    metricProducers: producer ? [producer] : [],
  });
  const provider = new MeterProvider({ readers: [reader], views: mlwatchViews() });
  return { provider, flush: () => provider.forceFlush() };
}

function points(m: Metric | undefined): Array<NumberPoint | ExpHistogramPoint> {
  expect(m, "metric present").toBeDefined();
  return m!.points as Array<NumberPoint | ExpHistogramPoint>;
}

function pointWith<T extends NumberPoint | ExpHistogramPoint>(m: Metric | undefined, attrs: Attributes): T {
  const found = points(m).filter((p) =>
    Object.entries(attrs).every(([k, v]) => (p.attributes as Attributes)[k] === v),
  );
  expect(found, `one point with ${JSON.stringify(attrs)}`).toHaveLength(1);
  return found[0] as T;
}

const model = { [Attr.modelName]: "sentiment", [Attr.modelVersion]: "1.2.0" };

describe("each instrument as docs/semconv.md documents it (fast path, OTLP/protobuf)", () => {
  let metrics: Map<string, Metric>;
  let scopes: string[];

  beforeAll(async () => {
    const r = await receiver();
    const producer = new MlwatchMetricProducer();
    const { flush } = pipeline(r, producer);
    const m = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "1.2.0",
      endpoint: "/predict",
      producer,
    });
    m.recordRequest(0.25);
    m.recordRequest(0.5, { endpoint: "/predict" });
    m.recordRequest(0.125, { error: new RangeError("bad input") });
    m.recordPrediction({
      predictedClass: "positive",
      confidence: 0.9,
      features: { text_length: 12, score: -0.5, language: "en" },
    });
    m.recordPrediction({
      predictedClass: "negative",
      confidence: 0.4,
      features: { text_length: 7, score: 0.25, language: "fr" },
    });
    m.recordOutcome("electronics", true);
    m.recordOutcome("electronics", false);
    m.recordOutcome("electronics", true);
    await flush();
    metrics = lastMetrics(r);
    scopes = r.metrics.at(-1)!.resourceMetrics.flatMap((rm) => rm.scopeMetrics.map((s) => s.scope.name));
  });

  const specs = Object.values(Instruments) as InstrumentSpec[];

  it.each(specs.map((s) => [s.name, s]))("%s has the documented kind, unit and attribute set", (_n, spec) => {
    const m = metrics.get(spec.name)!;
    expect(m).toBeDefined();
    expect(m.unit).toBe(spec.unit);
    expect(m.description).toBe(spec.description);
    if (spec.kind === "histogram") expect(m.kind).toBe("exponential_histogram");
    else {
      expect(m.kind).toBe("sum");
      if (m.kind === "sum") {
        expect(m.monotonic).toBe(spec.kind === "counter");
        expect(m.temporality).toBe(2); // cumulative
      }
    }
    for (const p of points(m)) {
      const keys = Object.keys(p.attributes).sort();
      // Every documented attribute is present, except the sign, which only the negative-value series carries.
      const required = spec.attributes.filter((a) => a !== Attr.featureSign);
      expect(keys.filter((k) => k !== Attr.featureSign)).toEqual([...required].sort());
    }
  });

  it("puts everything under the @mlwatch/sdk scope", () => {
    expect(scopes).toEqual([SDK_NAME]);
    expect(SDK_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("carries the documented values", () => {
    const ep = { ...model, [Attr.endpoint]: "/predict" };
    expect(pointWith<NumberPoint>(metrics.get("ml.requests"), ep).value).toBe(3);
    expect(
      pointWith<NumberPoint>(metrics.get("ml.errors"), { ...ep, [Attr.errorType]: "RangeError" }).value,
    ).toBe(1);
    const d = pointWith<ExpHistogramPoint>(metrics.get("ml.request.duration"), ep);
    expect([d.count, d.sum, d.min, d.max]).toEqual([3, 0.875, 0.125, 0.5]);
    expect(pointWith<NumberPoint>(metrics.get("ml.requests.in_progress"), model).value).toBe(0);
    const byClass = (c: string) =>
      pointWith<NumberPoint>(metrics.get("ml.predictions"), { ...model, [Attr.predictedClass]: c }).value;
    expect([byClass("positive"), byClass("negative")]).toEqual([1, 1]);
    const conf = pointWith<ExpHistogramPoint>(metrics.get("ml.prediction.confidence"), model);
    expect([conf.count, conf.sum, conf.min, conf.max]).toEqual([2, 1.3, 0.4, 0.9]);
    expect(
      pointWith<NumberPoint>(metrics.get("ml.predictions.low_confidence"), {
        ...model,
        [Attr.confidenceThreshold]: "0.7",
      }).value,
    ).toBe(1);
    const feature = (name: string, sign?: string) =>
      points(metrics.get("ml.feature.value")).find(
        (p) => p.attributes[Attr.featureName] === name && p.attributes[Attr.featureSign] === sign,
      ) as ExpHistogramPoint;
    expect([feature("text_length").count, feature("text_length").sum]).toEqual([2, 19]);
    expect([feature("score").count, feature("score").sum]).toEqual([1, 0.25]);
    // -0.5 travels as magnitude 0.5 on the sign="negative" series.
    expect([feature("score", "negative").count, feature("score", "negative").sum]).toEqual([1, 0.5]);
    expect(feature("score", "negative").negative.bucketCounts).toEqual([]);
    const cat = (c: string) =>
      pointWith<NumberPoint>(metrics.get("ml.feature.category"), {
        [Attr.featureName]: "language",
        [Attr.featureCategory]: c,
      }).value;
    expect([cat("en"), cat("fr")]).toEqual([1, 1]);
    const outcome = (o: string) =>
      pointWith<NumberPoint>(metrics.get("ml.segment.outcomes"), {
        [Attr.segment]: "electronics",
        [Attr.outcome]: o,
      }).value;
    expect([outcome("correct"), outcome("incorrect")]).toEqual([2, 1]);
  });
});

// ---- content equality: fast path vs plain OTel instruments ----

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Step {
  duration: number;
  endpoint: string;
  error?: Error;
  predictedClass: string;
  confidence: number;
  features: Record<string, number>;
  segment: string;
  correct: boolean;
}

function scenario(seed: number, n: number): Step[] {
  const r = rng(seed);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    steps.push({
      duration: 0.001 + r() * r() * 2,
      endpoint: r() < 0.8 ? "/predict" : "/batch",
      error: r() < 0.05 ? (r() < 0.5 ? new RangeError("x") : new TypeError("y")) : undefined,
      predictedClass: ["positive", "negative", "neutral"][Math.floor(r() * 3)],
      confidence: r(),
      features: {
        f_len: Math.floor(r() * 500),
        f_score: (r() - 0.5) * 4,
        f_ratio: r(),
        f_amount: r() * r() * 1e5,
        f_delta: (r() - 0.7) * 10,
      },
      segment: r() < 0.5 ? "a" : "b",
      correct: r() < 0.8,
    });
    // A segment that only ever sees one outcome: no zero-valued "incorrect" series may appear.
    if (i % 500 === 0) Object.assign(steps[i], { segment: "rare", correct: true });
  }
  return steps;
}

/** The same recordings as ModelMonitor makes, through plain OTel instruments with attributes (the bench's variant (a)). */
function plainOtel(provider: MeterProvider) {
  const meter = provider.getMeter(SDK_NAME, SDK_VERSION);
  const o = (s: InstrumentSpec) => ({ description: s.description, unit: s.unit });
  const I = Instruments;
  const requests = meter.createCounter(I.requests.name, o(I.requests));
  const errors = meter.createCounter(I.errors.name, o(I.errors));
  const duration = meter.createHistogram(I.duration.name, o(I.duration));
  const inProgress = meter.createUpDownCounter(I.inProgress.name, o(I.inProgress));
  const predictions = meter.createCounter(I.predictions.name, o(I.predictions));
  const confidence = meter.createHistogram(I.confidence.name, o(I.confidence));
  const low = meter.createCounter(I.lowConfidence.name, o(I.lowConfidence));
  const feature = meter.createHistogram(I.featureValue.name, o(I.featureValue));
  const outcomes = meter.createCounter(I.segmentOutcomes.name, o(I.segmentOutcomes));
  return (s: Step) => {
    const ep = { ...model, [Attr.endpoint]: s.endpoint };
    inProgress.add(1, model);
    inProgress.add(-1, model);
    requests.add(1, ep);
    duration.record(s.duration, ep);
    if (s.error) errors.add(1, { ...ep, [Attr.errorType]: s.error.name });
    predictions.add(1, { ...model, [Attr.predictedClass]: s.predictedClass });
    confidence.record(s.confidence, model);
    if (s.confidence < 0.7) low.add(1, { ...model, [Attr.confidenceThreshold]: "0.7" });
    for (const [name, v] of Object.entries(s.features)) {
      if (v >= 0) feature.record(v, { ...model, [Attr.featureName]: name });
      else feature.record(-v, { ...model, [Attr.featureName]: name, [Attr.featureSign]: "negative" });
    }
    outcomes.add(1, {
      ...model,
      [Attr.segment]: s.segment,
      [Attr.outcome]: s.correct ? "correct" : "incorrect",
    });
  };
}

function withMonitor(m: ModelMonitor) {
  return (s: Step) => {
    m.recordRequest(s.duration, { endpoint: s.endpoint, error: s.error });
    m.recordPrediction({ predictedClass: s.predictedClass, confidence: s.confidence, features: s.features });
    m.recordOutcome(s.segment, s.correct);
  };
}

async function exportAll(
  record: (s: Step) => void,
  flush: () => Promise<void>,
  r: Receiver,
  steps: Step[],
): Promise<unknown[][]> {
  const snapshots: unknown[][] = [];
  const third = Math.ceil(steps.length / 3);
  for (let i = 0; i < steps.length; i++) {
    record(steps[i]);
    if ((i + 1) % third === 0 || i === steps.length - 1) {
      await flush();
      snapshots.push(
        [...lastMetrics(r, SDK_NAME).values()]
          .map(comparable)
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      );
    }
  }
  return snapshots;
}

describe("content equality with plain OTel instruments", () => {
  const steps = scenario(42, 3000);

  it("the fast path exports the same metrics, units, attribute sets, counts, sums and buckets, export after export", async () => {
    const ra = await receiver();
    const plain = pipeline(ra);
    const a = await exportAll(plainOtel(plain.provider), plain.flush, ra, steps);

    const rb = await receiver();
    const producer = new MlwatchMetricProducer();
    const fast = pipeline(rb, producer);
    const monitor = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "1.2.0",
      endpoint: "/predict",
      producer,
    });
    expect(monitor.mode).toBe("producer");
    const b = await exportAll(withMonitor(monitor), fast.flush, rb, steps);

    expect(a).toHaveLength(3);
    expect(b).toEqual(a);
    // Sanity: the comparison covers every instrument that the scenario touches, with real content.
    const names = (a[2] as Array<{ name: string }>).map((m) => m.name).sort();
    expect(names).toEqual(
      [
        "ml.errors",
        "ml.feature.value",
        "ml.prediction.confidence",
        "ml.predictions",
        "ml.predictions.low_confidence",
        "ml.request.duration",
        "ml.requests",
        "ml.requests.in_progress",
        "ml.segment.outcomes",
      ].sort(),
    );
  });

  it("ModelMonitor with a meter (plain-instrument mode) exports the same too", async () => {
    const ra = await receiver();
    const plain = pipeline(ra);
    const a = await exportAll(plainOtel(plain.provider), plain.flush, ra, steps);
    const rc = await receiver();
    const viaMeter = pipeline(rc);
    const monitor = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "1.2.0",
      endpoint: "/predict",
      meter: viaMeter.provider.getMeter(SDK_NAME, SDK_VERSION),
    });
    expect(monitor.mode).toBe("instruments");
    expect(await exportAll(withMonitor(monitor), viaMeter.flush, rc, steps)).toEqual(a);
  });

  it("is the same over OTLP/JSON", async () => {
    const ra = await receiver();
    const plain = pipeline(ra, undefined, true);
    const a = await exportAll(plainOtel(plain.provider), plain.flush, ra, steps.slice(0, 500));
    const rb = await receiver();
    const producer = new MlwatchMetricProducer();
    const fast = pipeline(rb, producer, true);
    const monitor = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "1.2.0",
      endpoint: "/predict",
      producer,
    });
    expect(await exportAll(withMonitor(monitor), fast.flush, rb, steps.slice(0, 500))).toEqual(a);
  });

  it("a batch exports what the same rows recorded one by one export", async () => {
    const rows = scenario(7, 2000);
    const r1 = await receiver();
    const p1 = new MlwatchMetricProducer();
    const one = pipeline(r1, p1);
    const m1 = new ModelMonitor({ modelName: "sentiment", modelVersion: "1.2.0", producer: p1 });
    for (const s of rows)
      m1.recordPrediction({
        predictedClass: s.predictedClass,
        confidence: s.confidence,
        features: s.features,
      });
    await one.flush();
    const r2 = await receiver();
    const p2 = new MlwatchMetricProducer();
    const two = pipeline(r2, p2);
    const m2 = new ModelMonitor({ modelName: "sentiment", modelVersion: "1.2.0", producer: p2 });
    const features: Record<string, Float64Array> = {};
    for (const name of Object.keys(rows[0].features))
      features[name] = Float64Array.from(rows, (s) => s.features[name]);
    m2.recordBatch({
      predictedClass: rows.map((s) => s.predictedClass),
      confidence: Float64Array.from(rows, (s) => s.confidence),
      features,
    });
    await two.flush();
    const strip = (r: Receiver) => [...lastMetrics(r).values()].map(comparable);
    expect(strip(r2)).toEqual(strip(r1));
  });
});

describe("sampled predictions over OTLP logs", () => {
  async function logsPipeline() {
    const r = await receiver();
    const provider = new LoggerProvider({
      processors: [
        new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${r.url}/v1/logs` }) }),
      ],
    });
    return { r, logger: provider.getLogger(SDK_NAME, SDK_VERSION), flush: () => provider.forceFlush() };
  }

  it("emits one ml.prediction.sampled record per sampled prediction with the documented attributes, no inputs by default", async () => {
    const { r, logger, flush } = await logsPipeline();
    const m = new ModelMonitor({
      modelName: "sentiment",
      modelVersion: "1.2.0",
      producer: new MlwatchMetricProducer(),
      groundTruth: { sampleRate: 1, logger },
    });
    m.recordPrediction({
      requestId: "req-1",
      predictedClass: "positive",
      confidence: 0.875,
      features: { x: 1 },
    });
    m.recordPrediction({ requestId: "req-2", predictedClass: "negative", segment: "mobile" });
    m.recordPrediction({ predictedClass: "negative" }); // no id: not eligible
    await flush();
    const records = allLogRecords(r);
    expect(records).toHaveLength(2);
    expect(records[0].eventName).toBe(SampledPredictionEvent.eventName);
    expect(records[0].attributes).toEqual({
      [Attr.modelName]: "sentiment",
      [Attr.modelVersion]: "1.2.0",
      [Attr.requestId]: "req-1",
      [Attr.predictedClass]: "positive",
      [Attr.predictionConfidence]: 0.875,
      [Attr.segment]: "ground_truth_sample",
    });
    expect(records[1].attributes[Attr.segment]).toBe("mobile");
    expect(records[1].attributes[Attr.predictionConfidence]).toBeUndefined();
    for (const rec of records) {
      expect(rec.attributes[Attr.predictionInput]).toBeUndefined();
      for (const k of Object.keys(rec.attributes))
        expect(SampledPredictionEvent.attributes as readonly string[]).toContain(k);
    }
    const scope = r.logs[0].resourceLogs[0].scopeLogs[0].scope;
    expect(scope).toEqual({ name: SDK_NAME, version: SDK_VERSION });
  });

  it("adds the inputs as JSON only when opted in (cut to maxInputLength)", async () => {
    const { r, logger, flush } = await logsPipeline();
    const m = new ModelMonitor({
      modelName: "sentiment",
      producer: new MlwatchMetricProducer(),
      groundTruth: { sampleRate: 1, logger, includeInputs: true, maxInputLength: 20 },
    });
    m.recordPrediction({ requestId: "a", predictedClass: "p", features: { len: 3, lang: "en" } });
    m.recordPrediction({ requestId: "b", predictedClass: "p", input: { text: "a rather long review text" } });
    await flush();
    const [a, b] = allLogRecords(r);
    expect(a.attributes[Attr.predictionInput]).toBe('{"len":3,"lang":"en"}'.slice(0, 20));
    expect(b.attributes[Attr.predictionInput]).toBe('{"text":"a rather long review text"}'.slice(0, 20));
  });
});
