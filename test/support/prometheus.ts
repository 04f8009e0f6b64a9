// Starts a real Prometheus (the Debian package) on a config of the test's
// own, and queries it. Its port is picked, freed, then handed to it: another
// process can take the port in between, so the Prometheus answering is known
// to be this one by its TSDB folder, and another port is tried when it is not.

import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { eventually } from "./processes.js";

export interface PrometheusHandle {
  url: string;
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

/** Starts Prometheus in `dir` on the config `build(port)` returns (the port is its own, for a self-scrape). */
export async function startPrometheus(
  dir: string,
  build: (port: number) => string,
  flags: string[] = [],
): Promise<PrometheusHandle> {
  const config = join(dir, "prometheus.yml");
  const tsdb = join(dir, "data");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(config, build(port));
    const proc = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${tsdb}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
        ...flags,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    proc.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const reap = () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    };
    process.once("exit", reap);
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const handle: PrometheusHandle = {
      url,
      proc,
      log: () => log,
      async stop() {
        process.off("exit", reap);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        await exited;
      },
    };
    let state: "ours" | "exited";
    try {
      state = await eventually(async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return "exited";
        const signal = AbortSignal.timeout(2000);
        if (!(await fetch(`${url}/-/ready`, { signal })).ok) return undefined;
        const f = (await (await fetch(`${url}/api/v1/status/flags`, { signal })).json()) as {
          data?: Record<string, string>;
        };
        return f.data?.["storage.tsdb.path"] === tsdb ? "ours" : undefined;
      }, 60_000);
    } catch (e) {
      await handle.stop();
      throw new Error(`prometheus did not become ready: ${(e as Error).message}\n${log}`);
    }
    if (state === "ours") return handle;
    if (attempt === 5 || !/address already in use/.test(log))
      throw new Error(`prometheus exited with ${proc.exitCode}:\n${log}`);
    await exited;
    rmSync(tsdb, { recursive: true, force: true });
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query; throws on a PromQL error. */
export async function promQuery(p: PrometheusHandle, promql: string): Promise<PromSample[]> {
  const res = await fetch(`${p.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: PromSample[] } };
  if (body.status !== "success") throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}
