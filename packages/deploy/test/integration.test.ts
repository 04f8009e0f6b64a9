// The generated rules and dashboards against real parts: the real SDK
// exports over OTLP to the real collector, a real Prometheus 2.42 scrapes it
// every second and evaluates the very rules that ship, generated on time
// compressed 100× (an hour is 36 s). A scripted scenario (normal → drift →
// error burst → latency burst → silence → collector down) must make each
// targeted alert fire in its phase, nothing critical may fire while all is
// normal, and no rule or dashboard query may come back empty.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../../collector/src/baselines/format.js";
import {
  type CollectorHandle,
  startCollector,
  toolAvailable,
  which,
} from "../../../test/support/processes.js";
import { seeded } from "../../../test/support/random.js";
import { TimeScale } from "../src/duration.js";
import {
  ALERTS,
  alertRules,
  buildDashboards,
  buildPrometheusConfig,
  dashboardQueries,
  generate,
  HOST_PANEL_TITLES,
  M,
  parseSloSpecYaml,
  recordedSeries,
  recordingRules,
  yamlText,
} from "../src/index.js";

const SCALE = 0.01;
const SPEC_PATH = new URL("../../../deploy/slo.yaml", import.meta.url);
const LISTED = "sentiment"; // has its own objectives in deploy/slo.yaml
const UNLISTED = "churn"; // gets the default objectives
const PROMETHEUS = which("prometheus");
const NODE_EXPORTER = which("prometheus-node-exporter") ?? which("node_exporter");

class ModelTimeoutError extends Error {
  override name = "ModelTimeoutError";
}

interface Phase {
  name: string;
  errorShare: number;
  latency: () => number;
  textLength: () => number;
  lowConfidenceShare: number;
  accuracy: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
  value: string;
}

async function promGet<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${path}: ${body.error}`);
  return body.data;
}

async function firing(base: string): Promise<PromAlert[]> {
  const d = await promGet<{ alerts: PromAlert[] }>(base, "/api/v1/alerts");
  return d.alerts.filter((a) => a.state === "firing");
}

async function instant(base: string, q: string): Promise<unknown[]> {
  const d = await promGet<{ result: unknown[] }>(base, `/api/v1/query?query=${encodeURIComponent(q)}`);
  return d.result;
}

type Want = Record<string, string>;
const matches = (a: PromAlert, w: Want) => Object.entries(w).every(([k, v]) => a.labels[k] === v);
const show = (w: Want) =>
  Object.entries(w)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Waits until every wanted alert is firing; returns how long each took. */
async function waitFiring(base: string, wants: Want[], timeoutMs: number): Promise<Map<string, number>> {
  const start = Date.now();
  const seen = new Map<string, number>();
  while (Date.now() - start < timeoutMs) {
    const now = await firing(base);
    for (const w of wants)
      if (!seen.has(show(w)) && now.some((a) => matches(a, w))) seen.set(show(w), Date.now() - start);
    if (seen.size === wants.length) return seen;
    await sleep(500);
  }
  const missing = wants.filter((w) => !seen.has(show(w)));
  const all = (await promGet<{ alerts: PromAlert[] }>(base, "/api/v1/alerts")).alerts;
  const lines = all.map((a) => `${a.state} ${show(a.labels)} = ${a.value}`);
  // What the missing alerts read, to tell a rule that never matched from one that never held long enough.
  const reads: string[] = [];
  for (const w of missing)
    for (const q of signalsOf(w.alertname))
      reads.push(`${q} = ${JSON.stringify(await instant(base, q).catch((e) => String(e)))}`);
  throw new Error(
    `not firing after ${timeoutMs} ms: ${missing.map(show).join(" | ")}\nalerts now:\n  ${lines.join("\n  ")}\n` +
      `their data:\n  ${reads.join("\n  ")}`,
  );
}

let signalsOf: (alert: string) => string[] = () => [];

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

const children: ChildProcess[] = [];

/** Keeps a child for cleanup, and never leaves it behind if the test process ends first. */
function adopt(child: ChildProcess): void {
  children.push(child);
  const reap = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", reap);
  child.once("exit", () => process.off("exit", reap));
}
const dirs: string[] = [];
let collector: CollectorHandle | undefined;
let monitoring: Monitoring | undefined;
let timer: NodeJS.Timeout | undefined;

afterAll(async () => {
  if (timer) clearInterval(timer);
  await monitoring?.shutdown().catch(() => {});
  await collector?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await sleep(200);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.runIf(toolAvailable("prometheus"))("generated rules and dashboards on a real Prometheus", () => {
  it("fire in their phase of a scripted scenario, stay quiet while normal, and query live data", {
    timeout: 600_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlwatch-deploy-it-"));
    dirs.push(dir);
    const rand = seeded(20_261_127);
    const normal = (mean: number, sd: number) => {
      const u = 1 - rand();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    };

    // 1. Rules, compressed 100×, generated from the committed SLO spec.
    const spec = parseSloSpecYaml(readFileSync(SPEC_PATH, "utf8"), "deploy/slo.yaml");
    expect(Object.keys(spec.models)).toContain(LISTED);
    expect(Object.keys(spec.models)).not.toContain(UNLISTED);
    const gen = generate({ spec, specSource: "deploy/slo.yaml", timeScale: SCALE });
    signalsOf = (alert) => [
      ...new Set(
        alertRules(gen.rules)
          .filter((a) => a.alert === alert)
          .flatMap((a) => a.signals),
      ),
    ];
    mkdirSync(join(dir, "rules"));
    for (const [name, text] of gen.files)
      if (name.startsWith("rules/") && !name.includes("/tests/")) writeFileSync(join(dir, name), text);

    // 2. The collector, with short windows, in a folder of its own (close() removes it); baselines for both models.
    const collectorDir = join(dir, "collector");
    mkdirSync(collectorDir);
    collector = await startCollector(
      [
        "windows: { slotSeconds: 1, analysisSeconds: 10 }",
        "analysis: { intervalSeconds: 0.5 }",
        // /metrics shows counters as of the last checkpoint: checkpoint often, as with short windows
        `storage: { path: ${JSON.stringify(join(collectorDir, "collector.db"))}, checkpointSeconds: 0.5 }`,
      ],
      collectorDir,
    );
    const referenceConfidence = () => (rand() < 0.05 ? 0.5 + 0.2 * rand() : 0.72 + 0.27 * rand());
    for (const model of [LISTED, UNLISTED]) {
      const baseline = {
        ...makeBaseline({
          model,
          features: {
            text_length: histogramOf(Array.from({ length: 20_000 }, () => Math.max(1, normal(100, 20)))),
            sentiment_score: histogramOf(Array.from({ length: 20_000 }, () => normal(0, 1))),
          },
        }),
        confidence: histogramOf(Array.from({ length: 20_000 }, referenceConfidence)).toJSON(),
        classes: { positive: 14_000, negative: 6_000 },
      };
      const put = await fetch(`${collector.query}/api/v1/baselines/${model}`, {
        method: "PUT",
        body: JSON.stringify(baseline),
      });
      expect(put.status, await put.text()).toBe(200);
    }

    // 3. The real SDK, exporting every 500 ms, driven by the current phase.
    monitoring = startMonitoring({
      endpoint: collector.otlp,
      exportIntervalMillis: 500,
      registerGlobal: false,
    });
    const meter = monitoring.meterProvider.getMeter("deploy-integration");
    const monitors = {
      [LISTED]: new ModelMonitor({ modelName: LISTED, modelVersion: "1.0.0", endpoint: "/predict", meter }),
      [UNLISTED]: new ModelMonitor({ modelName: UNLISTED, modelVersion: "2.0.0", endpoint: "/score", meter }),
    };
    const NORMAL: Phase = {
      name: "normal",
      errorShare: 0,
      latency: () => 0.02 + 0.03 * rand(),
      textLength: () => Math.max(1, normal(100, 20)),
      lowConfidenceShare: 0.05,
      accuracy: 0.96,
    };
    // A canary of the listed model, fed like it: version drift is scored (and stays quiet).
    const canary = new ModelMonitor({
      modelName: LISTED,
      modelVersion: "1.1.0",
      endpoint: "/predict",
      meter,
    });
    const phase: Record<string, Phase> = { [LISTED]: NORMAL, [UNLISTED]: NORMAL };
    const silent = new Set<string>();
    const tick = () => {
      for (const [model, m] of Object.entries(monitors)) {
        if (silent.has(model)) continue;
        const p = phase[model];
        for (let i = 0; i < 5; i++) {
          m.recordRequest(p.latency(), {
            error: rand() < p.errorShare ? new ModelTimeoutError("model did not answer") : undefined,
          });
          const low = rand() < p.lowConfidenceShare;
          m.recordPrediction({
            predictedClass: rand() < 0.7 ? "positive" : "negative",
            confidence: low ? 0.5 + 0.2 * rand() : 0.72 + 0.27 * rand(),
            features: { text_length: p.textLength(), sentiment_score: normal(0, 1) },
          });
          if (rand() < 0.2) m.recordOutcome("ground_truth_sample", rand() < p.accuracy);
        }
      }
      if (!silent.has(LISTED))
        for (let i = 0; i < 3; i++) {
          canary.recordFeature("text_length", phase[LISTED].textLength());
          canary.recordFeature("sentiment_score", normal(0, 1));
        }
    };
    // When each tick ran: a critical alert in the normal phase is explained (or not) by a stalled generator.
    const ticks: number[] = [];
    timer = setInterval(() => {
      ticks.push(Date.now());
      tick();
    }, 100); // 50 requests per second per model

    // Wait until the collector scores drift for both models, so the first scrape sees a fed system.
    const metricsStart = Date.now();
    for (;;) {
      const text = await (await fetch(`${collector.query}/metrics`)).text();
      if ([LISTED, UNLISTED].every((m) => text.includes(`${M.driftScore}{model_name="${m}"`))) break;
      if (Date.now() - metricsStart > 60_000)
        throw new Error(`collector never scored drift:\n${text.slice(0, 3000)}`);
      await sleep(300);
    }

    // 4. Prometheus (and a node exporter when installed), scraping every second.
    const nodePort = NODE_EXPORTER ? await freePort() : undefined;
    if (NODE_EXPORTER && nodePort) {
      const ne = spawn(
        NODE_EXPORTER,
        [
          `--web.listen-address=127.0.0.1:${nodePort}`,
          "--collector.disable-defaults",
          "--collector.cpu",
          "--collector.meminfo",
          "--collector.diskstats",
        ],
        { stdio: "ignore" },
      );
      adopt(ne);
    } else {
      console.warn("note: no node exporter installed; the host panels (CPU, memory, disk) are not checked");
    }
    // Two Prometheus servers on the same rules: one with native histograms (as docker-compose.yml runs it;
    // the collector then serves its histograms in native form only), one reading the classic buckets of
    // the text format. Alerts are followed on the first; dead queries are looked for on both.
    const logs: Record<string, string> = { native: "", classic: "" };
    /**
     * Starts one Prometheus and returns its URL once it is ready. Its port is picked, freed, then handed
     * to it (its config names it, for its own scrape): another process can take the port in between.
     * Then this Prometheus exits, or something else answers there, and another port is tried; the one
     * answering is known to be this one by its TSDB folder.
     */
    const startPrometheus = async (name: "native" | "classic"): Promise<string> => {
      const tsdb = join(dir, `tsdb-${name}`);
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const config = buildPrometheusConfig({
          targets: {
            collector: new URL(collector!.query).host,
            prometheus: `127.0.0.1:${port}`,
            ...(nodePort ? { nodeExporter: `127.0.0.1:${nodePort}` } : {}),
          },
          scrapeInterval: "1s",
          scrapeTimeout: "1s",
          evaluationInterval: "1s",
          ruleFiles: [join(dir, "rules", "*.rules.yml")],
        });
        writeFileSync(join(dir, `prometheus-${name}.yml`), yamlText(config));
        logs[name] = "";
        const p = spawn(
          PROMETHEUS ?? "prometheus",
          [
            `--config.file=${join(dir, `prometheus-${name}.yml`)}`,
            `--storage.tsdb.path=${tsdb}`,
            `--web.listen-address=127.0.0.1:${port}`,
            ...(name === "native" ? ["--enable-feature=native-histograms"] : []),
            "--log.level=warn",
          ],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        p.stderr!.on("data", (d: Buffer) => {
          logs[name] += d.toString();
        });
        adopt(p);
        const base = `http://127.0.0.1:${port}`;
        for (const start = Date.now(); p.exitCode === null && p.signalCode === null; ) {
          try {
            // Whatever else may have the port need not answer at all: ask with a deadline.
            const signal = AbortSignal.timeout(2000);
            if ((await fetch(`${base}/-/ready`, { signal })).ok) {
              const flags = (await (await fetch(`${base}/api/v1/status/flags`, { signal })).json()) as {
                data?: Record<string, string>;
              };
              if (flags.data?.["storage.tsdb.path"] === tsdb) return base;
            }
          } catch {}
          if (Date.now() - start > 60_000)
            throw new Error(`prometheus (${name}) did not start:\n${logs[name]}`);
          await sleep(200);
        }
        if (attempt === 5 || !/address already in use/.test(logs[name]))
          throw new Error(`prometheus (${name}) exited with ${p.exitCode}:\n${logs[name]}`);
      }
    };
    const [prom, promClassic] = await Promise.all([startPrometheus("native"), startPrometheus("classic")]);
    for (const [name, base] of [
      ["native", prom],
      ["classic", promClassic],
    ] as const) {
      for (const start = Date.now(); ; ) {
        const r = await instant(base, "model_name:ml_requests:rate5m").catch(() => []);
        if (r.length === 2) break;
        if (Date.now() - start > 60_000)
          throw new Error(`no recording rules evaluated (${name}):\n${logs[name]}`);
        await sleep(300);
      }
    }

    // 5. Normal: nothing critical may fire.
    const criticalWhileNormal = new Set<string>();
    const normalStart = Date.now();
    for (const end = Date.now() + 20_000; Date.now() < end; ) {
      for (const a of await firing(prom))
        if (a.labels.severity === "critical") criticalWhileNormal.add(show(a.labels));
      await sleep(1000);
    }
    if (criticalWhileNormal.size > 0) {
      const since = ticks.filter((t) => t >= normalStart - 30_000);
      const gap = Math.max(...since.slice(1).map((t, i) => t - since[i]));
      // A scrape that times out on a starved machine leaves no sample: absent_over_time then fires.
      const range = async (q: string) => JSON.stringify(await instant(prom, q).catch((e) => String(e)));
      const served = [
        await range(`${M.requests}[30s]`),
        await range('up{job="collector"}[30s]'),
        await range('scrape_duration_seconds{job="collector"}[30s]'),
      ].join("\n");
      console.error(
        `longest gap between generator ticks: ${gap} ms\n${served}\n` +
          `collector:\n${collector!.output().slice(-3000)}\nprometheus:\n${logs.native.slice(-3000)}`,
      );
    }
    expect([...criticalWhileNormal], "critical alerts while everything was normal").toEqual([]);

    // 6. Drift for the listed model: inputs shift 2σ, confidence collapses, accuracy falls.
    phase[LISTED] = {
      ...NORMAL,
      name: "drift",
      textLength: () => Math.max(1, normal(140, 20)),
      lowConfidenceShare: 0.6,
      accuracy: 0.5,
    };
    const drift = await waitFiring(
      prom,
      [
        { alertname: ALERTS.dataDrift, severity: "warning", model_name: LISTED, feature_name: "text_length" },
        { alertname: ALERTS.lowAccuracy, severity: "critical", model_name: LISTED },
        { alertname: ALERTS.lowAccuracy, severity: "warning", model_name: LISTED },
        { alertname: ALERTS.lowConfidence, severity: "warning", model_name: LISTED },
        { alertname: ALERTS.conceptDrift, severity: "warning", model_name: LISTED },
      ],
      180_000,
    );
    const unlistedDrift = (await firing(prom)).filter(
      (a) =>
        a.labels.model_name === UNLISTED &&
        [ALERTS.dataDrift, ALERTS.conceptDrift, ALERTS.lowAccuracy, ALERTS.lowConfidence].includes(
          a.labels.alertname as never,
        ),
    );
    expect(
      unlistedDrift.map((a) => show(a.labels)),
      "the undisturbed model stays quiet",
    ).toEqual([]);

    // 7. Error burst on both models.
    phase[LISTED] = { ...NORMAL, name: "errors", errorShare: 0.4 };
    phase[UNLISTED] = { ...NORMAL, name: "errors", errorShare: 0.4 };
    const errors = await waitFiring(
      prom,
      [
        { alertname: ALERTS.highErrorRate, severity: "critical", model_name: LISTED },
        { alertname: ALERTS.highErrorRate, severity: "critical", model_name: UNLISTED },
        { alertname: ALERTS.errorBudgetBurn, severity: "critical", model_name: LISTED, slo: "availability" },
        { alertname: ALERTS.errorBudgetBurn, severity: "warning", model_name: LISTED, slo: "availability" },
        {
          alertname: ALERTS.errorBudgetBurn,
          severity: "critical",
          model_name: UNLISTED,
          slo: "availability",
        },
      ],
      120_000,
    );

    // 8. Latency burst on both: every request takes 2–3 s against a 0.5 s objective.
    phase[LISTED] = { ...NORMAL, name: "latency", latency: () => 2 + rand() };
    phase[UNLISTED] = { ...NORMAL, name: "latency", latency: () => 2 + rand() };
    const latency = await waitFiring(
      prom,
      [
        { alertname: ALERTS.highLatency, severity: "critical", model_name: LISTED },
        { alertname: ALERTS.latencyBudgetBurn, severity: "critical", model_name: LISTED, slo: "latency" },
        { alertname: ALERTS.latencyBudgetBurn, severity: "warning", model_name: LISTED, slo: "latency" },
      ],
      120_000,
    );

    // 9. No dead queries: every recording rule, every alert's data and every dashboard panel return series.
    const dead: string[] = [];
    const dashboards = buildDashboards(spec, new TimeScale(SCALE));
    for (const [server, base] of [
      ["native histograms", prom],
      ["classic histograms", promClassic],
    ] as const) {
      for (const r of recordingRules(gen.rules)) {
        const q = recordedSeries(r);
        if ((await instant(base, q)).length === 0) dead.push(`${server}: recording rule ${q}`);
      }
      for (const a of alertRules(gen.rules)) {
        for (const s of a.signals)
          if ((await instant(base, s)).length === 0)
            dead.push(`${server}: ${a.alert} (${a.labels.severity}) reads ${s}`);
      }
      for (const [file, d] of Object.entries(dashboards)) {
        for (const { panel, expr } of dashboardQueries(d)) {
          if (HOST_PANEL_TITLES.has(panel) && !NODE_EXPORTER) continue;
          const q = expr
            .replaceAll("$model", LISTED)
            .replaceAll("$__rate_interval", "4s")
            .replaceAll("$__range", "5m");
          expect(q, `unreplaced variable in ${file} / ${panel}`).not.toMatch(/\$/);
          if ((await instant(base, q)).length === 0) dead.push(`${server}: ${file} / ${panel}: ${q}`);
        }
      }
    }
    expect(dead, "queries that returned no data").toEqual([]);

    // 10. The listed model goes silent: it has SLOs, so that pages.
    silent.add(LISTED);
    const noData = await waitFiring(
      prom,
      [{ alertname: ALERTS.noData, severity: "critical", model_name: LISTED }],
      90_000,
    );

    // 11. The collector goes away.
    await collector.close();
    collector = undefined;
    const down = await waitFiring(prom, [{ alertname: ALERTS.collectorDown, severity: "critical" }], 60_000);

    console.log(
      "time to fire (ms):",
      Object.fromEntries([...drift, ...errors, ...latency, ...noData, ...down].map(([k, v]) => [k, v])),
    );
  });
});
