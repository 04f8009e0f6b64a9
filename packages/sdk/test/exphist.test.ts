// The SDK's pre-aggregating exponential histogram against the OTel JS SDK's
// own exponential-histogram aggregation: for any values and any collection
// schedule, the cumulative points must be identical field by field — except
// in the one case where the OTel SDK loses resolution (an interval with only
// zeros), which is pinned down here as a documented, deliberate difference.

import {
  AggregationType,
  type ExponentialHistogram,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExpHistogramAccumulator, otelIndex } from "../src/exphist.js";

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function otelHistogram(maxSize = 160) {
  const reader = new TestReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [
      {
        instrumentName: "h",
        aggregation: {
          type: AggregationType.EXPONENTIAL_HISTOGRAM,
          options: { maxSize, recordMinMax: true },
        },
      },
    ],
  });
  const h = provider.getMeter("t").createHistogram("h");
  return {
    record: (v: number) => h.record(v),
    collect: async (): Promise<ExponentialHistogram | undefined> => {
      const { resourceMetrics } = await reader.collect();
      const p = resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0];
      return p?.value as ExponentialHistogram | undefined;
    },
  };
}

/** Our point in the shape the OTel SDK hands to its exporters. */
function ours(a: ExpHistogramAccumulator): ExponentialHistogram {
  return a.collect();
}

// Values over the whole positive float64 range, with the awkward ones made likely.
const value = fc.oneof(
  fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1074, max: 1023 }).map((e) => 2 ** e),
  fc.constantFrom(0, Number.MIN_VALUE, 2 ** -1022, Math.SQRT2, Math.E, 1, 0.1, 0.7, 1 - 2 ** -53),
);

describe("otelIndex", () => {
  it("equals the OTel SDK's bucket for single values at every scale it reaches", async () => {
    // A single value never triggers a downscale: compare scale-20 indices directly.
    await fc.assert(
      fc.asyncProperty(
        value.filter((v) => v > 0),
        async (v) => {
          const o = otelHistogram();
          o.record(v);
          const p = (await o.collect())!;
          expect(p.positive.offset).toBe(otelIndex(v, 20));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("ExpHistogramAccumulator", () => {
  it("exports exactly what the OTel SDK exports, over several collections", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(value, { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(160, 20, 4),
        async (intervals, maxSize) => {
          // The OTel SDK collapses to scale 0 after an interval of only zeros (see below): keep one non-zero value per interval.
          const fixed = intervals.map((vs) => (vs.every((v) => v === 0) ? [...vs, 1.5] : vs));
          const o = otelHistogram(maxSize);
          const a = new ExpHistogramAccumulator(maxSize);
          for (const vs of fixed) {
            for (const v of vs) {
              o.record(v);
              a.record(v);
            }
            expect(ours(a)).toEqual(await o.collect());
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("forms the cumulative sum as the OTel SDK does (per-interval partial sums), not as one running sum", async () => {
    const o = otelHistogram();
    const a = new ExpHistogramAccumulator();
    const values = [0.1, 0.2, 0.3, 1e-17, 0.7, 3.3];
    for (const [i, v] of values.entries()) {
      o.record(v);
      a.record(v);
      if (i % 2 === 1) expect(ours(a).sum).toBe((await o.collect())!.sum);
    }
    expect(ours(a)).toEqual(await o.collect());
  });

  it("reports scale 0 while only zeros were recorded, like the OTel SDK", async () => {
    const o = otelHistogram();
    const a = new ExpHistogramAccumulator();
    for (const v of [0, 0, 0]) {
      o.record(v);
      a.record(v);
    }
    expect(ours(a)).toEqual(await o.collect());
    expect(ours(a).scale).toBe(0);
  });

  it("keeps its resolution after an all-zero interval, where the OTel SDK collapses to scale 0 (deliberate difference)", async () => {
    const o = otelHistogram();
    const a = new ExpHistogramAccumulator();
    o.record(0);
    a.record(0);
    await o.collect();
    ours(a);
    for (const v of [1.5, 1.7]) {
      o.record(v);
      a.record(v);
    }
    const otel = (await o.collect())!;
    const mine = ours(a);
    expect(otel.scale).toBe(0);
    expect(otel.positive.bucketCounts).toEqual([2]);
    expect(mine.scale).toBeGreaterThan(0);
    // Everything else agrees.
    expect({ ...mine, scale: 0, positive: undefined }).toEqual({ ...otel, positive: undefined });
    expect(mine.positive.bucketCounts.reduce((s, c) => s + c, 0)).toBe(2);
  });

  it("downscales minimally when the range outgrows maxSize", () => {
    const a = new ExpHistogramAccumulator(160);
    a.record(1);
    expect(a.scale).toBe(20);
    a.record(2 ** 10);
    // 1 falls in bucket -1 and 2^10 in bucket 10·2^s - 1: 10·2^s + 1 buckets must fit in 160, so s = 3.
    const p = ours(a);
    expect(p.scale).toBe(3);
    expect(p.positive.offset).toBe(-1);
    expect(p.positive.bucketCounts.length).toBeLessThanOrEqual(160);
    expect(p.count).toBe(2);
  });
});
