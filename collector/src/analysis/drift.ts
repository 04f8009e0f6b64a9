// Data drift: each model feature's current sliding window against the
// model's baseline. Numeric features: KS by default (D, p-value and the
// binning error bound), or PSI, Wasserstein-1 (normalised by the baseline's
// standard deviation) or Jensen–Shannon. Categorical features: PSI by
// default, or Jensen–Shannon, or a chi-square test scored by Cramér's V.

import { Instruments, type Severity, severityOf } from "@mlwatch/semconv";
import {
  alignCategories,
  chiSquareHomogeneity,
  type ExpHistogram,
  jsCategorical,
  jsHistograms,
  ksHistograms,
  psiCategorical,
  psiHistograms,
  quantileEdges,
  wassersteinHistograms,
} from "@mlwatch/stats";
import type { DriftMethod } from "../config/config.js";
import type { ModelStore } from "../store/model-store.js";
import type { BaselineFor } from "./versions.js";

export interface Thresholds {
  info: number;
  warning: number;
  critical: number;
}

export interface FeatureDrift {
  model: string;
  feature: string;
  kind: "numeric" | "categorical";
  method: DriftMethod;
  /** Values in the current window. */
  samples: number;
  baselineSamples: number;
  /** Absent when there is no baseline for the feature or too few samples. */
  score?: { value: number; pValue: number | null; errorBound: number | null; severity: Severity };
  /** Why no score was computed, when none was. */
  reason?: "no_baseline" | "too_few_samples";
}

export interface FeatureSettings {
  method: DriftMethod;
  thresholds: Thresholds;
  minSamples: number;
}

/** Settings for one model's feature, resolved from the config's defaults and per-model overrides. */
export type DriftSettings = (
  model: string,
  feature: string,
  kind: "numeric" | "categorical",
) => FeatureSettings;

/** Current window per model and feature (numeric), merged across model versions and replicas. */
export function featureWindows(store: ModelStore, nowMs: number): Map<string, Map<string, ExpHistogram>> {
  const out = new Map<string, Map<string, ExpHistogram>>();
  for (const s of store.series(Instruments.featureValue.name)) {
    if (s.kind !== "histogram") continue;
    const byFeature = getOrCreate(out, s.labels.model_name);
    const w = s.window.merged(nowMs);
    const cur = byFeature.get(s.labels.feature_name);
    if (cur) cur.merge(w);
    else byFeature.set(s.labels.feature_name, w);
  }
  return out;
}

/** Current window counts per model, categorical feature and category. */
export function categoryWindows(
  store: ModelStore,
  nowMs: number,
): Map<string, Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, Map<string, number>>>();
  for (const s of store.series(Instruments.featureCategory.name)) {
    if (s.kind !== "counter") continue;
    const counts = getOrCreate(getOrCreate(out, s.labels.model_name), s.labels.feature_name);
    counts.set(s.labels.category, (counts.get(s.labels.category) ?? 0) + s.window.merged(nowMs));
  }
  return out;
}

function getOrCreate<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let v = m.get(k);
  if (!v) {
    v = new Map();
    m.set(k, v);
  }
  return v;
}

function numericScore(method: DriftMethod, ref: ExpHistogram, cur: ExpHistogram) {
  switch (method) {
    case "psi":
      return { value: psiHistograms(ref, cur, quantileEdges(ref, 10)), pValue: null, errorBound: null };
    case "wasserstein": {
      const w = wassersteinHistograms(ref, cur);
      return { value: w.normalized, pValue: null, errorBound: null };
    }
    case "js":
      return { value: jsHistograms(ref, cur, { base: 2 }), pValue: null, errorBound: null };
    default: {
      const ks = ksHistograms(ref, cur);
      return { value: ks.d, pValue: ks.pValue, errorBound: ks.errorBound };
    }
  }
}

function categoricalScore(method: DriftMethod, ref: Record<string, number>, cur: Map<string, number>) {
  const { a, b } = alignCategories(ref, cur);
  switch (method) {
    case "js":
      return { value: jsCategorical(a, b, { base: 2 }), pValue: null, errorBound: null };
    case "chi2": {
      const r = chiSquareHomogeneity(a, b);
      const n = a.reduce((x, y) => x + y, 0) + b.reduce((x, y) => x + y, 0);
      // Cramér's V of the 2×k table: a 0–1 effect size, where the p-value alone flags any shift at large n.
      return { value: Math.sqrt(r.statistic / n), pValue: r.pValue, errorBound: null };
    }
    default:
      return { value: psiCategorical(a, b), pValue: null, errorBound: null };
  }
}

export function computeDrift(
  store: ModelStore,
  baselineFor: BaselineFor,
  nowMs: number,
  settings: DriftSettings,
): FeatureDrift[] {
  const results: FeatureDrift[] = [];
  for (const [model, features] of featureWindows(store, nowMs)) {
    const baseline = baselineFor(model);
    for (const [feature, current] of features) {
      const s = settings(model, feature, "numeric");
      const ref = baseline?.features.get(feature);
      const r: FeatureDrift = {
        model,
        feature,
        kind: "numeric",
        method: s.method,
        samples: current.count,
        baselineSamples: ref?.count ?? 0,
      };
      if (!ref || ref.count === 0) r.reason = "no_baseline";
      else if (current.count < s.minSamples) r.reason = "too_few_samples";
      else {
        const score = numericScore(s.method, ref, current);
        r.score = { ...score, severity: severityOf(score.value, s.thresholds) };
      }
      results.push(r);
    }
  }
  for (const [model, features] of categoryWindows(store, nowMs)) {
    const baseline = baselineFor(model);
    for (const [feature, current] of features) {
      const s = settings(model, feature, "categorical");
      const ref = baseline?.categorical.get(feature);
      let samples = 0;
      for (const n of current.values()) samples += n;
      const baselineSamples = ref ? Object.values(ref).reduce((a, b) => a + b, 0) : 0;
      const r: FeatureDrift = {
        model,
        feature,
        kind: "categorical",
        method: s.method,
        samples,
        baselineSamples,
      };
      if (!ref || baselineSamples === 0) r.reason = "no_baseline";
      else if (samples < s.minSamples) r.reason = "too_few_samples";
      else {
        const score = categoricalScore(s.method, ref, current);
        r.score = { ...score, severity: severityOf(score.value, s.thresholds) };
      }
      results.push(r);
    }
  }
  results.sort((a, b) =>
    a.model === b.model ? a.feature.localeCompare(b.feature) : a.model.localeCompare(b.model),
  );
  return results;
}
