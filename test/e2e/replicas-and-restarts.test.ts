// Several replicas, replica restarts and a collector crash, end to end: real
// OTel JS exporters (protobuf and JSON) over loopback to the real collector
// process, killed with SIGKILL and started again on the same SQLite file.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, type Monitoring, type OtlpProtocol, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { freePort } from "../support/ports.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  startCollector,
  sumOf,
} from "../support/processes.js";
import { normals } from "../support/random.js";

interface Replica {
  monitoring: Monitoring;
  monitor: ModelMonitor;
}

function replica(otlp: string, model: string, instance: string, protocol: OtlpProtocol): Replica {
  const monitoring = startMonitoring({
    endpoint: otlp,
    protocol,
    exportIntervalMillis: 60_000,
    registerGlobal: false,
    resourceAttributes: { "service.instance.id": instance },
  });
  const monitor = new ModelMonitor({ modelName: model, meter: monitoring.meterProvider.getMeter("e2e") });
  return { monitoring, monitor };
}

function record(r: Replica, values: number[]): void {
  for (const v of values) {
    r.monitor.recordRequest(0.01);
    r.monitor.recordFeature("f", v);
  }
}

async function scrape(c: CollectorHandle) {
  return parseExposition(await (await fetch(`${c.query}/metrics`)).text());
}

async function windowHistogram(c: CollectorHandle, model: string): Promise<ExpHistogram> {
  const report = (await (await fetch(`${c.query}/api/v1/models/${model}/drift`)).json()) as {
    features: Array<{ feature: string; currentHistogram: Parameters<typeof ExpHistogram.fromJSON>[0] }>;
  };
  return ExpHistogram.fromJSON(report.features.find((f) => f.feature === "f")!.currentHistogram);
}

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe("three replicas", () => {
  it("merge into windows equal to the union of what they recorded, through a replica restart", async () => {
    const c = await startCollector([
      "windows: { slotSeconds: 1, analysisSeconds: 300 }",
      "analysis: { intervalSeconds: 0.2 }",
    ]);
    cleanup.push(() => c.close());
    const model = "replicated";
    const protocols: OtlpProtocol[] = ["http/protobuf", "http/json", "http/protobuf"];
    const replicas = protocols.map((p, i) => replica(c.otlp, model, `r${i}`, p));
    const data = [normals(21, 1500, 5, 2), normals(22, 1200, -3, 1), normals(23, 900, 100, 30)];
    const union = new ExpHistogram();
    for (let i = 0; i < replicas.length; i++) record(replicas[i], data[i]);
    for (const v of data.flat()) union.record(v);
    await Promise.all(replicas.map((r) => r.monitoring.forceFlush()));

    // Replica 0 restarts: a new MeterProvider starts its cumulative totals again at zero.
    await replicas[0].monitoring.shutdown();
    const again = replica(c.otlp, model, "r0", "http/protobuf");
    const more = normals(24, 400, 5, 2);
    record(again, more);
    for (const v of more) union.record(v);
    await again.monitoring.forceFlush();
    await Promise.all(replicas.slice(1).map((r) => r.monitoring.forceFlush()));

    const total = 1500 + 1200 + 900 + 400;
    // both: the window as of the last analysis pass, the total as of the last checkpoint
    const samples = await eventually(async () => {
      const s = await scrape(c);
      return sumOf(s, "ml_data_drift_window_samples", { model_name: model }) === total &&
        sumOf(s, "ml_requests_total", { model_name: model }) >= total
        ? s
        : undefined;
    });
    expect(sumOf(samples, "ml_requests_total", { model_name: model })).toBe(total);

    const merged = await windowHistogram(c, model);
    expect(merged.count).toBe(union.count);
    expect(merged.min).toBe(union.min);
    expect(merged.max).toBe(union.max);
    expect(merged.sum).toBeCloseTo(union.sum, 6);
    // Bucket for bucket: the union downscaled to the merged histogram's scale is the same histogram.
    const u = union.clone();
    if (u.scale > merged.scale) u.downscale(u.scale - merged.scale);
    expect(u.scale).toBe(merged.scale);
    expect(merged.toJSON().positive).toEqual(u.toJSON().positive);
    expect(merged.toJSON().negative).toEqual(u.toJSON().negative);

    await Promise.all([again, ...replicas.slice(1)].map((r) => r.monitoring.shutdown()));
  });
});

describe("a collector killed with SIGKILL", () => {
  it("comes back with its baselines and window history, counts exactly, and raises no false drift", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlwatch-restart-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const [otlpPort, queryPort] = [await freePort(), await freePort()];
    const yaml = [
      `otlp: { port: ${otlpPort} }`,
      `query: { port: ${queryPort} }`,
      "windows: { slotSeconds: 1, analysisSeconds: 300 }",
      "analysis: { intervalSeconds: 0.2 }",
      "storage: { path: " + JSON.stringify(join(dir, "collector.db")) + ", checkpointSeconds: 0.5 }",
    ];
    const model = "crashy";
    let c = await startCollector(yaml, dir);
    const ref = new ExpHistogram();
    for (const v of normals(30, 20_000, 0, 1)) ref.record(v);
    const put = await fetch(`${c.query}/api/v1/baselines/${model}`, {
      method: "PUT",
      body: JSON.stringify(makeBaseline({ model, features: { f: ref } })),
    });
    expect(put.status).toBe(200);

    const r = replica(c.otlp, model, "only", "http/protobuf");
    cleanup.push(() => r.monitoring.shutdown());
    record(r, normals(31, 2000, 0, 1));
    await r.monitoring.forceFlush();
    await new Promise((res) => setTimeout(res, 1500)); // at least two checkpoints
    // These 500 arrive after the last checkpoint and die with the process...
    record(r, normals(32, 500, 0, 1));
    await r.monitoring.forceFlush();
    // (as the live JSON API counts them: /metrics shows totals as of the last checkpoint)
    await eventually(async () => {
      const m = (await (await fetch(`${c.query}/api/v1/models/${model}`)).json()) as {
        requestsTotal: number;
      };
      return m.requestsTotal === 2500;
    });
    await c.stop("SIGKILL");

    c = await startCollector(yaml, dir);
    cleanup.push(() => c.stop());
    // ...and are counted again from the replica's next cumulative point, exactly once.
    record(r, normals(33, 500, 0, 1));
    await r.monitoring.forceFlush();
    // wait for both: /metrics shows the window from the last analysis pass and totals as of the last checkpoint
    const samples = await eventually(async () => {
      const s = await scrape(c);
      return sumOf(s, "ml_data_drift_window_samples", { model_name: model }) === 3000 &&
        sumOf(s, "ml_requests_total", { model_name: model }) >= 3000
        ? s
        : undefined;
    });
    expect(sumOf(samples, "ml_requests_total", { model_name: model })).toBe(3000);
    expect(sumOf(samples, "ml_data_drift_score", { model_name: model, feature_name: "f" })).toBeLessThan(0.1);
    const baseline = await fetch(`${c.query}/api/v1/baselines/${model}`);
    expect(baseline.status).toBe(200);
    expect(((await baseline.json()) as { model: string }).model).toBe(model);
  });
});
