// Runs a shortened demo exactly as `npm run demo` does (the built demo
// script, all processes real, free ports) and checks that its output shows
// the complaint wave pushing sentiment_score past 0.25 while text_length stays below 0.1.

import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "../support/processes.js";

function runDemo(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "examples/sentiment-service/dist/demo.js"), ...args], {
      cwd: ROOT,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

it("a shortened demo exits 0 and shows the drift crossing", { timeout: 120_000 }, async () => {
  const { code, out } = await runDemo([
    "--duration",
    "32",
    "--drift-after",
    "14",
    "--window",
    "12",
    "--rps",
    "80",
    "--otlp-port",
    "0",
    "--port",
    "0",
    "--service-port",
    "0",
  ]);
  expect(code, out).toBe(0);
  const row = (feature: string) => {
    const m = new RegExp(
      `^\\s+${feature}\\s+max before (\\S+)\\s+max after (\\S+)(\\s+crossed 0.25 at (\\d+)s)?`,
      "m",
    ).exec(out);
    if (!m) throw new Error(`no summary row for ${feature} in:\n${out}`);
    return { before: Number(m[1]), after: Number(m[2]), crossedAt: m[4] ? Number(m[4]) : undefined };
  };
  const shifted = row("sentiment_score");
  const stable = row("text_length");
  expect(shifted.before, out).toBeLessThan(0.1);
  expect(shifted.after, out).toBeGreaterThan(0.25);
  expect(shifted.crossedAt, out).toBeGreaterThanOrEqual(14);
  expect(stable.before, out).toBeLessThan(0.1);
  expect(stable.after, out).toBeLessThan(0.1);
  // The live lines show the critical severity as it happens.
  expect(out).toMatch(/sentiment_score 0\.\d+ CRITICAL/);
  // The summary covers the headline signals before → after; complaints move the class mix.
  const signal = (name: string) => {
    const m = new RegExp(`^\\s+${name}\\s+(.+) → (.+)$`, "m").exec(out);
    if (!m) throw new Error(`no summary row for ${name} in:\n${out}`);
    return [m[1], m[2]];
  };
  for (const name of ["errors", "p95 latency"]) for (const v of signal(name)) expect(v, name).toMatch(/^\d/);
  const [psiBefore, psiAfter] = signal("class PSI").map(Number);
  expect(psiBefore, out).toBeLessThan(0.1);
  expect(psiAfter, out).toBeGreaterThan(0.25);
  // Labels come back with feedback; on a slow machine none may have arrived before the scenario.
  const [accBefore, accAfter] = signal("accuracy");
  expect(accBefore, out).toMatch(/^(\d+% of \d+ labels|no labels yet)$/);
  expect(accAfter, out).toMatch(/^\d+% of [1-9]\d* labels$/);
});

it("`npm run demo -- --help` lists every option with its default, without installing or building", () => {
  // A copy of just the launcher and the options file: nothing built or installed is there to lean on.
  const dir = mkdtempSync(join(tmpdir(), "mlwatch-demo-help-"));
  mkdirSync(join(dir, "scripts"));
  mkdirSync(join(dir, "examples/sentiment-service"), { recursive: true });
  cpSync(join(ROOT, "scripts/demo.mjs"), join(dir, "scripts/demo.mjs"));
  const options = join("examples/sentiment-service/demo-options.json");
  cpSync(join(ROOT, options), join(dir, options));
  const r = spawnSync(process.execPath, [join(dir, "scripts/demo.mjs"), "--help"], { encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  expect(r.status, r.stderr).toBe(0);
  const spec = JSON.parse(readFileSync(join(ROOT, options), "utf8")) as {
    options: Record<string, { default: string }>;
  };
  expect(Object.keys(spec.options).length).toBeGreaterThan(5);
  for (const [name, o] of Object.entries(spec.options))
    expect(r.stdout).toMatch(new RegExp(`^  --${name} .*\\(default ${o.default}\\)$`, "m"));
  // The built demo answers --help from the same file.
  const built = spawnSync(
    process.execPath,
    [join(ROOT, "examples/sentiment-service/dist/demo.js"), "--help"],
    {
      encoding: "utf8",
    },
  );
  expect(built.stdout.replace(/ +/g, " ")).toBe(r.stdout.replace(/ +/g, " "));
});

it("the demo refuses an unknown option with exit code 2, naming it", () => {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "examples/sentiment-service/dist/demo.js"), "--windw", "5"],
    {
      encoding: "utf8",
    },
  );
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/demo: .*--windw.*see --help/);
});
