// Runs a shortened demo exactly as `npm run demo` does (the built demo
// script, all processes real, free ports) and checks that its output shows
// the complaint wave pushing sentiment_score past 0.25 while text_length stays below 0.1.

import { spawn } from "node:child_process";
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
});
