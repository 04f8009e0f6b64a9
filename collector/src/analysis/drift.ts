// Data drift: each model feature's current sliding window against the
// model's baseline. Numeric features: KS by default (D, p-value and the
// binning error bound), or PSI, Wasserstein-1 (normalised by the baseline's
// standard deviation) or Jensen–Shannon. Categorical features: PSI by
// default, or Jensen–Shannon, or a chi-square test scored by Cramér's V.
//
// Severity is size-aware: a feature reaches a severity only when its score
// passes the method's threshold (the effect-size floor) and is beyond what
// chance gives at the window's size, at the configured false-alarm rate
// (packages/stats null.ts), and only once its window spans the warm-up.

import { Instruments, type Severity, severityOf } from "@mlwatch/semconv";
import {
  alignCategories,
  chiSquareHomogeneity,
  cramersVCriticalValue,
  type ExpHistogram,
  jsCategorical,
  jsCriticalValue,
  jsHistograms,
  ksCriticalValue,
  ksHistograms,
  psiCategorical,
  psiCriticalValue,
  psiHistograms,
  quantileEdges,
  wassersteinCriticalValue,
  wassersteinHistograms,
  wassersteinSpread,
} from "@mlwatch/stats";
import type { DriftMethod } from "../config/config.js";
import type { ModelStore } from "../store/model-store.js";
import type { BaselineFor } from "./versions.js";

export interface Thresholds {
  info: number;
  warning: number;
  critical: number;
}

/** A value range (numeric) or category whose share moved most between the baseline and the window. */
export interface MovedRange {
  /** "(-0.5, 0.25]" for a bin of a numeric feature (first and last bins open to ±inf), the category otherwise. */
  range: string;
  baseline: number;
  current: number;
}

export interface FeatureDrift {
  model: string;
  feature: string;
  kind: "numeric" | "categorical";
  method: DriftMethod;
  /** Values in the current window. */
  samples: number;
  baselineSamples: number;
  /**
   * Absent when there is no baseline for the feature or too few samples. While the window warms up
   * (reason "warming_up") the score is there but its severity is "none" and nothing exports it as one.
   */
  score?: {
    value: number;
    pValue: number | null;
    errorBound: number | null;
    severity: Severity;
    /** Score that chance alone reaches at this window's size at the configured false-alarm rate (KS: plus the histogram's slack). */
    chance: number;
    /** Effective thresholds: the larger of the configured one (effect-size floor) and `chance`. */
    thresholds: Thresholds;
  };
  /** Why no score was computed, when none was. */
  reason?: "no_baseline" | "too_few_samples" | "warming_up";
  /** For a feature with a severity: the (up to 3) ranges whose share moved most. */
  moved?: MovedRange[];
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

/** How severities are calibrated: the per-test false-alarm probability and the warm-up. */
export interface Calibration {
  alpha: number;
  warmupMs: number;
}

/**
 * When the analysis first saw each stream (a feature of a model, or of one version). Kept only
 * in memory: after a restart every window warms up again, since it may hold a gap.
 */
export class FirstSeen {
  private seen = new Map<string, number>();
  private next = new Map<string, number>();

  /** When `key` was first seen, counting this pass (nowMs) if it is new. */
  mark(key: string, nowMs: number): number {
    const t = this.seen.get(key) ?? this.next.get(key) ?? nowMs;
    this.next.set(key, t);
    return t;
  }

  /** Ends a pass: streams not seen in it are forgotten, so a stream that comes back warms up again. */
  endPass(): void {
    this.seen = this.next;
    this.next = new Map();
  }
}

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

/** Baseline facts the null models need, computed once per baseline histogram. */
const refFacts = new WeakMap<ExpHistogram, { decileShares?: number[]; spread?: number }>();

function factsOf(ref: ExpHistogram) {
  let f = refFacts.get(ref);
  if (!f) {
    f = {};
    refFacts.set(ref, f);
  }
  return f;
}

function numericScore(method: DriftMethod, ref: ExpHistogram, cur: ExpHistogram, alpha: number) {
  const n = cur.count;
  const m = ref.count;
  switch (method) {
    case "psi": {
      const edges = quantileEdges(ref, 10);
      const f = factsOf(ref);
      if (!f.decileShares) f.decileShares = ref.toExplicitBuckets(edges).map((c) => c / m);
      return {
        value: psiHistograms(ref, cur, edges),
        pValue: null,
        errorBound: null,
        chance: psiCriticalValue(f.decileShares, n, m, alpha),
      };
    }
    case "wasserstein": {
      const w = wassersteinHistograms(ref, cur);
      const f = factsOf(ref);
      if (f.spread === undefined) f.spread = wassersteinSpread((q) => ref.quantile(q));
      return {
        value: w.normalized,
        pValue: null,
        errorBound: null,
        chance: wassersteinCriticalValue(f.spread, n, m, alpha),
      };
    }
    case "js":
      return {
        value: jsHistograms(ref, cur, { base: 2 }),
        pValue: null,
        errorBound: null,
        chance: jsCriticalValue(Math.max(ref.cells().length, 2), n, m, alpha),
      };
    default: {
      const ks = ksHistograms(ref, cur);
      // Chance is judged on the guaranteed lower bound of the raw-sample D, so binning cannot add
      // false alarms: d >= critical + (d − lower) exactly when lower >= critical.
      return {
        value: ks.d,
        pValue: ks.pValue,
        errorBound: ks.errorBound,
        chance: ksCriticalValue(n, m, alpha) + (ks.d - ks.lower),
      };
    }
  }
}

function categoricalScore(
  method: DriftMethod,
  ref: Record<string, number>,
  cur: Map<string, number>,
  alpha: number,
) {
  const { a, b } = alignCategories(ref, cur);
  const m = a.reduce((x, y) => x + y, 0);
  const n = b.reduce((x, y) => x + y, 0);
  switch (method) {
    case "js":
      return {
        value: jsCategorical(a, b, { base: 2 }),
        pValue: null,
        errorBound: null,
        chance: jsCriticalValue(a.length, n, m, alpha),
      };
    case "chi2": {
      const r = chiSquareHomogeneity(a, b);
      // Cramér's V of the 2×k table: a 0–1 effect size, where the p-value alone flags any shift at large n.
      return {
        value: Math.sqrt(r.statistic / (n + m)),
        pValue: r.pValue,
        errorBound: null,
        chance: cramersVCriticalValue(a.length, n, m, alpha),
      };
    }
    default:
      return {
        value: psiCategorical(a, b),
        pValue: null,
        errorBound: null,
        chance: psiCriticalValue(
          a.map((x) => x / m),
          n,
          m,
          alpha,
        ),
      };
  }
}

/** The configured thresholds raised to what chance reaches: a severity needs both. */
export function effectiveThresholds(floor: Thresholds, chance: number): Thresholds {
  const c = Number.isFinite(chance) ? chance : 0;
  return {
    info: Math.max(floor.info, c),
    warning: Math.max(floor.warning, c),
    critical: Math.max(floor.critical, c),
  };
}

function scored(
  score: { value: number; pValue: number | null; errorBound: number | null; chance: number },
  floor: Thresholds,
) {
  const thresholds = effectiveThresholds(floor, score.chance);
  return { ...score, thresholds, severity: severityOf(score.value, thresholds) };
}

/**
 * Quantiles of the baseline that cut the drift report's bins: 0 %, 5 %, …, 100 %, ties merged
 * (a feature with few distinct values has fewer bins).
 */
export function reportEdges(ref: ExpHistogram): number[] {
  return [...new Set(Array.from({ length: 21 }, (_, i) => ref.quantile(i / 20)))];
}

/**
 * Shares of a histogram in the bins between `edges`. The first bin also holds what lies below the
 * first edge and the last what lies above the last: each distribution sums to 1, and values a
 * drift pushed out of the baseline's range still show.
 */
export function binShares(h: ExpHistogram, edges: number[]): number[] {
  const last = edges.length - 2;
  return edges.slice(1).map((e, i) => (i === last ? 1 : h.cdf(e)) - (i === 0 ? 0 : h.cdf(edges[i])));
}

const fmt = (v: number) => String(Number(v.toPrecision(3)));

/** Label of bin i between `edges` as binShares() counts it. */
export function binLabel(edges: number[], i: number): string {
  const lo = i === 0 ? "(-inf" : `(${fmt(edges[i])}`;
  const hi = i === edges.length - 2 ? "+inf)" : `${fmt(edges[i + 1])}]`;
  return `${lo}, ${hi}`;
}

/**
 * The `k` ranges whose share changed most (largest |current − baseline|), largest first. `labels`
 * is a list, or a function of the bin's index so that only the winners are formatted.
 */
export function topMoved(
  labels: string[] | ((i: number) => string),
  baseline: number[],
  current: number[],
  k = 3,
): MovedRange[] {
  const label = typeof labels === "function" ? labels : (i: number) => labels[i];
  return baseline
    .map((_, i) => i)
    .filter((i) => baseline[i] !== current[i])
    .sort((x, y) => Math.abs(current[y] - baseline[y]) - Math.abs(current[x] - baseline[x]))
    .slice(0, k)
    .map((i) => ({ range: label(i), baseline: baseline[i], current: current[i] }));
}

function movedNumeric(ref: ExpHistogram, cur: ExpHistogram): MovedRange[] {
  const edges = reportEdges(ref);
  if (edges.length < 2) return [];
  return topMoved((i) => binLabel(edges, i), binShares(ref, edges), binShares(cur, edges));
}

function movedCategorical(ref: Record<string, number>, cur: Map<string, number>): MovedRange[] {
  const names = [...new Set([...Object.keys(ref), ...cur.keys()])];
  const tr = names.reduce((s, c) => s + (ref[c] ?? 0), 0);
  const tc = names.reduce((s, c) => s + (cur.get(c) ?? 0), 0);
  return topMoved(
    names,
    names.map((c) => (ref[c] ?? 0) / tr),
    names.map((c) => (cur.get(c) ?? 0) / tc),
  );
}

export function computeDrift(
  store: ModelStore,
  baselineFor: BaselineFor,
  nowMs: number,
  settings: DriftSettings,
  calibration: Calibration,
  firstSeen: FirstSeen,
): FeatureDrift[] {
  const results: FeatureDrift[] = [];
  // Only a window with values counts as seen: a stream that stopped sending leaves an empty window
  // behind, and when it comes back its window holds a gap, so it warms up again.
  const warm = (model: string, feature: string, samples: number) =>
    samples > 0 && nowMs - firstSeen.mark(`${model}\u0000${feature}`, nowMs) >= calibration.warmupMs;
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
      const isWarm = warm(model, feature, current.count);
      if (!ref || ref.count === 0) r.reason = "no_baseline";
      else if (current.count < s.minSamples) r.reason = "too_few_samples";
      else {
        r.score = scored(numericScore(s.method, ref, current, calibration.alpha), s.thresholds);
        // A young window is scored, for the record, but judged only once it spans the warm-up.
        if (!isWarm) {
          r.reason = "warming_up";
          r.score.severity = "none";
        } else if (r.score.severity !== "none") r.moved = movedNumeric(ref, current);
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
      const isWarm = warm(model, feature, samples);
      if (!ref || baselineSamples === 0) r.reason = "no_baseline";
      else if (samples < s.minSamples) r.reason = "too_few_samples";
      else {
        r.score = scored(categoricalScore(s.method, ref, current, calibration.alpha), s.thresholds);
        // A young window is scored, for the record, but judged only once it spans the warm-up.
        if (!isWarm) {
          r.reason = "warming_up";
          r.score.severity = "none";
        } else if (r.score.severity !== "none") r.moved = movedCategorical(ref, current);
      }
      results.push(r);
    }
  }
  results.sort((a, b) =>
    a.model === b.model ? a.feature.localeCompare(b.feature) : a.model.localeCompare(b.model),
  );
  return results;
}
