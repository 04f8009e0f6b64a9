// Data drift: for each model and numeric feature, a two-sample KS test of the
// feature's current sliding window against the model's baseline histogram.

import { Instruments, type Severity, severityOf } from "@mlwatch/semconv";
import { type ExpHistogram, ksHistograms } from "@mlwatch/stats";
import type { BaselineStore } from "../baselines/store.js";
import type { ModelStore } from "../store/model-store.js";

export interface DriftThresholdSet {
  info: number;
  warning: number;
  critical: number;
}

export interface FeatureDrift {
  model: string;
  feature: string;
  /** Values in the current window. */
  samples: number;
  baselineSamples: number;
  /** Absent when there is no baseline for the feature or too few samples. */
  score?: { d: number; pValue: number; errorBound: number; severity: Severity };
  /** Why no score was computed, when none was. */
  reason?: "no_baseline" | "too_few_samples";
}

export interface DriftOptions {
  thresholds: DriftThresholdSet;
  minSamples: number;
}

/** Current window per (model, feature), merged across model versions and replicas. */
export function featureWindows(store: ModelStore, nowMs: number): Map<string, Map<string, ExpHistogram>> {
  const out = new Map<string, Map<string, ExpHistogram>>();
  for (const s of store.series(Instruments.featureValue.name)) {
    if (s.kind !== "histogram") continue;
    const model = s.labels.model_name;
    const feature = s.labels.feature_name;
    let byFeature = out.get(model);
    if (!byFeature) {
      byFeature = new Map();
      out.set(model, byFeature);
    }
    const w = s.window.merged(nowMs);
    const cur = byFeature.get(feature);
    if (cur) cur.merge(w);
    else byFeature.set(feature, w);
  }
  return out;
}

export function computeDrift(
  store: ModelStore,
  baselines: BaselineStore,
  nowMs: number,
  opts: DriftOptions,
): FeatureDrift[] {
  const results: FeatureDrift[] = [];
  for (const [model, features] of featureWindows(store, nowMs)) {
    const baseline = baselines.get(model);
    for (const [feature, current] of features) {
      const ref = baseline?.features.get(feature);
      const r: FeatureDrift = { model, feature, samples: current.count, baselineSamples: ref?.count ?? 0 };
      if (!ref || ref.count === 0) r.reason = "no_baseline";
      else if (current.count < opts.minSamples) r.reason = "too_few_samples";
      else {
        const ks = ksHistograms(ref, current);
        r.score = {
          d: ks.d,
          pValue: ks.pValue,
          errorBound: ks.errorBound,
          severity: severityOf(ks.d, opts.thresholds),
        };
      }
      results.push(r);
    }
  }
  results.sort((a, b) =>
    a.model === b.model ? a.feature.localeCompare(b.feature) : a.model.localeCompare(b.model),
  );
  return results;
}
