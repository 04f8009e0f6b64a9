// What a user with only Node.js and npm has, for the tests that run npm and npx
// the way such a user would (test/e2e/npm-route.test.ts on a fresh clone,
// test/e2e/packaging.test.ts on installed tarballs): a shell environment
// without what `npm test` hands its scripts, a way to run a command and keep
// its output, and `npx mlwatch collector` started like a terminal starts it.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { delimiter } from "node:path";
import { createInterface } from "node:readline";

export const win = process.platform === "win32";
export const npx = win ? "npx.cmd" : "npx";
export const npm = win ? "npm.cmd" : "npm";

// What npm hands the scripts it runs (`npm test`) and a user's shell does not have.
const fromNpm =
  /^(npm_lifecycle_|npm_package_|npm_command$|npm_execpath$|npm_node_execpath$|npm_config_local_prefix$|npm_config_call$|INIT_CWD$)/i;

/**
 * The environment of a user's fresh shell on this machine: no npm script
 * variables, no node_modules/.bin on PATH. Offline (the default) means npm
 * fetches nothing: a package missing from its cache is an error, not a download.
 */
export function userEnv({ offline = true }: { offline?: boolean } = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !fromNpm.test(k)));
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  env[pathKey] = (env[pathKey] ?? "")
    .split(delimiter)
    .filter((p) => !/node_modules[\\/]\.bin|@npmcli[\\/]run-script/.test(p))
    .join(delimiter);
  if (offline) env.npm_config_offline = "true";
  env.npm_config_update_notifier = "false";
  return env;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects (a failure is a non-zero code, -1 when it could not run or timed out). */
export function run(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeout = 60_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env, timeout, shell: win, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface NpxCollector {
  /** The collector's one JSON line on stdout, parsed. */
  listening: { event: string; otlp: string; query: string };
  line: string;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGINT, as Ctrl-C) to npm, its shell and the collector alike, and waits until all are gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `npx mlwatch collector …args` in `cwd`, with its one stdout line. */
export async function startNpxCollector(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<NpxCollector> {
  // Its own process group, as a terminal gives a command: a signal to the group reaches npm, its shell and the collector.
  const proc: ChildProcess = spawn(npx, ["mlwatch", "collector", ...args], {
    cwd,
    env,
    detached: !win,
    shell: win,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const closed = new Promise<void>((resolve) => proc.once("close", () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      if (win) proc.kill(s);
      else process.kill(-proc.pid!, s);
    } catch {}
  };
  const reap = () => signal("SIGKILL");
  process.once("exit", reap);
  // "close" comes once every holder of the stdout pipe is gone: npm, its shell and the collector.
  const stop = async (s: NodeJS.Signals = "SIGINT") => {
    signal(s);
    const timer = setTimeout(() => signal("SIGKILL"), 20_000);
    await closed;
    clearTimeout(timer);
    process.off("exit", reap);
  };
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line in 30 s:\n${stdout}\n${stderr}`)),
      30_000,
    );
    proc.once("exit", (code) =>
      reject(new Error(`npx mlwatch collector exited with ${code}:\n${stdout}\n${stderr}`)),
    );
    createInterface({ input: proc.stdout! }).once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const listening = JSON.parse(line);
  return { listening, line, stdout: () => stdout, stderr: () => stderr, stop };
}
