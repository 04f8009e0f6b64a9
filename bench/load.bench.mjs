// Load benchmark of the real collector process (build first: `pnpm build`).
// Run with `node bench/run.mjs load` (not part of the default `pnpm bench`: it takes
// about a minute and a half), or alone with `node bench/load.bench.mjs`.
//
// 200 replicas, each its own OTel JS MeterProvider (startMonitoring, with its own
// service.instance.id and ModelMonitor), export every second for 60 s over loopback to
// the collector CLI started as a child process. 10 models, 20 replicas each; 4 worker
// processes of 50 replicas each. Every replica records RED (half of its requests through
// wrap(), half through recordRequest(), some of both failing), the predicted class, the
// confidence and 5 numeric features (one of them signed) for each successful prediction.
//
// Measured:
// - export latency: the time from the reader handing a collected export to the OTLP
//   exporter until the exporter calls back: protobuf serialisation, the HTTP round trip
//   to the collector (and any retries), as the SDK sees it. The exporter is the one
//   startMonitoring() builds (OTLPMetricExporter, protobuf, timeout = the interval),
//   wrapped to time each export() call.
// - the collector's RSS (VmRSS sampled every 0.5 s, and the kernel's VmHWM) and its CPU
//   time (utime + stime from /proc) over the load phase.
// - points exported per second (data points in successful exports), exports per second.
// - the collector's responsiveness: GET /healthz from the bench process every 200 ms.
//
// Checked exactly at the end against what the workers counted as they recorded:
// ml_requests_total, ml_errors_total and ml_predictions_by_class_total per model;
// ml_data_drift_window_samples per model and feature (the window, 600 s, holds the whole
// run); no mlwatch_collector_rejected_points_total; every OTLP request answered 200; no
// partial-success warning in the SDK. Each check prints PASS or FAIL; any FAIL sets a
// non-zero exit code. Exports the SDK gave up on (its timeout is the 1 s interval; on a
// loaded machine some time out) are reported, not failed: the next cumulative export
// carries their data, and the exact counts show that it arrived.
//
// MLWATCH_LOAD_SECONDS, MLWATCH_LOAD_REPLICAS, MLWATCH_LOAD_WORKERS change the size
// (for trying the bench out quickly; the figures in docs/benchmarks.md use the defaults).

import { fork, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { normal, rng } from "./random.mjs";

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI = join(ROOT, "collector/dist/cli/main.js");

const envInt = (name, d) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : d;
};
const SETTINGS = {
  replicas: envInt("MLWATCH_LOAD_REPLICAS", 200),
  workers: envInt("MLWATCH_LOAD_WORKERS", 4),
  models: 10,
  seconds: envInt("MLWATCH_LOAD_SECONDS", 60),
  exportIntervalMs: 1000,
  tickMs: 200, // each replica records 1–3 predictions every tick: about 10 a second
  staggerMs: 1000, // replicas start spread over the first second, as independent processes would
};
const FEATURES = ["f0", "f1", "f2", "f3", "f4"];
const CLASSES = ["negative", "neutral", "positive"];
const modelName = (m) => `load-model-${m}`;

// ---- worker: 50 replicas in one process

class ValidationError extends Error {
  name = "ValidationError";
}
class TimeoutError extends Error {
  name = "TimeoutError";
}

function emptyCounts() {
  return {
    requests: 0,
    errors: { ValidationError: 0, TimeoutError: 0 },
    classes: Object.fromEntries(CLASSES.map((c) => [c, 0])),
    features: Object.fromEntries(FEATURES.map((f) => [f, 0])),
  };
}

/** Wraps a push exporter to time each export() call and count the points it carried. */
class TimedExporter {
  constructor(inner, stats) {
    this.inner = inner;
    this.stats = stats;
  }
  export(metrics, resultCallback) {
    const t0 = performance.now();
    let points = 0;
    for (const sm of metrics.scopeMetrics) for (const m of sm.metrics) points += m.dataPoints.length;
    this.inner.export(metrics, (result) => {
      const s = this.stats;
      const ms = performance.now() - t0;
      // [ms since the run started when the export began, latency ms, 1 if part of the final flush]
      s.exports.push([Date.now() - ms - s.startAt, ms, s.flushing ? 1 : 0]);
      this.lastOk = result.code === 0;
      if (result.code === 0) {
        s.ok++;
        s.points += points;
      } else {
        s.failed++;
        const why = String(result.error?.message ?? result.error ?? "unknown").slice(0, 200);
        s.failures[why] = (s.failures[why] ?? 0) + 1;
      }
      resultCallback(result);
    });
  }
  forceFlush() {
    return this.inner.forceFlush();
  }
  shutdown() {
    return this.inner.shutdown();
  }
  selectAggregationTemporality(t) {
    return this.inner.selectAggregationTemporality(t);
  }
  selectAggregation(t) {
    return this.inner.selectAggregation(t);
  }
}

async function worker() {
  const { endpoint, indices } = JSON.parse(process.env.MLWATCH_LOAD_WORKER);
  // Never outlive the bench.
  process.on("disconnect", () => process.exit(2));
  const sdk = await import(pathToFileURL(join(ROOT, "packages/sdk/dist/index.js")).href);
  const require = createRequire(join(ROOT, "packages/sdk/package.json"));
  const { OTLPMetricExporter } = require("@opentelemetry/exporter-metrics-otlp-proto");
  const { diag, DiagLogLevel } = require("@opentelemetry/api");
  // Everything the SDK and exporters report (partial success is a diag warning, retries are info).
  const diagMessages = {};
  const note =
    (level) =>
    (msg, ...args) => {
      const key = `${level}: ${msg} ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ")}`;
      diagMessages[key.slice(0, 300)] = (diagMessages[key.slice(0, 300)] ?? 0) + 1;
    };
  diag.setLogger(
    { error: note("error"), warn: note("warn"), info: note("info"), debug() {}, verbose() {} },
    DiagLogLevel.INFO,
  );

  const stats = { exports: [], ok: 0, failed: 0, failures: {}, points: 0, startAt: 0, flushing: false };
  const counts = {};
  const { seconds, exportIntervalMs, tickMs, staggerMs, replicas: total } = SETTINGS;

  const go = await new Promise((resolve) => {
    process.on("message", (m) => {
      if (m.type === "go") resolve(m);
    });
    process.send({ type: "ready" });
  });
  stats.startAt = go.startAt;
  const cpu0 = process.cpuUsage();
  // How late this process's own event loop runs: part of every export latency measured here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const replicas = [];
  const finished = [];
  for (const i of indices) {
    const m = i % SETTINGS.models;
    const model = modelName(m);
    counts[model] ??= emptyCounts();
    const c = counts[model];
    const startAt = go.startAt + Math.floor((i * staggerMs) / total);
    const endAt = startAt + seconds * 1000;
    finished.push(
      new Promise((resolve) => {
        setTimeout(
          () => {
            const producer = new sdk.MlwatchMetricProducer();
            const exporter = new TimedExporter(
              new OTLPMetricExporter({ url: `${endpoint}/v1/metrics`, timeoutMillis: exportIntervalMs }),
              stats,
            );
            const monitoring = sdk.startMonitoring({
              endpoint,
              exportIntervalMillis: exportIntervalMs,
              registerGlobal: false,
              serviceName: `load-service-${m}`,
              resourceAttributes: { "service.instance.id": `load-replica-${i}` },
              producer,
              exporter,
              logs: false,
              hostMetrics: false,
              runtimeMetrics: false,
              shutdownOnExit: false,
            });
            const monitor = new sdk.ModelMonitor({ modelName: model, modelVersion: "1.0.0", producer });
            replicas.push(monitoring);
            const r = rng(1000 + i);
            let seq = 0;
            const classify = (features) => {
              if (seq % 17 === 0) throw new ValidationError("bad input");
              return CLASSES[Math.floor(features.f2 / 34)];
            };
            const predict = monitor.wrap(classify);
            const one = () => {
              seq++;
              const features = {
                f0: 50 + 10 * normal(r),
                f1: Math.exp(normal(r)),
                f2: 100 * r(),
                f3: 1000 + 100 * normal(r),
                f4: normal(r), // signed: negative values go on the SDK's negative series
              };
              let predicted;
              c.requests++;
              if (seq % 2 === 0) {
                try {
                  predicted = predict(features);
                } catch {
                  c.errors.ValidationError++;
                  return;
                }
              } else {
                const timeout = seq % 23 === 0;
                monitor.recordRequest(Math.exp(Math.log(0.05) + 0.5 * normal(r)), {
                  error: timeout ? new TimeoutError("model timed out") : undefined,
                });
                if (timeout) {
                  c.errors.TimeoutError++;
                  return;
                }
                predicted = CLASSES[Math.floor(features.f2 / 34)];
              }
              monitor.recordPrediction({ predictedClass: predicted, confidence: 0.4 + 0.6 * r(), features });
              c.classes[predicted]++;
              for (const f of FEATURES) c.features[f]++;
            };
            const timer = setInterval(() => {
              if (Date.now() >= endAt) {
                clearInterval(timer);
                resolve({ monitoring, exporter });
                return;
              }
              const n = 1 + Math.floor(3 * r());
              for (let k = 0; k < n; k++) one();
            }, tickMs);
          },
          Math.max(0, startAt - Date.now()),
        );
      }),
    );
  }
  const all = await Promise.all(finished);
  stats.flushing = true;
  // Recording has stopped everywhere: the last cumulative points go out with the flush,
  // flushed again (up to 5 times) where that export failed (timed out on a loaded machine).
  let flushRetries = 0;
  await Promise.all(
    all.map(async ({ monitoring, exporter }) => {
      await monitoring.forceFlush();
      for (let k = 0; k < 5 && !exporter.lastOk; k++) {
        flushRetries++;
        await monitoring.forceFlush();
      }
    }),
  );
  await Promise.all(all.map(({ monitoring }) => monitoring.shutdown()));
  const cpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  process.send(
    {
      type: "done",
      counts,
      stats,
      diag: diagMessages,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      replicas: replicas.length,
      flushRetries,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    },
    () => process.exit(0),
  );
}

// ---- the bench: collector, workers, sampling, checks

function parseExposition(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2])
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
const sumOf = (samples, name, match = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);

/** RSS, peak RSS (bytes) and CPU seconds of a process, from /proc. */
function procStats(pid, clkTck) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { rss: kb("VmRSS"), hwm: kb("VmHWM"), cpu: (Number(f[11]) + Number(f[12])) / clkTck };
  } catch {
    return undefined;
  }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function run() {
  const S = SETTINGS;
  const children = new Set();
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  const onSignal = (sig) => {
    killAll();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killAll);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const dir = mkdtempSync(join(tmpdir(), "mlwatch-load-"));
  // Bounded in time whatever happens.
  const deadline = setTimeout(
    () => {
      console.error("load bench: did not finish in time; stopping");
      killAll();
      process.exit(1);
    },
    (S.seconds + 180) * 1000,
  );
  deadline.unref();
  try {
    return await runIn(dir, children);
  } finally {
    clearTimeout(deadline);
    killAll();
    process.off("exit", killAll);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runIn(dir, children) {
  const S = SETTINGS;
  const clkTck = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  const config = join(dir, "collector.yaml");
  writeFileSync(
    config,
    [
      "otlp: { host: 127.0.0.1, port: 0 }",
      "query: { host: 127.0.0.1, port: 0 }",
      "windows: { slotSeconds: 10, analysisSeconds: 600 }",
      `storage: { path: ${JSON.stringify(join(dir, "collector.db"))} }`,
    ].join("\n"),
  );
  const collector = spawn(process.execPath, [CLI, "collector", "--config", config], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(collector);
  let collectorErr = "";
  collector.stderr.on("data", (d) => {
    collectorErr += d.toString();
  });
  const listening = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`collector did not start:\n${collectorErr}`)), 30_000);
    collector.once("exit", (code) => reject(new Error(`collector exited with ${code}:\n${collectorErr}`)));
    createInterface({ input: collector.stdout }).on("line", (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === "listening") {
          clearTimeout(t);
          resolve(msg);
        }
      } catch {}
    });
  });
  const { otlp, query } = listening;
  const idle = procStats(collector.pid, clkTck);

  // Workers: replica i goes to worker i % workers.
  const workers = [];
  for (let w = 0; w < S.workers; w++) {
    const indices = [];
    for (let i = w; i < S.replicas; i += S.workers) indices.push(i);
    const child = fork(SELF, ["--load-worker"], {
      cwd: ROOT,
      env: { ...process.env, MLWATCH_LOAD_WORKER: JSON.stringify({ endpoint: otlp, indices }) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.add(child);
    const ready = new Promise((resolve, reject) => {
      child.on("message", (m) => {
        if (m.type === "ready") resolve();
      });
      child.once("exit", (code) => reject(new Error(`load worker ${w} exited with ${code} before starting`)));
    });
    const done = new Promise((resolve, reject) => {
      child.on("message", (m) => {
        if (m.type === "done") resolve(m);
      });
      child.once("exit", (code) => {
        if (code !== 0) reject(new Error(`load worker ${w} exited with ${code}`));
      });
    });
    done.catch(() => {});
    workers.push({ child, ready, done });
  }
  await Promise.all(workers.map((w) => w.ready));

  const startAt = Date.now() + 500;
  const load = loadavg()[0];
  for (const w of workers) w.child.send({ type: "go", startAt });
  await sleep(Math.max(0, startAt - Date.now()));
  const start = procStats(collector.pid, clkTck);
  const t0 = performance.now();
  const rssSamples = [];
  const sampler = setInterval(() => {
    const p = procStats(collector.pid, clkTck);
    if (p) rssSamples.push(p.rss);
  }, 500);
  // The collector's responsiveness from outside: GET /healthz every 200 ms, one at a time.
  const probes = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const s = performance.now();
      try {
        await (await fetch(`${query}/healthz`)).text();
        probes.push([Date.now() - startAt - (performance.now() - s), performance.now() - s]);
      } catch {}
      await sleep(200);
    }
  })();
  let results;
  try {
    results = await Promise.all(workers.map((w) => w.done));
  } finally {
    clearInterval(sampler);
    probing = false;
    await prober;
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const end = procStats(collector.pid, clkTck);

  // What the workers recorded, by model.
  const recorded = {};
  const exports = [];
  let ok = 0;
  let failed = 0;
  let points = 0;
  let workerCpu = 0;
  let replicaCount = 0;
  let flushRetries = 0;
  let loopP99 = 0;
  let loopMax = 0;
  const failures = {};
  const diagMessages = {};
  for (const r of results) {
    for (const [model, c] of Object.entries(r.counts)) {
      recorded[model] ??= emptyCounts();
      const t = recorded[model];
      t.requests += c.requests;
      for (const k of Object.keys(c.errors)) t.errors[k] += c.errors[k];
      for (const k of CLASSES) t.classes[k] += c.classes[k];
      for (const k of FEATURES) t.features[k] += c.features[k];
    }
    for (const x of r.stats.exports) exports.push(x);
    ok += r.stats.ok;
    failed += r.stats.failed;
    points += r.stats.points;
    workerCpu += r.cpuSeconds;
    replicaCount += r.replicas;
    flushRetries += r.flushRetries;
    loopP99 = Math.max(loopP99, r.loopDelayP99Ms);
    loopMax = Math.max(loopMax, r.loopDelayMaxMs);
    for (const [k, n] of Object.entries(r.stats.failures)) failures[k] = (failures[k] ?? 0) + n;
    for (const [k, n] of Object.entries(r.diag)) diagMessages[k] = (diagMessages[k] ?? 0) + n;
  }
  // Export latency: all exports; the steady state (from WARM s into the run until recording
  // stops: 200 MeterProviders are created, connect and warm up in the first seconds); the final
  // flush (every replica at once).
  const WARM = 10_000;
  const sorted = (xs) => xs.map((x) => x[1]).sort((a, b) => a - b);
  const latencies = sorted(exports);
  const steady = sorted(exports.filter(([at, , flush]) => at >= WARM && !flush));
  const flushes = sorted(exports.filter(([, , flush]) => flush));
  const slow = exports.filter(([, ms]) => ms > 250);

  // The collector's view: wait for an analysis pass that has seen the last exports.
  const scrape = async () => parseExposition(await (await fetch(`${query}/metrics`)).text());
  const models = Object.keys(recorded).sort();
  const matches = (s) =>
    models.every(
      (m) =>
        sumOf(s, "ml_requests_total", { model_name: m }) === recorded[m].requests &&
        FEATURES.every(
          (f) =>
            sumOf(s, "ml_data_drift_window_samples", { model_name: m, feature_name: f }) ===
            recorded[m].features[f],
        ),
    );
  let samples = await scrape();
  const settleUntil = Date.now() + 30_000;
  while (!matches(samples) && Date.now() < settleUntil) {
    await sleep(500);
    samples = await scrape();
  }
  const afterSettle = procStats(collector.pid, clkTck);

  // Checks.
  const checks = [];
  const check = (name, pass, detail = "") => checks.push({ name, pass, detail });
  const diffs = (metric, key, labelsOf) => {
    const bad = [];
    for (const m of models)
      for (const [k, want] of Object.entries(key(recorded[m]))) {
        const got = sumOf(samples, metric, { model_name: m, ...labelsOf(k) });
        if (got !== want) bad.push(`${m}${k ? ` ${k}` : ""}: collector ${got}, recorded ${want}`);
      }
    return bad;
  };
  const report = (name, bad, total) =>
    check(name, bad.length === 0, bad.length ? bad.slice(0, 20).join("; ") : `${total} in all`);
  const sumRecorded = (f) => models.reduce((a, m) => a + f(recorded[m]), 0);
  report(
    "ml_requests_total per model == recorded requests",
    diffs(
      "ml_requests_total",
      (c) => ({ "": c.requests }),
      () => ({}),
    ),
    sumRecorded((c) => c.requests),
  );
  report(
    "ml_errors_total per model and error_type == recorded errors",
    diffs(
      "ml_errors_total",
      (c) => c.errors,
      (k) => ({ error_type: k }),
    ),
    sumRecorded((c) => c.errors.ValidationError + c.errors.TimeoutError),
  );
  report(
    "ml_predictions_by_class_total per model and class == recorded",
    diffs(
      "ml_predictions_by_class_total",
      (c) => c.classes,
      (k) => ({ predicted_class: k }),
    ),
    sumRecorded((c) => CLASSES.reduce((a, k) => a + c.classes[k], 0)),
  );
  report(
    "ml_data_drift_window_samples per model and feature == recorded values",
    diffs(
      "ml_data_drift_window_samples",
      (c) => c.features,
      (k) => ({ feature_name: k }),
    ),
    sumRecorded((c) => FEATURES.reduce((a, k) => a + c.features[k], 0)),
  );
  const rejected = samples.filter((s) => s.name === "mlwatch_collector_rejected_points_total" && s.value > 0);
  check(
    "mlwatch_collector_rejected_points_total absent or zero",
    rejected.length === 0,
    rejected.map((s) => `${s.labels.reason}: ${s.value}`).join("; "),
  );
  const requests = samples.filter(
    (s) => s.name === "mlwatch_collector_otlp_requests_total" && s.labels.signal === "metrics",
  );
  const non200 = requests.filter((s) => s.labels.code !== "200" && s.value > 0);
  const answered200 = sumOf(samples, "mlwatch_collector_otlp_requests_total", {
    signal: "metrics",
    code: "200",
  });
  check(
    "mlwatch_collector_otlp_requests_total: every code 200",
    non200.length === 0,
    non200.length
      ? non200.map((s) => `${s.labels.code}: ${s.value}`).join("; ")
      : `${answered200} requests, the exporters saw ${ok} succeed`,
  );
  const partial = Object.entries(diagMessages).filter(([k]) => /partial success/i.test(k));
  check(
    "no partial_success in the SDK's diagnostics",
    partial.length === 0,
    partial.map(([k, n]) => `${n}× ${k}`).join("; "),
  );
  check(
    `${S.replicas} replicas ran`,
    replicaCount === S.replicas,
    `${replicaCount} of ${S.replicas} MeterProviders`,
  );

  // Stop the collector; its stderr goes with a failure.
  collector.kill("SIGTERM");
  await new Promise((r) => (collector.exitCode !== null ? r() : collector.once("exit", r)));

  const failedChecks = checks.filter((c) => !c.pass);
  console.log("");
  for (const c of checks)
    console.log(`${c.pass ? "PASS" : "FAIL"}  ${c.name}${c.detail ? ` (${c.detail})` : ""}`);
  // An export the SDK gave up on (its 1 s timeout on a loaded machine) is a figure, not a
  // failed check: the next cumulative export carries its data, which the counts above check.
  if (failed) {
    console.log(`exports that failed in the SDK (the next cumulative export carries their data):`);
    for (const [k, n] of Object.entries(failures)) console.log(`  ${n}× ${k}`);
  }
  const otherDiag = Object.entries(diagMessages)
    .filter(([k]) => !/partial success/i.test(k))
    .map(([k, n]) => [k.replace(/-?\d+ms/g, "…ms"), n])
    .reduce((m, [k, n]) => m.set(k, (m.get(k) ?? 0) + n), new Map());
  if (otherDiag.size) {
    console.log("SDK diagnostics:");
    for (const [k, n] of [...otherDiag].slice(0, 20)) console.log(`  ${n}× ${k}`);
  }
  if (slow.length) {
    // When the slow exports happened: one second of the run each, the busiest first.
    const bySecond = new Map();
    for (const [at] of slow)
      bySecond.set(Math.floor(at / 1000), (bySecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    const top = [...bySecond].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(
      `exports over 250 ms: ${slow.length}; busiest seconds of the run: ${top.map(([t, n]) => `${t}s×${n}`).join(" ")}`,
    );
  }
  const slowProbes = probes.filter(([, ms]) => ms > 100);
  if (slowProbes.length)
    console.log(
      `/healthz probes over 100 ms: ${slowProbes.map(([at, ms]) => `${(at / 1000).toFixed(1)}s:${Math.round(ms)}ms`).join(" ")}`,
    );
  if (failedChecks.length) {
    process.exitCode = 1;
    console.log(`load: ${failedChecks.length} check(s) FAILED`);
    if (collectorErr.trim()) console.log(`collector stderr:\n${collectorErr.trim().slice(-4000)}`);
  } else console.log("load: all checks PASS");

  const MB = 1024 * 1024;
  const peakSampled = Math.max(...rssSamples);
  const p = (q) => quantile(latencies, q);
  const probeMs = probes.map(([, ms]) => ms).sort((a, b) => a - b);
  const selfGauge = (name) => sumOf(samples, name);
  return [
    {
      name: `setup: ${S.replicas} MeterProviders in ${S.workers} processes, ${S.models} models`,
      value: S.seconds,
      unit: "s of load",
    },
    { name: "  load average (1 min) at start", value: load, unit: "" },
    { name: "  load phase, start to last shutdown", value: loadSeconds, unit: "s" },
    { name: "exports (successful)", value: ok, unit: "exports" },
    {
      name: "  exports failed in the SDK (timed out at 1 s; data sent again)",
      value: failed,
      unit: "exports",
    },
    { name: "  OTLP requests answered 200 by the collector", value: answered200, unit: "requests" },
    { name: "  final flushes repeated after a failed export", value: flushRetries, unit: "flushes" },
    { name: "  exports per second", value: ok / loadSeconds, unit: "exports/s" },
    { name: "  data points exported per second", value: points / loadSeconds, unit: "points/s" },
    { name: "  data points per export", value: points / Math.max(1, ok), unit: "points" },
    {
      name: "  predictions recorded per second",
      value: sumRecorded((c) => c.requests) / loadSeconds,
      unit: "/s",
    },
    {
      name: "export latency (serialise + HTTP round trip), all exports",
      value: latencies.length,
      unit: "exports",
    },
    { name: "  p50", value: p(0.5), unit: "ms" },
    { name: "  p90", value: p(0.9), unit: "ms" },
    { name: "  p99", value: p(0.99), unit: "ms" },
    { name: "  max", value: latencies[latencies.length - 1] ?? Number.NaN, unit: "ms" },
    {
      name: `export latency, steady state (from ${WARM / 1000} s until recording stops)`,
      value: steady.length,
      unit: "exports",
    },
    { name: "  p50", value: quantile(steady, 0.5), unit: "ms" },
    { name: "  p90", value: quantile(steady, 0.9), unit: "ms" },
    { name: "  p99", value: quantile(steady, 0.99), unit: "ms" },
    { name: "  max", value: steady[steady.length - 1] ?? Number.NaN, unit: "ms" },
    { name: "export latency, final flush (all replicas at once)", value: flushes.length, unit: "exports" },
    { name: "  p50", value: quantile(flushes, 0.5), unit: "ms" },
    { name: "  p99", value: quantile(flushes, 0.99), unit: "ms" },
    { name: "  workers' event-loop delay p99 (worst worker)", value: loopP99, unit: "ms" },
    { name: "  workers' event-loop delay max", value: loopMax, unit: "ms" },
    { name: "collector GET /healthz p50, probed every 200 ms", value: quantile(probeMs, 0.5), unit: "ms" },
    { name: "collector GET /healthz p99", value: quantile(probeMs, 0.99), unit: "ms" },
    { name: "collector GET /healthz max", value: probeMs[probeMs.length - 1] ?? Number.NaN, unit: "ms" },
    {
      name: "collector's last analysis pass",
      value: 1000 * selfGauge("mlwatch_collector_analysis_duration_seconds"),
      unit: "ms",
    },
    {
      name: "collector's last checkpoint to SQLite",
      value: 1000 * selfGauge("mlwatch_collector_checkpoint_duration_seconds"),
      unit: "ms",
    },
    { name: "collector RSS idle, before the load", value: idle.rss / MB, unit: "MiB" },
    { name: "collector RSS peak, sampled every 0.5 s", value: peakSampled / MB, unit: "MiB" },
    { name: "collector RSS peak (VmHWM, whole life)", value: afterSettle.hwm / MB, unit: "MiB" },
    { name: "collector RSS at the end", value: end.rss / MB, unit: "MiB" },
    {
      name: "collector CPU over the load phase (of one core)",
      value: (100 * (end.cpu - start.cpu)) / loadSeconds,
      unit: "%",
    },
    {
      name: "workers' CPU over the load phase (of one core)",
      value: (100 * workerCpu) / loadSeconds,
      unit: "%",
    },
    { name: "checks failed", value: failedChecks.length, unit: `of ${checks.length}` },
  ];
}

if (process.argv.includes("--load-worker")) {
  await worker();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}`);
  for (const row of await run()) {
    console.log(
      `${row.name.padEnd(60)} ${String(Number(row.value.toPrecision(4))).padStart(12)} ${row.unit}`,
    );
  }
}
