// The ingest fast paths keep the general paths' results: cumulative histograms
// differenced in place (the previous point updated, the delta built once), and
// the store's per-stream routes (labels, series key and the series cap worked
// out once per replica stream).
import { Attr, Instruments } from "@mlwatch/semconv";
import { ExpHistogram } from "@mlwatch/stats";
import { describe, expect, it } from "vitest";
import { decodeMetricsProto } from "../src/otlp/index.js";
import {
  type ExpHistogramPoint,
  type Metric,
  type MetricsRequest,
  type NumberPoint,
  Temporality,
} from "../src/otlp/types.js";
import { Normalizer, type Observation } from "../src/pipeline/normalize.js";
import { type HistogramSeries, ModelStore, OVERFLOW } from "../src/store/model-store.js";
import { cat, f64, fDouble, metric, metricsRequest, sum, T0, T1 } from "./otlp/pb.js";

const COLLECTOR_START = 2_000_000_000_000n;
const LATER = 3_000_000_000_000n;

function attrs(a: Record<string, string>) {
  return Object.assign(Object.create(null), a);
}

function request(metrics: Metric[]): MetricsRequest {
  return {
    resourceMetrics: [
      {
        resource: attrs({ "service.instance.id": "a" }),
        scopeMetrics: [{ scope: { name: "s", version: "" }, metrics }],
      },
    ],
  };
}

function expPoint(
  h: ExpHistogram,
  a: Record<string, string>,
  start: bigint,
  time: bigint,
): ExpHistogramPoint {
  const j = h.toJSON();
  return {
    attributes: attrs(a),
    startTimeUnixNano: start,
    timeUnixNano: time,
    count: j.count,
    sum: j.sum,
    min: j.count > 0 ? j.min : undefined,
    max: j.count > 0 ? j.max : undefined,
    scale: j.scale,
    zeroCount: j.zeroCount,
    zeroThreshold: j.zeroThreshold,
    positive: { offset: j.positive.offset, bucketCounts: j.positive.counts },
    negative: { offset: j.negative.offset, bucketCounts: j.negative.counts },
  };
}

function histogramMetric(points: ExpHistogramPoint[], name: string = Instruments.duration.name): Metric {
  return {
    name,
    unit: "s",
    description: "",
    kind: "exponential_histogram",
    temporality: Temporality.Cumulative,
    points,
  };
}

function counterMetric(points: NumberPoint[]): Metric {
  return {
    name: Instruments.requests.name,
    unit: "",
    description: "",
    kind: "sum",
    temporality: Temporality.Cumulative,
    monotonic: true,
    points,
  };
}

const histDeltas = (obs: Observation[]) =>
  obs.flatMap((o) => (o.kind === "histogram" ? [o.delta.toJSON()] : []));

describe("cumulative histograms, differenced in place", () => {
  it("keeps an observation intact when a later point of the same stream follows in the same request", () => {
    const n = new Normalizer(COLLECTOR_START);
    const sdk = new ExpHistogram();
    const a = { "ml.model.name": "m" };
    for (const v of [0.1, 0.2, 0.4]) sdk.record(v);
    const p1 = expPoint(sdk, a, LATER, LATER + 1n);
    const first = sdk.toJSON();
    for (const v of [0.3, 5, 7]) sdk.record(v);
    const p2 = expPoint(sdk, a, LATER, LATER + 2n);
    for (const v of [0.05]) sdk.record(v);
    const p3 = expPoint(sdk, a, LATER, LATER + 3n);
    const r = n.normalize(request([histogramMetric([p1, p2, p3])]), 0);
    const got = histDeltas(r.observations);
    expect(got).toHaveLength(3);
    // the first point of a stream that began after the collector counts whole, and is not
    // changed by the points after it (the stream's state is updated in place)
    expect(got[0]).toEqual(first);
    expect(got.map((d) => d.count)).toEqual([3, 3, 1]);
    const merged = new ExpHistogram();
    for (const o of r.observations) if (o.kind === "histogram") merged.merge(o.delta);
    expect(merged.bucketsAt(1, merged.scale)).toEqual(sdk.bucketsAt(1, merged.scale));
  });

  it("differences exports whose scale goes down, and counts a reset whole", () => {
    const n = new Normalizer(COLLECTOR_START);
    const a = { "ml.model.name": "m" };
    const sdk = new ExpHistogram({ maxSize: 8 });
    let t = LATER;
    const merged = new ExpHistogram();
    const scales = new Set<number>();
    for (let e = 0; e < 12; e++) {
      for (let k = 0; k < 5; k++) sdk.record(1.5 ** (e + k / 5));
      scales.add(sdk.scale);
      t += 10n;
      const r = n.normalize(request([histogramMetric([expPoint(sdk, a, LATER, t)])]), 0);
      for (const o of r.observations) if (o.kind === "histogram") merged.merge(o.delta);
    }
    expect(scales.size).toBeGreaterThan(2);
    expect(merged.count).toBe(sdk.count);
    const at = Math.min(merged.scale, sdk.scale);
    expect(merged.bucketsAt(1, at)).toEqual(sdk.bucketsAt(1, at));
    // a new start time: the point counts whole
    const fresh = new ExpHistogram();
    fresh.record(3);
    const r = n.normalize(request([histogramMetric([expPoint(fresh, a, t, t + 1n)])]), 0);
    expect(histDeltas(r.observations)).toEqual([fresh.toJSON()]);
    // a repeat is dropped, a point with fewer values is a reset
    expect(n.normalize(request([histogramMetric([expPoint(fresh, a, t, t + 1n)])]), 0).skipped).toBe(1);
    const fewer = new ExpHistogram();
    const r2 = n.normalize(request([histogramMetric([expPoint(fewer, a, t, t + 2n)])]), 0);
    expect(r2.observations).toEqual([]);
    expect(r2.skipped).toBe(0);
  });

  it("rejects an invalid point of a tracked stream as before, and keeps the stream's last point", () => {
    const n = new Normalizer(COLLECTOR_START);
    const a = { "ml.model.name": "m" };
    const sdk = new ExpHistogram();
    sdk.record(1);
    n.normalize(request([histogramMetric([expPoint(sdk, a, LATER, LATER + 1n)])]), 0);
    sdk.record(2);
    const bad = expPoint(sdk, a, LATER, LATER + 2n);
    bad.count += 5; // buckets do not add up
    const r = n.normalize(request([histogramMetric([bad])]), 0);
    expect(r.rejected.map((x) => x.reason)).toEqual(["invalid_histogram"]);
    sdk.record(4);
    const ok = n.normalize(request([histogramMetric([expPoint(sdk, a, LATER, LATER + 3n)])]), 0);
    expect(histDeltas(ok.observations).map((d) => d.count)).toEqual([2]);
  });
});

describe("stream bookkeeping, grouped by resource, scope and metric", () => {
  const point = (value: number, time: bigint, model = "m"): NumberPoint => ({
    attributes: attrs({ [Attr.modelName]: model }),
    startTimeUnixNano: LATER,
    timeUnixNano: time,
    value,
  });

  it("differences the next point against a restored one, checkpoints and evicts it by its key", () => {
    const first = new Normalizer(COLLECTOR_START);
    first.normalize(request([counterMetric([point(5, LATER + 1n)])]), 1000);
    const { changed } = first.takeChanges();
    expect(changed).toHaveLength(1);
    const n = new Normalizer(COLLECTOR_START + 10n);
    for (const c of changed) n.restore(c.key, c.body);
    expect(n.streamCount).toBe(1);
    const r = n.normalize(request([counterMetric([point(12, LATER + 2n)])]), 2000);
    expect(r.observations.map((o) => (o.kind === "increment" ? o.delta : Number.NaN))).toEqual([7]);
    expect(n.streamCount).toBe(1);
    const again = n.takeChanges();
    expect(again.changed.map((c) => [c.key, c.body.last])).toEqual([[changed[0].key, 12]]);
    expect(n.evictStale(3000)).toBe(1);
    expect(n.streamCount).toBe(0);
    // forgotten in memory only: its row stays in the checkpoint file (nothing new to write)
    expect(n.takeChanges()).toEqual({ changed: [] });
    // a restored stream never seen again is evicted too
    n.restore(changed[0].key, changed[0].body);
    expect(n.evictStale(3000)).toBe(1);
    expect(n.streamCount).toBe(0);
  });

  it("finds each point's stream whatever the order of points and attributes from one export to the next", () => {
    const n = new Normalizer(COLLECTOR_START);
    const pt = (a: Record<string, string | number>, value: number, time: bigint): NumberPoint => ({
      attributes: Object.assign(Object.create(null), a),
      startTimeUnixNano: LATER,
      timeUnixNano: time,
      value,
    });
    const deltasOf = (points: NumberPoint[]) =>
      n
        .normalize(request([counterMetric(points)]), 10_000_000)
        .observations.map((o) =>
          o.kind === "increment" ? `${o.attributes[Attr.modelName]}:${o.delta}` : "",
        );
    const a = { [Attr.modelName]: "a", [Attr.endpoint]: "/p" };
    const b = { [Attr.modelName]: "b", [Attr.endpoint]: "/p" };
    expect(deltasOf([pt(a, 1, LATER + 1n), pt(b, 10, LATER + 1n)])).toEqual(["a:1", "b:10"]);
    // same positions, same streams
    expect(deltasOf([pt(a, 2, LATER + 2n), pt(b, 12, LATER + 2n)])).toEqual(["a:1", "b:2"]);
    // swapped positions, and attributes in another order
    const bSwapped = { [Attr.endpoint]: "/p", [Attr.modelName]: "b" };
    expect(deltasOf([pt(bSwapped, 15, LATER + 3n), pt(a, 4, LATER + 3n)])).toEqual(["b:3", "a:2"]);
    // a value that differs only in type is the same stream (the key is the same)
    const c = { [Attr.modelName]: "c", [Attr.modelVersion]: 7 };
    const cText = { [Attr.modelName]: "c", [Attr.modelVersion]: "7" };
    expect(deltasOf([pt(c, 5, LATER + 4n)])).toEqual(["c:5"]);
    expect(deltasOf([pt(cText, 8, LATER + 5n)])).toEqual(["c:3"]);
    // one attribute more is another stream, at the same position
    expect(deltasOf([pt({ ...cText, extra: "x" }, 9, LATER + 6n)])).toEqual(["c:9"]);
    expect(deltasOf([pt(c, 9, LATER + 7n)])).toEqual(["c:1"]);
    // an evicted stream is dropped from its position too; when it comes back it is recalled from its
    // last state (kept until a checkpoint writes it), so it is not counted again whole
    n.evictStale(Number.POSITIVE_INFINITY);
    expect(n.streamCount).toBe(0);
    expect(deltasOf([pt(c, 20, LATER + 8n)])).toEqual(["c:11"]);
    expect(n.streamCount).toBe(1);
  });

  it("counts streams and level streams of every metric against one limit", () => {
    const n = new Normalizer(COLLECTOR_START, { maxStreams: 2 });
    const gauge: Metric = {
      name: "g",
      unit: "",
      description: "",
      kind: "gauge",
      points: [point(1, LATER + 1n, "a"), point(2, LATER + 1n, "b")],
    };
    const r = n.normalize(request([counterMetric([point(1, LATER + 1n)]), gauge]), 0);
    expect(r.rejected.map((x) => x.reason)).toEqual(["stream_limit"]);
    expect(n.streamCount).toBe(2);
    const levels = r.observations.filter((o) => o.kind === "level");
    expect(levels.map((o) => o.kind === "level" && o.stream)).toEqual([
      `service.instance.id\u0001a\u0002\u0003s\u0003g\u0003ml.model.name\u0001a\u0002`,
    ]);
  });
});

describe("store routes per replica stream", () => {
  const window = { slotMs: 10_000, slots: 30 };

  function counterPoint(model: string, value: number, time: bigint): NumberPoint {
    return {
      attributes: attrs({ [Attr.modelName]: model, [Attr.modelVersion]: "1", [Attr.endpoint]: "/p" }),
      startTimeUnixNano: LATER,
      timeUnixNano: time,
      value,
    };
  }

  function feed(n: Normalizer, stores: ModelStore[], points: NumberPoint[]): void {
    const r = n.normalize(request([counterMetric(points)]), 0);
    for (const o of r.observations) for (const s of stores) s.ingest(o, 0);
  }

  const totals = (s: ModelStore) =>
    Object.fromEntries(
      [...s.series(Instruments.requests.name)].map((x) => [
        x.labels.model_name,
        x.kind === "counter" ? x.total : Number.NaN,
      ]),
    );

  it("counts every point past the series cap, and sends it to the overflow series", () => {
    const n = new Normalizer(COLLECTOR_START);
    const store = new ModelStore(window, new Map(), { maxSeriesPerMetric: 1 });
    for (let e = 1; e <= 4; e++)
      feed(
        n,
        [store],
        [counterPoint("a", 10 * e, LATER + BigInt(e)), counterPoint("b", e, LATER + BigInt(e))],
      );
    expect(totals(store)).toEqual({ a: 40, [OVERFLOW]: 4 });
    expect(store.capped.get(Instruments.requests.name)).toBe(4);
  });

  it("follows a series replaced by a restore, and serves two stores from one normaliser", () => {
    const n = new Normalizer(COLLECTOR_START);
    const one = new ModelStore(window);
    const two = new ModelStore(window);
    feed(n, [one, two], [counterPoint("a", 5, LATER + 1n)]);
    feed(n, [one, two], [counterPoint("a", 7, LATER + 2n)]);
    expect(totals(one)).toEqual({ a: 7 });
    expect(totals(two)).toEqual({ a: 7 });
    const dump = one.dumpAll();
    const body = dump[0].body;
    if (body.kind !== "counter") throw new Error("expected a counter");
    one.restore(dump[0].family, dump[0].key, { ...body, total: 100 });
    feed(n, [one, two], [counterPoint("a", 10, LATER + 3n)]);
    expect(totals(one)).toEqual({ a: 103 });
    expect(totals(two)).toEqual({ a: 10 });
    expect(one.takeDirty().map((d) => d.body.kind === "counter" && d.body.total)).toEqual([103]);
  });

  it("marks a series changed again after each checkpoint, through whichever replica's stream", () => {
    const n = new Normalizer(COLLECTOR_START);
    const store = new ModelStore(window);
    const replica = (id: string, value: number, time: bigint) => {
      const req = request([counterMetric([counterPoint("a", value, time)])]);
      req.resourceMetrics[0].resource = attrs({ "service.instance.id": id });
      for (const o of n.normalize(req, 0).observations) store.ingest(o, 0);
    };
    const changed = () => store.takeDirty().map((d) => d.body.kind === "counter" && d.body.total);
    replica("r1", 5, LATER + 1n);
    replica("r2", 3, LATER + 1n);
    expect(changed()).toEqual([8]);
    expect(changed()).toEqual([]);
    replica("r1", 6, LATER + 2n);
    expect(changed()).toEqual([9]);
    replica("r2", 5, LATER + 2n); // the other replica's route marks it too
    expect(changed()).toEqual([11]);
    store.dumpAll();
    replica("r1", 7, LATER + 3n);
    expect(changed()).toEqual([12]);
  });

  it("mirrors histograms of a negative feature sign on every point", () => {
    const n = new Normalizer(COLLECTOR_START);
    const store = new ModelStore(window);
    const a = {
      [Attr.modelName]: "m",
      [Attr.modelVersion]: "1",
      [Attr.featureName]: "f",
      [Attr.featureSign]: "negative",
    };
    const sdk = new ExpHistogram();
    for (let e = 1; e <= 3; e++) {
      sdk.record(e);
      const p = expPoint(sdk, a, LATER, LATER + BigInt(e));
      const r = n.normalize(request([histogramMetric([p], Instruments.featureValue.name)]), 0);
      for (const o of r.observations) store.ingest(o, 0);
    }
    const [series] = [...store.series(Instruments.featureValue.name)] as HistogramSeries[];
    const all = series.window.merged(0);
    expect(all.count).toBe(3);
    expect(all.min).toBe(-3);
    expect(all.max).toBe(-1);
  });
});

describe("protobuf timestamps", () => {
  it("decodes every point's times exactly, however they repeat or alternate", () => {
    const times = [T0, T1, T0, T0 + 1n, T1, 2n ** 64n - 1n, 0n, T0 + 1n, T0 + (1n << 32n), T0];
    const point = (start: bigint, time: bigint, v: number) => cat(f64(2, start), f64(3, time), fDouble(4, v));
    const points = times.map((t, i) => point(times[(i + 3) % times.length], t, i));
    const req = decodeMetricsProto(metricsRequest({ metrics: [metric("m", sum(2, true, ...points))] }));
    const got = req.resourceMetrics[0].scopeMetrics[0].metrics[0].points as NumberPoint[];
    expect(got.map((p) => [p.startTimeUnixNano, p.timeUnixNano, p.value])).toEqual(
      times.map((t, i) => [times[(i + 3) % times.length], t, i]),
    );
  });
});
