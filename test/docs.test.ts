// Docs name what the code does: every instrument, attribute and derived
// family in packages/semconv appears in docs/semconv.md.

import { readFileSync } from "node:fs";
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
