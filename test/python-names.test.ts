// python/mlwatch_otel/_names.py is generated from packages/semconv: it must be
// exactly what the generator writes now, so the Python helper cannot drift from
// the names the TS SDK and the collector use.

import { readFileSync } from "node:fs";
import { Attr, Instruments } from "@mlwatch/semconv";
import { expect, it } from "vitest";
// @ts-expect-error: a plain ES module script without type declarations
import { PYTHON_NAMES_PATH, pythonNames } from "../scripts/generate-python-names.mjs";

it("the committed _names.py is what scripts/generate-python-names.mjs generates (npm run generate:python)", () => {
  expect(readFileSync(PYTHON_NAMES_PATH, "utf8")).toBe(pythonNames());
});

it("names every attribute and instrument of packages/semconv", () => {
  const text = readFileSync(PYTHON_NAMES_PATH, "utf8");
  for (const a of Object.values(Attr)) expect(text).toContain(`"${a}"`);
  for (const i of Object.values(Instruments))
    expect(text).toContain(`("${i.name}", "${i.kind}", "${i.unit}"`);
});
