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

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "0" },
    "drift-after": { type: "string", default: "40" },
    scenario: { type: "string", default: "complaints" },
    rps: { type: "string", default: "50" },
    window: { type: "string", default: "30" },
    "otlp-port": { type: "string", default: "4318" },
    port: { type: "string", default: "9464" },
    "service-port": { type: "string", default: "8787" },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  console.log(`usage: pnpm demo [--duration S] [--drift-after S] [--scenario complaints|long-reviews|errors|latency]
       [--rps N] [--window S] [--otlp-port P] [--port P] [--service-port P]
Runs collector, sentiment service and traffic generator; prints a summary every 2 s.
--duration 0 (default) runs until Ctrl-C. Ports 0 pick free ones.`);
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

interface Summary {
  requests: number;
  requestsPerSecond: number;
  errorRate: number | null;
  latencySeconds: { p95: number } | null;
  drift: Array<{ feature: string; score: number | null; severity: string | null; samples: number }>;
  accuracy: Array<{ segment: string; accuracy: number | null }>;
  conceptDrift: { confidencePsi: number | null; classPsi: number | null } | null;
}

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
    `demo: collector ${collector.query} (status page, /metrics, /api/v1/models) · OTLP ${collector.otlp}`,
  );
  console.log(
    `demo: service ${service.url} · scenario "${args.scenario}" starts after ${driftAfter}s · window ${window}s`,
  );
  console.log("demo: Ctrl-C to stop\n");

  const maxD = new Map<string, { before: number; after: number; crossedAt?: number }>();
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
    const phase = elapsed >= driftAfter ? args.scenario.toUpperCase() : "normal";
    const err = s.errorRate === null ? "  –  " : `${(s.errorRate * 100).toFixed(1)}%`;
    const p95 = s.latencySeconds ? `${(s.latencySeconds.p95 * 1000).toFixed(1)} ms` : "–";
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
    const accText = acc ? ` acc ${(acc.accuracy! * 100).toFixed(0)}%` : "";
    const psi = s.conceptDrift?.classPsi;
    const psiText = psi !== null && psi !== undefined ? ` class PSI ${psi.toFixed(2)}` : "";
    console.log(
      `[${String(elapsed).padStart(3)}s] ${phase.padEnd(12)} ${s.requestsPerSecond.toFixed(1)} req/s  errors ${err}  p95 ${p95}${accText}${psiText} | ${drift}`,
    );
  }

  console.log("\ndemo: summary (KS D against the training baseline, before → after the scenario started)");
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
