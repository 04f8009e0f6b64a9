import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExpHistogram } from "@mlwatch/stats";
import { describe, expect, it } from "vitest";
import { buildBaseline, splitCsvLine } from "../src/baselines/build.js";
import { type Baseline, parseBaseline } from "../src/baselines/format.js";

/** The histogram of a numeric baseline feature (fails the test for a categorical one). */
function numeric(f: Baseline["features"][string]) {
  if (f.kind !== "numeric") throw new Error(`expected a numeric feature, got ${f.kind}`);
  return f.histogram;
}

const dir = mkdtempSync(join(tmpdir(), "mlwatch-build-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("splitCsvLine", () => {
  it("understands RFC 4180 quoting", () => {
    expect(splitCsvLine('a,"b,c","d ""e""",')).toEqual(["a", "b,c", 'd "e"', ""]);
    expect(splitCsvLine('"open')).toBeNull();
  });
});

describe("buildBaseline", () => {
  it("builds a histogram per numeric column and reports bad rows by line", async () => {
    const input = file(
      "train.csv",
      [
        "id,age,income,city",
        "1,30,1000,Paris",
        "2,40,2000,Rome",
        "3,50",
        "4,oops,3000,Oslo",
        '5,60,4000,"Bern"',
        "",
      ].join("\n"),
    );
    const r = await buildBaseline({ input, model: "m", exclude: ["id"] });
    expect(Object.keys(r.baseline.features).sort()).toEqual(["age", "city", "income"]);
    expect(r.baseline.features.city).toEqual({
      kind: "categorical",
      counts: { Paris: 1, Rome: 1, Oslo: 1, Bern: 1 },
    });
    expect(r.droppedColumns).toEqual([]);
    expect(r.rows).toBe(4);
    expect(r.skippedRows).toBe(1);
    expect(r.skippedValues).toBe(1);
    expect(r.problems).toEqual([
      { line: 4, message: "expected 4 fields, found 2" },
      { line: 5, message: 'column "age": "oops" is not a finite number' },
    ]);
    const age = ExpHistogram.fromJSON(numeric(r.baseline.features.age));
    expect(age.count).toBe(3);
    expect(age.min).toBe(30);
    expect(age.max).toBe(60);
    // What it writes is a valid baseline.
    expect(parseBaseline(JSON.parse(JSON.stringify(r.baseline))).model).toBe("m");
  });

  it("reads JSONL", async () => {
    const input = file("rows.jsonl", '{"x": 1.5, "y": -2}\n{"x": 2.5, "y": 3}\nnot json\n[1]\n');
    const r = await buildBaseline({ input, model: "m" });
    expect(r.rows).toBe(2);
    expect(r.problems.map((p) => p.line)).toEqual([3, 4]);
    expect(ExpHistogram.fromJSON(numeric(r.baseline.features.y)).min).toBe(-2);
  });

  it("fails clearly when a requested feature has no values", async () => {
    const input = file("t.csv", "a,b\n1,\n");
    await expect(buildBaseline({ input, model: "m", features: ["b"] })).rejects.toThrow(
      /feature "b" has no usable values/,
    );
  });

  it("leaves out text columns with too many distinct values", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},id-${i},${i % 3 === 0 ? "red" : "blue"}`);
    const input = file("ids.csv", ["x,id,colour", ...rows].join("\n"));
    const r = await buildBaseline({ input, model: "m", maxCategories: 10 });
    expect(r.droppedColumns).toEqual(["id"]);
    expect(r.baseline.features.colour).toEqual({ kind: "categorical", counts: { red: 10, blue: 20 } });
  });

  it("takes confidence, predicted class and label columns for concept drift and the reference accuracy", async () => {
    const input = file(
      "scored.csv",
      [
        "len,conf,pred,truth",
        "10,0.9,pos,pos",
        "12,0.8,pos,neg",
        "9,0.95,neg,neg",
        "11,0.6,neg,neg",
        "13,1.5,pos,pos",
      ].join("\n"),
    );
    const r = await buildBaseline({
      input,
      model: "m",
      confidenceColumn: "conf",
      classColumn: "pred",
      labelColumn: "truth",
    });
    expect(Object.keys(r.baseline.features)).toEqual(["len"]);
    expect(ExpHistogram.fromJSON(r.baseline.confidence!).count).toBe(4);
    expect(r.problems).toEqual([{ line: 6, message: 'confidence "1.5" is not a number in [0, 1]' }]);
    expect(r.baseline.classes).toEqual({ pos: 3, neg: 2 });
    expect(r.baseline.referenceAccuracy).toBeCloseTo(4 / 5, 12);
  });
});

describe("parseBaseline", () => {
  it("names what is wrong", () => {
    expect(() => parseBaseline({ format: "mlwatch.baseline", version: 2 })).toThrow(/version/);
    expect(() =>
      parseBaseline({
        format: "mlwatch.baseline",
        version: 1,
        model: "m",
        createdAt: new Date().toISOString(),
        features: {
          f: {
            kind: "numeric",
            histogram: {
              scale: 0,
              zeroCount: 0,
              zeroThreshold: 0,
              count: 5,
              sum: 1,
              min: 1,
              max: 1,
              positive: { offset: 0, counts: [1] },
              negative: { offset: 0, counts: [] },
            },
          },
        },
      }),
    ).toThrow(/features\.f\.histogram/);
  });
});
