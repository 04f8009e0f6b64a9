// Docs name what the code does: every instrument, attribute and derived
// family in packages/semconv appears in docs/semconv.md.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Attr, Derived, Instruments, PromLabel } from "@mlwatch/semconv";
import { describe, expect, it } from "vitest";

const doc = readFileSync(new URL("../docs/semconv.md", import.meta.url), "utf8");

describe("docs/semconv.md", () => {
  it.each(Object.values(Instruments).map((i) => [i.name, i.prom]))("documents %s and %s", (otel, prom) => {
    expect(doc).toContain(`\`${otel}\``);
    expect(doc).toContain(prom);
  });
  it.each(Object.values(Attr))("documents attribute %s and its label", (a) => {
    expect(doc).toContain(`\`${a}\``);
    expect(doc).toContain(a === Attr.featureSign ? "folded away" : `\`${PromLabel[a]}\``);
  });
  it.each(Object.values(Derived).map((d) => d.prom))("documents family %s", (prom) => {
    expect(doc).toContain(prom);
  });
});

describe("links", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const pages = [
    "README.md",
    ...readdirSync(join(root, "docs"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".md"))
      .map((f) => join("docs", f)),
  ];
  it.each(pages)("every relative link in %s points at a file that exists", (page) => {
    const text = readFileSync(join(root, page), "utf8");
    const targets = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((t) => !/^[a-z]+:/.test(t));
    for (const t of targets) expect(existsSync(join(root, dirname(page), t)), `${page} → ${t}`).toBe(true);
  });
});
