// `pnpm demo`: the whole product on one machine, no Docker. Builds a
// baseline from the training texts, starts the collector, the instrumented
// sentiment service and the traffic generator on loopback, and prints a
// live health summary until stopped or --duration seconds pass.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FEATURE_NAMES, MODEL_NAME, predict } from "./model.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CLI = here("../../../collector/dist/cli/main.js");
const SERVICE = here("./server.js");
const TRAFFIC = here("./traffic.js");
const TRAINING = here("../data/training-texts.txt");

// The options, their defaults and help live in one file that `npm run demo -- --help` (scripts/demo.mjs)
// reads too, before anything is built.
interface DemoOptions {
  usage: string;
  about: string;
  options: Record<string, { default: string; value: string; help: string }>;
}
const spec = JSON.parse(readFileSync(here("../demo-options.json"), "utf8")) as DemoOptions;
const { values: args } = parseOptions();

function parseOptions() {
  try {
    return parseDemoArgs();
  } catch (e) {
    console.error(`demo: ${(e as Error).message}; see --help`);
    process.exit(2);
  }
}

function parseDemoArgs() {
  return parseArgs({
    options: {
      ...Object.fromEntries(
        Object.entries(spec.options).map(([name, o]) => [
          name,
          { type: "string" as const, default: o.default },
        ]),
      ),
      help: { type: "boolean", short: "h", default: false },
    },
  }) as unknown as { values: Record<string, string> & { help: boolean } }; // every option but help is a string
}

if (args.help) {
  console.log(`usage: ${spec.usage}\n${spec.about}\n`);
  for (const [name, o] of Object.entries(spec.options))
    console.log(`  --${`${name} ${o.value}`.padEnd(17)} ${o.help} (default ${o.default})`);
  process.exit(0);
}

const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), "mlwatch-demo-"));
let stopping = false;

function stopAll(code: number): never {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

function fail(msg: string): never {
  console.error(`demo: ${msg}`);
  return stopAll(1);
}

/** Starts a node script; resolves with its first JSON "listening" line. */
function start(
  name: string,
  script: string,
  argv: string[],
  waitFor = "listening",
): Promise<Record<string, string>> {
  const child = spawn(process.execPath, [script, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const errors: string[] = [];
  child.stderr?.on("data", (d: Buffer) => {
    errors.push(d.toString());
    if (errors.length > 50) errors.shift();
  });
  child.on("exit", (code) => {
    if (!stopping) fail(`${name} exited unexpectedly (code ${code}):\n${errors.join("")}`);
  });
  return new Promise((resolve) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === waitFor) resolve(msg);
      } catch {}
    });
  });
}

function run(script: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...argv], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}`))));
  });
}

/** The part of GET /api/v1/models/{model} the demo prints. */
interface Summary {
  requests: number;
  requestsPerSecond: number;
  errorRate: number | null;
  latencySeconds: { p95: number } | null;
  drift: Array<{ feature: string; score: number | null; severity: string | null; samples: number }>;
  accuracy: Array<{ segment: string; accuracy: number | null; total: number }>;
  conceptDrift: { confidencePsi: number | null; classPsi: number | null; severity: string | null } | null;
}

/** One reading of the headline signals, for the before → after summary. */
interface Reading {
  errorRate: number | null;
  p95: number | null;
  accuracy: number | null;
  labels: number;
  classPsi: number | null;
}

function readingOf(s: Summary): Reading {
  const acc = s.accuracy.find((a) => a.accuracy !== null);
  return {
    errorRate: s.errorRate,
    p95: s.latencySeconds?.p95 ?? null,
    accuracy: acc?.accuracy ?? null,
    labels: acc?.total ?? 0,
    classPsi: s.conceptDrift?.classPsi ?? null,
  };
}

const pct = (x: number | null, digits = 1) => (x === null ? "–" : `${(x * 100).toFixed(digits)}%`);
const ms = (x: number | null) => (x === null ? "–" : `${(x * 1000).toFixed(1)} ms`);
const fixed = (x: number | null) => (x === null ? "–" : x.toFixed(2));

/** The SLOs the demo's collector tracks: they show on the status page and in /api/v1/models/{model}/slo. */
const DEMO_SLOS = [
  "{ name: availability, kind: availability, target: 0.99 }",
  "{ name: latency, kind: latency, target: 0.95, thresholdSeconds: 0.25 }",
  "{ name: accuracy, kind: accuracy, target: 0.8 }",
];

async function main(): Promise<void> {
  const t0 = Date.now();
  // 1. Baseline from the training texts, through the same feature code the service runs.
  const texts = readFileSync(TRAINING, "utf8").split("\n").filter(Boolean);
  const csv = [[...FEATURE_NAMES, "confidence", "predicted"].join(",")];
  for (const t of texts) {
    const r = predict(t);
    csv.push([...FEATURE_NAMES.map((f) => r.features[f]), r.confidence, r.label].join(","));
  }
  writeFileSync(join(work, "training-features.csv"), `${csv.join("\n")}\n`);
  console.log(`demo: building the baseline from ${texts.length} training texts`);
  await run(CLI, [
    "baseline",
    "build",
    "--input",
    join(work, "training-features.csv"),
    "--model",
    MODEL_NAME,
    "--confidence-column",
    "confidence",
    "--class-column",
    "predicted",
    "--out",
    join(work, "baseline.json"),
  ]);

  // 2. The collector, with a short window so the demo moves quickly.
  const window = Number(args.window);
  writeFileSync(
    join(work, "collector.yaml"),
    [
      `otlp: { port: ${Number(args["otlp-port"])} }`,
      `query: { port: ${Number(args.port)} }`,
      `windows: { slotSeconds: 2, analysisSeconds: ${window} }`,
      // A higher minimum than the default keeps the first, thin windows from showing sampling noise as drift.
      "analysis: { intervalSeconds: 1, drift: { minSamples: 400 } }",
      `storage: { path: ${JSON.stringify(join(work, "collector.db"))} }`,
      `models: { ${MODEL_NAME}: { slo: { period: 1h, objectives: [${DEMO_SLOS.join(", ")}] } } }`,
    ].join("\n"),
  );
  const collector = await start("collector", CLI, ["collector", "--config", join(work, "collector.yaml")]);
  await run(CLI, ["baseline", "push", "--file", join(work, "baseline.json"), "--url", collector.query]);

  // 3. The service, exporting every second, and the traffic.
  const service = await start("service", SERVICE, [
    "--port",
    args["service-port"],
    "--otlp",
    collector.otlp,
    "--export-interval",
    "1000",
    "--allow-fault-injection",
  ]);
  const driftAfter = Number(args["drift-after"]);
  await start(
    "traffic",
    TRAFFIC,
    [
      "--target",
      service.url,
      "--rps",
      args.rps,
      "--drift-after",
      String(driftAfter),
      "--scenario",
      args.scenario,
    ],
    "started",
  );
  console.log(
    `demo: collector ${collector.query} (status page with health and SLOs, /metrics, /api/v1/models) · OTLP ${collector.otlp}`,
  );
  console.log(
    `demo: service ${service.url} · scenario "${args.scenario}" starts after ${driftAfter}s · window ${window}s`,
  );
  console.log(
    [
      "demo: each line: requests per second, share of failed requests, p95 latency, acc = accuracy on the",
      "      predictions that got a true label back, class PSI = how far the mix of predicted classes moved from",
      "      the training baseline, then each feature's KS D against the baseline. A severity (INFO, WARNING,",
      `      CRITICAL) follows a score past the collector's threshold. Scores cover the last ${window}s: once the`,
      "      scenario starts they climb as its traffic fills the window.",
      "demo: Ctrl-C to stop\n",
    ].join("\n"),
  );

  const maxD = new Map<string, { before: number; after: number; crossedAt?: number }>();
  let before: Reading | undefined;
  let after: Reading | undefined;
  let announced = false;
  const duration = Number(args.duration);
  const started = Date.now();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (!interrupted && (duration === 0 || Date.now() - started < duration * 1000)) {
    await sleep(2000);
    if (interrupted) break;
    const elapsed = Math.round((Date.now() - started) / 1000);
    const res = await fetch(`${collector.query}/api/v1/models/${MODEL_NAME}`).catch(() => undefined);
    if (!res || res.status === 404) {
      console.log(`[${String(elapsed).padStart(3)}s] waiting for the first export…`);
      continue;
    }
    const s = (await res.json()) as Summary;
    const drifting = elapsed >= driftAfter;
    if (drifting && !announced) {
      console.log(
        `demo: scenario "${args.scenario}" started; the ${window}s window fills with it over the next ${window}s`,
      );
      announced = true;
    }
    if (drifting) after = readingOf(s);
    else before = readingOf(s);
    const phase = drifting ? args.scenario.toUpperCase() : "normal";
    const err = s.errorRate === null ? "  –  " : pct(s.errorRate);
    const p95 = ms(s.latencySeconds?.p95 ?? null);
    const drift = s.drift
      .map((d) => {
        if (d.score === null) return `${d.feature} –`;
        const m = maxD.get(d.feature) ?? { before: 0, after: 0 };
        if (elapsed < driftAfter) m.before = Math.max(m.before, d.score);
        else m.after = Math.max(m.after, d.score);
        if (d.score >= 0.25 && m.crossedAt === undefined) m.crossedAt = elapsed;
        maxD.set(d.feature, m);
        const sev = d.severity && d.severity !== "none" ? ` ${d.severity.toUpperCase()}` : "";
        return `${d.feature} ${d.score.toFixed(3)}${sev}`;
      })
      .join(" · ");
    const acc = s.accuracy.find((a) => a.accuracy !== null);
    const accText = acc ? ` acc ${pct(acc.accuracy, 0)}` : "";
    const psi = s.conceptDrift?.classPsi;
    const conceptSeverity = s.conceptDrift?.severity;
    const psiSev = conceptSeverity && conceptSeverity !== "none" ? ` ${conceptSeverity.toUpperCase()}` : "";
    const psiText = psi !== null && psi !== undefined ? ` class PSI ${psi.toFixed(2)}${psiSev}` : "";
    console.log(
      `[${String(elapsed).padStart(3)}s] ${phase.padEnd(12)} ${s.requestsPerSecond.toFixed(1)} req/s  errors ${err}  p95 ${p95}${accText}${psiText} | ${drift}`,
    );
  }

  console.log(
    "\ndemo: summary, before → after the scenario started (last reading of each phase, over its window)",
  );
  const pair = (f: (r: Reading) => string) => `${before ? f(before) : "–"} → ${after ? f(after) : "–"}`;
  console.log(`  errors             ${pair((r) => pct(r.errorRate))}`);
  console.log(`  p95 latency        ${pair((r) => ms(r.p95))}`);
  console.log(
    `  accuracy           ${pair((r) => (r.labels === 0 ? "no labels yet" : `${pct(r.accuracy, 0)} of ${r.labels} labels`))}`,
  );
  console.log(`  class PSI          ${pair((r) => fixed(r.classPsi))}`);
  console.log(
    "demo: KS D per feature against the training baseline (highest in each phase; 0.25 is critical)",
  );
  for (const [feature, m] of maxD) {
    const crossed = m.crossedAt !== undefined ? `  crossed 0.25 at ${m.crossedAt}s` : "";
    console.log(
      `  ${feature.padEnd(18)} max before ${m.before.toFixed(3)}  max after ${m.after.toFixed(3)}${crossed}`,
    );
  }
  console.log(`demo: done in ${Math.round((Date.now() - t0) / 1000)}s`);
  stopAll(0);
}

let interrupted = false;
process.once("SIGINT", () => {
  console.log("\ndemo: stopping");
  interrupted = true;
  stopping = true; // the children got the same Ctrl-C and exit on their own
});
main().catch((e) => fail((e as Error).stack ?? String(e)));
