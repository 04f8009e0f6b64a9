// Starts the real collector (and other node programs) as child processes for
// end-to-end tests, on port 0, and learns their addresses from the JSON
// "listening" line they print.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = join(ROOT, "collector/dist/cli/main.js");

export interface Started {
  proc: ChildProcess;
  info: Record<string, string>;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node script ...args` and waits for its {"event":"listening"} line. */
export function startNode(script: string, args: string[], timeoutMs = 20_000): Promise<Started> {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: ROOT });
  let out = "";
  proc.stderr!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  // A failing test may never reach its cleanup: never leave a child behind when the test process ends.
  const reap = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  };
  process.once("exit", reap);
  proc.once("exit", () => process.off("exit", reap));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in time:\n${out}`)), timeoutMs);
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}:\n${out}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      out += `${line}\n`;
      try {
        const msg = JSON.parse(line);
        if (msg.event === "listening") {
          clearTimeout(timer);
          resolve({ proc, info: msg, output: () => out, stop });
        }
      } catch {}
    });
  });
}

export interface CollectorHandle extends Started {
  otlp: string;
  query: string;
  dir: string;
  close(): Promise<void>;
}

/** Starts the collector CLI with a YAML config written from `yaml` lines (ports default to 0, storage in `dir`). */
export async function startCollector(
  yaml: string[] = [],
  dir = mkdtempSync(join(tmpdir(), "mlwatch-test-")),
): Promise<CollectorHandle> {
  const config = join(dir, "collector.yaml");
  const lines = [...yaml];
  if (!lines.some((l) => l.startsWith("otlp:"))) lines.push("otlp: { port: 0 }");
  if (!lines.some((l) => l.startsWith("query:"))) lines.push("query: { port: 0 }");
  if (!lines.some((l) => l.startsWith("storage:"))) {
    // Counters on /metrics are shown as of the last checkpoint: checkpoint often, so tests wait little.
    lines.push(`storage: { path: ${JSON.stringify(join(dir, "collector.db"))}, checkpointSeconds: 0.5 }`);
  }
  writeFileSync(config, lines.join("\n"));
  const s = await startNode(CLI, ["collector", "--config", config]);
  return {
    ...s,
    otlp: s.info.otlp,
    query: s.info.query,
    dir,
    async close() {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Path of a Debian-packaged tool, or undefined. CI installs them (see .ci/run); a developer machine may not have them. */
export function which(tool: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** True when a test needing `tool` should run: always in CI (where a missing tool is a failure), else when installed. */
export function toolAvailable(tool: string): boolean {
  if (process.env.CI) return true;
  const found = which(tool) !== undefined;
  if (!found)
    console.warn(`note: ${tool} is not installed; skipping the tests that need it (CI installs it)`);
  return found;
}

/** Parses Prometheus text exposition into samples. */
export function parseExposition(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      }
    }
    const v =
      m[3] === "+Inf" ? Number.POSITIVE_INFINITY : m[3] === "-Inf" ? Number.NEGATIVE_INFINITY : Number(m[3]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sumOf(
  samples: ReturnType<typeof parseExposition>,
  name: string,
  match: Record<string, string> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Polls fn until it returns a truthy value or the timeout passes. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  stepMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}
