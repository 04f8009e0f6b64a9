// Loads the real OpenTelemetry JS SDK and OTLP serializers for the decoder tests.
//
// They are installed for packages/sdk, not for the collector, so they are
// resolved from there. Their "module" (ESM) builds use extensionless imports
// that Node's own ESM loader cannot follow, so the CommonJS builds are loaded
// with require; types come from the packages' .d.ts files.

import { createRequire } from "node:module";
import type * as ApiNs from "../../../packages/sdk/node_modules/@opentelemetry/api/build/src/index.js";
import type * as ApiLogsNs from "../../../packages/sdk/node_modules/@opentelemetry/api-logs/build/src/index.js";
import type * as ResourcesNs from "../../../packages/sdk/node_modules/@opentelemetry/resources/build/src/index.js";
import type * as SdkLogsNs from "../../../packages/sdk/node_modules/@opentelemetry/sdk-logs/build/src/index.js";
import type * as SdkMetricsNs from "../../../packages/sdk/node_modules/@opentelemetry/sdk-metrics/build/src/index.js";

const fromSdk = createRequire(new URL("../../../packages/sdk/package.json", import.meta.url));

export const api = fromSdk("@opentelemetry/api") as typeof ApiNs;
export const sdkMetrics = fromSdk("@opentelemetry/sdk-metrics") as typeof SdkMetricsNs;
export const sdkLogs = fromSdk("@opentelemetry/sdk-logs") as typeof SdkLogsNs;
export const apiLogs = fromSdk("@opentelemetry/api-logs") as typeof ApiLogsNs;
export const resources = fromSdk("@opentelemetry/resources") as typeof ResourcesNs;

// @opentelemetry/otlp-transformer is a dependency of the exporters, not of packages/sdk.
const fromExporter = createRequire(fromSdk.resolve("@opentelemetry/exporter-metrics-otlp-proto"));

interface Serializer<T> {
  serializeRequest(request: T): Uint8Array | undefined;
  /** What the exporter makes of our response body. */
  deserializeResponse(data: Uint8Array): unknown;
}

interface Transformer {
  ProtobufMetricsSerializer: Serializer<SdkMetricsNs.ResourceMetrics>;
  JsonMetricsSerializer: Serializer<SdkMetricsNs.ResourceMetrics>;
  ProtobufLogsSerializer: Serializer<SdkLogsNs.ReadableLogRecord[]>;
  JsonLogsSerializer: Serializer<SdkLogsNs.ReadableLogRecord[]>;
}

export const transformer = fromExporter("@opentelemetry/otlp-transformer") as Transformer;

export type ResourceMetrics = SdkMetricsNs.ResourceMetrics;
export type ReadableLogRecord = SdkLogsNs.ReadableLogRecord;

/** A MetricReader that hands out what it collects. */
export function collectingReader(temporality: "delta" | "cumulative"): SdkMetricsNs.MetricReader {
  const { MetricReader, AggregationTemporality } = sdkMetrics;
  const t = temporality === "delta" ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  class CollectingReader extends MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => t });
    }
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  return new CollectingReader();
}

/** hrTime [seconds, nanos] → nanoseconds since the epoch. */
export function hrToNanos(t: readonly [number, number]): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}
