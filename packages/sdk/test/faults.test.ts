// The SDK never throws into the caller and never slows the prediction path:
// bad input (NaN, wrong types, hostile objects) is dropped with a diag
// message; a collector that is down, slow, or answers 429 or 500 costs the
// prediction path nothing, flush and shutdown still finish in bounded time,
// and what was recorded during the outage arrives once the collector is back.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Attr } from "@mlwatch/semconv";
import { type DiagLogger, DiagLogLevel, diag } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetDiagLimits } from "../src/diag.js";
import { MlwatchMetricProducer, ModelMonitor, type Monitoring, startMonitoring } from "../src/index.js";
import { type Behaviour, collected, type Receiver, sleep, startReceiver, total } from "./support.js";

const messages: string[] = [];
const logger: DiagLogger = {
  error: (m) => void messages.push(`error ${m}`),
  warn: (m) => void messages.push(`warn ${m}`),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);

beforeAll(() => {
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  diag.disable();
  process.off("unhandledRejection", onUnhandled);
});
afterEach(() => {
  expect(unhandled).toEqual([]);
});

describe("bad input on the prediction path", () => {
  it("drops NaN, wrong types and hostile objects without throwing, and records nothing wrong", async () => {
    resetDiagLimits();
    messages.length = 0;
    const producer = new MlwatchMetricProducer();
    const m = new ModelMonitor({ modelName: "m", producer, groundTruth: { sampleRate: 1 } });
    const hostile = {
      get predictedClass(): string {
        throw new Error("getter exploded");
      },
    };
    const throwingFeatures = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("proxy exploded");
        },
      },
    );
    const any = (v: unknown) => v as never;
    const calls: Array<() => unknown> = [
      () => m.recordPrediction(any(null)),
      () => m.recordPrediction(any(undefined)),
      () => m.recordPrediction(any("positive")),
      () => m.recordPrediction(any(42)),
      () => m.recordPrediction({ predictedClass: any(5), confidence: Number.NaN }),
      () => m.recordPrediction({ confidence: any("0.9") }),
      () => m.recordPrediction({ confidence: 1.5 }),
      () => m.recordPrediction({ confidence: Number.POSITIVE_INFINITY }),
      () => m.recordPrediction({ features: any("x=1") }),
      () => m.recordPrediction({ features: any([1, 2, 3]) }),
      () => m.recordBatch({ features: any([[1, 2]]) }),
      () =>
        m.recordPrediction({
          features: {
            a: Number.NaN,
            b: any({}),
            c: any([1]),
            d: any(Symbol("s")),
            e: Number.NEGATIVE_INFINITY,
            f: any(10n),
          },
        }),
      () => m.recordPrediction(any(hostile)),
      () => m.recordPrediction({ features: any(throwingFeatures) }),
      () => m.recordPrediction({ requestId: any(123), predictedClass: "a" }),
      () => m.recordPrediction({ predictedClass: "a", actualClass: any(1) }),
      () => m.recordPredictions(any("nope")),
      () => m.recordFeature(any(undefined), 1),
      () => m.recordFeature("x", any("not a category?")), // a string is a category: valid
      () => m.recordCategory("x", any(3)),
      () => m.recordRequest(Number.NaN),
      () => m.recordRequest(-1),
      () => m.recordRequest(any("0.1")),
      () => m.recordRequest(0.1, any(null)),
      () => m.recordRequest(0.1, { endpoint: any(7) }),
      () => m.recordOutcome(any(5), any("yes")),
      () => m.recordBatch(any(null)),
      () => m.recordBatch(any("rows")),
      () => m.recordBatch({ features: { a: any("notarray") }, confidence: any(5), predictedClass: any({}) }),
      () => m.recordBatch({ confidence: any([Number.NaN, "x", 2, 0.5]) }),
      () => m.recordBatch({ requestId: any(7), actualClass: any(["a"]) }),
      () => m.feedback(any(5), any({})),
      () => m.startRequest(any(5)).end(),
      () => m.startRequest().fail(any(undefined)),
      () => m.isSampled(any(null)),
    ];
    for (const call of calls) expect(call).not.toThrow();

    const d = await collected(producer);
    // Only the valid parts were recorded.
    expect(total(d, "ml.prediction.confidence")).toBe(1); // the 0.5 of the batch
    for (const p of d.get("ml.prediction.confidence")!.dataPoints)
      expect(Number.isFinite((p.value as { sum: number }).sum)).toBe(true);
    expect(total(d, "ml.feature.category", { [Attr.featureName]: "x" })).toBe(1);
    expect(total(d, "ml.feature.value", { [Attr.featureName]: "0" })).toBe(0); // arrays are not feature maps
    expect(total(d, "ml.predictions")).toBe(2); // the two "a"
    expect(total(d, "ml.requests")).toBe(4); // two recordRequest(0.1, …) and two timers
    expect(total(d, "ml.requests.in_progress")).toBe(0);
    // Invalid endpoint names fall back to the default endpoint.
    expect(d.get("ml.requests")!.dataPoints.map((p) => p.attributes[Attr.endpoint])).toEqual(["predict"]);
    // Diagnostics went to the OTel diag logger, rate-limited per kind of problem.
    expect(messages.some((x) => x.includes("confidence"))).toBe(true);
    expect(messages.some((x) => x.includes("recordPrediction failed"))).toBe(true);
    // Several bad confidences, one message (the batch's "ignored N confidence values" shares the limit).
    expect(messages.filter((x) => x.includes("confidence")).length).toBe(2); // value + column-type messages
    expect(messages.filter((x) => x.includes("not a number in [0, 1]")).length).toBe(1);
  });

  it("wrap() still rethrows the function's own errors (and only those)", async () => {
    const m = new ModelMonitor({ modelName: "m", producer: new MlwatchMetricProducer() });
    const boom = new Error("model failed");
    expect(
      m.wrap(() => {
        throw boom;
      }),
    ).toThrow(boom);
    await expect(m.wrap(async () => Promise.reject(boom))()).rejects.toBe(boom);
    expect(m.wrap(() => 7)()).toBe(7);
  });
});

/**
 * A URL where connections are refused for as long as the test runs. On Linux, where all of 127/8 is
 * loopback, a listener held on 127.0.0.1:port keeps every other process off the port while connections
 * to 127.0.0.2:port find nothing listening (a port merely freed could be taken by a collector another
 * test starts meanwhile, which would then receive these exports). Elsewhere, a port that was free a moment ago.
 */
async function refusingUrl(): Promise<{ url: string; release(): Promise<void> }> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  const release = () => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()));
  if (process.platform === "linux") return { url: `http://127.0.0.2:${port}`, release };
  await release();
  return { url: `http://127.0.0.1:${port}`, release };
}

interface Outage {
  name: string;
  behaviour?: Behaviour;
}

const outages: Outage[] = [
  { name: "connection refused (collector down)" },
  { name: "slow collector (never answers)", behaviour: { kind: "hang" } },
  { name: "429 Too Many Requests", behaviour: { kind: "status", status: 429, retryAfter: 1 } },
  { name: "500 Internal Server Error", behaviour: { kind: "status", status: 500 } },
];

describe.each(outages)("exporter fault: $name", ({ behaviour }) => {
  let receiver: Receiver | undefined;
  let refusing: { url: string; release(): Promise<void> } | undefined;
  let monitoring: Monitoring;
  afterAll(async () => {
    await monitoring?.shutdown();
    await receiver?.close();
    await refusing?.release();
  });

  it("the prediction path returns normally and promptly; flush and shutdown finish in bounded time", async () => {
    let url: string;
    if (behaviour) {
      receiver = await startReceiver(behaviour);
      url = receiver.url;
    } else {
      refusing = await refusingUrl();
      url = refusing.url;
    }
    const producer = new MlwatchMetricProducer();
    monitoring = startMonitoring({
      endpoint: url,
      producer,
      exportIntervalMillis: 100,
      exportTimeoutMillis: 300,
      registerGlobal: false,
      shutdownOnExit: false,
      hostMetrics: false,
      runtimeMetrics: false,
    });
    const m = new ModelMonitor({
      modelName: "faults",
      producer,
      groundTruth: { sampleRate: 1, logger: monitoring.loggerProvider.getLogger("t") },
    });
    const times: number[] = [];
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const timer = m.startRequest();
      m.recordPrediction({
        requestId: `r${i}`,
        predictedClass: i % 2 ? "a" : "b",
        confidence: (i % 100) / 100,
        features: { x: i, y: -i },
      });
      timer.end();
      times.push(performance.now() - t0);
      if (i % 300 === 0) await sleep(40); // let several export attempts happen meanwhile
    }
    times.sort((a, b) => a - b);
    const median = times[N >> 1];
    expect(median).toBeLessThan(0.5); // ms; typically a few µs
    expect(times[Math.floor(N * 0.99)]).toBeLessThan(5);
    if (receiver)
      expect((receiver.hits["/v1/metrics"] ?? 0) + (receiver.hits["/v1/logs"] ?? 0)).toBeGreaterThan(0);

    const t0 = performance.now();
    await monitoring.forceFlush();
    expect(performance.now() - t0).toBeLessThan(5000);
    // The data is still all there for the next export.
    const d = await collected(producer);
    expect(total(d, "ml.requests")).toBe(N);
  });

  // Registered only where they apply: after a refused connection or a hang there is no answer to recover.
  if (behaviour !== undefined && behaviour.kind !== "hang") {
    it("what was recorded during the outage arrives once the collector answers again", async () => {
      receiver!.behaviour = { kind: "ok" };
      await monitoring.forceFlush();
      // Cumulative data: an export that gets through carries everything recorded so far. (A retried
      // export from the outage may arrive after it, with an older snapshot, so look at all of them.)
      const totals = receiver!.metrics.map((req) => {
        let n = 0;
        for (const rm of req.resourceMetrics)
          for (const sm of rm.scopeMetrics)
            for (const m of sm.metrics)
              if (m.name === "ml.requests") for (const p of m.points) n += (p as { value: number }).value;
        return n;
      });
      expect(Math.max(...totals)).toBe(3000);
      const t0 = performance.now();
      await monitoring.shutdown();
      expect(performance.now() - t0).toBeLessThan(5000);
    });
  } else {
    it("shutdown finishes in bounded time although nothing answers", async () => {
      const t0 = performance.now();
      await monitoring.shutdown();
      expect(performance.now() - t0).toBeLessThan(5000);
    });
  }
});
