// Decoder throughput on a realistic request: 1000 exponential-histogram points
// (4 attributes each, up to 160 buckets) from the real OTel JS SDK, protobuf
// versus JSON.parse of the same request in OTLP/JSON.
// Run: node scripts/pnpm.mjs exec vitest bench collector/test/otlp/decode.bench.ts

import { bench, describe } from "vitest";
import { decodeMetricsJson, decodeMetricsProto } from "../../src/otlp/index.js";
import { collectingReader, resources, sdkMetrics, transformer } from "./otel.js";

async function buildRequest() {
  const reader = collectingReader("delta");
  const provider = new sdkMetrics.MeterProvider({
    resource: resources.resourceFromAttributes({
      "service.name": "sentiment-service",
      "service.instance.id": "pod-7",
    }),
    readers: [reader],
    views: [
      {
        instrumentName: "ml.feature.value",
        aggregation: { type: sdkMetrics.AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
      },
    ],
  });
  const h = provider.getMeter("@mlwatch/sdk", "0.1.0").createHistogram("ml.feature.value");
  let seed = 1;
  const rand = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  };
  for (let s = 0; s < 1000; s++) {
    const attrs = {
      "model.name": `model-${s % 10}`,
      "model.version": "v3",
      "feature.name": `feature_${s}`,
      segment: "all",
    };
    const scale = 1 + (s % 50);
    for (let i = 0; i < 400; i++) h.record(scale * Math.exp(3 * (rand() - 0.5)) + rand(), attrs);
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const proto = transformer.ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
  const json = new TextDecoder().decode(transformer.JsonMetricsSerializer.serializeRequest(resourceMetrics)!);
  return { proto, json };
}

const { proto, json } = await buildRequest();
const points = decodeMetricsProto(proto).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.points.length;
console.log(
  `request: ${points} exp-histogram points; protobuf ${proto.length} bytes, OTLP/JSON ${json.length} bytes`,
);

describe("1000 exponential-histogram points", () => {
  bench("decodeMetricsProto (protobuf)", () => {
    decodeMetricsProto(proto);
  });
  bench("JSON.parse (OTLP/JSON, parse only)", () => {
    JSON.parse(json);
  });
  bench("decodeMetricsJson (OTLP/JSON)", () => {
    decodeMetricsJson(json);
  });
});
