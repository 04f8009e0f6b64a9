// The published packages as a user outside this repository gets them: each
// of @mlwatch/semconv, stats, sdk and collector packed into a tarball, all
// installed with plain npm into an empty folder in the system temp directory
// (no pnpm, no workspace links), then `npx mlwatch --help`, `npx mlwatch
// collector`, and a script of the user's that imports @mlwatch/sdk and
// records predictions, seen on the collector's /metrics.
//
// What is real: the tarballs (packed by pnpm, which turns the `workspace:*`
// dependencies into the version, as publishing does; npm pack would leave
// `workspace:*`, which npm install refuses), npm resolving and installing the
// @mlwatch packages from those tarballs and everything else from the npm
// registry (this test needs that network), npm running better-sqlite3's
// install script, the installed bin, collector and SDK, over loopback HTTP.
//
// The one thing not fetched: better-sqlite3's install script downloads a
// prebuilt binary from GitHub, which the test machines cannot reach, and
// falls back to compiling SQLite from source (minutes on a busy machine). Its
// own `local-prebuilds` option is given a prebuilt tarball packed here from
// the binary the workspace install built from the same version's sources, so
// npm takes the prebuilt route a user with GitHub access takes. If npm picks
// another version the name does not match and it compiles instead (slower,
// still real); for that, node-gyp is pointed at the running Node's own headers
// when they are installed, so it needs no download from nodejs.org either.

import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npm, npx, type Run, run, startNpxCollector, userEnv } from "../support/npm-user.js";
import { eventually, parseExposition, ROOT, sumOf } from "../support/processes.js";

/** The published packages: folder in the workspace, and name. */
const PACKAGES = [
  { dir: "packages/semconv", name: "@mlwatch/semconv" },
  { dir: "packages/stats", name: "@mlwatch/stats" },
  { dir: "packages/sdk", name: "@mlwatch/sdk" },
  { dir: "collector", name: "@mlwatch/collector" },
] as const;

let dir: string;
let app: string;
const tarballs = new Map<string, string>();
// Online: the dependencies come from the registry. npx never installs: a missing bin is an error, not a download.
const env: NodeJS.ProcessEnv = { ...userEnv({ offline: false }), npm_config_yes: "false" };

function must(what: string, r: Run): Run {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The fields of a packed package.json this test reads. */
interface PackedJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  type?: string;
  main: string;
  types: string;
  engines?: Record<string, string>;
  exports: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

function packedJsonOf(tgz: string): PackedJson {
  return JSON.parse(execFileSync("tar", ["xzf", tgz, "-O", "package/package.json"], { encoding: "utf8" }));
}

function packedJson(name: string): PackedJson {
  return packedJsonOf(tarballs.get(name)!);
}

function packedFiles(name: string): string[] {
  return execFileSync("tar", ["tzf", tarballs.get(name)!], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((f) => f.replace(/^package\//, ""));
}

/** better-sqlite3's binary from the workspace install, as the tarball its prebuild-install looks for. */
function localPrebuild(into: string): void {
  const require = createRequire(join(ROOT, "collector/package.json"));
  const pkgDir = dirname(require.resolve("better-sqlite3/package.json"));
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  mkdirSync(into, { recursive: true });
  execFileSync("tar", ["czf", join(into, name), "-C", pkgDir, "build/Release/better_sqlite3.node"]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlwatch-pack-"));
  expect(relative(ROOT, dir).startsWith("..")).toBe(true);
  const packed = join(dir, "tarballs");
  // One pnpm run packs all four (pnpm starts once: it is fetched through npx when not installed).
  must(
    "pnpm pack",
    await run(
      process.execPath,
      [
        "scripts/pnpm.mjs",
        "-r",
        ...PACKAGES.flatMap((p) => ["--filter", p.name]),
        "pack",
        "--pack-destination",
        packed,
      ],
      ROOT,
      process.env,
      300_000,
    ),
  );
  for (const f of readdirSync(packed).filter((f) => f.endsWith(".tgz"))) {
    tarballs.set(packedJsonOf(join(packed, f)).name, join(packed, f));
  }
  expect([...tarballs.keys()].sort()).toEqual(PACKAGES.map((p) => p.name).sort());

  app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "packaging-check", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  const prebuilds = join(dir, "prebuilds");
  localPrebuild(prebuilds);
  const installEnv: NodeJS.ProcessEnv = { ...env, npm_config_better_sqlite3_local_prebuilds: prebuilds };
  const prefix = dirname(dirname(process.execPath));
  if (!installEnv.npm_config_nodedir && existsSync(join(prefix, "include/node/node.h")))
    installEnv.npm_config_nodedir = prefix;
  const t = performance.now();
  must(
    "npm install of the tarballs",
    await run(npm, ["install", "--no-audit", "--no-fund", ...tarballs.values()], app, installEnv, 600_000),
  );
  const compiled = existsSync(join(app, "node_modules/better-sqlite3/build/Release/obj.target"));
  console.log(
    `npm install ${((performance.now() - t) / 1000).toFixed(1)} s; better-sqlite3 ${compiled ? "compiled from source" : "from the local prebuild"}`,
  );
}, 900_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed tarballs", () => {
  it.each(PACKAGES.map((p) => p.name))("%s holds only what a user needs", (name) => {
    const files = packedFiles(name);
    expect(files).toContain("package.json");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    for (const f of files) {
      expect(f, name).toMatch(/^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts)|bin\/mlwatch\.js)$/);
      expect(f, name).not.toMatch(/\.test\.|\.map$|tsbuildinfo|^src\//);
    }
    // Every entry point the package.json names is in the tarball.
    const pkg = packedJson(name);
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap(Object.values)];
    for (const t of targets) expect(files, `${name} → ${t}`).toContain(String(t).replace(/^\.\//, ""));
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toContain("Apache License");
  });

  it("share one version, depend on each other at it, and declare licence, engines and types first", () => {
    const versions = new Set(PACKAGES.map((p) => packedJson(p.name).version));
    expect(versions.size).toBe(1);
    const [version] = versions;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const p of PACKAGES) {
      const pkg = packedJson(p.name);
      expect(JSON.stringify(pkg)).not.toContain("workspace:");
      expect(pkg.name).toBe(p.name);
      expect(pkg.license).toBe("Apache-2.0");
      expect(pkg.engines).toEqual({ node: ">=20.6.0" });
      expect(pkg.type).toBe("module");
      expect(pkg.description).toBeTruthy();
      for (const entry of Object.values(pkg.exports)) expect(Object.keys(entry)[0]).toBe("types");
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {}))
        if (dep.startsWith("@mlwatch/")) expect(range, `${p.name} → ${dep}`).toBe(version);
    }
    expect(packedJson("@mlwatch/collector").bin).toEqual({ mlwatch: "./bin/mlwatch.js" });
  });
});

describe("installed with npm outside the workspace", () => {
  it("puts real folders in node_modules, not links into the workspace", () => {
    for (const p of PACKAGES) {
      const at = join(app, "node_modules", p.name);
      expect(lstatSync(at).isSymbolicLink(), at).toBe(false);
      expect(lstatSync(at).isDirectory(), at).toBe(true);
      expect(relative(app, realpathSync(at)).startsWith(".."), at).toBe(false);
    }
    expect(existsSync(join(app, "node_modules/.pnpm"))).toBe(false);
  });

  it("npx mlwatch --help and --version answer from the installed bin", async () => {
    const help = must("npx mlwatch --help", await run(npx, ["mlwatch", "--help"], app, env));
    for (const command of ["collector", "baseline"])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    const version = must("npx mlwatch --version", await run(npx, ["mlwatch", "--version"], app, env));
    expect(version.stdout).toBe(`${packedJson("@mlwatch/collector").version}\n`);
  });

  it("an app importing @mlwatch/sdk records to `npx mlwatch collector`, seen on /metrics", async () => {
    // Counters on /metrics are as of the last checkpoint: checkpoint often, so the poll waits little.
    writeFileSync(
      join(app, "collector.yaml"),
      [
        "otlp: { port: 0 }",
        "query: { port: 0 }",
        `storage: { path: ${JSON.stringify(join(app, "collector.db"))}, checkpointSeconds: 0.5 }`,
      ].join("\n"),
    );
    // The user's own code: plain ESM, resolving @mlwatch/sdk from the folder's node_modules.
    writeFileSync(
      join(app, "predict.mjs"),
      `import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";

const [endpoint, count] = [process.argv[2], Number(process.argv[3])];
const monitoring = startMonitoring({ serviceName: "packaging-check", endpoint, exportIntervalMillis: 60_000 });
const monitor = new ModelMonitor({ modelName: "packaged", modelVersion: "1.0.0" });
const predict = monitor.wrap(
  (x) => {
    monitor.recordPrediction({ predictedClass: x < 0.5 ? "low" : "high", confidence: 0.5 + x / 2, features: { x } });
    return x;
  },
  { endpoint: "/predict" },
);
for (let i = 0; i < count; i++) predict(i / count);
await monitoring.shutdown();
console.log(JSON.stringify({ recorded: count }));
`,
    );
    const collector = await startNpxCollector(app, env, ["--config", "collector.yaml"]);
    const N = 37;
    try {
      expect(collector.listening.event).toBe("listening");
      const { otlp, query } = collector.listening;
      const script = must(
        "node predict.mjs",
        await run(process.execPath, ["predict.mjs", otlp, String(N)], app, env),
      );
      expect(script.stdout).toBe(`${JSON.stringify({ recorded: N })}\n`);
      const requests = await eventually(async () => {
        const res = await fetch(`${query}/metrics`);
        const samples = parseExposition(await res.text());
        const n = sumOf(samples, "ml_requests_total", { model_name: "packaged" });
        return n >= N && n;
      }, 30_000);
      expect(requests).toBe(N);
    } finally {
      // SIGTERM, as a service manager stops it; the process group reaches the collector under npx.
      await collector.stop("SIGTERM");
    }
    expect(collector.stdout()).toBe(`${collector.line}\n`);
    expect(existsSync(join(app, "collector.db"))).toBe(true);
  });
});
