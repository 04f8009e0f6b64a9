// The route docs/cli.md gives a user with only Node.js and npm, taken on a
// fresh clone: `git clone` of this repository at the commit under test, the two
// steps of `npm run setup`, then the documented `npx mlwatch …` commands from a
// folder below the clone's root, with relative paths.
//
// What is real: the clone (its own files, node_modules and dist/, nothing
// linked to this checkout), pnpm installing and linking the `mlwatch` bin,
// `tsc -b` building it, npm's npx finding that bin by walking up from the
// folder it runs in, and the CLI and collector themselves.
// What is shared, to stay fast and offline: pnpm's content-addressed store and
// npm's cache (which holds the pinned pnpm) of the machine running the suite,
// both filled by the suite's own `npm run setup`. The install runs with
// --offline and npm with offline=true, so nothing is fetched: a package missing
// from the store fails the test instead of being downloaded, and an `npx
// mlwatch` that did not find the clone's bin fails instead of fetching some
// other package called mlwatch from the registry.
//
// The commands run in an environment stripped of what `npm test` would hand
// down (npm_* script variables, INIT_CWD, node_modules/.bin on PATH), so the
// only mlwatch they can find is the clone's.

import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/processes.js";

const win = process.platform === "win32";
const npx = win ? "npx.cmd" : "npx";

// What npm hands the scripts it runs (`npm test`) and a user's shell does not have.
const fromNpm =
  /^(npm_lifecycle_|npm_package_|npm_command$|npm_execpath$|npm_node_execpath$|npm_config_local_prefix$|npm_config_call$|INIT_CWD$)/i;

/** The environment of a user's fresh shell on this machine, offline. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !fromNpm.test(k)));
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  env[pathKey] = (env[pathKey] ?? "")
    .split(delimiter)
    .filter((p) => !/node_modules[\\/]\.bin|@npmcli[\\/]run-script/.test(p))
    .join(delimiter);
  env.npm_config_offline = "true";
  env.npm_config_update_notifier = "false";
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeout = 60_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout, shell: win }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let clone: string;
const env = userEnv();
// npx never installs anything in this test: a missing bin is an error, not a download.
const npxEnv = { ...env, npm_config_yes: "false" };
const timings: string[] = [];

async function step(name: string, file: string, args: string[], cwd = clone): Promise<void> {
  const t = performance.now();
  const r = await run(file, args, cwd, env, 300_000);
  timings.push(`${name} ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (r.code !== 0) throw new Error(`${name} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlwatch-clone-"));
  clone = join(dir, "mlwatch");
  // Outside this checkout, so walking up from the clone never reaches this checkout's node_modules.
  expect(relative(ROOT, clone).startsWith("..")).toBe(true);
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  await step("git clone", "git", ["clone", "--quiet", ROOT, clone], dir);
  execFileSync("git", ["-C", clone, "checkout", "--quiet", "--detach", head]);
  // The store this checkout was installed from, in case it is not the default one.
  const modules = readFileSync(join(ROOT, "node_modules/.modules.yaml"), "utf8");
  const store = /storeDir"?:\s*"?([^"\n]+?)"?,?\s*$/m.exec(modules)?.[1];
  // `npm run setup` is `node scripts/pnpm.mjs install --frozen-lockfile && node scripts/pnpm.mjs run build`.
  await step("install", process.execPath, [
    "scripts/pnpm.mjs",
    "install",
    "--frozen-lockfile",
    "--offline",
    ...(store ? ["--store-dir", store] : []),
  ]);
  await step("build", process.execPath, ["scripts/pnpm.mjs", "run", "build"]);
  console.log(`fresh clone: ${timings.join(", ")}`);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npx mlwatch on a fresh clone", () => {
  it.each([".", "deploy", "packages/sdk"])("runs the clone's CLI from %s", async (folder) => {
    const { version } = JSON.parse(readFileSync(join(clone, "collector/package.json"), "utf8"));
    const r = await run(npx, ["mlwatch", "--version"], join(clone, folder), npxEnv);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.code).toBe(0);
  });

  it("builds, pushes and lists a baseline from a subfolder, with paths relative to it", async () => {
    const sub = join(clone, "models", "fraud");
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, "train.csv"), "amount,country\n10,fr\n12,de\n11,fr\n13,fr\n9,de\n");

    const built = await run(
      npx,
      [
        "mlwatch",
        "baseline",
        "build",
        "--input",
        "train.csv",
        "--model",
        "fraud",
        "--out",
        "fraud.baseline.json",
      ],
      sub,
      npxEnv,
    );
    expect(built.stderr).toContain(
      "baseline for fraud: 5 rows, 2 features (amount, country) → fraud.baseline.json",
    );
    expect(built.code).toBe(0);
    expect(built.stdout).toBe("");
    expect(JSON.parse(readFileSync(join(sub, "fraud.baseline.json"), "utf8")).model).toBe("fraud");

    const collector = await startCollector(sub);
    try {
      const { query } = collector.listening;
      const pushed = await run(
        npx,
        ["mlwatch", "baseline", "push", "--file", "fraud.baseline.json", "--url", query],
        sub,
        npxEnv,
      );
      expect(pushed.stderr).toContain(
        `pushed baseline for fraud (no version: the model's default) to ${query}`,
      );
      expect(pushed.code).toBe(0);

      const listed = await run(npx, ["mlwatch", "baseline", "list", "--url", query], sub, npxEnv);
      expect(listed.code).toBe(0);
      // One JSON line on stdout and nothing else: no npm banner.
      expect(listed.stdout.endsWith("\n")).toBe(true);
      expect(listed.stdout.trimEnd().split("\n")).toHaveLength(1);
      const { baselines } = JSON.parse(listed.stdout);
      expect(baselines).toEqual([
        expect.objectContaining({
          model: "fraud",
          modelVersion: null,
          origin: "build",
          features: ["amount", "country"],
        }),
      ]);
    } finally {
      await collector.interrupt();
    }
    // Stopped like Ctrl-C in a terminal: its stdout was the one listening line, its database is where the user stood.
    expect(collector.stdout()).toBe(`${collector.line}\n`);
    expect(existsSync(join(sub, "collector.db"))).toBe(true);
    expect(existsSync(join(clone, "collector.db"))).toBe(false);
    expect(existsSync(join(clone, "fraud.baseline.json"))).toBe(false);
  });
});

describe("outside the clone", () => {
  it("node with the built file, and npm exec --prefix, read and write relative to the user's folder", async () => {
    const mine = join(dir, "elsewhere");
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, "rows.csv"), "x\n1\n2\n");
    const viaNode = await run(
      process.execPath,
      [
        join(clone, "collector/dist/cli/main.js"),
        "baseline",
        "build",
        "-i",
        "rows.csv",
        "-m",
        "m",
        "-o",
        "a.json",
      ],
      mine,
      env,
    );
    expect(viaNode.stderr).toContain("baseline for m: 2 rows, 1 feature (x) → a.json");
    expect(viaNode.code).toBe(0);
    const viaExec = await run(
      win ? "npm.cmd" : "npm",
      [
        "exec",
        "--prefix",
        clone,
        "--",
        "mlwatch",
        "baseline",
        "build",
        "-i",
        "rows.csv",
        "-m",
        "m",
        "-o",
        "b.json",
      ],
      mine,
      npxEnv,
    );
    expect(viaExec.stderr).toContain("→ b.json");
    expect(viaExec.code).toBe(0);
    expect(existsSync(join(mine, "a.json")) && existsSync(join(mine, "b.json"))).toBe(true);
  });

  it("npx mlwatch finds no bin there and turns to the registry (refused here: offline, no installs)", async () => {
    const r = await run(npx, ["mlwatch", "--version"], dir, npxEnv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ENOTCACHED|E404|canceled/);
    expect(r.stderr).toContain("mlwatch");
  });
});

/** `npx mlwatch collector --otlp-port 0 --port 0 --db collector.db` in `cwd`, with its one stdout line. */
async function startCollector(cwd: string): Promise<{
  listening: { event: string; otlp: string; query: string };
  line: string;
  stdout(): string;
  interrupt(): Promise<void>;
}> {
  // Its own process group, as a terminal gives a command: Ctrl-C reaches npm, its shell and the collector alike.
  const proc: ChildProcess = spawn(
    npx,
    ["mlwatch", "collector", "--otlp-port", "0", "--port", "0", "--db", "collector.db"],
    {
      cwd,
      env: npxEnv,
      detached: !win,
      shell: win,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
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
  const interrupt = async () => {
    signal("SIGINT");
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
    await interrupt();
    throw e;
  });
  const listening = JSON.parse(line);
  expect(Object.keys(listening).sort()).toEqual(["event", "otlp", "query"]);
  expect(listening.event).toBe("listening");
  return { listening, line, stdout: () => stdout, interrupt };
}
