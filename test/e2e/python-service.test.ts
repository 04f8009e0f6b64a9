// The Python example service (examples/python-service: FastAPI + scikit-learn,
// instrumented with python/mlwatch_otel on the official OpenTelemetry Python SDK)
// against the real collector: exact request counts, drift on the one shifted
// feature and none on the others (every feature is signed, so this also shows
// the sign rule), and accuracy through /feedback.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import {
  CLI,
  type CollectorHandle,
  eventually,
  parseExposition,
  ROOT,
  startCollector,
  sumOf,
} from "../support/processes.js";
import { PYTHON_VENV_TIMEOUT_MS, pythonVenv } from "../support/python.js";
import { seeded } from "../support/random.js";

const MODEL = "diabetes-progression";
const SHIFTED = "bmi";
const N = 400;

let python: string;
let c: CollectorHandle;
let service: ChildProcess | undefined;
let serviceLog = "";

beforeAll(() => {
  python = pythonVenv();
}, PYTHON_VENV_TIMEOUT_MS);

afterAll(async () => {
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service?.once("exit", r));
    service.kill("SIGTERM");
    await exited;
  }
  await c?.close();
});

async function startService(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  // A long keep-alive: uvicorn's default 5 s can close a pooled connection just as fetch reuses it
  // after one of the test's waits ("other side closed").
  service = spawn(
    python,
    [
      "-m",
      "uvicorn",
      "--app-dir",
      join(ROOT, "examples/python-service"),
      "app:app",
      "--port",
      String(port),
      "--timeout-keep-alive",
      "600",
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  service.stdout?.on("data", (d) => (serviceLog += d));
  service.stderr?.on("data", (d) => (serviceLog += d));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (service?.exitCode !== null) throw new Error(`service exited:\n${serviceLog}`);
    return (await fetch(`${url}/healthz`)).ok;
  }, 90_000);
  return url;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as T;
}

/** scipy's exact two-sample KS D per feature, computed in the venv from the raw values. */
function exactKs(
  baseline: Record<string, number[]>,
  current: Record<string, number[]>,
): Record<string, number> {
  const script = [
    "import json, sys",
    "from scipy.stats import ks_2samp",
    "d = json.load(sys.stdin)",
    "print(json.dumps({f: float(ks_2samp(d['baseline'][f], d['current'][f]).statistic) for f in d['current']}))",
  ].join("\n");
  const out = execFileSync(python, ["-c", script], {
    input: JSON.stringify({ baseline, current }),
    encoding: "utf8",
  });
  return JSON.parse(out) as Record<string, number>;
}

interface DriftReport {
  features: Array<{
    feature: string;
    samples: number;
    score?: { value: number; severity: string; errorBound: number | null };
  }>;
}

it("counts exactly, sees drift only on the shifted feature, and gets accuracy from feedback", {
  timeout: 300_000,
}, async () => {
  c = await startCollector([
    "windows: { slotSeconds: 1, analysisSeconds: 600 }",
    "analysis: { intervalSeconds: 0.2, drift: { warmupSeconds: 0 } }",
  ]);
  const csv = join(c.dir, "training.csv");
  const url = await startService({
    MLWATCH_OTLP_URL: c.otlp,
    MLWATCH_QUERY_URL: c.query,
    MLWATCH_EXPORT_INTERVAL: "500",
    MLWATCH_SAMPLE_RATE: "1",
    MODEL_VERSION: "1",
    TRAINING_CSV: csv,
  });

  // The baseline: the service's training features, through the CLI.
  const baseline = join(c.dir, "baseline.json");
  execFileSync("node", [
    CLI,
    "baseline",
    "build",
    "--input",
    csv,
    "--model",
    MODEL,
    "--exclude",
    "label",
    "--out",
    baseline,
  ]);
  execFileSync("node", [CLI, "baseline", "push", "--file", baseline, "--url", c.query]);

  const [header, ...lines] = readFileSync(csv, "utf8").trim().split(/\r?\n/);
  const columns = header.split(",");
  const features = columns.slice(0, -1);
  expect(features).toContain(SHIFTED);
  const rows = lines.map((l) => l.split(","));
  expect(rows.length).toBeGreaterThan(300);
  // Every input is centred: about half of each feature's values are negative.
  for (let j = 0; j < features.length; j++) {
    const negative = rows.filter((r) => Number(r[j]) < 0).length / rows.length;
    expect(negative, features[j]).toBeGreaterThan(0.3);
  }

  // Traffic like the training data, except that every other request has bmi
  // raised by 0.1 (about two standard deviations).
  const random = seeded(16);
  const sent: Array<{ id: string; truth: string; predicted: string }> = [];
  const sentValues: Record<string, number[]> = Object.fromEntries(features.map((f) => [f, []]));
  for (let i = 0; i < N; i++) {
    const row = rows[Math.floor(random() * rows.length)];
    const input = Object.fromEntries(features.map((f, j) => [f, Number(row[j])]));
    if (i % 2 === 1) input[SHIFTED] += 0.1;
    for (const f of features) sentValues[f].push(input[f]);
    const id = `py-${i}`;
    const res = await post<{ request_id: string; label: string; sampled: boolean }>(`${url}/predict`, {
      features: input,
      request_id: id,
    });
    expect(res).toMatchObject({ request_id: id, sampled: true });
    sent.push({ id, truth: row.at(-1) as string, predicted: res.label });
  }

  // Requests that fail validation: counted as requests and as errors of their class.
  const BAD = 5;
  for (let i = 0; i < BAD; i++) {
    const r = await fetch(`${url}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ features: { age: 0.01 } }),
    });
    expect(r.status).toBe(400);
  }

  // Counts: exactly N + BAD requests, BAD errors, N predictions.
  const scrape = await eventually(async () => {
    const s = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
    return sumOf(s, "ml_requests_total", { model_name: MODEL }) === N + BAD ? s : undefined;
  }, 60_000);
  expect(
    sumOf(scrape, "ml_requests_total", { model_name: MODEL, model_version: "1", endpoint: "/predict" }),
  ).toBe(N + BAD);
  expect(sumOf(scrape, "ml_errors_total", { model_name: MODEL, error_type: "ValidationError" })).toBe(BAD);
  expect(sumOf(scrape, "ml_errors_total", { model_name: MODEL })).toBe(BAD);
  expect(sumOf(scrape, "ml_predictions_by_class_total", { model_name: MODEL })).toBe(N);

  // Drift: every feature's window holds all N values (negatives included), and only bmi moved.
  const report = await eventually(async () => {
    const r = await fetch(`${c.query}/api/v1/models/${MODEL}/drift`);
    if (!r.ok) return undefined;
    const d = (await r.json()) as DriftReport;
    const done = features.every((f) => {
      const x = d.features.find((e) => e.feature === f);
      return x?.samples === N && x.score !== undefined;
    });
    return done ? d : undefined;
  }, 90_000);
  const score = (f: string) => report.features.find((e) => e.feature === f)?.score?.value as number;
  expect(score(SHIFTED)).toBeGreaterThan(0.3);
  expect(report.features.find((e) => e.feature === SHIFTED)?.score?.severity).toBe("critical");
  for (const f of features.filter((x) => x !== SHIFTED)) {
    // Dropped negatives would put D near 0.5 on every feature.
    expect(score(f), f).toBeLessThan(0.12);
  }
  // And each D is the exact two-sample KS statistic of the raw values (scipy), up to binning.
  const exact = exactKs(
    Object.fromEntries(features.map((f, j) => [f, rows.map((r) => Number(r[j]))])),
    sentValues,
  );
  console.log(
    `KS D per feature, collector (scipy): ${features.map((f) => `${f}=${score(f).toFixed(4)} (${exact[f].toFixed(4)}, bound ${report.features.find((e) => e.feature === f)?.score?.errorBound?.toFixed(4)})`).join(" ")}`,
  );
  for (const f of features) {
    // The collector bounds its binning error |D - D_raw|; scipy's D must lie within it.
    const bound = report.features.find((e) => e.feature === f)?.score?.errorBound as number;
    // (Wide for sex and s4, which take only a few distinct values; a few hundredths for the others.)
    expect(Math.abs(score(f) - exact[f]), f).toBeLessThanOrEqual(bound + 1e-9);
  }
  expect(Math.abs(score(SHIFTED) - exact[SHIFTED])).toBeLessThan(0.01);

  // Accuracy: the true labels go through the service's /feedback to the collector.
  let joined = 0;
  for (const s of sent) {
    const r = await post<{ joined: number }>(`${url}/feedback`, { request_id: s.id, label: s.truth });
    joined += r.joined;
  }
  expect(joined).toBe(N);
  const correct = sent.filter((s) => s.predicted === s.truth).length;
  expect(correct).toBeGreaterThan(N / 2);
  expect(correct).toBeLessThan(N);
  const s = await eventually(async () => {
    const x = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
    return sumOf(x, "ml_segment_outcomes_total", { model_name: MODEL }) === N ? x : undefined;
  }, 60_000);
  expect(sumOf(s, "ml_segment_outcomes_total", { model_name: MODEL, outcome: "correct" })).toBe(correct);
  const accuracy = await eventually(async () => {
    const x = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
    const v = sumOf(x, "ml_accuracy_by_segment", { model_name: MODEL, segment: "ground_truth_sample" });
    return Math.abs(v - correct / N) < 1e-9 ? v : undefined;
  }, 60_000);
  expect(accuracy).toBeCloseTo(correct / N, 12);
});
