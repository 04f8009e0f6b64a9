// Per-model health summary over the current window: the "is it healthy in
// five seconds" view behind the status page, the JSON API and the demo, with
// the health the shipped alert rules would give it (health.ts).

import { Instruments, type Severity } from "@mlwatch/semconv";
import { ExpHistogram } from "@mlwatch/stats";
import type { ObjectiveStatus } from "../analysis/slo.js";
import type { AnalysisSnapshot } from "../analysis/snapshot.js";
import type { ModelStore } from "../store/model-store.js";
import { judgeHealth, type ModelHealth } from "./health.js";

/** What the collector knows of a model besides its series. */
export interface ModelFacts {
  /** When new values of the model last arrived (receive time); null: not since the collector started. */
  lastDataMs: number | null;
  /** When new requests of the model last arrived; null: not since the collector started. */
  lastRequestMs: number | null;
  collectorStartedMs: number;
  /** The model has SLOs in the collector's config. */
  hasSlo: boolean;
}

/** A model's numbers over the window: what its health is judged from. */
export interface ModelSignals {
  model: string;
  /** When the summary was made. */
  atMs: number;
  lastDataAtMs: number | null;
  lastRequestAtMs: number | null;
  collectorStartedAtMs: number;
  hasSlo: boolean;
  versions: string[];
  windowSeconds: number;
  /** Requests since the collector started. */
  requestsTotal: number;
  errorsTotal: number;
  /** Requests and errors within the window. */
  requests: number;
  errors: number;
  errorRate: number | null;
  requestsPerSecond: number;
  errorsByType: Record<string, number>;
  latencySeconds: { p50: number; p95: number; p99: number } | null;
  inProgress: number;
  predictionsByClass: Record<string, number>;
  drift: Array<{
    feature: string;
    kind: "numeric" | "categorical";
    method: string;
    samples: number;
    score: number | null;
    pValue: number | null;
    severity: Severity | null;
    /** Effective thresholds at this window's size (configured floor raised to what chance reaches). */
    thresholds: { info: number; warning: number; critical: number } | null;
    /** Why there is no score: no baseline, too few samples, or the window is still warming up. */
    reason: string | null;
    /** For a feature with a severity, the ranges whose share moved most. */
    moved: Array<{ range: string; baseline: number; current: number }>;
  }>;
  /** During a rollout: newer versions' feature windows against the version live first. */
  versionDrift: Array<{
    feature: string;
    version: string;
    referenceVersion: string;
    score: number | null;
    severity: Severity | null;
    samples: number;
  }>;
  worstDrift: Severity;
  conceptDrift: { confidencePsi: number | null; classPsi: number | null; severity: Severity | null } | null;
  accuracy: Array<{ segment: string; accuracy: number | null; total: number }>;
  /** Accuracy over the most recent labels joined from feedback. */
  accuracyLastLabels: Array<{ segment: string; accuracy: number | null; labels: number }>;
  lowConfidenceShare: number | null;
  estimatedAccuracy: number | null;
  /** The model's SLOs in the collector's config, with burn rates per window. */
  slo: ObjectiveStatus[];
}

export interface ModelSummary extends ModelSignals {
  /** Health as the shipped alert rules would judge these numbers (see health.ts). */
  health: ModelHealth;
}

const ORDER: Severity[] = ["none", "info", "warning", "critical"];

export function summarize(
  store: ModelStore,
  snapshot: AnalysisSnapshot,
  model: string,
  nowMs: number,
  windowSeconds: number,
  facts: ModelFacts,
): ModelSummary {
  const I = Instruments;
  const versions = new Set<string>();
  let requestsTotal = 0;
  let requests = 0;
  let errorsTotal = 0;
  let errors = 0;
  const errorsByType: Record<string, number> = {};
  for (const s of store.series(I.requests.name)) {
    if (s.kind !== "counter" || s.labels.model_name !== model) continue;
    versions.add(s.labels.model_version);
    requestsTotal += s.total;
    requests += s.window.merged(nowMs);
  }
  for (const s of store.series(I.errors.name)) {
    if (s.kind !== "counter" || s.labels.model_name !== model) continue;
    errorsTotal += s.total;
    const n = s.window.merged(nowMs);
    errors += n;
    if (n > 0) errorsByType[s.labels.error_type] = (errorsByType[s.labels.error_type] ?? 0) + n;
  }
  const latency = new ExpHistogram();
  for (const s of store.series(I.duration.name)) {
    if (s.kind === "histogram" && s.labels.model_name === model) latency.merge(s.window.merged(nowMs));
  }
  let inProgress = 0;
  for (const s of store.series(I.inProgress.name)) {
    if (s.kind === "level" && s.labels.model_name === model)
      for (const v of s.streams.values()) inProgress += v.value;
  }
  const predictionsByClass: Record<string, number> = {};
  for (const s of store.series(I.predictions.name)) {
    if (s.kind !== "counter" || s.labels.model_name !== model) continue;
    const n = s.window.merged(nowMs);
    predictionsByClass[s.labels.predicted_class] = (predictionsByClass[s.labels.predicted_class] ?? 0) + n;
  }
  const drift = snapshot.drift
    .filter((r) => r.model === model)
    .map((r) => ({
      feature: r.feature,
      kind: r.kind,
      method: r.method,
      samples: r.samples,
      score: r.score?.value ?? null,
      pValue: r.score?.pValue ?? null,
      severity: r.reason === "warming_up" ? null : (r.score?.severity ?? null),
      thresholds: r.reason === "warming_up" ? null : (r.score?.thresholds ?? null),
      reason: r.reason ?? null,
      moved: r.moved ?? [],
    }));
  const versionDrift = snapshot.versionDrift
    .filter((v) => v.model === model)
    .map((v) => ({
      feature: v.feature,
      version: v.version,
      referenceVersion: v.referenceVersion,
      score: v.score?.value ?? null,
      severity: v.score?.severity ?? null,
      samples: v.samples,
    }));
  const concept = snapshot.concept.find((c) => c.model === model);
  const quality = snapshot.quality.find((q) => q.model === model);
  let worstDrift: Severity = "none";
  for (const r of drift)
    if (r.severity && ORDER.indexOf(r.severity) > ORDER.indexOf(worstDrift)) worstDrift = r.severity;
  const signals: ModelSignals = {
    model,
    atMs: nowMs,
    lastDataAtMs: facts.lastDataMs,
    lastRequestAtMs: facts.lastRequestMs,
    collectorStartedAtMs: facts.collectorStartedMs,
    hasSlo: facts.hasSlo,
    versions: [...versions].sort(),
    windowSeconds,
    requestsTotal,
    errorsTotal,
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    requestsPerSecond: requests / windowSeconds,
    errorsByType,
    latencySeconds:
      latency.count > 0
        ? { p50: latency.quantile(0.5), p95: latency.quantile(0.95), p99: latency.quantile(0.99) }
        : null,
    inProgress,
    predictionsByClass,
    drift,
    versionDrift,
    worstDrift,
    conceptDrift: concept
      ? { confidencePsi: concept.confidencePsi, classPsi: concept.classPsi, severity: concept.severity }
      : null,
    accuracy: snapshot.accuracy
      .filter((r) => r.model === model)
      .map((r) => ({ segment: r.segment, accuracy: r.accuracy ?? null, total: r.total })),
    accuracyLastLabels: snapshot.rolling
      .filter((r) => r.model === model)
      .map((r) => ({
        segment: r.segment,
        accuracy: r.total > 0 ? r.correct / r.total : null,
        labels: r.total,
      })),
    lowConfidenceShare: quality?.lowConfidenceShare ?? null,
    estimatedAccuracy: quality?.estimatedAccuracy ?? null,
    slo: snapshot.slo.get(model) ?? [],
  };
  return { ...signals, health: judgeHealth(signals) };
}
