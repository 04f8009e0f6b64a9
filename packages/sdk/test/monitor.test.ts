// ModelMonitor's behaviour, read back through its producer: RED via wrap()
// and timers, error types, caps and the __other__ bucket, signed and
// categorical features, outcomes, batches, feedback joins and review sinks.

import { readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attr, OTHER_CATEGORY } from "@mlwatch/semconv";
import { describe, expect, it, vi } from "vitest";
import {
  callbackSink,
  errorTypeOf,
  jsonlFileSink,
  MlwatchMetricProducer,
  ModelMonitor,
  type ReviewItem,
  SDK_VERSION,
  webhookSink,
} from "../src/index.js";
import { collected, eventually, pointsOf, sleep, total } from "./support.js";

function setup(extra: Partial<ConstructorParameters<typeof ModelMonitor>[0]> = {}) {
  const producer = new MlwatchMetricProducer();
  const monitor = new ModelMonitor({
    modelName: "m",
    modelVersion: "1",
    endpoint: "/predict",
    producer,
    ...extra,
  });
  return { producer, monitor, data: () => collected(producer) };
}

class ValidationError extends Error {
  override name = "ValidationError";
}
class TimeoutLike extends Error {}

describe("wrap()", () => {
  it("records a sync call and passes the value and `this` through", async () => {
    const { monitor, data } = setup();
    const obj = {
      k: 3,
      f: monitor.wrap(function (this: { k: number }, x: number) {
        return this.k * x;
      }),
    };
    expect(obj.f(2)).toBe(6);
    const d = await data();
    expect(total(d, "ml.requests", { [Attr.endpoint]: "/predict" })).toBe(1);
    expect(total(d, "ml.request.duration")).toBe(1);
    expect(total(d, "ml.requests.in_progress")).toBe(0);
    expect(d.has("ml.errors")).toBe(false);
  });

  it("rethrows a sync error unchanged and counts it by type", async () => {
    const { monitor, data } = setup();
    const err = new ValidationError("bad");
    const f = monitor.wrap(() => {
      throw err;
    });
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(err);
    const d = await data();
    expect(total(d, "ml.errors", { [Attr.errorType]: "ValidationError", [Attr.endpoint]: "/predict" })).toBe(
      1,
    );
    expect(total(d, "ml.requests")).toBe(1);
  });

  it("handles async functions: in flight while pending, rejection passed on unchanged", async () => {
    const { monitor, data } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ok = monitor.wrap(
      async (x: number) => {
        await gate;
        return x + 1;
      },
      { endpoint: "/async" },
    );
    const p = ok(1);
    expect(total(await data(), "ml.requests.in_progress")).toBe(1);
    release();
    expect(await p).toBe(2);
    const err = new TimeoutLike("late");
    const bad = monitor.wrap(async () => {
      throw err;
    });
    await expect(bad()).rejects.toBe(err);
    const thrown = monitor.wrap(async () => {
      throw "plain string";
    });
    await expect(thrown()).rejects.toBe("plain string");
    const d = await data();
    expect(total(d, "ml.requests.in_progress")).toBe(0);
    expect(total(d, "ml.requests", { [Attr.endpoint]: "/async" })).toBe(1);
    expect(total(d, "ml.errors", { [Attr.errorType]: "TimeoutLike" })).toBe(1);
    expect(total(d, "ml.errors", { [Attr.errorType]: "string" })).toBe(1);
  });

  it("counts `throw undefined` as an error too", async () => {
    const { monitor, data } = setup();
    expect(() =>
      monitor.wrap(() => {
        throw undefined;
      })(),
    ).toThrow();
    expect(total(await data(), "ml.errors", { [Attr.errorType]: "undefined" })).toBe(1);
  });
});

describe("timers and recordRequest()", () => {
  it("records once per timer, success for undefined/null, fail() with an explicit type, endpoint set late", async () => {
    const { monitor, data } = setup();
    const t = monitor.startRequest();
    t.end();
    t.end(new Error("ignored: already ended"));
    monitor.startRequest().end(null);
    monitor.startRequest("/x").fail("503");
    const late = monitor.startRequest("unmatched");
    late.endpoint = "/late";
    late.end();
    monitor.startRequest().discard();
    const d = await data();
    expect(total(d, "ml.requests", { [Attr.endpoint]: "/predict" })).toBe(2);
    expect(total(d, "ml.errors")).toBe(1);
    expect(total(d, "ml.errors", { [Attr.endpoint]: "/x", [Attr.errorType]: "503" })).toBe(1);
    expect(total(d, "ml.requests", { [Attr.endpoint]: "/late" })).toBe(1);
    expect(total(d, "ml.requests", { [Attr.endpoint]: "unmatched" })).toBe(0);
    expect(total(d, "ml.requests.in_progress")).toBe(0);
  });

  it("measures the duration", async () => {
    const { monitor, data } = setup();
    const t = monitor.startRequest();
    await sleep(30);
    t.end();
    const [p] = pointsOf<{ sum: number }>(await data(), "ml.request.duration");
    expect(p.value.sum).toBeGreaterThan(0.025);
    expect(p.value.sum).toBeLessThan(1);
  });

  it("errorTypeOf names errors by class", () => {
    expect(errorTypeOf(new ValidationError("x"))).toBe("ValidationError");
    expect(errorTypeOf(new TimeoutLike("x"))).toBe("TimeoutLike");
    expect(errorTypeOf(new Error("x"))).toBe("Error");
    expect(errorTypeOf(new RangeError("x"))).toBe("RangeError");
    expect(errorTypeOf(null)).toBe("null");
    expect(errorTypeOf("s")).toBe("string");
    expect(errorTypeOf({})).toBe("object");
    const hostile = new Error("x");
    Object.defineProperty(hostile, "name", {
      get() {
        throw new Error("no");
      },
    });
    expect(errorTypeOf(hostile)).toBe("Error");
  });
});

describe("model quality", () => {
  it("records classes, confidence and the low-confidence counter with the configured threshold", async () => {
    const { monitor, data } = setup({ lowConfidenceThreshold: 0.5 });
    monitor.recordPrediction({ predictedClass: "a", confidence: 0.2 });
    monitor.recordPrediction({ predictedClass: "a", confidence: 0.5 }); // at the threshold: not low
    monitor.recordPrediction({ predictedClass: "b", confidence: 1 });
    const d = await data();
    expect(total(d, "ml.predictions", { [Attr.predictedClass]: "a" })).toBe(2);
    expect(total(d, "ml.predictions", { [Attr.predictedClass]: "b" })).toBe(1);
    expect(total(d, "ml.prediction.confidence")).toBe(3);
    expect(pointsOf(d, "ml.predictions.low_confidence")).toEqual([
      expect.objectContaining({
        attributes: expect.objectContaining({ [Attr.confidenceThreshold]: "0.5" }),
        value: 1,
      }),
    ]);
  });

  it("records negative feature values as magnitudes on the sign=negative series, zero on the positive one", async () => {
    const { monitor, data } = setup();
    monitor.recordPrediction({ features: { x: -2, y: 0 } });
    monitor.recordFeature("x", 3);
    monitor.recordFeature("x", -0);
    const d = await data();
    const neg = pointsOf<{ count: number; sum: number; min: number }>(d, "ml.feature.value", {
      [Attr.featureName]: "x",
      [Attr.featureSign]: "negative",
    });
    expect(neg.map((p) => [p.value.count, p.value.sum, p.value.min])).toEqual([[1, 2, 2]]);
    const pos = pointsOf<{ count: number; zeroCount: number; min: number }>(d, "ml.feature.value", {
      [Attr.featureName]: "x",
    }).filter((p) => p.attributes[Attr.featureSign] === undefined);
    expect(pos.map((p) => [p.value.count, p.value.zeroCount, Object.is(p.value.min, 0)])).toEqual([
      [2, 1, true],
    ]);
    expect(total(d, "ml.feature.value", { [Attr.featureName]: "y" })).toBe(1);
  });

  it("counts categorical features (strings and booleans) and caps them per feature with __other__", async () => {
    const { monitor, data } = setup({ limits: { categories: 3 } });
    for (const c of ["en", "fr", "de", "es", "it", "en"]) monitor.recordPrediction({ features: { lang: c } });
    monitor.recordCategory("mobile", true);
    monitor.recordFeature("mobile", false);
    const d = await data();
    const cat = (c: string) =>
      total(d, "ml.feature.category", { [Attr.featureName]: "lang", [Attr.featureCategory]: c });
    // Three distinct categories (the cap), then __other__ for everything new.
    expect([cat("en"), cat("fr"), cat("de"), cat(OTHER_CATEGORY), cat("es")]).toEqual([2, 1, 1, 2, 0]);
    expect(
      total(d, "ml.feature.category", { [Attr.featureName]: "mobile", [Attr.featureCategory]: "true" }),
    ).toBe(1);
    expect(
      total(d, "ml.feature.category", { [Attr.featureName]: "mobile", [Attr.featureCategory]: "false" }),
    ).toBe(1);
  });

  it("caps classes, endpoints, error types and segments with __other__, and drops features past their cap", async () => {
    const { monitor, data } = setup({
      limits: { classes: 2, endpoints: 2, errorTypes: 1, features: 1, segments: 1 },
    });
    for (const c of ["a", "b", "c", "d"]) monitor.recordPrediction({ predictedClass: c });
    for (const e of ["/a", "/b", "/c"]) monitor.recordRequest(0.1, { endpoint: e });
    monitor.recordRequest(0.1, { endpoint: "/a", error: new RangeError() });
    monitor.recordRequest(0.1, { endpoint: "/a", error: new TypeError() });
    monitor.recordPrediction({ features: { f1: 1, f2: 2 } });
    monitor.recordOutcome("s1", true);
    monitor.recordOutcome("s2", false);
    const d = await data();
    // A cap of N keeps N distinct values; everything after goes to __other__.
    expect(pointsOf(d, "ml.predictions").map((p) => p.attributes[Attr.predictedClass])).toEqual([
      "a",
      "b",
      OTHER_CATEGORY,
    ]);
    expect(total(d, "ml.predictions", { [Attr.predictedClass]: OTHER_CATEGORY })).toBe(2);
    expect(pointsOf(d, "ml.requests").map((p) => p.attributes[Attr.endpoint])).toEqual([
      "/a",
      "/b",
      OTHER_CATEGORY,
    ]);
    expect(pointsOf(d, "ml.errors").map((p) => p.attributes[Attr.errorType])).toEqual([
      "RangeError",
      OTHER_CATEGORY,
    ]);
    expect(pointsOf(d, "ml.feature.value").map((p) => p.attributes[Attr.featureName])).toEqual(["f1"]);
    expect(
      pointsOf(d, "ml.segment.outcomes").map((p) => [p.attributes[Attr.segment], p.attributes[Attr.outcome]]),
    ).toEqual([
      ["s1", "correct"],
      [OTHER_CATEGORY, "incorrect"],
    ]);
  });

  it("records outcomes per segment, also from a known actualClass", async () => {
    const { monitor, data } = setup();
    monitor.recordOutcome("electronics", true);
    monitor.recordPrediction({ predictedClass: "a", actualClass: "a", segment: "clothing" });
    monitor.recordPrediction({ predictedClass: "a", actualClass: "b" });
    const d = await data();
    const o = (segment: string, outcome: string) =>
      total(d, "ml.segment.outcomes", { [Attr.segment]: segment, [Attr.outcome]: outcome });
    expect([o("electronics", "correct"), o("clothing", "correct"), o("all", "incorrect")]).toEqual([1, 1, 1]);
  });

  it("the producer's own cardinality limit puts further series on an otel.metric.overflow series", async () => {
    const producer = new MlwatchMetricProducer({ cardinalityLimit: 3 });
    const monitor = new ModelMonitor({ modelName: "m", producer });
    for (const c of ["a", "b", "c", "d"]) monitor.recordPrediction({ predictedClass: c });
    const points = pointsOf(await collected(producer), "ml.predictions");
    expect(points.map((p) => p.attributes)).toEqual([
      expect.objectContaining({ [Attr.predictedClass]: "a" }),
      expect.objectContaining({ [Attr.predictedClass]: "b" }),
      { "otel.metric.overflow": true },
    ]);
    expect(points.map((p) => p.value)).toEqual([1, 1, 2]);
  });

  it("monitors of the same model share series", async () => {
    const producer = new MlwatchMetricProducer();
    new ModelMonitor({ modelName: "m", producer }).recordPrediction({ predictedClass: "a" });
    new ModelMonitor({ modelName: "m", producer }).recordPrediction({ predictedClass: "a" });
    expect(pointsOf(await collected(producer), "ml.predictions").map((p) => p.value)).toEqual([2]);
  });
});

describe("batches", () => {
  it("records columns: classes, confidences, numeric and categorical features, outcomes; skips invalid values", async () => {
    const { monitor, data } = setup();
    monitor.recordBatch({
      predictedClass: ["a", "b", "a", "a"],
      actualClass: ["a", "a", "a", "b"],
      confidence: new Float64Array([0.9, 0.3, Number.NaN, 0.65]),
      features: {
        x: new Float64Array([1, -2, Number.POSITIVE_INFINITY, 4]),
        city: ["paris", "rome", null, "paris"],
      },
      segment: "backfill",
    });
    const d = await data();
    expect(total(d, "ml.predictions", { [Attr.predictedClass]: "a" })).toBe(3);
    expect(total(d, "ml.prediction.confidence")).toBe(3);
    expect(total(d, "ml.predictions.low_confidence")).toBe(2);
    expect(total(d, "ml.feature.value", { [Attr.featureName]: "x" })).toBe(3);
    expect(total(d, "ml.feature.value", { [Attr.featureName]: "x", [Attr.featureSign]: "negative" })).toBe(1);
    expect(total(d, "ml.feature.category", { [Attr.featureCategory]: "paris" })).toBe(2);
    expect(total(d, "ml.segment.outcomes", { [Attr.segment]: "backfill", [Attr.outcome]: "correct" })).toBe(
      2,
    );
    expect(total(d, "ml.segment.outcomes", { [Attr.segment]: "backfill", [Attr.outcome]: "incorrect" })).toBe(
      2,
    );
  });

  it("samples batch rows by request id", async () => {
    const items: ReviewItem[] = [];
    const { monitor } = setup({
      groundTruth: { sampleRate: 1, sink: callbackSink((i) => void items.push(i)), includeInputs: true },
    });
    monitor.recordBatch({ requestId: ["r1", "r2"], predictedClass: ["a", "b"], features: { x: [1, 2] } });
    expect(items.map((i) => [i.requestId, i.predictedClass, i.input])).toEqual([
      ["r1", "a", { x: 1 }],
      ["r2", "b", { x: 2 }],
    ]);
    expect(monitor.feedback("r2", "b")).toBe("correct");
  });
});

describe("ground truth: sampling, feedback and review sinks", () => {
  it("joins feedback with a sampled prediction once, counted in its segment (default ground_truth_sample)", async () => {
    const { monitor, data } = setup({ groundTruth: { sampleRate: 1 } });
    monitor.recordPrediction({ requestId: "r1", predictedClass: "pos" });
    monitor.recordPrediction({ requestId: "r2", predictedClass: "pos", segment: "mobile" });
    expect(monitor.pendingFeedback).toBe(2);
    expect(monitor.feedback("r1", "pos")).toBe("correct");
    expect(monitor.feedback("r1", "pos")).toBe("unknown");
    expect(monitor.feedback("r2", "neg")).toBe("incorrect");
    expect(monitor.feedback("never-seen", "neg")).toBe("unknown");
    const d = await data();
    const o = (segment: string, outcome: string) =>
      total(d, "ml.segment.outcomes", { [Attr.segment]: segment, [Attr.outcome]: outcome });
    expect([o("ground_truth_sample", "correct"), o("ground_truth_sample", "incorrect")]).toEqual([1, 0]);
    expect(o("mobile", "incorrect")).toBe(1);
  });

  it("only samples at the configured rate, deterministically by id", () => {
    const { monitor } = setup({ groundTruth: { sampleRate: 0.1 } });
    const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
    const sampled = ids.filter((id) => monitor.isSampled(id));
    expect(sampled.length / ids.length).toBeGreaterThan(0.09);
    expect(sampled.length / ids.length).toBeLessThan(0.11);
    const other = new ModelMonitor({ modelName: "other", producer: new MlwatchMetricProducer() });
    expect(ids.filter((id) => other.isSampled(id))).toEqual(sampled);
    for (const id of ids.slice(0, 200)) monitor.recordPrediction({ requestId: id, predictedClass: "a" });
    expect(monitor.pendingFeedback).toBe(sampled.filter((id) => ids.slice(0, 200).includes(id)).length);
  });

  it("forgets pending predictions after their TTL and beyond maxPending", () => {
    // The clock stands still until the test moves it: on a busy machine more than the 20 ms TTL can pass
    // between two lines, which would expire "b" before the first checks.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { monitor } = setup({ groundTruth: { sampleRate: 1, pendingTtlMs: 20, maxPending: 2 } });
      monitor.recordPrediction({ requestId: "a", predictedClass: "x" });
      monitor.recordPrediction({ requestId: "b", predictedClass: "x" });
      monitor.recordPrediction({ requestId: "c", predictedClass: "x" });
      expect(monitor.pendingFeedback).toBe(2);
      expect(monitor.feedback("a", "x")).toBe("unknown"); // evicted
      vi.advanceTimersByTime(40);
      expect(monitor.feedback("b", "x")).toBe("unknown"); // expired
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends sampled predictions to the review sink; a throwing or rejecting callback costs nothing", async () => {
    const items: ReviewItem[] = [];
    const { monitor } = setup({
      groundTruth: { sampleRate: 1, sink: callbackSink((i) => void items.push(i)) },
    });
    monitor.recordPrediction({ requestId: "r", predictedClass: "a", confidence: 0.5, features: { x: 1 } });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      requestId: "r",
      modelName: "m",
      modelVersion: "1",
      predictedClass: "a",
    });
    expect(items[0].input).toBeUndefined();
    const throwing = setup({
      groundTruth: {
        sampleRate: 1,
        sink: callbackSink(() => {
          throw new Error("review queue down");
        }),
      },
    }).monitor;
    expect(() => throwing.recordPrediction({ requestId: "r", predictedClass: "a" })).not.toThrow();
    const rejecting = callbackSink(async () => {
      throw new Error("async failure");
    });
    setup({ groundTruth: { sampleRate: 1, sink: rejecting } }).monitor.recordPrediction({ requestId: "r" });
    await rejecting.flush!();
  });

  it("jsonlFileSink appends one JSON line per item; an unwritable path drops items without throwing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mlwatch-sdk-"));
    const file = join(dir, "review.jsonl");
    const sink = jsonlFileSink(file);
    const { monitor } = setup({ groundTruth: { sampleRate: 1, sink, includeInputs: true } });
    monitor.recordPrediction({ requestId: "r1", predictedClass: "a", features: { x: 1 } });
    monitor.recordPrediction({ requestId: "r2", predictedClass: "b", input: "raw text" });
    await sink.flush!();
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.requestId, l.predictedClass, l.input])).toEqual([
      ["r1", "a", { x: 1 }],
      ["r2", "b", "raw text"],
    ]);
    await sink.close!();

    const bad = jsonlFileSink(join(dir, "missing-dir", "review.jsonl"));
    const m2 = setup({ groundTruth: { sampleRate: 1, sink: bad } }).monitor;
    m2.recordPrediction({ requestId: "r1" });
    // Opening the file fails asynchronously; from then on items are dropped. Record until one is (on a
    // busy machine the failure can take longer than any fixed pause).
    for (let i = 2; bad.dropped === 0 && i < 3000; i++) {
      await sleep(10);
      m2.recordPrediction({ requestId: `r${i}` });
    }
    expect(bad.dropped).toBeGreaterThanOrEqual(1);
    await bad.close!();
  });
});

describe("webhookSink", () => {
  it("POSTs batches as a JSON array, keeps them through a 500, drops them on a 400", async () => {
    const bodies: unknown[] = [];
    const { createServer } = await import("node:http");
    let status = 500;
    let answered500 = 0;
    const server = createServer(async (req, res) => {
      let b = "";
      for await (const c of req) b += c;
      if (status === 200) bodies.push(JSON.parse(b));
      if (status === 500) answered500++;
      res.writeHead(status);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const sink = webhookSink(`http://127.0.0.1:${port}/review`, { batchSize: 2, flushIntervalMs: 10 });
    const item = (id: string): ReviewItem => ({
      requestId: id,
      modelName: "m",
      modelVersion: "1",
      segment: "s",
      timestamp: new Date(0).toISOString(),
    });
    sink.write(item("a"));
    sink.write(item("b")); // a full batch: sent now, answered 500, kept
    await eventually(() => (answered500 > 0 ? true : undefined));
    status = 200;
    await sink.flush!();
    expect(bodies).toEqual([[item("a"), item("b")]]);
    status = 400;
    sink.write(item("c"));
    await sink.flush!();
    expect(sink.dropped).toBe(1);
    status = 200;
    await sink.close!();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("never throws when the webhook is down, and counts what it had to drop", async () => {
    const sink = webhookSink("http://127.0.0.1:9/", { maxQueue: 2, batchSize: 2, timeoutMs: 200 });
    const item: ReviewItem = {
      requestId: "x",
      modelName: "m",
      modelVersion: "1",
      segment: "s",
      timestamp: "",
    };
    for (let i = 0; i < 5; i++) expect(() => sink.write(item)).not.toThrow();
    await sink.close!();
    expect(sink.dropped).toBe(5);
  });
});

describe("configuration", () => {
  it("throws on invalid options (configuration, not the prediction path)", () => {
    const producer = new MlwatchMetricProducer();
    expect(() => new ModelMonitor({ modelName: "" })).toThrow(TypeError);
    expect(() => new ModelMonitor(undefined as never)).toThrow(TypeError);
    expect(() => new ModelMonitor({ modelName: "m", lowConfidenceThreshold: 0, producer })).toThrow(
      RangeError,
    );
    expect(() => new ModelMonitor({ modelName: "m", lowConfidenceThreshold: 1.5, producer })).toThrow(
      RangeError,
    );
    expect(() => new ModelMonitor({ modelName: "m", groundTruth: { sampleRate: 2 }, producer })).toThrow(
      RangeError,
    );
    expect(() => new ModelMonitor({ modelName: "m", limits: { classes: 0 }, producer })).toThrow(RangeError);
    expect(() => new ModelMonitor({ modelName: "m", groundTruth: { sink: {} as never }, producer })).toThrow(
      TypeError,
    );
    expect(() => new MlwatchMetricProducer({ maxHistogramBuckets: 1 })).toThrow(RangeError);
    expect(() => new MlwatchMetricProducer({ cardinalityLimit: 0 })).toThrow(RangeError);
  });

  it("SDK_VERSION is the package version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(SDK_VERSION).toBe(pkg.version);
  });
});
