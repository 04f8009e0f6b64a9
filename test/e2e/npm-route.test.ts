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

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npm, npx, run, startNpxCollector, userEnv } from "../support/npm-user.js";
import { ROOT } from "../support/processes.js";

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
    // Five npx runs and a collector: well over the default minute on a loaded CI machine.
  }, 240_000);
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
      npm,
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
async function startCollector(cwd: string) {
  const c = await startNpxCollector(cwd, npxEnv, ["--otlp-port", "0", "--port", "0", "--db", "collector.db"]);
  expect(Object.keys(c.listening).sort()).toEqual(["event", "otlp", "query"]);
  expect(c.listening.event).toBe("listening");
  return { ...c, interrupt: () => c.stop("SIGINT") };
}
