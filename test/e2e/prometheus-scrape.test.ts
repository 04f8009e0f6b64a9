// A real Prometheus 2.42 scrapes the real collector, fed by the real SDK over
// OTLP: once in classic mode (text exposition, classic buckets) and once with
// --enable-feature=native-histograms (protobuf exposition, native buckets).
// The p95 latency PromQL computes from each must match the p95 of the raw
// values the SDK recorded, within the error of the buckets used.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { DefaultLatencyBuckets } from "@mlwatch/semconv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { type CollectorHandle, eventually, startCollector, toolAvailable } from "../support/processes.js";
import { normals } from "../support/random.js";

const MODEL = "scrape_model";
// Two phases with different latency distributions, so that rate() over the
// second phase and the all-time buckets give different, separately checked answers.
const PHASE_A = normals(101, 1000).map((z) => Math.exp(Math.log(0.02) + 0.4 * z)); // median 20 ms
const PHASE_B = normals(102, 4000).map((z) => Math.exp(Math.log(0.3) + 0.4 * z)); // median 300 ms

/** The p-quantile of raw values as Prometheus defines its rank: the smallest value with at least q·n values at or below it. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1];
}

interface Prometheus {
  url: string;
  proc: ChildProcess;
  dir: string;
  log: () => string;
  stop(): Promise<void>;
}

async function startPrometheus(target: string, native: boolean): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), `mlwatch-prom-${native ? "native" : "classic"}-`));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: mlwatch",
      "    static_configs:",
      `      - targets: [${JSON.stringify(new URL(target).host)}]`,
      "",
    ].join("\n"),
  );
  const tsdb = join(dir, "data");
  // The port is picked, freed, then handed to Prometheus: another process can take it in between. Then
  // this Prometheus exits (or something else answers there), and another port is tried.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = [
      `--config.file=${config}`,
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ];
    if (native) args.push("--enable-feature=native-histograms");
    const proc = spawn("prometheus", args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    proc.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const p: Prometheus = {
      url,
      proc,
      dir,
      log: () => log,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        await exited;
        rmSync(dir, { recursive: true, force: true });
      },
    };
    let state: "ours" | "exited";
    try {
      state = await eventually(async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return "exited";
        // Whatever else may have the port need not answer at all: ask with a deadline.
        const signal = AbortSignal.timeout(2000);
        if (!(await fetch(`${url}/-/ready`, { signal })).ok) return undefined;
        // Ready, and the Prometheus answering on the port is this one (its own TSDB folder).
        const flags = (await (await fetch(`${url}/api/v1/status/flags`, { signal })).json()) as {
          data?: Record<string, string>;
        };
        return flags.data?.["storage.tsdb.path"] === tsdb ? "ours" : undefined;
      }, 60_000);
    } catch (e) {
      await p.stop();
      throw new Error(`prometheus did not become ready: ${(e as Error).message}\n${log}`);
    }
    if (state === "ours") return p;
    if (attempt === 5 || !/address already in use/.test(log))
      throw new Error(`prometheus exited with ${proc.exitCode}:\n${log}`);
    await exited;
    rmSync(tsdb, { recursive: true, force: true });
  }
}

interface VectorSample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets?: Array<[number, string, string, string]> }];
}

async function query(p: Prometheus, promql: string): Promise<VectorSample[]> {
  const res = await fetch(`${p.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: VectorSample[] } };
  if (body.status !== "success") throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

async function scalar(p: Prometheus, promql: string): Promise<number> {
  const r = await query(p, promql);
  if (r.length !== 1 || !r[0].value)
    throw new Error(`${promql}: expected one float sample, got ${JSON.stringify(r)}`);
  return Number(r[0].value[1]);
}

/** Waits until Prometheus has scraped `requests` requests and then `extra` more scrapes. */
async function waitForScrapes(p: Prometheus, requests: number, extra = 2): Promise<void> {
  await eventually(
    async () => (await scalar(p, `sum(ml_requests_total{model_name="${MODEL}"})`)) === requests,
    60_000,
    250,
  );
  const scrapes = () => scalar(p, 'count_over_time(up{job="mlwatch"}[10m])');
  const start = await scrapes();
  await eventually(async () => (await scrapes()) >= start + extra, 60_000, 250);
}

/**
 * What histogram_quantile computes from exact classic bucket counts of the raw
 * values (linear interpolation inside the bucket holding rank q·n), and how far
 * the collector's counts may move it: it assigns each exponential bucket whole to
 * one classic bucket, so only the values in the exponential bucket that straddles
 * a classic bound (base^(k-1) < bound <= base^k) can land one classic bucket off.
 */
function classicInterpolation(
  values: readonly number[],
  q: number,
  bounds: readonly number[],
  base: number,
): { value: number; slack: number } {
  const counts = bounds.map((b) => values.filter((v) => v <= b).length);
  const rank = q * values.length;
  const i = counts.findIndex((c) => c >= rank);
  const lo = i === 0 ? 0 : bounds[i - 1];
  const below = i === 0 ? 0 : counts[i - 1];
  const inBucket = counts[i] - below;
  const straddling = (b: number | undefined) => {
    if (b === undefined) return 0;
    const k = Math.ceil(Math.log(b) / Math.log(base));
    return values.filter((v) => v > base ** (k - 1) && v <= base ** k).length;
  };
  const mLo = straddling(i === 0 ? undefined : bounds[i - 1]);
  const mHi = straddling(bounds[i]);
  return {
    value: lo + ((bounds[i] - lo) * (rank - below)) / inBucket,
    slack: ((bounds[i] - lo) * (2 * mLo + mHi)) / Math.max(1, inBucket - mLo - mHi),
  };
}

/** The classic bucket (lower, upper] holding v. */
function classicBucket(v: number, bounds: readonly number[]): [number, number] {
  const i = bounds.findIndex((b) => v <= b);
  return [i <= 0 ? 0 : bounds[i - 1], bounds[i]];
}

/** The bucket growth factor of the native latency histogram as Prometheus stored it: upper / lower of a bucket. */
async function nativeBase(p: Prometheus): Promise<number> {
  const [s] = await query(p, `ml_request_duration_seconds{model_name="${MODEL}"}`);
  const [, lower, upper] = s.histogram![1].buckets!.find(([, l]) => Number(l) > 0)!;
  return Number(upper) / Number(lower);
}

describe.runIf(toolAvailable("prometheus"))("Prometheus 2.42 scraping the collector", () => {
  let collector: CollectorHandle;
  let classic: Prometheus;
  let native: Prometheus;
  let monitoring: Monitoring;

  beforeAll(async () => {
    collector = await startCollector(["analysis: { intervalSeconds: 0.5 }"]);
    [classic, native] = await Promise.all([
      startPrometheus(collector.query, false),
      startPrometheus(collector.query, true),
    ]);
    monitoring = startMonitoring({
      endpoint: collector.otlp,
      exportIntervalMillis: 600_000,
      registerGlobal: false,
      hostMetrics: false,
      runtimeMetrics: false,
      logs: false,
      shutdownOnExit: false,
    });
    const monitor = new ModelMonitor({
      modelName: MODEL,
      modelVersion: "1.0.0",
      endpoint: "/predict",
      producer: monitoring.producer,
    });
    const record = (values: number[]) => {
      for (const [i, v] of values.entries()) {
        monitor.recordRequest(v);
        monitor.recordPrediction({
          predictedClass: i % 4 === 0 ? "neg" : "pos",
          confidence: 0.5 + (i % 50) / 100,
        });
      }
    };
    // Phase A, scraped a few times; then phase B (cumulative export: the collector takes the difference).
    record(PHASE_A);
    await monitoring.forceFlush();
    await Promise.all([classic, native].map((p) => waitForScrapes(p, PHASE_A.length)));
    record(PHASE_B);
    await monitoring.forceFlush();
    const all = PHASE_A.length + PHASE_B.length;
    await Promise.all([classic, native].map((p) => waitForScrapes(p, all)));
  }, 240_000);

  afterAll(async () => {
    await monitoring?.shutdown();
    await Promise.all([classic?.stop(), native?.stop()]);
    await collector?.close();
  });

  const all = () => [...PHASE_A, ...PHASE_B];
  const sel = `model_name="${MODEL}"`;

  it("scrapes every target without errors, as text and as protobuf", async () => {
    for (const p of [classic, native]) {
      const up = await query(p, 'up{job="mlwatch"}');
      expect(up.map((s) => s.value?.[1])).toEqual(["1"]);
      const targets = (await (await fetch(`${p.url}/api/v1/targets`)).json()) as {
        data: { activeTargets: Array<{ health: string; lastError: string }> };
      };
      expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([["up", ""]]);
    }
    expect(classic.log()).not.toMatch(/level=(error|warn)/);
    expect(native.log()).not.toMatch(/level=(error|warn)/);
  });

  it("classic: histogram_quantile over the classic buckets lands in the bucket of the true p95", async () => {
    const base = await nativeBase(native);
    for (const [promql, values] of [
      [`histogram_quantile(0.95, sum by (le) (ml_request_duration_seconds_bucket{${sel}}))`, all()],
      [
        `histogram_quantile(0.95, sum by (le) (rate(ml_request_duration_seconds_bucket{${sel}}[5m])))`,
        PHASE_B,
      ],
    ] as const) {
      const exact = exactQuantile([...values], 0.95);
      const [lo, hi] = classicBucket(exact, DefaultLatencyBuckets);
      const got = await scalar(classic, promql);
      expect(got, promql).toBeGreaterThanOrEqual(lo);
      expect(got, promql).toBeLessThanOrEqual(hi);
      expect(Math.abs(got - exact), promql).toBeLessThanOrEqual(hi - lo);
      // ... and it is the interpolation of (nearly) the raw values' own classic counts.
      const want = classicInterpolation(values, 0.95, DefaultLatencyBuckets, base);
      expect(Math.abs(got - want.value), `${promql}: ${got} vs ${want.value}`).toBeLessThanOrEqual(
        want.slack,
      );
    }
    // The classic Prometheus has no native series.
    expect(await query(classic, `ml_request_duration_seconds{${sel}}`)).toEqual([]);
  });

  it("native: histogram_quantile over the native histogram is within one exponential bucket of the true p95", async () => {
    const series = await query(native, `ml_request_duration_seconds{${sel}}`);
    expect(series).toHaveLength(1);
    expect(Number(series[0].histogram![1].count)).toBe(PHASE_A.length + PHASE_B.length);
    const base = await nativeBase(native);
    const schema = -Math.log2(Math.log2(base));
    expect(Math.abs(schema - Math.round(schema))).toBeLessThan(1e-9);
    expect(Math.round(schema)).toBeGreaterThanOrEqual(-4);
    expect(Math.round(schema)).toBeLessThanOrEqual(8);
    for (const [promql, values] of [
      [`histogram_quantile(0.95, sum(ml_request_duration_seconds{${sel}}))`, all()],
      [`histogram_quantile(0.95, sum(rate(ml_request_duration_seconds{${sel}}[5m])))`, PHASE_B],
    ] as const) {
      const exact = exactQuantile([...values], 0.95);
      const got = await scalar(native, promql);
      // The true value v lies in (base^(k-1), base^k]; the estimate lies in the same bucket.
      expect(Math.abs(got - exact), `${promql}: got ${got}, exact ${exact}`).toBeLessThanOrEqual(
        exact * (base - 1),
      );
    }
    // The classic-bucket series are not ingested when the native histogram is there.
    expect(await query(native, `ml_request_duration_seconds_bucket{${sel}}`)).toEqual([]);
  });

  it("the protobuf scrape yields the same series and values as the text scrape", async () => {
    const histogramFamilies = ["ml_request_duration_seconds", "ml_prediction_confidence"];
    const key = (m: Record<string, string>) =>
      JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const seriesOf = async (p: Prometheus) =>
      new Map((await query(p, '{__name__=~"ml_.+"}')).map((s) => [key(s.metric), s]));
    const fromText = await seriesOf(classic);
    const fromProto = await seriesOf(native);
    // In the text scrape a histogram is _bucket/_sum/_count series; in the native one, one series.
    const expected = new Set<string>();
    for (const s of fromText.values()) {
      const m = /^(.*)_(bucket|sum|count)$/.exec(s.metric.__name__);
      if (m && histogramFamilies.includes(m[1])) {
        const { le: _le, ...rest } = s.metric;
        expected.add(key({ ...rest, __name__: m[1] }));
      } else expected.add(key(s.metric));
    }
    expect([...fromProto.keys()].sort()).toEqual([...expected].sort());
    // Counters and gauges that no longer change read the same in both.
    for (const name of ["ml_requests_total", "ml_predictions_by_class_total", "ml_requests_in_progress"]) {
      for (const [k, s] of fromText) {
        if (s.metric.__name__ !== name) continue;
        expect(fromProto.get(k)?.value?.[1], k).toBe(s.value?.[1]);
      }
    }
    expect(await scalar(native, `sum(ml_requests_total{${sel}})`)).toBe(PHASE_A.length + PHASE_B.length);
    expect(await scalar(native, `sum(ml_predictions_by_class_total{${sel},predicted_class="neg"})`)).toBe(
      PHASE_A.length / 4 + PHASE_B.length / 4,
    );
    // The window summary (quantiles precomputed by the collector) comes through protobuf as a summary.
    const p95 = await scalar(native, `ml_request_duration_window_seconds{${sel},quantile="0.95"}`);
    expect(Math.abs(p95 - exactQuantile(all(), 0.95))).toBeLessThan(0.05 * exactQuantile(all(), 0.95));
  });

  it.runIf(toolAvailable("promtool"))(
    "the text exposition of the same data passes promtool check metrics",
    async () => {
      const text = await (await fetch(`${collector.query}/metrics`)).text();
      const out = execFileSync("sh", ["-c", 'promtool check metrics; echo "exit=$?"'], {
        input: text,
        encoding: "utf8",
      });
      expect(out.trim()).toBe("exit=0");
    },
  );
});
