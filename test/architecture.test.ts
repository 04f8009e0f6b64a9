// The module layout of the statistics core and the OTLP decoder (issue #18,
// docs/architecture.md), checked so that it does not drift back: files stay
// small and say what they are for, the histogram math does not reach into
// OTLP reading, the decoder takes only the OTLP entry point of stats, and
// runtime imports inside stats form no cycle. Not a test of behaviour.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STATS = join(ROOT, "packages/stats/src");
const DECODER = join(ROOT, "collector/src/otlp");
const MAX_LINES = 650;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => join(dir, f))
    .sort();
}

const rel = (f: string) => relative(ROOT, f).split("\\").join("/");
const FILES = [...sources(STATS), ...sources(DECODER)];

/** The relative modules a file imports at runtime (not `import type`), resolved to .ts paths. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"(\.[^"]+)";/gms)) {
    if (m[2] !== undefined) continue;
    out.push(join(file, "..", m[3].replace(/\.js$/, ".ts")));
  }
  return out;
}

describe("module layout (#18)", () => {
  it("finds the modules", () => {
    expect(FILES.length).toBeGreaterThan(20);
  });

  it.each(FILES.map(rel))("%s is at most 650 lines and opens with a comment", (f) => {
    const text = readFileSync(join(ROOT, f), "utf8");
    expect(text.split("\n").length, `${f}: lines`).toBeLessThanOrEqual(MAX_LINES);
    const first = text.trimStart();
    expect(first.startsWith("//") || first.startsWith("/*"), `${f}: opening comment`).toBe(true);
  });

  it("keeps the histogram math free of OTLP reading", () => {
    const math = FILES.filter((f) => f.startsWith(STATS) && !/[\\/](otlp|cumulative)[\\/]/.test(f));
    for (const f of math) {
      if (f.endsWith("exphist.ts") || f.endsWith("index.ts")) continue; // the class's fromOtlp, the entry point
      for (const dep of runtimeImports(f)) expect(rel(dep), rel(f)).not.toMatch(/\/(otlp|cumulative)\//);
    }
  });

  it("has the decoder take only the OTLP entry point of stats", () => {
    for (const f of sources(DECODER)) {
      const text = readFileSync(f, "utf8");
      expect(text, rel(f)).not.toMatch(/from "@mlwatch\/stats"/);
    }
  });

  it("has no runtime import cycle in stats", () => {
    const graph = new Map(sources(STATS).map((f) => [f, runtimeImports(f)]));
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(" → "));
        return;
      }
      state.set(f, "open");
      for (const dep of graph.get(f) ?? []) visit(dep, [...path, f]);
      state.set(f, "done");
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
