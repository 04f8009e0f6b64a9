import { randomUUID } from "node:crypto";
import { Instruments } from "@mlwatch/semconv";
import { diag, metrics } from "@opentelemetry/api";
import { logs } from "@opentelemetry/api-logs";
import { OTLPLogExporter as OTLPJsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as OTLPProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter as OTLPJsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import {
  AggregationType,
  type IMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ViewOptions,
} from "@opentelemetry/sdk-metrics";
import { report } from "./diag.js";
import { defaultProducer, type MlwatchMetricProducer, type PrometheusViewOptions } from "./producer.js";
import { type RuntimeMetricsHandle, startHostMetrics, startRuntimeMetrics } from "./runtime.js";
import { closeSinks } from "./sinks.js";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface PrometheusOptions extends PrometheusViewOptions {
  /** Listen address (default: OTEL_EXPORTER_PROMETHEUS_HOST, else 127.0.0.1). */
  host?: string;
  /** Port (default: OTEL_EXPORTER_PROMETHEUS_PORT, else 9465 — 9464 is the collector's). */
  port?: number;
  /** Path (default /metrics). */
  endpoint?: string;
}

export interface MonitoringOptions {
  /** service.name of the resource; OTEL_SERVICE_NAME wins when set. */
  serviceName?: string;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES is merged in too). service.instance.id defaults to a random UUID. */
  resourceAttributes?: Record<string, string>;
  /** Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (default: OTEL_EXPORTER_OTLP_[METRICS_|LOGS_]ENDPOINT, else that). */
  endpoint?: string;
  /** Default: OTEL_EXPORTER_OTLP_[METRICS_|LOGS_]PROTOCOL, else http/protobuf. */
  protocol?: OtlpProtocol;
  /** Export interval in ms (default: OTEL_METRIC_EXPORT_INTERVAL, else 10000). */
  exportIntervalMillis?: number;
  /** Export timeout in ms (default: OTEL_METRIC_EXPORT_TIMEOUT, else min(interval, 30000)). */
  exportTimeoutMillis?: number;
  /** Maximum buckets of each exponential histogram (default 160). */
  maxHistogramBuckets?: number;
  /** Maximum series per instrument (default 2000). */
  cardinalityLimit?: number;
  /** Register the meter and logger providers as the global ones (default true). */
  registerGlobal?: boolean;
  /** Use a metric exporter of your own instead of OTLP/HTTP. */
  exporter?: PushMetricExporter;
  /** Use a log exporter of your own instead of OTLP/HTTP (for sampled predictions). */
  logExporter?: LogRecordExporter;
  /** Export metrics over OTLP (default: true unless OTEL_METRICS_EXPORTER is set and does not list otlp). */
  otlp?: boolean;
  /** Export sampled predictions as OTLP logs (default: true unless OTEL_LOGS_EXPORTER=none). */
  logs?: boolean;
  /** Serve a Prometheus pull endpoint (default: when OTEL_METRICS_EXPORTER lists prometheus). */
  prometheus?: boolean | PrometheusOptions;
  /** Host and process metrics from @opentelemetry/host-metrics (default true). */
  hostMetrics?: boolean;
  /** Event-loop and V8 heap metrics (default true). */
  runtimeMetrics?: boolean;
  /** The producer ModelMonitors record into (default: the process-wide one). */
  producer?: MlwatchMetricProducer;
  /** Flush and shut down on SIGTERM, SIGINT and beforeExit (default true). */
  shutdownOnExit?: boolean;
}

export interface Monitoring {
  meterProvider: MeterProvider;
  loggerProvider: LoggerProvider;
  producer: MlwatchMetricProducer;
  /** The Prometheus endpoint's URL when one is served. */
  prometheusUrl?: string;
  /** Exports what is pending now (metrics, sampled-prediction logs, review sinks). Never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting; resolves within the export timeout even if the collector hangs. Never rejects. */
  shutdown(): Promise<void>;
}

export interface MlwatchViewsOptions {
  /** Maximum buckets of each exponential histogram (default 160). */
  maxSize?: number;
  /** Maximum series per instrument (default: the SDK's, 2000). */
  cardinalityLimit?: number;
}

/**
 * Views that give mlwatch's histograms OTel's base-2 exponential aggregation
 * (with min/max) and, optionally, a cardinality limit on every mlwatch
 * instrument. For a MeterProvider or NodeSDK of your own when ModelMonitor
 * records through plain instruments (its `meter` option).
 */
export function mlwatchViews(options: number | MlwatchViewsOptions = {}): ViewOptions[] {
  const o = typeof options === "number" ? { maxSize: options } : options;
  const maxSize = o.maxSize ?? 160;
  const limit = o.cardinalityLimit !== undefined ? { aggregationCardinalityLimit: o.cardinalityLimit } : {};
  return Object.values(Instruments).map((i) =>
    i.kind === "histogram"
      ? {
          instrumentName: i.name,
          aggregation: {
            type: AggregationType.EXPONENTIAL_HISTOGRAM,
            options: { maxSize, recordMinMax: true },
          },
          ...limit,
        }
      : { instrumentName: i.name, ...limit },
  );
}

type Signal = "metrics" | "logs";

function env(name: string): string | undefined {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
}

function envNumber(name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (Number.isFinite(v) && v > 0) return v;
  diag.warn(`mlwatch: ignoring ${name}=${raw} (not a positive number)`);
  return undefined;
}

function envList(name: string): string[] | undefined {
  const raw = env(name);
  return raw === undefined ? undefined : raw.split(",").map((s) => s.trim().toLowerCase());
}

function envProtocol(signal: Signal): OtlpProtocol | undefined {
  const v = env(`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`) ?? env("OTEL_EXPORTER_OTLP_PROTOCOL");
  if (v === "http/protobuf" || v === "http/json") return v;
  if (v) diag.warn(`mlwatch: unsupported OTLP protocol "${v}", using http/protobuf`);
  return undefined;
}

/**
 * Config for an OTLP exporter: the URL from an explicit base URL, else none
 * (the exporter reads OTEL_EXPORTER_OTLP_[SIGNAL_]ENDPOINT itself), else
 * loopback; the request timeout bounded by the export timeout unless
 * OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT says otherwise.
 */
function otlpConfig(
  signal: Signal,
  base: string | undefined,
  timeoutMillis: number,
): { url?: string; timeoutMillis?: number } {
  const S = signal.toUpperCase();
  const timeout =
    env(`OTEL_EXPORTER_OTLP_${S}_TIMEOUT`) || env("OTEL_EXPORTER_OTLP_TIMEOUT") ? {} : { timeoutMillis };
  if (base !== undefined) return { url: `${base.replace(/\/+$/, "")}/v1/${signal}`, ...timeout };
  if (env(`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`) || env("OTEL_EXPORTER_OTLP_ENDPOINT")) return timeout;
  return { url: `http://127.0.0.1:4318/v1/${signal}`, ...timeout };
}

function withTimeout(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      diag.warn(`mlwatch: ${what} did not finish within ${ms} ms`);
      resolve();
    }, ms);
    timer.unref();
  });
  return Promise.race([
    p.then(
      () => undefined,
      (e) => report(what, e),
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/**
 * Sets up export for mlwatch and returns the providers: a MeterProvider whose
 * reader collects the pre-aggregated mlwatch producer (and any plain
 * instruments, with exponential-histogram views) and exports over OTLP/HTTP;
 * a LoggerProvider exporting sampled predictions as OTLP logs; optionally a
 * Prometheus pull endpoint; host and runtime metrics. Honours the standard
 * OTEL_* environment variables. Never throws for a collector that is down:
 * exports fail in the background and are reported to the OTel diag logger.
 */
export function startMonitoring(options: MonitoringOptions = {}): Monitoring {
  const producer = options.producer ?? defaultProducer();
  const { maxHistogramBuckets: maxSize, cardinalityLimit: limit } = options;
  if (maxSize !== undefined && !(Number.isInteger(maxSize) && maxSize >= 2 && maxSize <= 16_384))
    throw new RangeError("startMonitoring: maxHistogramBuckets must be an integer in [2, 16384]");
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new RangeError("startMonitoring: cardinalityLimit must be a positive integer");
  if (maxSize !== undefined) producer.maxHistogramBuckets = maxSize;
  if (limit !== undefined) producer.cardinalityLimit = limit;
  producer.markAttached();

  const disabled = env("OTEL_SDK_DISABLED")?.toLowerCase() === "true";
  const metricsExporters = envList("OTEL_METRICS_EXPORTER");
  const logsExporters = envList("OTEL_LOGS_EXPORTER");
  const useOtlp =
    !disabled && (options.otlp ?? (metricsExporters ? metricsExporters.includes("otlp") : true));
  const useLogs = !disabled && (options.logs ?? (logsExporters ? !logsExporters.includes("none") : true));
  const promOption = options.prometheus ?? !!metricsExporters?.includes("prometheus");
  const usePrometheus = !disabled && promOption !== false;

  const instanceId = { "service.instance.id": randomUUID() };
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        ...instanceId,
        "service.name": options.serviceName ?? "unknown_service",
        ...options.resourceAttributes,
      }),
    )
    .merge(detectResources({ detectors: [envDetector] }));

  const interval = options.exportIntervalMillis ?? envNumber("OTEL_METRIC_EXPORT_INTERVAL") ?? 10_000;
  const exportTimeout =
    options.exportTimeoutMillis ?? envNumber("OTEL_METRIC_EXPORT_TIMEOUT") ?? Math.min(interval, 30_000);
  const readers: IMetricReader[] = [];
  if (useOtlp || options.exporter) {
    let exporter = options.exporter;
    if (!exporter) {
      const config = otlpConfig("metrics", options.endpoint, Math.min(exportTimeout, interval));
      const protocol = options.protocol ?? envProtocol("metrics") ?? "http/protobuf";
      exporter =
        protocol === "http/json" ? new OTLPJsonMetricExporter(config) : new OTLPProtoMetricExporter(config);
    }
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(exportTimeout, interval),
        metricProducers: [producer],
      }),
    );
  }
  let prometheusUrl: string | undefined;
  if (usePrometheus) {
    const p = typeof promOption === "object" ? promOption : {};
    const host = p.host ?? env("OTEL_EXPORTER_PROMETHEUS_HOST") ?? "127.0.0.1";
    const port = p.port ?? envNumber("OTEL_EXPORTER_PROMETHEUS_PORT") ?? 9465;
    const endpoint = p.endpoint ?? "/metrics";
    readers.push(
      new PrometheusExporter(
        { host, port, endpoint, withoutScopeInfo: true, metricProducers: [producer.prometheusProducer(p)] },
        (error) => {
          if (error) report(`Prometheus endpoint on ${host}:${port}`, error);
        },
      ),
    );
    prometheusUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}${endpoint}`;
  }
  const meterProvider = new MeterProvider({
    resource,
    views: mlwatchViews({ maxSize: options.maxHistogramBuckets, cardinalityLimit: options.cardinalityLimit }),
    readers,
  });

  const processors = [];
  if (useLogs || options.logExporter) {
    let exporter = options.logExporter;
    if (!exporter) {
      const config = otlpConfig("logs", options.endpoint, Math.min(exportTimeout, 30_000));
      const protocol = options.protocol ?? envProtocol("logs") ?? "http/protobuf";
      exporter =
        protocol === "http/json" ? new OTLPJsonLogExporter(config) : new OTLPProtoLogExporter(config);
    }
    processors.push(
      new BatchLogRecordProcessor({
        exporter,
        scheduledDelayMillis: envNumber("OTEL_BLRP_SCHEDULE_DELAY") ?? 1000,
        maxQueueSize: envNumber("OTEL_BLRP_MAX_QUEUE_SIZE") ?? 2048,
        maxExportBatchSize: envNumber("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") ?? 512,
        exportTimeoutMillis: envNumber("OTEL_BLRP_EXPORT_TIMEOUT") ?? Math.min(exportTimeout, 30_000),
      }),
    );
  }
  const loggerProvider = new LoggerProvider({ resource, processors });

  if (options.registerGlobal !== false) {
    if (!metrics.setGlobalMeterProvider(meterProvider)) {
      diag.warn(
        "mlwatch: a global meter provider is already registered; host/runtime metrics and ModelMonitors given no meter use mlwatch's own provider",
      );
    }
    if (logs.getLoggerProvider() !== loggerProvider) {
      const registered = logs.setGlobalLoggerProvider(loggerProvider);
      if (registered !== loggerProvider)
        diag.warn(
          "mlwatch: a global logger provider is already registered; pass groundTruth.logger to ModelMonitor",
        );
    }
  }

  let runtime: RuntimeMetricsHandle | undefined;
  if (!disabled && options.runtimeMetrics !== false) runtime = startRuntimeMetrics(meterProvider);
  if (!disabled && options.hostMetrics !== false) startHostMetrics(meterProvider);

  const flushTimeout = Math.max(exportTimeout, 1000) + 1000;
  const forceFlush = async (): Promise<void> => {
    await Promise.all([
      withTimeout(meterProvider.forceFlush(), flushTimeout, "metrics flush"),
      withTimeout(loggerProvider.forceFlush(), flushTimeout, "logs flush"),
    ]);
  };
  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      removeHooks();
      runtime?.stop();
      await Promise.all([
        withTimeout(closeSinks(), flushTimeout, "review sinks close"),
        withTimeout(meterProvider.shutdown(), flushTimeout, "metrics shutdown"),
        withTimeout(loggerProvider.shutdown(), flushTimeout, "logs shutdown"),
      ]);
    })();
    return stopped;
  };

  const removeHooks = options.shutdownOnExit === false ? () => {} : installExitHooks(shutdown);
  return { meterProvider, loggerProvider, producer, prometheusUrl, forceFlush, shutdown };
}

/**
 * Flush on the way out: on beforeExit, and on SIGTERM/SIGINT — after which,
 * if nobody else listens for the signal, it is raised again so the process
 * ends as it would have without us.
 */
function installExitHooks(shutdown: () => Promise<void>): () => void {
  const onBeforeExit = () => void shutdown();
  const onSignal = (signal: NodeJS.Signals) => {
    void shutdown().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.once("beforeExit", onBeforeExit);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return () => {
    process.removeListener("beforeExit", onBeforeExit);
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("SIGINT", onSignal);
  };
}
