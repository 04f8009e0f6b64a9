// The SDK's baseline helper writes what `mlwatch baseline build` writes: its
// output must pass the collector's own parser, and each histogram must equal
// the one the collector's makeBaseline() builds from the same values.

import { ExpHistogram } from "@mlwatch/stats";
import { describe, expect, it } from "vitest";
import { makeBaseline, parseBaseline } from "../../../collector/src/baselines/format.js";
import { buildBaseline } from "../src/index.js";

function normals(n: number, mean: number, sd: number, seed = 1): number[] {
  let s = seed;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 1) / 4294967297;
  };
  return Array.from(
    { length: n },
    () => mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}

describe("buildBaseline", () => {
  it("produces a baseline the collector accepts, identical to makeBaseline's for the same values", () => {
    const length = normals(5000, 120, 40);
    const score = normals(5000, 0, 1, 2);
    const confidence = normals(5000, 0.8, 0.1, 3).map((c) => Math.min(1, Math.max(0, c)));
    const b = buildBaseline({
      model: "sentiment",
      modelVersion: "1.0.0",
      features: {
        text_length: length,
        sentiment_score: Float64Array.from(score),
        language: ["en", "fr", "en", null],
      },
      confidence,
      classes: ["positive", "negative", "positive"],
      referenceAccuracy: 0.91,
    });
    const parsed = parseBaseline(JSON.parse(JSON.stringify(b)));
    expect(parsed.model).toBe("sentiment");
    expect(parsed.source).toEqual({ origin: "sdk", rows: 5000, skippedRows: 0 });

    const hist = (xs: number[]) => {
      const h = new ExpHistogram();
      for (const x of xs) h.record(x);
      return h;
    };
    const reference = makeBaseline({
      model: "sentiment",
      modelVersion: "1.0.0",
      features: { text_length: hist(length), sentiment_score: hist(score) },
      categorical: { language: { en: 2, fr: 1 } },
      confidence: hist(confidence),
      classes: { positive: 2, negative: 1 },
      referenceAccuracy: 0.91,
    });
    const { createdAt: _a, source: _s, ...mine } = b;
    const { createdAt: _b, source: _t, ...theirs } = reference;
    expect(mine).toEqual(theirs);
    // Negative values land in the negative range (the baseline is signed, unlike live OTel data).
    const s = b.features.sentiment_score;
    expect(s.kind === "numeric" && s.histogram.negative.counts.length > 0).toBe(true);
  });

  it("skips values that are not finite numbers and records the source", () => {
    const b = buildBaseline({
      model: "m",
      features: { x: [1, Number.NaN, null, "2", 3, Number.POSITIVE_INFINITY] },
      source: { file: "train.parquet", rows: 6, skippedRows: 0 },
    });
    const x = b.features.x;
    expect(x.kind === "numeric" && x.histogram.count).toBe(2);
    expect(parseBaseline(b).source).toEqual({
      origin: "sdk",
      file: "train.parquet",
      rows: 6,
      skippedRows: 0,
    });
  });

  it("rejects malformed input with a TypeError naming the problem", () => {
    expect(() => buildBaseline({ model: "", features: {} })).toThrow(/model/);
    expect(() => buildBaseline({ model: "m", features: { x: [Number.NaN] } })).toThrow(/"x"/);
    expect(() => buildBaseline({ model: "m", features: { x: 3 as never } })).toThrow(/"x"/);
    expect(() => buildBaseline({ model: "m", features: {}, referenceAccuracy: 2 })).toThrow(
      /referenceAccuracy/,
    );
    expect(() => buildBaseline({ model: "m", features: {}, classes: { a: -1 } })).toThrow(/"a"/);
  });
});
