import { ExpHistogram } from "@mlwatch/stats";
import { describe, expect, it } from "vitest";
import { type Metric, type MetricsRequest, Temporality } from "../src/otlp/types.js";
import { Normalizer, type Observation } from "../src/pipeline/normalize.js";

const START = 1_000_000_000_000n; // before the collector started
const COLLECTOR_START = 2_000_000_000_000n;
const LATER = 3_000_000_000_000n; // after it started

function attrs(a: Record<string, string>) {
  return Object.assign(Object.create(null), a);
}

function request(
  metric: Metric,
  resource: Record<string, string> = { "service.instance.id": "a" },
): MetricsRequest {
  return {
    resourceMetrics: [
      { resource: attrs(resource), scopeMetrics: [{ scope: { name: "s", version: "" }, metrics: [metric] }] },
    ],
  };
}

function counter(
  value: number,
  start: bigint,
  time: bigint,
  temporality: Temporality = Temporality.Cumulative,
): MetricsRequest {
  return request({
    name: "ml.requests",
    unit: "",
    description: "",
    kind: "sum",
    temporality,
    monotonic: true,
    points: [
      { attributes: attrs({ "ml.model.name": "m" }), startTimeUnixNano: start, timeUnixNano: time, value },
    ],
  });
}

const deltas = (obs: Observation[]) => obs.map((o) => (o.kind === "increment" ? o.delta : Number.NaN));

describe("cumulative counters", () => {
  it("differences successive points of a stream that began after the collector", () => {
    const n = new Normalizer(COLLECTOR_START);
    expect(deltas(n.normalize(counter(5, LATER, LATER + 1n), 0).observations)).toEqual([5]);
    expect(deltas(n.normalize(counter(12, LATER, LATER + 2n), 0).observations)).toEqual([7]);
    expect(deltas(n.normalize(counter(12, LATER, LATER + 3n), 0).observations)).toEqual([]);
  });

  it("uses the first point of a stream older than the collector as a reference only", () => {
    const n = new Normalizer(COLLECTOR_START);
    const first = n.normalize(counter(1000, START, LATER), 0);
    expect(first.observations).toEqual([]);
    expect(first.skipped).toBe(1);
    expect(deltas(n.normalize(counter(1004, START, LATER + 1n), 0).observations)).toEqual([4]);
  });

  it("drops duplicates and out-of-order points instead of counting them twice", () => {
    const n = new Normalizer(COLLECTOR_START);
    n.normalize(counter(5, LATER, LATER + 10n), 0);
    expect(n.normalize(counter(5, LATER, LATER + 10n), 0).skipped).toBe(1);
    expect(n.normalize(counter(3, LATER, LATER + 5n), 0).skipped).toBe(1);
    expect(deltas(n.normalize(counter(9, LATER, LATER + 20n), 0).observations)).toEqual([4]);
  });

  it("treats a new start time as a restart: the new total counts whole, never negative", () => {
    const n = new Normalizer(COLLECTOR_START);
    n.normalize(counter(50, LATER, LATER + 10n), 0);
    expect(deltas(n.normalize(counter(3, LATER + 100n, LATER + 110n), 0).observations)).toEqual([3]);
    expect(deltas(n.normalize(counter(8, LATER + 100n, LATER + 120n), 0).observations)).toEqual([5]);
  });

  it("treats a count that drops without a new start time as a reset", () => {
    const n = new Normalizer(COLLECTOR_START);
    n.normalize(counter(50, LATER, LATER + 10n), 0);
    expect(deltas(n.normalize(counter(4, LATER, LATER + 20n), 0).observations)).toEqual([4]);
  });

  it("keeps replicas apart by resource", () => {
    const n = new Normalizer(COLLECTOR_START);
    const a = (v: number, t: bigint) => ({ ...counter(v, LATER, t) });
    n.normalize(a(10, LATER + 1n), 0);
    const other = counter(7, LATER, LATER + 1n);
    other.resourceMetrics[0].resource = attrs({ "service.instance.id": "b" });
    expect(deltas(n.normalize(other, 0).observations)).toEqual([7]);
    expect(deltas(n.normalize(a(15, LATER + 2n), 0).observations)).toEqual([5]);
  });

  it("passes delta points through, dropping repeats", () => {
    const n = new Normalizer(COLLECTOR_START);
    expect(deltas(n.normalize(counter(4, START, LATER, Temporality.Delta), 0).observations)).toEqual([4]);
    expect(n.normalize(counter(4, START, LATER, Temporality.Delta), 0).skipped).toBe(1);
  });

  it("takes a counter point whole when the same stream was a histogram until now", () => {
    const n = new Normalizer(COLLECTOR_START);
    const h = request({
      name: "ml.requests",
      unit: "",
      description: "",
      kind: "exponential_histogram",
      temporality: Temporality.Cumulative,
      points: [{ ...expPoint([1, 2], LATER, LATER + 1n), attributes: attrs({ "ml.model.name": "m" }) }],
    });
    n.normalize(h, 0);
    const out = n.normalize(counter(5, LATER, LATER + 2n), 0).observations;
    expect(out).toEqual([expect.objectContaining({ kind: "increment", delta: 5 })]);
  });

  it("rejects NaN and negative totals with a reason", () => {
    const n = new Normalizer(COLLECTOR_START);
    expect(n.normalize(counter(Number.NaN, LATER, LATER + 1n), 0).rejected[0].reason).toBe("non_finite");
    expect(n.normalize(counter(-1, LATER, LATER + 1n), 0).rejected[0].reason).toBe("negative_count");
  });
});

function expPoint(values: number[], start: bigint, time: bigint) {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  const j = h.toJSON();
  return {
    attributes: attrs({ "ml.model.name": "m", "ml.feature.name": "f" }),
    startTimeUnixNano: start,
    timeUnixNano: time,
    count: j.count,
    sum: j.sum,
    min: j.min,
    max: j.max,
    scale: j.scale,
    zeroCount: j.zeroCount,
    zeroThreshold: j.zeroThreshold,
    positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
    negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
  };
}

describe("cumulative exponential histograms", () => {
  const metric = (p: ReturnType<typeof expPoint>): MetricsRequest =>
    request({
      name: "ml.feature.value",
      unit: "",
      description: "",
      kind: "exponential_histogram",
      temporality: Temporality.Cumulative,
      points: [p],
    });

  it("emits exactly the values recorded between two exports", () => {
    const n = new Normalizer(COLLECTOR_START);
    const first = [1, 2, 3, 4];
    const second = [...first, 10, 20, 0.5];
    n.normalize(metric(expPoint(first, LATER, LATER + 1n)), 0);
    const out = n.normalize(metric(expPoint(second, LATER, LATER + 2n)), 0).observations;
    expect(out).toHaveLength(1);
    const delta = (out[0] as Extract<Observation, { kind: "histogram" }>).delta;
    expect(delta.count).toBe(3);
    expect(delta.cdf(5)).toBeCloseTo(1 / 3, 6);
  });

  it("takes a cumulative point whole when the same stream came as delta points before (no throw)", () => {
    // Same metric, resource and attributes, both without a start time: one stream identity.
    const n = new Normalizer(COLLECTOR_START);
    const asDelta = metric(expPoint([1, 2], 0n, LATER + 1n));
    (asDelta.resourceMetrics[0].scopeMetrics[0].metrics[0] as { temporality: Temporality }).temporality =
      Temporality.Delta;
    expect(n.normalize(asDelta, 0).observations).toHaveLength(1);
    const r = n.normalize(metric(expPoint([1, 2, 3], 0n, LATER + 2n)), 0);
    expect(r.rejected).toEqual([]);
    expect((r.observations[0] as Extract<Observation, { kind: "histogram" }>).delta.count).toBe(3);
    // and the run goes on from there
    const next = n.normalize(metric(expPoint([1, 2, 3, 4], 0n, LATER + 3n)), 0);
    expect((next.observations[0] as Extract<Observation, { kind: "histogram" }>).delta.count).toBe(1);
  });

  it("passes a sink the same observations it would collect, one at a time", () => {
    // Three replicas' streams over several exports: steady steps (deltas written into one scratch
    // histogram for the sink), widening ranges, a restart, counters in between.
    const exports: MetricsRequest[] = [];
    let seed = 3;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const recorded: number[][] = [[], [], []];
    for (let e = 0; e < 12; e++) {
      const points = recorded.map((values, r) => {
        if (r === 2 && e === 6) values.length = 0; // replica 2 restarts
        for (let k = 0; k < 15; k++) values.push(40 + 20 * next() * (1 + e / 10));
        const p = expPoint(values, r === 2 && e >= 6 ? LATER + 100n : LATER, LATER + 1000n + BigInt(e));
        p.attributes = attrs({ "ml.model.name": "m", "ml.feature.name": `f${r}` });
        return p;
      });
      exports.push({
        resourceMetrics: [
          {
            resource: attrs({ "service.instance.id": "a" }),
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
                    points,
                  },
                  ...counter(10 * e, LATER, LATER + 1000n + BigInt(e)).resourceMetrics[0].scopeMetrics[0]
                    .metrics,
                ],
              },
            ],
          },
        ],
      });
    }
    const plain = (o: Observation) =>
      o.kind === "histogram" ? { ...o, memo: undefined, delta: o.delta.toJSON() } : { ...o, memo: undefined };
    const collecting = new Normalizer(COLLECTOR_START);
    const sinking = new Normalizer(COLLECTOR_START);
    for (const req of exports) {
      const want = collecting.normalize(req, 0);
      const got: unknown[] = [];
      const r = sinking.normalize(req, 0, (o) => got.push(plain(o)));
      expect(r.observations).toEqual([]);
      expect(got).toEqual(want.observations.map(plain));
      expect(r.rejected).toEqual(want.rejected);
      expect(r.skipped).toBe(want.skipped);
    }
  });

  it('takes -0 bucket counts (OTLP/JSON allows "-0") and goes on differencing the stream', () => {
    const n = new Normalizer(COLLECTOR_START);
    const point = (counts: number[], time: bigint) => ({
      ...expPoint([], LATER, time),
      count: counts.reduce((a, b) => a + b, 0),
      sum: 1,
      min: 2,
      max: 8,
      positive: { offset: 1, bucketCounts: counts },
    });
    const counts = [
      [0, 0, 70_000],
      [0, -0, 70_001],
      [0, 0, 70_002, -0],
      [0, 0, 70_004],
    ];
    const deltas = counts.map((c, i) => {
      const r = n.normalize(metric(point(c, LATER + BigInt(i + 1))), 0);
      expect(r.rejected).toEqual([]);
      return r.observations.map((o) => (o.kind === "histogram" ? o.delta.count : Number.NaN));
    });
    expect(deltas).toEqual([[70_000], [1], [1], [2]]);
  });

  it("rejects a histogram whose bucket counts do not add up", () => {
    const n = new Normalizer(COLLECTOR_START);
    const p = expPoint([1, 2, 3], LATER, LATER + 1n);
    p.count = 99;
    const r = n.normalize(metric(p), 0);
    expect(r.rejected[0].reason).toBe("invalid_histogram");
    expect(r.observations).toEqual([]);
  });
});
