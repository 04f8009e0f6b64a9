// Decodes what the real OpenTelemetry JS SDK exports (protobuf and JSON) and
// checks every field against what the SDK recorded.

import { describe, expect, test } from "vitest";
import {
  type Attributes,
  type AttrValue,
  decodeMetricsJson,
  decodeMetricsProto,
  type Metric,
  type MetricsRequest,
} from "../../src/otlp/index.js";
import {
  api,
  collectingReader,
  hrToNanos,
  type ResourceMetrics,
  resources,
  sdkMetrics,
  transformer,
} from "./otel.js";

const { AggregationType, AggregationTemporality, DataPointType, MeterProvider } = sdkMetrics;

/** What our decoder should produce for an SDK attribute value. */
function expectedAttr(v: unknown): AttrValue {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return JSON.stringify(v); // arrays (the only non-scalar attribute values in the API)
}

function expectedAttrs(a: Record<string, unknown>): Attributes {
  const out: Attributes = Object.create(null);
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = expectedAttr(v);
  return out;
}

/**
 * The SDK's ResourceMetrics, mapped by hand onto the decoder's output types. `viaJson`:
 * the JS JSON serializer writes NaN as null (JSON.stringify), which decodes as absent (0).
 */
function expectedRequest(rm: ResourceMetrics, viaJson: boolean): MetricsRequest {
  const num = (v: number) => (viaJson && Number.isNaN(v) ? 0 : v);
  const temporality = (t: number) => (t === AggregationTemporality.DELTA ? 1 : 2);
  return {
    resourceMetrics: [
      {
        resource: expectedAttrs(rm.resource.attributes),
        scopeMetrics: rm.scopeMetrics.map((sm) => ({
          scope: { name: sm.scope.name, version: sm.scope.version ?? "" },
          metrics: sm.metrics.map((md): Metric => {
            const base = {
              name: md.descriptor.name,
              unit: md.descriptor.unit,
              description: md.descriptor.description,
            };
            const times = (dp: { startTime: [number, number]; endTime: [number, number] }) => ({
              startTimeUnixNano: hrToNanos(dp.startTime),
              timeUnixNano: hrToNanos(dp.endTime),
            });
            switch (md.dataPointType) {
              case DataPointType.SUM:
                return {
                  ...base,
                  kind: "sum",
                  temporality: temporality(md.aggregationTemporality),
                  monotonic: md.isMonotonic,
                  points: md.dataPoints.map((dp) => ({
                    attributes: expectedAttrs(dp.attributes),
                    ...times(dp),
                    value: num(dp.value),
                  })),
                };
              case DataPointType.GAUGE:
                return {
                  ...base,
                  kind: "gauge",
                  points: md.dataPoints.map((dp) => ({
                    attributes: expectedAttrs(dp.attributes),
                    ...times(dp),
                    value: num(dp.value),
                  })),
                };
              case DataPointType.HISTOGRAM:
                return {
                  ...base,
                  kind: "histogram",
                  temporality: temporality(md.aggregationTemporality),
                  points: md.dataPoints.map((dp) => ({
                    attributes: expectedAttrs(dp.attributes),
                    ...times(dp),
                    count: dp.value.count,
                    sum: dp.value.sum,
                    min: dp.value.min,
                    max: dp.value.max,
                    bucketCounts: dp.value.buckets.counts,
                    explicitBounds: dp.value.buckets.boundaries,
                  })),
                };
              case DataPointType.EXPONENTIAL_HISTOGRAM:
                return {
                  ...base,
                  kind: "exponential_histogram",
                  temporality: temporality(md.aggregationTemporality),
                  points: md.dataPoints.map((dp) => ({
                    attributes: expectedAttrs(dp.attributes),
                    ...times(dp),
                    count: dp.value.count,
                    sum: dp.value.sum,
                    min: dp.value.min,
                    max: dp.value.max,
                    scale: dp.value.scale,
                    zeroCount: dp.value.zeroCount,
                    zeroThreshold: 0,
                    positive: {
                      offset: dp.value.positive.offset,
                      bucketCounts: dp.value.positive.bucketCounts,
                    },
                    negative: {
                      offset: dp.value.negative.offset,
                      bucketCounts: dp.value.negative.bucketCounts,
                    },
                  })),
                };
              default:
                throw new Error("unexpected data point type");
            }
          }),
        })),
      },
    ],
  };
}

const ATTRS_A = {
  "model.name": "sentiment",
  "model.version": "v3",
  replica: 7,
  weight: 0.25,
  canary: true,
  classes: ["neg", "neu", "pos"],
  thresholds: [0.5, 0.75],
  ids: [1, 2, 3],
  flags: [true, false],
  ["__proto__"]: "data, not a prototype",
  "": "empty key",
  unicode: "grüße ✓ 𝄞",
};
const ATTRS_B = { "model.name": "sentiment", "model.version": "v4", replica: 8 };

/** Records a fixed workload; returns the collected SDK data and what was recorded, for spot checks. */
async function record(temporality: "delta" | "cumulative", withNaN = true) {
  const reader = collectingReader(temporality);
  const provider = new MeterProvider({
    resource: resources.resourceFromAttributes({
      "service.name": "sentiment-service",
      "service.instance.id": "pod-1",
      "process.pid": 4242,
      "host.arch.bits": 64,
      "deployment.canary": false,
    }),
    readers: [reader],
    views: [
      {
        instrumentName: "ml.feature.value",
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
      },
      {
        instrumentName: "ml.prediction.confidence",
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [0.1, 0.5, 0.9] },
        },
      },
    ],
  });
  const meter = provider.getMeter("@mlwatch/sdk", "0.1.0");
  const requests = meter.createCounter("ml.requests", {
    unit: "{request}",
    description: "Predictions served",
  });
  const intCounter = meter.createCounter("ml.errors", { valueType: api.ValueType.INT });
  const inFlight = meter.createUpDownCounter("ml.requests.in_progress", { valueType: api.ValueType.INT });
  const latency = meter.createHistogram("ml.request.duration", { unit: "s" });
  const confidence = meter.createHistogram("ml.prediction.confidence");
  const feature = meter.createHistogram("ml.feature.value", { description: "feature distribution" });
  const accuracy = meter.createGauge("ml.accuracy");
  const observed = meter.createObservableGauge("ml.drift.score");
  observed.addCallback((r) => {
    r.observe(0.125, { feature: "age" });
    r.observe(withNaN ? Number.NaN : -0.5, { feature: "income" });
  });

  const latencies = [0.012, 0.034, 0.5, 1.2, 7.5];
  const confidences = [0.05, 0.3, 0.7, 0.95, 0.99];
  const features: number[] = [];
  for (let i = 0; i < 500; i++) features.push(Math.exp((i % 97) / 10) / 3);
  features.push(0);

  requests.add(3, ATTRS_A);
  requests.add(4.5, ATTRS_A);
  requests.add(1, ATTRS_B);
  intCounter.add(2, ATTRS_B);
  intCounter.add(2 ** 40, ATTRS_A);
  inFlight.add(5, ATTRS_A);
  inFlight.add(-7, ATTRS_A);
  for (const v of latencies) latency.record(v, ATTRS_A);
  for (const v of confidences) confidence.record(v, ATTRS_B);
  for (const v of features) feature.record(v, ATTRS_A);
  feature.record(42, ATTRS_B);
  accuracy.record(0.93, ATTRS_A);
  accuracy.record(-1.5e300, ATTRS_B);

  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  await provider.shutdown();
  return { resourceMetrics, latencies, confidences, features };
}

function find(req: MetricsRequest, name: string): Metric {
  const m = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`metric ${name} not decoded`);
  return m;
}

/** A sum or gauge by name, with its points typed. */
function findNumber(req: MetricsRequest, name: string): Extract<Metric, { kind: "sum" | "gauge" }> {
  const m = find(req, name);
  if (m.kind !== "sum" && m.kind !== "gauge") throw new Error(`metric ${name} is a ${m.kind}`);
  return m;
}

describe.each(["cumulative", "delta"] as const)("real OTel JS metrics, %s temporality", (temporality) => {
  for (const encoding of ["proto", "json"] as const) {
    test(`${encoding}: every field matches what the SDK recorded`, async () => {
      const { resourceMetrics, latencies, confidences, features } = await record(temporality);
      const decoded =
        encoding === "proto"
          ? decodeMetricsProto(transformer.ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!)
          : decodeMetricsJson(
              new TextDecoder().decode(transformer.JsonMetricsSerializer.serializeRequest(resourceMetrics)!),
            );

      // Everything, field by field, against the SDK's own data model.
      expect(decoded).toEqual(expectedRequest(resourceMetrics, encoding === "json"));

      // And spot checks against the raw recordings, independent of the SDK mapping above.
      const t = temporality === "delta" ? 1 : 2;
      expect(decoded.resourceMetrics[0]!.resource["process.pid"]).toBe(4242);
      expect(decoded.resourceMetrics[0]!.resource["deployment.canary"]).toBe(false);
      expect(decoded.resourceMetrics[0]!.scopeMetrics[0]!.scope).toEqual({
        name: "@mlwatch/sdk",
        version: "0.1.0",
      });

      const req = findNumber(decoded, "ml.requests");
      expect(req).toMatchObject({ kind: "sum", temporality: t, monotonic: true, unit: "{request}" });
      expect(req.description).toBe("Predictions served");
      const pa = req.points.find((p) => p.attributes["model.version"] === "v3")!;
      expect(pa.value).toBe(7.5);
      expect(Object.getPrototypeOf(pa.attributes)).toBeNull();
      expect(Object.getOwnPropertyDescriptor(pa.attributes, "__proto__")?.value).toBe(
        "data, not a prototype",
      );
      expect(pa.attributes[""]).toBe("empty key");
      expect(pa.attributes.classes).toBe('["neg","neu","pos"]');
      expect(pa.attributes.thresholds).toBe("[0.5,0.75]");
      expect(pa.attributes.flags).toBe("[true,false]");
      expect(pa.attributes.replica).toBe(7);
      expect(pa.attributes.weight).toBe(0.25);
      expect(pa.attributes.canary).toBe(true);
      expect(pa.attributes.unicode).toBe("grüße ✓ 𝄞");
      expect(pa.timeUnixNano).toBeGreaterThanOrEqual(pa.startTimeUnixNano);
      expect(pa.timeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);

      const errs = find(decoded, "ml.errors");
      if (errs.kind !== "sum") throw new Error("kind");
      expect(errs.points.map((p) => p.value).sort((a, b) => a - b)).toEqual([2, 2 ** 40]);

      const upDown = findNumber(decoded, "ml.requests.in_progress");
      expect(upDown).toMatchObject({ kind: "sum", monotonic: false, temporality: t });
      expect(upDown.points[0]!.value).toBe(-2);

      const lat = find(decoded, "ml.request.duration");
      if (lat.kind !== "histogram") throw new Error("kind");
      expect(lat.unit).toBe("s");
      expect(lat.points[0]!.count).toBe(latencies.length);
      expect(lat.points[0]!.sum).toBeCloseTo(
        latencies.reduce((a, b) => a + b, 0),
        12,
      );
      expect(lat.points[0]!.min).toBe(0.012);
      expect(lat.points[0]!.max).toBe(7.5);
      expect(lat.points[0]!.bucketCounts.reduce((a, b) => a + b, 0)).toBe(latencies.length);

      const conf = find(decoded, "ml.prediction.confidence");
      if (conf.kind !== "histogram") throw new Error("kind");
      expect(conf.points[0]!.explicitBounds).toEqual([0.1, 0.5, 0.9]);
      expect(conf.points[0]!.bucketCounts).toEqual([1, 1, 1, 2]);
      expect(conf.points[0]!.count).toBe(confidences.length);

      const feat = find(decoded, "ml.feature.value");
      if (feat.kind !== "exponential_histogram") throw new Error("kind");
      expect(feat.description).toBe("feature distribution");
      const fa = feat.points.find((p) => p.attributes.replica === 7)!;
      expect(fa.count).toBe(features.length);
      expect(fa.zeroCount).toBe(1);
      expect(fa.zeroCount + fa.positive.bucketCounts.reduce((a, b) => a + b, 0)).toBe(features.length);
      expect(fa.min).toBe(0);
      expect(fa.max).toBe(Math.max(...features));
      expect(fa.positive.bucketCounts.length).toBeGreaterThan(1);
      expect(fa.positive.bucketCounts.length).toBeLessThanOrEqual(160);
      // Every recorded positive value falls in a bucket that has a count:
      // bucket index i covers (base^(offset+i), base^(offset+i+1)], base = 2^(2^-scale).
      const base = 2 ** (2 ** -fa.scale);
      for (const v of features) {
        if (v === 0) continue;
        const idx = Math.ceil(Math.log(v) / Math.log(base)) - 1 - fa.positive.offset;
        const near = [idx - 1, idx, idx + 1].filter((k) => k >= 0 && k < fa.positive.bucketCounts.length);
        expect(near.some((k) => fa.positive.bucketCounts[k]! > 0)).toBe(true);
      }
      const fb = feat.points.find((p) => p.attributes.replica === 8)!;
      expect(fb).toMatchObject({ count: 1, sum: 42, min: 42, max: 42, zeroCount: 0 });

      const acc = findNumber(decoded, "ml.accuracy");
      expect(acc.kind).toBe("gauge");
      expect(acc.points.map((p) => p.value).sort((a, b) => a - b)).toEqual([-1.5e300, 0.93]);

      const drift = findNumber(decoded, "ml.drift.score");
      expect(drift.kind).toBe("gauge");
      const income = drift.points.find((p) => p.attributes.feature === "income")!;
      if (encoding === "proto") expect(income.value).toBeNaN();
    });
  }

  test("protobuf and JSON decode to the same request", async () => {
    const { resourceMetrics } = await record(temporality, false);
    const fromProto = decodeMetricsProto(
      transformer.ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!,
    );
    const fromJson = decodeMetricsJson(
      new TextDecoder().decode(transformer.JsonMetricsSerializer.serializeRequest(resourceMetrics)!),
    );
    expect(fromJson).toEqual(fromProto);
  });
});
