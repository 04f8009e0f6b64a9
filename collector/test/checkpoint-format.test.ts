// Checkpoints keep histogram windows and streams' last points as packed bytes
// in base64 rather than as JSON bucket arrays (far cheaper to write); what is
// restored equals what was held, bytes that are not packed histograms are
// refused, and files written in the JSON form still load.

import { ExpHistogram } from "@mlwatch/stats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MetricsRequest, Temporality } from "../src/otlp/types.js";
import { Normalizer, type Observation } from "../src/pipeline/normalize.js";
import { HistogramWindow } from "../src/store/histogram-window.js";

describe("a histogram window's packed checkpoint form", () => {
  it("restores exactly the slots held, as the JSON form does", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            slotStep: fc.integer({ min: 0, max: 3 }),
            values: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), {
              minLength: 1,
              maxLength: 20,
            }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (adds) => {
          const w = new HistogramWindow(1000, 8);
          let t = 0;
          for (const a of adds) {
            t += a.slotStep * 1000;
            const h = new ExpHistogram();
            for (const v of a.values) h.record(v);
            w.add(t, h);
          }
          const packed = new HistogramWindow(1000, 8);
          packed.load(w.toPacked());
          const json = new HistogramWindow(1000, 8);
          json.load(w.toJSON());
          expect(packed.toJSON()).toEqual(w.toJSON());
          expect(json.toJSON()).toEqual(w.toJSON());
          expect(packed.merged(t).toJSON()).toEqual(w.merged(t).toJSON());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses bytes that are not packed slots, naming the window", () => {
    const w = new HistogramWindow(1000, 8);
    expect(() => w.load(Buffer.from([1, 5, 9, 9, 9, 9, 9]).toString("base64"))).toThrow();
    expect(() => w.load(Buffer.from([1, 50, 2]).toString("base64"))).toThrow(/cut short/);
  });
});

function histogramRequest(h: ExpHistogram, startNs: bigint, timeNs: bigint): MetricsRequest {
  const j = h.toJSON();
  return {
    resourceMetrics: [
      {
        resource: Object.assign(Object.create(null), { "service.instance.id": "r" }),
        scopeMetrics: [
          {
            scope: { name: "s", version: "" },
            metrics: [
              {
                name: "ml.feature.value",
                unit: "",
                description: "",
                kind: "exponential_histogram",
                temporality: Temporality.Cumulative,
                points: [
                  {
                    attributes: Object.assign(Object.create(null), {
                      "ml.model.name": "m",
                      "ml.feature.name": "f",
                    }),
                    startTimeUnixNano: startNs,
                    timeUnixNano: timeNs,
                    count: j.count,
                    sum: j.sum,
                    min: j.min,
                    max: j.max,
                    scale: j.scale,
                    zeroCount: j.zeroCount,
                    zeroThreshold: j.zeroThreshold,
                    positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
                    negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

const counts = (obs: Observation[]) => obs.map((o) => (o.kind === "histogram" ? o.delta.count : Number.NaN));

describe("a stream's last histogram in a checkpoint", () => {
  it("is written packed, and the next point is differenced against it after a restore", () => {
    const h = new ExpHistogram();
    for (let i = 0; i < 50; i++) h.record(i);
    const first = new Normalizer(0n);
    first.normalize(histogramRequest(h, 10n, 20n), 0);
    const { changed } = first.takeChanges();
    expect(changed[0].body.last).toHaveProperty("packed");
    for (let i = 0; i < 7; i++) h.record(i + 0.5);
    const n = new Normalizer(0n);
    n.restore(changed[0].key, JSON.parse(JSON.stringify(changed[0].body)));
    expect(counts(n.normalize(histogramRequest(h, 10n, 30n), 0).observations)).toEqual([7]);
  });

  it("still loads from the JSON form older files hold", () => {
    const h = new ExpHistogram();
    for (let i = 0; i < 50; i++) h.record(i);
    const first = new Normalizer(0n);
    first.normalize(histogramRequest(h, 10n, 20n), 0);
    const [c] = first.takeChanges().changed;
    const old = { ...c.body, last: h.toJSON() };
    for (let i = 0; i < 3; i++) h.record(i);
    const n = new Normalizer(0n);
    n.restore(c.key, old);
    expect(counts(n.normalize(histogramRequest(h, 10n, 30n), 0).observations)).toEqual([3]);
  });

  it("refuses bytes that are not a packed histogram", () => {
    const n = new Normalizer(0n);
    expect(() =>
      n.restore("k", {
        start: "1",
        time: "2",
        last: { packed: Buffer.from([7, 7, 7]).toString("base64") },
        seenMs: 0,
      }),
    ).toThrow(/not a packed histogram/);
  });
});
