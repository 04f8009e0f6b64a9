// Renders /metrics: RED and model-quality families re-exported under the
// reference design's Prometheus names, the analysis results, and the
// collector's own health.

import { Derived, type InstrumentSpec, Instruments, SeverityLevel } from "@mlwatch/semconv";
import type { ExpHistogram } from "@mlwatch/stats";
import type { FeedbackJoiner } from "../analysis/feedback.js";
import type { AnalysisSnapshot } from "../analysis/snapshot.js";
import type { ModelStore } from "../store/model-store.js";
import { Exposition, type Labels } from "./exposition.js";

export interface SelfStats {
  requests: Map<string, number>;
  rejectedPoints: Map<string, number>;
  activeStreams: number;
  logRecords: number;
  lastAnalysisSeconds: number;
  lastCheckpointSeconds: number;
  startedAtMs: number;
}

const QUANTILES = [0.5, 0.95, 0.99] as const;

/** A share as a label value: four significant digits, stable from pass to pass for a fixed baseline. */
function shareLabel(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** Writes one gauge family from rows, skipping rows without a value; nothing when no row has one. */
function gauges<T>(
  x: Exposition,
  fam: { prom: string; help: string },
  rows: T[],
  each: (r: T) => [Labels, number] | undefined,
): void {
  const samples = rows
    .map(each)
    .filter((s): s is [Labels, number] => s !== undefined && Number.isFinite(s[1]));
  if (samples.length === 0) return;
  x.family(fam.prom, "gauge", fam.help);
  for (const [labels, v] of samples) x.sample(fam.prom, labels, v);
}

function counterFamily(x: Exposition, store: ModelStore, spec: InstrumentSpec): void {
  const series = [...store.series(spec.name)].filter((s) => s.kind === "counter");
  if (series.length === 0) return;
  x.family(spec.prom, "counter", spec.description);
  for (const s of series) {
    const v = s.kind === "counter" ? store.servedCount(s) : undefined;
    if (v !== undefined) x.sample(spec.prom, s.labels, v);
  }
}

function levelFamily(x: Exposition, store: ModelStore, spec: InstrumentSpec): void {
  const series = [...store.series(spec.name)].filter((s) => s.kind === "level");
  if (series.length === 0) return;
  x.family(spec.prom, "gauge", spec.description);
  for (const s of series) {
    if (s.kind !== "level") continue;
    let sum = 0;
    for (const v of s.streams.values()) sum += v.value;
    x.sample(spec.prom, s.labels, sum);
  }
}

function classicHistogramFamily(x: Exposition, store: ModelStore, spec: InstrumentSpec): void {
  const series = [...store.series(spec.name)].filter((s) => s.kind === "histogram" && s.classic);
  if (series.length === 0) return;
  x.family(spec.prom, "histogram", spec.description);
  for (const s of series) {
    const h = s.kind === "histogram" ? store.servedHistogram(s) : undefined;
    if (h !== undefined) x.histogram(spec.prom, s.labels, h.classic.bounds, h.classic.counts, h.total.sum);
  }
}

/** Window quantiles as a Prometheus summary: precomputed from the merged exponential histograms. */
function latencyQuantiles(x: Exposition, store: ModelStore, nowMs: number): void {
  const d = Derived.requestDurationQuantile;
  const windows: Array<[Labels, ExpHistogram]> = [];
  for (const s of store.series(Instruments.duration.name)) {
    if (s.kind !== "histogram") continue;
    const w = s.window.merged(nowMs);
    if (w.count > 0) windows.push([s.labels, w]);
  }
  if (windows.length === 0) return;
  x.family(d.prom, "summary", d.help);
  for (const [labels, w] of windows) {
    for (const q of QUANTILES) x.sample(d.prom, labels, w.quantile(q), ["quantile", String(q)]);
    x.sample(`${d.prom}_sum`, labels, w.sum);
    x.sample(`${d.prom}_count`, labels, w.count);
  }
}

function analysisFamilies(x: Exposition, a: AnalysisSnapshot): void {
  const D = Derived;
  const feature = (r: (typeof a.drift)[number]) => ({ model_name: r.model, feature_name: r.feature });
  gauges(x, D.dataDriftSamples, a.drift, (r) => [feature(r), r.samples]);
  gauges(x, D.dataDriftScore, a.drift, (r) =>
    r.score ? [{ ...feature(r), method: r.method }, r.score.value] : undefined,
  );
  gauges(x, D.dataDriftPValue, a.drift, (r) =>
    r.score?.pValue != null ? [feature(r), r.score.pValue] : undefined,
  );
  // No severity, threshold or attribution from a window still warming up: only its score and size.
  const judged = a.drift.filter((r) => r.score && r.reason !== "warming_up");
  gauges(x, D.dataDriftSeverity, judged, (r) =>
    r.score ? [feature(r), SeverityLevel[r.score.severity]] : undefined,
  );
  const tiers = (["info", "warning", "critical"] as const).flatMap((severity) =>
    judged.map((r) => ({ r, severity })),
  );
  gauges(x, D.dataDriftThreshold, tiers, ({ r, severity }) =>
    r.score ? [{ ...feature(r), severity }, r.score.thresholds[severity]] : undefined,
  );
  const moved = a.drift.flatMap((r) => (r.moved ?? []).map((m, i) => ({ r, m, rank: String(i + 1) })));
  gauges(x, D.dataDriftTopRange, moved, ({ r, m, rank }) => [
    { ...feature(r), rank, range: m.range, baseline_share: shareLabel(m.baseline) },
    m.current,
  ]);
  const version = (v: (typeof a.versionDrift)[number]) => ({
    model_name: v.model,
    feature_name: v.feature,
    model_version: v.version,
    reference_version: v.referenceVersion,
  });
  gauges(x, D.versionDriftScore, a.versionDrift, (v) => (v.score ? [version(v), v.score.value] : undefined));
  gauges(x, D.versionDriftSeverity, a.versionDrift, (v) =>
    v.score ? [version(v), SeverityLevel[v.score.severity]] : undefined,
  );

  const model = (m: string) => ({ model_name: m });
  gauges(x, D.conceptDriftPsi, a.concept, (r) =>
    r.confidencePsi !== null ? [model(r.model), r.confidencePsi] : undefined,
  );
  gauges(x, D.conceptDriftClassPsi, a.concept, (r) =>
    r.classPsi !== null ? [model(r.model), r.classPsi] : undefined,
  );
  gauges(x, D.conceptDriftSeverity, a.concept, (r) =>
    r.severity ? [model(r.model), SeverityLevel[r.severity]] : undefined,
  );

  gauges(x, D.accuracyBySegment, a.accuracy, (r) =>
    r.accuracy !== undefined ? [{ model_name: r.model, segment: r.segment }, r.accuracy] : undefined,
  );
  gauges(x, D.accuracyLastLabels, a.rolling, (r) =>
    r.total > 0 ? [{ model_name: r.model, segment: r.segment }, r.correct / r.total] : undefined,
  );
  gauges(x, D.lowConfidenceShare, a.quality, (r) =>
    r.lowConfidenceShare !== null ? [model(r.model), r.lowConfidenceShare] : undefined,
  );
  gauges(x, D.estimatedAccuracy, a.quality, (r) =>
    r.estimatedAccuracy !== null ? [model(r.model), r.estimatedAccuracy] : undefined,
  );

  const slos = [...a.slo].flatMap(([m, objectives]) => objectives.map((o) => ({ m, o })));
  gauges(x, D.sloTarget, slos, ({ m, o }) => [{ model_name: m, slo: o.name, kind: o.kind }, o.target]);
  gauges(x, D.sloCompliance, slos, ({ m, o }) =>
    o.sli !== null ? [{ model_name: m, slo: o.name, kind: o.kind }, o.sli] : undefined,
  );
  gauges(x, D.sloErrorBudgetRemaining, slos, ({ m, o }) =>
    o.errorBudgetRemaining !== null ? [{ model_name: m, slo: o.name }, o.errorBudgetRemaining] : undefined,
  );
  const windows = slos.flatMap(({ m, o }) => o.windows.map((w) => ({ m, o, w })));
  gauges(x, D.sloBurnRate, windows, ({ m, o, w }) =>
    w.burnRate !== null ? [{ model_name: m, slo: o.name, window: w.window }, w.burnRate] : undefined,
  );
  gauges(x, D.sloIndicator, windows, ({ m, o, w }) =>
    w.sli !== null ? [{ model_name: m, slo: o.name, window: w.window }, w.sli] : undefined,
  );
}

function selfFamilies(x: Exposition, self: SelfStats, store: ModelStore, feedback: FeedbackJoiner): void {
  x.family(
    "mlwatch_collector_otlp_requests_total",
    "counter",
    "OTLP export requests received, by signal and HTTP status",
  );
  for (const [key, n] of self.requests) {
    const [signal, code] = key.split(" ");
    x.sample("mlwatch_collector_otlp_requests_total", { signal, code }, n);
  }
  x.family(
    "mlwatch_collector_rejected_points_total",
    "counter",
    "Data points and log records rejected, by reason",
  );
  for (const [reason, n] of self.rejectedPoints)
    x.sample("mlwatch_collector_rejected_points_total", { reason }, n);
  x.family(
    "mlwatch_collector_capped_points_total",
    "counter",
    "Points sent to an overflow series because their metric hit the series cap",
  );
  for (const [metric, n] of store.capped) x.sample("mlwatch_collector_capped_points_total", { metric }, n);
  const single: Array<[string, "counter" | "gauge", string, number]> = [
    ["mlwatch_collector_log_records_total", "counter", "OTLP log records received", self.logRecords],
    ["mlwatch_collector_active_series", "gauge", "Series held in the window store", store.seriesCount],
    [
      "mlwatch_collector_active_streams",
      "gauge",
      "Replica streams tracked for cumulative-to-delta conversion",
      self.activeStreams,
    ],
    [
      "mlwatch_collector_ignored_points_total",
      "counter",
      "Valid points of metrics the collector does not use",
      store.ignoredPoints,
    ],
    [
      "mlwatch_collector_truncated_labels_total",
      "counter",
      "Label values cut to limits.maxLabelLength",
      store.truncatedLabels,
    ],
    [
      "mlwatch_collector_pending_reviews",
      "gauge",
      "Sampled predictions waiting for a label",
      feedback.pendingCount,
    ],
    [
      "mlwatch_collector_dropped_reviews_total",
      "counter",
      "Sampled predictions dropped unlabelled (queue full or expired)",
      feedback.dropped,
    ],
    [
      "mlwatch_collector_analysis_duration_seconds",
      "gauge",
      "Time the last analysis pass took",
      self.lastAnalysisSeconds,
    ],
    [
      "mlwatch_collector_checkpoint_duration_seconds",
      "gauge",
      "Time the last checkpoint to SQLite took",
      self.lastCheckpointSeconds,
    ],
    [
      "mlwatch_collector_resident_memory_bytes",
      "gauge",
      "Resident set size of the collector process",
      process.memoryUsage.rss(),
    ],
    [
      "mlwatch_collector_start_time_seconds",
      "gauge",
      "When the collector started, in Unix seconds",
      self.startedAtMs / 1000,
    ],
  ];
  for (const [name, type, help, v] of single) {
    x.family(name, type, help);
    x.sample(name, {}, v);
  }
}

export function renderMetrics(
  store: ModelStore,
  snapshot: AnalysisSnapshot,
  self: SelfStats,
  feedback: FeedbackJoiner,
  nowMs: number,
): string {
  const x = new Exposition();
  const I = Instruments;
  counterFamily(x, store, I.requests);
  counterFamily(x, store, I.errors);
  classicHistogramFamily(x, store, I.duration);
  latencyQuantiles(x, store, nowMs);
  levelFamily(x, store, I.inProgress);
  counterFamily(x, store, I.predictions);
  classicHistogramFamily(x, store, I.confidence);
  counterFamily(x, store, I.lowConfidence);
  counterFamily(x, store, I.featureCategory);
  counterFamily(x, store, I.segmentOutcomes);
  analysisFamilies(x, snapshot);
  selfFamilies(x, self, store, feedback);
  return x.toString();
}
