import { Instruments } from "@mlwatch/semconv";
import { diag, metrics } from "@opentelemetry/api";
import { OTLPMetricExporter as OTLPJsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ViewOptions,
} from "@opentelemetry/sdk-metrics";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface MonitoringOptions {
  /** service.name of the resource; OTEL_SERVICE_NAME wins when set. */
  serviceName?: string;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES is merged in too). */
  resourceAttributes?: Record<string, string>;
  /** Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (default: OTEL_EXPORTER_OTLP_ENDPOINT, else that). */
  endpoint?: string;
  /** Default: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
  protocol?: OtlpProtocol;
  /** Export interval in ms (default: OTEL_METRIC_EXPORT_INTERVAL, else 10000). */
  exportIntervalMillis?: number;
  /** Maximum buckets of each exponential histogram (default 160). */
  maxHistogramBuckets?: number;
  /** Register the provider as the global meter provider (default true). */
  registerGlobal?: boolean;
  /** Use an exporter of your own instead of OTLP/HTTP. */
  exporter?: PushMetricExporter;
}

export interface Monitoring {
  meterProvider: MeterProvider;
  /** Exports what is pending now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

/** Views that make mlwatch's histograms exponential; usable with a MeterProvider or NodeSDK of your own. */
export function mlwatchViews(maxSize = 160): ViewOptions[] {
  return [Instruments.duration, Instruments.confidence, Instruments.featureValue].map((i) => ({
    instrumentName: i.name,
    aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize, recordMinMax: true } },
  }));
}

function envProtocol(): OtlpProtocol | undefined {
  const v = process.env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (v === "http/protobuf" || v === "http/json") return v;
  if (v) diag.warn(`mlwatch: unsupported OTLP protocol "${v}", using http/protobuf`);
  return undefined;
}

function envInterval(): number | undefined {
  const v = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * Sets up metrics export for mlwatch: a MeterProvider with exponential
 * histogram views and a periodic OTLP/HTTP exporter, honouring the standard
 * OTEL_* environment variables.
 */
export function startMonitoring(options: MonitoringOptions = {}): Monitoring {
  const protocol = options.protocol ?? envProtocol() ?? "http/protobuf";
  let exporter = options.exporter;
  if (!exporter) {
    // An explicit endpoint is a base URL; without one the exporter reads OTEL_EXPORTER_OTLP_* itself.
    const base =
      options.endpoint ?? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? undefined : "http://127.0.0.1:4318");
    const config = base ? { url: `${base.replace(/\/+$/, "")}/v1/metrics` } : {};
    exporter =
      protocol === "http/json" ? new OTLPJsonMetricExporter(config) : new OTLPProtoMetricExporter(config);
  }
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        "service.name": options.serviceName ?? "unknown_service",
        ...options.resourceAttributes,
      }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const interval = options.exportIntervalMillis ?? envInterval() ?? 10_000;
  const meterProvider = new MeterProvider({
    resource,
    views: mlwatchViews(options.maxHistogramBuckets),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(interval, 30_000),
      }),
    ],
  });
  if (options.registerGlobal !== false && !metrics.setGlobalMeterProvider(meterProvider)) {
    diag.warn(
      "mlwatch: a global meter provider is already registered; pass meterProvider.getMeter() to ModelMonitor",
    );
  }
  return {
    meterProvider,
    forceFlush: () => meterProvider.forceFlush(),
    shutdown: () => meterProvider.shutdown(),
  };
}
