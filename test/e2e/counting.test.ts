// Counting guarantees through crashes, restarts, downtime and partitions, end
// to end: real OTel JS exporters over loopback to the real collector process,
// killed with SIGKILL or stopped with SIGTERM and started again on the same
// SQLite file and ports. Each test waits for the state it asserts.

import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { freePort } from "../support/ports.js";
import { eventually, parseExposition, startCollector, sumOf } from "../support/processes.js";
import { normals } from "../support/random.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

interface Replica {
  monitoring: Monitoring;
  monitor: ModelMonitor;
  /** Requests and feature values recorded so far. */
  recorded: number;
}

function replica(otlp: string, model: string, instance: string, exportIntervalMillis = 60_000): Replica {
  const monitoring = startMonitoring({
    endpoint: otlp,
    exportIntervalMillis,
    exportTimeoutMillis: Math.min(exportIntervalMillis, 5000),
    registerGlobal: false,
    resourceAttributes: { "service.instance.id": instance },
  });
  const monitor = new ModelMonitor({ modelName: model, meter: monitoring.meterProvider.getMeter("e2e") });
  const r: Replica = { monitoring, monitor, recorded: 0 };
  cleanup.push(() => monitoring.shutdown());
  return r;
}

function record(r: Replica, values: number[]): void {
  for (const v of values) {
    r.monitor.recordRequest(0.01);
    r.monitor.recordFeature("f", v);
    r.recorded++;
  }
}

/** A collector on fixed ports and a fixed folder, so it can be killed and started again as the same one. */
async function restartable(extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "mlwatch-counting-"));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const [otlpPort, queryPort] = [await freePort(), await freePort()];
  const yaml = [
    `otlp: { port: ${otlpPort} }`,
    `query: { port: ${queryPort} }`,
    "analysis: { intervalSeconds: 0.2 }",
    ...extra,
  ];
  if (!extra.some((l) => l.startsWith("windows:")))
    yaml.push("windows: { slotSeconds: 1, analysisSeconds: 600 }");
  if (!extra.some((l) => l.startsWith("storage:")))
    // Not too often, so that a crash right after a request usually finds it not yet checkpointed.
    yaml.push(`storage: { path: ${JSON.stringify(join(dir, "collector.db"))}, checkpointSeconds: 3 }`);
  const start = async () => {
    const c = await startCollector(yaml, dir);
    cleanup.push(() => c.stop());
    return c;
  };
  return { start, otlp: `http://127.0.0.1:${otlpPort}`, query: `http://127.0.0.1:${queryPort}` };
}

async function scrape(c: { query: string }) {
  return parseExposition(await (await fetch(`${c.query}/metrics`)).text());
}

/** Requests of a model on /metrics, once they equal `n` (throws with the last value otherwise). */
async function requestsReach(c: { query: string }, model: string, n: number, timeoutMs = 60_000) {
  let last = Number.NaN;
  try {
    return await eventually(async () => {
      last = sumOf(await scrape(c), "ml_requests_total", { model_name: model });
      return last === n ? last : undefined;
    }, timeoutMs);
  } catch {
    throw new Error(`ml_requests_total{model_name="${model}"} is ${last}, expected ${n}`);
  }
}

/** Requests of a model as the JSON API sees them (a read that writes no checkpoint, unlike /metrics). */
async function apiRequests(c: { query: string }, model: string): Promise<number> {
  const res = await fetch(`${c.query}/api/v1/models/${model}`);
  if (res.status !== 200) return 0;
  return ((await res.json()) as { requestsTotal: number }).requestsTotal;
}

describe("a served counter", () => {
  it("never goes back after kill -9: /metrics shows totals as of the last checkpoint", async () => {
    const setup = await restartable();
    let c = await setup.start();
    const model = "served";
    const r = replica(setup.otlp, model, "r1");
    record(r, normals(1, 300));
    await r.monitoring.forceFlush();
    await requestsReach(c, model, 300);
    record(r, normals(2, 200));
    await r.monitoring.forceFlush();
    await requestsReach(c, model, 500);
    await c.stop("SIGKILL");

    c = await setup.start();
    // before the replica exports again, the restarted collector already serves what was served
    expect(sumOf(await scrape(c), "ml_requests_total", { model_name: model })).toBe(500);
    record(r, normals(3, 100));
    await r.monitoring.forceFlush();
    await requestsReach(c, model, 600);
  });
});

describe("a stream born after the last checkpoint", () => {
  it("counts whole after a crash: its start time is after what the file last knew", async () => {
    const setup = await restartable();
    let c = await setup.start();
    const model = "newborn";
    const old = replica(setup.otlp, model, "old");
    record(old, normals(4, 100));
    await old.monitoring.forceFlush();
    await requestsReach(c, model, 100);
    await c.stop("SIGTERM"); // a last checkpoint: it holds 100
    c = await setup.start();

    const born = replica(setup.otlp, model, "born"); // begins after that checkpoint
    record(born, normals(5, 50));
    await born.monitoring.forceFlush();
    await eventually(async () => (await apiRequests(c, model)) === 150);
    await c.stop("SIGKILL"); // the 50 die with the process

    c = await setup.start();
    record(born, normals(6, 10));
    await born.monitoring.forceFlush();
    await requestsReach(c, model, 160);
  });
});

describe("a replica partitioned for longer than windows.staleStreamSeconds", () => {
  it("is differenced against its last state when it comes back, not counted twice", async () => {
    const setup = await restartable([
      "windows: { slotSeconds: 1, analysisSeconds: 600, staleStreamSeconds: 1 }",
    ]);
    const c = await setup.start();
    const model = "partitioned";
    const r = replica(setup.otlp, model, "far");
    record(r, normals(7, 400));
    await r.monitoring.forceFlush();
    await requestsReach(c, model, 400);
    // the collector forgets the replica's streams (analysis passes evict every 0.2 s): one scrape
    // shows a pass that has the 400 values in its window and no stream left
    await eventually(async () => {
      const x = await scrape(c);
      return (
        sumOf(x, "ml_data_drift_window_samples", { model_name: model, feature_name: "f" }) === 400 &&
        sumOf(x, "mlwatch_collector_active_streams") === 0
      );
    }, 30_000);
    record(r, normals(8, 100));
    await r.monitoring.forceFlush();
    const s = await eventually(async () => {
      const x = await scrape(c);
      return sumOf(x, "ml_data_drift_window_samples", { model_name: model, feature_name: "f" }) >= 500 &&
        sumOf(x, "ml_requests_total", { model_name: model }) >= 500
        ? x
        : undefined;
    });
    expect(sumOf(s, "ml_requests_total", { model_name: model })).toBe(500);
    expect(sumOf(s, "ml_data_drift_window_samples", { model_name: model, feature_name: "f" })).toBe(500);
  });
});

/** Replicas recording and exporting on their own timers until stopped. */
function load(otlp: string, model: string, n: number, seed: number) {
  const replicas = Array.from({ length: n }, (_, i) => replica(otlp, model, `load-${i}`, 200));
  let k = 0;
  const timer = setInterval(() => {
    for (const r of replicas) record(r, normals(seed + k++, 20));
  }, 50);
  return {
    replicas,
    recorded: () => replicas.reduce((a, r) => a + r.recorded, 0),
    async stop() {
      clearInterval(timer);
      await Promise.all(replicas.map((r) => r.monitoring.forceFlush()));
    },
  };
}

/**
 * Scrapes /metrics every 100 ms and remembers the largest value served of
 * every counter sample (by name and labels); `decreases` lists any that went back.
 */
function watchCounters(query: string) {
  const seen = new Map<string, number>();
  const decreases: string[] = [];
  let scrapes = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const text = await (await fetch(`${query}/metrics`)).text();
        scrapes++;
        // running totals: counter and histogram families (a window summary's count goes down as it slides)
        const totals = new Set(
          [...text.matchAll(/^# TYPE (\S+) (counter|histogram)$/gm)]
            .map((m) => m[1])
            .filter((name) => !name.startsWith("mlwatch_collector_")),
        );
        for (const s of parseExposition(text)) {
          const family = s.name.replace(/_(total|bucket|count|sum)$/, "");
          if (!totals.has(s.name) && !totals.has(family)) continue;
          if (s.name.endsWith("_sum")) continue; // a sum of signed values may go down
          const key = `${s.name}${JSON.stringify(s.labels)}`;
          const before = seen.get(key);
          if (before !== undefined && s.value < before) decreases.push(`${key}: ${before} → ${s.value}`);
          seen.set(key, Math.max(before ?? s.value, s.value));
        }
      } catch {
        // the collector is down: nothing served
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    decreases,
    scrapes: () => scrapes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function putBaseline(c: { query: string }, model: string): Promise<void> {
  const ref = new ExpHistogram();
  for (const v of normals(99, 20_000)) ref.record(v);
  const res = await fetch(`${c.query}/api/v1/baselines/${model}`, {
    method: "PUT",
    body: JSON.stringify(makeBaseline({ model, features: { f: ref } })),
  });
  expect(res.status).toBe(200);
}

describe("faults under load", () => {
  it("kill -9 mid-load: no served counter ever decreases, totals are exact once replicas export again, no false drift", async () => {
    const setup = await restartable();
    let c = await setup.start();
    const model = "crash-load";
    await putBaseline(c, model);
    const watch = watchCounters(setup.query);
    const l = load(setup.otlp, model, 3, 1000);
    await eventually(async () => (await apiRequests(c, model)) > 1000, 30_000);
    await c.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    c = await setup.start();
    await eventually(async () => (await apiRequests(c, model)) > l.recorded() / 2, 30_000);
    await l.stop();
    const total = l.recorded();
    await requestsReach(c, model, total);
    await watch.stop();
    expect(watch.decreases).toEqual([]);
    expect(watch.scrapes()).toBeGreaterThan(5);
    const s = await eventually(async () => {
      const x = await scrape(c);
      return sumOf(x, "ml_data_drift_window_samples", { model_name: model, feature_name: "f" }) === total
        ? x
        : undefined;
    });
    expect(sumOf(s, "ml_data_drift_score", { model_name: model, feature_name: "f" })).toBeLessThan(0.1);
    expect(sumOf(s, "ml_data_drift_severity", { model_name: model, feature_name: "f" })).toBe(0);
  });

  it("collector down 20 s while exporters keep trying: totals exact after it is back", async () => {
    const setup = await restartable();
    let c = await setup.start();
    const model = "downtime";
    const watch = watchCounters(setup.query);
    const l = load(setup.otlp, model, 2, 5000);
    await eventually(async () => (await apiRequests(c, model)) > 500, 30_000);
    await c.stop("SIGTERM");
    const downAt = l.recorded();
    await new Promise((r) => setTimeout(r, 20_000));
    expect(l.recorded()).toBeGreaterThan(downAt); // the replicas went on recording meanwhile
    c = await setup.start();
    await eventually(async () => (await apiRequests(c, model)) > downAt, 30_000);
    await l.stop();
    await requestsReach(c, model, l.recorded());
    await watch.stop();
    expect(watch.decreases).toEqual([]);
  }, 120_000);

  it("SIGTERM under load: requests in flight are answered, and the last checkpoint holds them", async () => {
    const setup = await restartable();
    let c = await setup.start();
    const model = "sigterm";
    const l = load(setup.otlp, `${model}-load`, 2, 9000);
    await eventually(async () => (await apiRequests(c, `${model}-load`)) > 200, 30_000);

    // A request whose body is still on its way when SIGTERM arrives.
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: "service.instance.id", value: { stringValue: "raw" } }] },
          scopeMetrics: [
            {
              scope: { name: "raw" },
              metrics: [
                {
                  name: "ml.requests",
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        attributes: [{ key: "ml.model.name", value: { stringValue: model } }],
                        startTimeUnixNano: String(now),
                        timeUnixNano: String(now + 1n),
                        asInt: "42",
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
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(
        `${setup.otlp}/v1/metrics`,
        { method: "POST", headers: { "content-type": "application/json", "content-length": body.length } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 100));
      setTimeout(() => {
        void c.stop("SIGTERM");
        setTimeout(() => req.end(body.slice(100)), 300);
      }, 100);
    });
    expect(await answered).toBe(200);
    const proc = c.proc;
    const code = await new Promise<number | null>((r) => {
      if (proc.exitCode !== null) r(proc.exitCode);
      else proc.once("exit", (x) => r(x));
    });
    expect(code).toBe(0);

    c = await setup.start();
    // served straight from the last checkpoint, before anyone exports again
    expect(sumOf(await scrape(c), "ml_requests_total", { model_name: model })).toBe(42);
    await l.stop();
    await requestsReach(c, `${model}-load`, l.recorded());
  });

  it("SIGTERM while a client holds a request open: the collector still stops after shutdown.graceSeconds", async () => {
    const setup = await restartable(["shutdown: { graceSeconds: 1 }"]);
    const c = await setup.start();
    // headers sent, the body never finished
    const held = request(`${setup.otlp}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": 1000 },
    });
    const cut = new Promise<string>((resolve) => {
      held.on("error", (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      held.on("response", (res) => resolve(`answered ${res.statusCode}`));
    });
    held.write("{");
    await new Promise((r) => setTimeout(r, 200));
    const exited = c.stop("SIGTERM");
    expect(await exited).toBe(0);
    expect(await cut).toMatch(/ECONNRESET|socket hang up|answered/);
  }, 60_000);
});
