// Renders /metrics: RED and model-quality families re-exported under the
// reference design's Prometheus names, the analysis results, and the
// collector's own health.

import { Derived, type InstrumentSpec, Instruments } from "@mlwatch/semconv";
import type { ExpHistogram } from "@mlwatch/stats";
import type { AnalysisSnapshot } from "../analysis/snapshot.js";
import type { ModelStore } from "../store/model-store.js";
import { Exposition } from "./exposition.js";

export interface SelfStats {
  requests: Map<string, number>;
  rejectedPoints: Map<string, number>;
  activeStreams: number;
  logRecords: number;
  lastAnalysisSeconds: number;
  lastCheckpointSeconds: number;
  startedAtMs: number;
}

const SEVERITY_LEVEL = { none: 0, info: 1, warning: 2, critical: 3 } as const;
const QUANTILES = [0.5, 0.95, 0.99] as const;

function counterFamily(x: Exposition, store: ModelStore, spec: InstrumentSpec): void {
  const series = [...store.series(spec.name)].filter((s) => s.kind === "counter");
  if (series.length === 0) return;
  x.family(spec.prom, "counter", spec.description);
  for (const s of series) if (s.kind === "counter") x.sample(spec.prom, s.labels, s.total);
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
    if (s.kind !== "histogram" || !s.classic) continue;
    x.histogram(spec.prom, s.labels, s.classic.bounds, s.classic.counts, s.total.sum);
  }
}

/** Window quantiles as a Prometheus summary: precomputed from the merged exponential histograms. */
function latencyQuantiles(x: Exposition, store: ModelStore, nowMs: number): void {
  const d = Derived.requestDurationQuantile;
  const windows: Array<[Record<string, string>, ExpHistogram]> = [];
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

function driftFamilies(x: Exposition, snapshot: AnalysisSnapshot): void {
  const scored = snapshot.drift.filter((r) => r.score);
  const samples = Derived.dataDriftSamples;
  if (snapshot.drift.length > 0) {
    x.family(samples.prom, "gauge", samples.help);
    for (const r of snapshot.drift)
      x.sample(samples.prom, { model_name: r.model, feature_name: r.feature }, r.samples);
  }
  if (scored.length === 0) return;
  const families = [
    [Derived.dataDriftScore, (r: (typeof scored)[number]) => r.score!.d],
    [Derived.dataDriftPValue, (r: (typeof scored)[number]) => r.score!.pValue],
    [Derived.dataDriftSeverity, (r: (typeof scored)[number]) => SEVERITY_LEVEL[r.score!.severity]],
  ] as const;
  for (const [fam, value] of families) {
    x.family(fam.prom, "gauge", fam.help);
    for (const r of scored) x.sample(fam.prom, { model_name: r.model, feature_name: r.feature }, value(r));
  }
}

function accuracyFamily(x: Exposition, snapshot: AnalysisSnapshot): void {
  const rows = snapshot.accuracy.filter((r) => r.accuracy !== undefined);
  if (rows.length === 0) return;
  const d = Derived.accuracyBySegment;
  x.family(d.prom, "gauge", d.help);
  for (const r of rows) x.sample(d.prom, { model_name: r.model, segment: r.segment }, r.accuracy!);
}

function selfFamilies(x: Exposition, self: SelfStats, store: ModelStore): void {
  x.family(
    "mlwatch_collector_otlp_requests_total",
    "counter",
    "OTLP export requests received, by signal and HTTP status",
  );
  for (const [key, n] of self.requests) {
    const [signal, code] = key.split(" ");
    x.sample("mlwatch_collector_otlp_requests_total", { signal, code }, n);
  }
  x.family("mlwatch_collector_rejected_points_total", "counter", "Data points rejected, by reason");
  for (const [reason, n] of self.rejectedPoints)
    x.sample("mlwatch_collector_rejected_points_total", { reason }, n);
  x.family(
    "mlwatch_collector_log_records_total",
    "counter",
    "OTLP log records received (sampled predictions)",
  );
  x.sample("mlwatch_collector_log_records_total", {}, self.logRecords);
  x.family("mlwatch_collector_active_series", "gauge", "Series held in the window store");
  x.sample("mlwatch_collector_active_series", {}, store.seriesCount);
  x.family(
    "mlwatch_collector_active_streams",
    "gauge",
    "Replica streams tracked for cumulative-to-delta conversion",
  );
  x.sample("mlwatch_collector_active_streams", {}, self.activeStreams);
  x.family(
    "mlwatch_collector_ignored_points_total",
    "counter",
    "Valid points of metrics the collector does not use",
  );
  x.sample("mlwatch_collector_ignored_points_total", {}, store.ignoredPoints);
  x.family("mlwatch_collector_analysis_duration_seconds", "gauge", "Time the last analysis pass took");
  x.sample("mlwatch_collector_analysis_duration_seconds", {}, self.lastAnalysisSeconds);
  x.family(
    "mlwatch_collector_checkpoint_duration_seconds",
    "gauge",
    "Time the last checkpoint to SQLite took",
  );
  x.sample("mlwatch_collector_checkpoint_duration_seconds", {}, self.lastCheckpointSeconds);
  x.family("mlwatch_collector_resident_memory_bytes", "gauge", "Resident set size of the collector process");
  x.sample("mlwatch_collector_resident_memory_bytes", {}, process.memoryUsage.rss());
  x.family("mlwatch_collector_start_time_seconds", "gauge", "When the collector started, in Unix seconds");
  x.sample("mlwatch_collector_start_time_seconds", {}, self.startedAtMs / 1000);
}

export function renderMetrics(
  store: ModelStore,
  snapshot: AnalysisSnapshot,
  self: SelfStats,
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
  counterFamily(x, store, I.segmentOutcomes);
  driftFamilies(x, snapshot);
  accuracyFamily(x, snapshot);
  selfFamilies(x, self, store);
  return x.toString();
}
