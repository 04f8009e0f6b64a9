// Names the generated artefacts share: Prometheus job, recording rules,
// alerts, severities. Metric and label names come from @mlwatch/semconv.

import { AlertNames, type AlertSeverity, Attr, Derived, Instruments, PromLabel } from "@mlwatch/semconv";

/** Prometheus job that scrapes the collector's /metrics. */
export const COLLECTOR_JOB = "mlwatch-collector";

/** Prometheus series names of the collector's families, from the semantic conventions. */
export const M = {
  requests: Instruments.requests.prom,
  errors: Instruments.errors.prom,
  /** Native histogram (Prometheus with --enable-feature=native-histograms scraping protobuf). */
  duration: Instruments.duration.prom,
  /** Classic histogram series. */
  durationBucket: `${Instruments.duration.prom}_bucket`,
  durationCount: `${Instruments.duration.prom}_count`,
  inProgress: Instruments.inProgress.prom,
  predictions: Instruments.predictions.prom,
  confidence: Instruments.confidence.prom,
  confidenceBucket: `${Instruments.confidence.prom}_bucket`,
  confidenceCount: `${Instruments.confidence.prom}_count`,
  lowConfidence: Instruments.lowConfidence.prom,
  segmentOutcomes: Instruments.segmentOutcomes.prom,
  driftScore: Derived.dataDriftScore.prom,
  driftPValue: Derived.dataDriftPValue.prom,
  driftSeverity: Derived.dataDriftSeverity.prom,
  driftSamples: Derived.dataDriftSamples.prom,
  driftThreshold: Derived.dataDriftThreshold.prom,
  driftTopRange: Derived.dataDriftTopRange.prom,
  versionDriftScore: Derived.versionDriftScore.prom,
  versionDriftSeverity: Derived.versionDriftSeverity.prom,
  conceptPsi: Derived.conceptDriftPsi.prom,
  accuracy: Derived.accuracyBySegment.prom,
} as const;

/** Prometheus labels, from the semantic conventions. */
export const L = {
  model: PromLabel[Attr.modelName],
  version: PromLabel[Attr.modelVersion],
  endpoint: PromLabel[Attr.endpoint],
  errorType: PromLabel[Attr.errorType],
  predictedClass: PromLabel[Attr.predictedClass],
  threshold: PromLabel[Attr.confidenceThreshold],
  feature: PromLabel[Attr.featureName],
  segment: PromLabel[Attr.segment],
  outcome: PromLabel[Attr.outcome],
} as const;

/**
 * Recording rules (level:metric:operation). Names carry the nominal window;
 * under a time scale the window shrinks but the name stays, so dashboards
 * and tests refer to one name.
 */
export const R = {
  requestsRate5m: `${L.model}:ml_requests:rate5m`,
  errorRatio5m: `${L.model}:ml_errors:ratio_rate5m`,
  latencyP95: `${L.model}:ml_request_duration_seconds:p95_rate5m`,
  lowConfidenceRatio1h: `${L.model}_${L.threshold}:ml_low_confidence_predictions:ratio_rate1h`,
  sloErrors: (window: string) => `${L.model}:ml_slo_errors:ratio_rate${window}`,
  sloSlow: (window: string) => `${L.model}:ml_slo_slow_requests:ratio_rate${window}`,
  sloErrorsPeriod: `${L.model}:ml_slo_errors:ratio_period`,
  sloSlowPeriod: `${L.model}:ml_slo_slow_requests:ratio_period`,
  sloTarget: `${L.model}:ml_slo_target:ratio`,
  sloLatencyThreshold: `${L.model}:ml_slo_latency_threshold:seconds`,
} as const;

/** Windows the SLO indicators are recorded over (the burn-rate policy's long and short windows). */
export const SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

/** Alert names, from the shared threshold table in @mlwatch/semconv. */
export const ALERTS = AlertNames;
export type { AlertName } from "@mlwatch/semconv";

export type Severity = AlertSeverity;
export const SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];

/** Dashboard colours per severity (and for "healthy"). */
export const SEVERITY_COLOR: Record<Severity | "ok", string> = {
  ok: "green",
  info: "blue",
  warning: "yellow",
  critical: "red",
};

/**
 * Sharding (docs/scaling.md): the label Prometheus puts on each shard's
 * series, and the example shards of the generated OpenTelemetry Collector
 * config. The hostnames are placeholders; what matters is that the front
 * Collector's resolver, the Prometheus targets and `baseline push --shards`
 * name the shards with the same strings, because the ring hashes them.
 */
export const SHARD_LABEL = "shard";
export const EXAMPLE_SHARDS = ["mlwatch-shard-0", "mlwatch-shard-1"] as const;
/** OTLP/gRPC: the only protocol the load-balancing exporter speaks; each shard's sidecar Collector receives it. */
export const OTLP_GRPC_PORT = 4317;
