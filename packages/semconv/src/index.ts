// The one source of truth for mlwatch's names: the OTel instrument and
// attribute names the SDK records, and the Prometheus names and labels the
// collector exposes for them. Rules, dashboards and docs are generated from here,
// and so are the alert thresholds that the rules and the status page share (alerts.ts).

export * from "./alerts.js";

/** OTel attribute keys, as recorded by the SDK. */
export const Attr = {
  modelName: "ml.model.name",
  modelVersion: "ml.model.version",
  endpoint: "ml.endpoint",
  errorType: "error.type",
  predictedClass: "ml.prediction.class",
  confidenceThreshold: "ml.confidence.threshold",
  featureName: "ml.feature.name",
  /** "negative" when the recorded value is the magnitude of a negative feature value. */
  featureSign: "ml.feature.sign",
  segment: "ml.segment",
  outcome: "ml.outcome",
  /** The category of a categorical feature value (capped per feature; overflow goes to OTHER_CATEGORY). */
  featureCategory: "ml.feature.category",
  /** Request id of a sampled prediction (log records only). */
  requestId: "ml.request.id",
  /** Confidence of a sampled prediction (log records only). */
  predictionConfidence: "ml.prediction.confidence",
  /** JSON text of the model inputs of a sampled prediction, only when the user opts in (log records only). */
  predictionInput: "ml.prediction.input",
} as const;
export type AttrKey = (typeof Attr)[keyof typeof Attr];

/** Prometheus label for each OTel attribute. */
export const PromLabel: Record<AttrKey, string> = {
  [Attr.modelName]: "model_name",
  [Attr.modelVersion]: "model_version",
  [Attr.endpoint]: "endpoint",
  [Attr.errorType]: "error_type",
  [Attr.predictedClass]: "predicted_class",
  [Attr.confidenceThreshold]: "threshold",
  [Attr.featureName]: "feature_name",
  [Attr.featureSign]: "sign",
  [Attr.segment]: "segment",
  [Attr.outcome]: "outcome",
  [Attr.featureCategory]: "category",
  [Attr.requestId]: "request_id",
  [Attr.predictionConfidence]: "confidence",
  [Attr.predictionInput]: "input",
};

/** Category that stands for every value past a categorical feature's cardinality cap. */
export const OTHER_CATEGORY = "__other__";

/**
 * Sampled predictions travel as OTel log records with this event name and
 * attributes: model name and version, request id, predicted class,
 * confidence, segment, and the input only when the user opts in.
 */
export const SampledPredictionEvent = {
  eventName: "ml.prediction.sampled",
  attributes: [
    Attr.modelName,
    Attr.modelVersion,
    Attr.requestId,
    Attr.predictedClass,
    Attr.predictionConfidence,
    Attr.segment,
    Attr.predictionInput,
  ],
} as const;

export type InstrumentKind = "counter" | "updowncounter" | "histogram" | "gauge";

export interface InstrumentSpec {
  /** OTel instrument name. */
  name: string;
  kind: InstrumentKind;
  unit: string;
  description: string;
  /** Attributes the SDK sets on every point, besides the model identity. */
  attributes: readonly AttrKey[];
  /** Prometheus family name the collector exposes (counters end in _total). */
  prom: string;
}

const modelAttrs = [Attr.modelName, Attr.modelVersion] as const;

export const Instruments = {
  requests: {
    name: "ml.requests",
    kind: "counter",
    unit: "{request}",
    description: "Inference requests handled",
    attributes: [...modelAttrs, Attr.endpoint],
    prom: "ml_requests_total",
  },
  errors: {
    name: "ml.errors",
    kind: "counter",
    unit: "{error}",
    description: "Inference requests that failed, by error type",
    attributes: [...modelAttrs, Attr.endpoint, Attr.errorType],
    prom: "ml_errors_total",
  },
  duration: {
    name: "ml.request.duration",
    kind: "histogram",
    unit: "s",
    description: "Inference request latency",
    attributes: [...modelAttrs, Attr.endpoint],
    prom: "ml_request_duration_seconds",
  },
  inProgress: {
    name: "ml.requests.in_progress",
    kind: "updowncounter",
    unit: "{request}",
    description: "Inference requests currently being processed",
    attributes: [...modelAttrs],
    prom: "ml_requests_in_progress",
  },
  predictions: {
    name: "ml.predictions",
    kind: "counter",
    unit: "{prediction}",
    description: "Predictions made, by predicted class",
    attributes: [...modelAttrs, Attr.predictedClass],
    prom: "ml_predictions_by_class_total",
  },
  confidence: {
    name: "ml.prediction.confidence",
    kind: "histogram",
    unit: "1",
    description: "Confidence of each prediction, between 0 and 1",
    attributes: [...modelAttrs],
    prom: "ml_prediction_confidence",
  },
  lowConfidence: {
    name: "ml.predictions.low_confidence",
    kind: "counter",
    unit: "{prediction}",
    description: "Predictions whose confidence was below the threshold",
    attributes: [...modelAttrs, Attr.confidenceThreshold],
    prom: "ml_low_confidence_predictions_total",
  },
  featureValue: {
    name: "ml.feature.value",
    kind: "histogram",
    unit: "1",
    description: "Values of a numeric model input feature",
    attributes: [...modelAttrs, Attr.featureName, Attr.featureSign],
    prom: "ml_feature_value",
  },
  featureCategory: {
    name: "ml.feature.category",
    kind: "counter",
    unit: "{value}",
    description: "Values of a categorical model input feature, by category",
    attributes: [...modelAttrs, Attr.featureName, Attr.featureCategory],
    prom: "ml_feature_category_total",
  },
  segmentOutcomes: {
    name: "ml.segment.outcomes",
    kind: "counter",
    unit: "{prediction}",
    description: "Predictions whose correctness is known, by segment and outcome (correct or incorrect)",
    attributes: [...modelAttrs, Attr.segment, Attr.outcome],
    prom: "ml_segment_outcomes_total",
  },
} as const satisfies Record<string, InstrumentSpec>;

export type InstrumentName = (typeof Instruments)[keyof typeof Instruments]["name"];

/** Instrument spec by OTel name. */
export const instrumentByName: ReadonlyMap<string, InstrumentSpec> = new Map(
  Object.values(Instruments).map((i) => [i.name, i as InstrumentSpec]),
);

/** Families the collector computes (not recorded by the SDK). */
export const Derived = {
  dataDriftScore: {
    prom: "ml_data_drift_score",
    help: "Drift of a feature's current window from its baseline: KS statistic D unless the feature is configured for another method",
    labels: ["model_name", "feature_name", "method"],
  },
  dataDriftPValue: {
    prom: "ml_data_drift_p_value",
    help: "p-value of the two-sample KS test behind ml_data_drift_score",
    labels: ["model_name", "feature_name"],
  },
  dataDriftSamples: {
    prom: "ml_data_drift_window_samples",
    help: "Feature values in the current drift window",
    labels: ["model_name", "feature_name"],
  },
  dataDriftSeverity: {
    prom: "ml_data_drift_severity",
    help: "Drift severity of a feature: 0 none, 1 info, 2 warning, 3 critical",
    labels: ["model_name", "feature_name"],
  },
  dataDriftThreshold: {
    prom: "ml_data_drift_threshold",
    help: "Score a feature must reach for a severity at its current window size: the larger of the configured threshold and what chance reaches at the false-alarm rate",
    labels: ["model_name", "feature_name", "severity"],
  },
  dataDriftTopRange: {
    prom: "ml_data_drift_top_range",
    help: "Share of the current window in one of the (up to 3) value ranges or categories whose share moved most, for features with a drift severity; baseline_share is the baseline's share",
    labels: ["model_name", "feature_name", "rank", "range", "baseline_share"],
  },
  versionDriftScore: {
    prom: "ml_version_drift_score",
    help: "KS statistic D of a newer model version's feature window against the window of the version live first (during a rollout)",
    labels: ["model_name", "feature_name", "model_version", "reference_version"],
  },
  versionDriftSeverity: {
    prom: "ml_version_drift_severity",
    help: "Severity of version-against-version drift: 0 none, 1 info, 2 warning, 3 critical, with the same size-aware thresholds as data drift",
    labels: ["model_name", "feature_name", "model_version", "reference_version"],
  },
  requestDurationQuantile: {
    prom: "ml_request_duration_window_seconds",
    help: "Request latency over the analysis window: p50, p95 and p99 from the merged exponential histograms",
    labels: ["model_name", "model_version", "endpoint"],
  },
  conceptDriftPsi: {
    prom: "ml_concept_drift_psi",
    help: "Population Stability Index of the confidence distribution against its baseline",
    labels: ["model_name"],
  },
  conceptDriftClassPsi: {
    prom: "ml_concept_drift_class_psi",
    help: "Population Stability Index of the predicted-class distribution against its baseline",
    labels: ["model_name"],
  },
  conceptDriftSeverity: {
    prom: "ml_concept_drift_severity",
    help: "Concept drift severity from the larger PSI: 0 none, 1 info, 2 warning, 3 critical",
    labels: ["model_name"],
  },
  accuracyLastLabels: {
    prom: "ml_accuracy_last_labels",
    help: "Share of correct predictions among the most recent labels joined from feedback, by segment",
    labels: ["model_name", "segment"],
  },
  lowConfidenceShare: {
    prom: "ml_low_confidence_share",
    help: "Share of predictions in the window whose confidence was below the threshold",
    labels: ["model_name"],
  },
  estimatedAccuracy: {
    prom: "ml_estimated_accuracy",
    help: "Accuracy estimated without labels from the confidence distribution (calibrated by the baseline when it has a reference accuracy)",
    labels: ["model_name"],
  },
  sloTarget: {
    prom: "ml_slo_target",
    help: "Objective of an SLO: target ratio of good events, or the throughput / cost threshold",
    labels: ["model_name", "slo", "kind"],
  },
  sloCompliance: {
    prom: "ml_slo_compliance",
    help: "Service level indicator over the SLO period so far: good-event ratio, requests per second or cost per 1000 requests",
    labels: ["model_name", "slo", "kind"],
  },
  sloErrorBudgetRemaining: {
    prom: "ml_slo_error_budget_remaining",
    help: "Share of the SLO period's error budget left: 1 untouched, 0 spent, negative overspent",
    labels: ["model_name", "slo"],
  },
  sloBurnRate: {
    prom: "ml_slo_burn_rate",
    help: "Error budget burn rate over a window: bad-event ratio divided by (1 - target)",
    labels: ["model_name", "slo", "window"],
  },
  sloIndicator: {
    prom: "ml_slo_indicator",
    help: "Service level indicator over a window",
    labels: ["model_name", "slo", "window"],
  },
  accuracyBySegment: {
    prom: "ml_accuracy_by_segment",
    help: "Share of correct predictions among those with known truth, by segment",
    labels: ["model_name", "segment"],
  },
} as const;

/** Severity thresholds on the KS statistic D, from the reference design. */
export const DriftThresholds = { info: 0.1, warning: 0.15, critical: 0.25 } as const;
export type Severity = "none" | "info" | "warning" | "critical";

export function severityOf(
  score: number,
  t: { info: number; warning: number; critical: number } = DriftThresholds,
): Severity {
  if (score >= t.critical) return "critical";
  if (score >= t.warning) return "warning";
  if (score >= t.info) return "info";
  return "none";
}

/** The reference design's latency buckets, used for the classic re-export. */
export const DefaultLatencyBuckets = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10] as const;

/** Default listeners of the collector. */
export const DefaultPorts = { otlpHttp: 4318, query: 9464 } as const;

/**
 * Host and Node.js runtime metrics the SDK's startMonitoring() adds for the
 * resources page, under their OTel semantic-convention names. Host and
 * process metrics come from @opentelemetry/host-metrics; the Node.js ones are
 * observed by the SDK. Prometheus names: dots become underscores.
 */
export const RuntimeMetricNames = {
  eventLoopDelayMin: "nodejs.eventloop.delay.min",
  eventLoopDelayMax: "nodejs.eventloop.delay.max",
  eventLoopDelayMean: "nodejs.eventloop.delay.mean",
  eventLoopDelayStddev: "nodejs.eventloop.delay.stddev",
  eventLoopDelayP50: "nodejs.eventloop.delay.p50",
  eventLoopDelayP90: "nodejs.eventloop.delay.p90",
  eventLoopDelayP99: "nodejs.eventloop.delay.p99",
  eventLoopUtilization: "nodejs.eventloop.utilization",
  /** by attribute v8js.heap.space.name */
  heapUsed: "v8js.memory.heap.used",
  /** by attribute v8js.heap.space.name */
  heapLimit: "v8js.memory.heap.limit",
  processCpuTime: "process.cpu.time",
  processCpuUtilization: "process.cpu.utilization",
  processMemoryUsage: "process.memory.usage",
  systemCpuTime: "system.cpu.time",
  systemCpuUtilization: "system.cpu.utilization",
  systemMemoryUsage: "system.memory.usage",
  systemMemoryUtilization: "system.memory.utilization",
  systemNetworkIo: "system.network.io",
  systemNetworkErrors: "system.network.errors",
  systemNetworkDropped: "system.network.dropped",
} as const;
