// Version against version: during a rollout, each newer version's live
// window of a numeric feature against the live window of the version that
// was there first, by KS with the same size-aware severity as data drift
// (both windows are small samples, so ne = n·m/(n+m) of the two).

import { DriftThresholds, Instruments, type Severity, severityOf } from "@mlwatch/semconv";
import { type ExpHistogram, ksCriticalValue, ksHistograms } from "@mlwatch/stats";
import type { ModelStore } from "../store/model-store.js";
import {
  binLabel,
  binShares,
  type Calibration,
  type DriftSettings,
  effectiveThresholds,
  type FirstSeen,
  type MovedRange,
  reportEdges,
  type Thresholds,
  topMoved,
} from "./drift.js";

export interface VersionDrift {
  model: string;
  feature: string;
  /** The newer version. */
  version: string;
  /** The version it is compared with: the one first seen among those live. */
  referenceVersion: string;
  samples: number;
  referenceSamples: number;
  score?: {
    value: number;
    pValue: number;
    errorBound: number;
    chance: number;
    thresholds: Thresholds;
    severity: Severity;
  };
  reason?: "too_few_samples" | "warming_up";
  moved?: MovedRange[];
}

/**
 * Windows per model, version and numeric feature, merged across replicas and signs, for the models
 * with more than one version (merging is most of a pass's cost; a model with one version has
 * nothing to compare). Every version seen is marked in `firstSeen`, so that when a second version
 * arrives the first one is known to be older.
 */
function versionWindows(
  store: ModelStore,
  nowMs: number,
  firstSeen: FirstSeen,
): Map<string, Map<string, Map<string, ExpHistogram>>> {
  const versions = new Map<string, Set<string>>();
  for (const s of store.series(Instruments.featureValue.name)) {
    if (s.kind !== "histogram") continue;
    let v = versions.get(s.labels.model_name);
    if (!v) {
      v = new Set();
      versions.set(s.labels.model_name, v);
    }
    v.add(s.labels.model_version);
  }
  for (const [model, vs] of versions) for (const v of vs) firstSeen.mark(`${model}\u0000@${v}`, nowMs);
  const out = new Map<string, Map<string, Map<string, ExpHistogram>>>();
  for (const s of store.series(Instruments.featureValue.name)) {
    if (s.kind !== "histogram") continue;
    const { model_name: model, model_version: version, feature_name: feature } = s.labels;
    if ((versions.get(model)?.size ?? 0) < 2) continue;
    let byVersion = out.get(model);
    if (!byVersion) {
      byVersion = new Map();
      out.set(model, byVersion);
    }
    let byFeature = byVersion.get(version);
    if (!byFeature) {
      byFeature = new Map();
      byVersion.set(version, byFeature);
    }
    const w = s.window.merged(nowMs);
    if (w.count === 0) continue;
    const cur = byFeature.get(feature);
    if (cur) cur.merge(w);
    else byFeature.set(feature, w);
  }
  return out;
}

export function computeVersionDrift(
  store: ModelStore,
  nowMs: number,
  settings: DriftSettings,
  calibration: Calibration,
  firstSeen: FirstSeen,
): VersionDrift[] {
  const results: VersionDrift[] = [];
  for (const [model, byVersion] of versionWindows(store, nowMs, firstSeen)) {
    const live = [...byVersion].filter(([, f]) => f.size > 0);
    if (live.length < 2) continue;
    const since = new Map(live.map(([v]) => [v, firstSeen.mark(`${model}\u0000@${v}`, nowMs)]));
    // The reference is the version seen first; on a tie (a restart) the one with the most values.
    const total = (f: Map<string, ExpHistogram>) => [...f.values()].reduce((s, h) => s + h.count, 0);
    live.sort(
      ([va, fa], [vb, fb]) =>
        since.get(va)! - since.get(vb)! || total(fb) - total(fa) || va.localeCompare(vb),
    );
    const [refVersion, refFeatures] = live[0];
    for (const [version, features] of live.slice(1)) {
      for (const [feature, cur] of features) {
        const ref = refFeatures.get(feature);
        if (!ref) continue;
        const s = settings(model, feature, "numeric");
        const r: VersionDrift = {
          model,
          feature,
          version,
          referenceVersion: refVersion,
          samples: cur.count,
          referenceSamples: ref.count,
        };
        const warm = (v: string) => nowMs - since.get(v)! >= calibration.warmupMs;
        if (cur.count < s.minSamples || ref.count < s.minSamples) r.reason = "too_few_samples";
        else if (!warm(version) || !warm(refVersion)) r.reason = "warming_up";
        else {
          const ks = ksHistograms(ref, cur);
          const chance = ksCriticalValue(cur.count, ref.count, calibration.alpha) + (ks.d - ks.lower);
          // Version drift is always KS: the floor is the KS thresholds of the feature's settings
          // when KS is its method, else the reference design's.
          const floor = s.method === "ks" ? s.thresholds : DriftThresholds;
          const thresholds = effectiveThresholds(floor, chance);
          r.score = {
            value: ks.d,
            pValue: ks.pValue,
            errorBound: ks.errorBound,
            chance,
            thresholds,
            severity: severityOf(ks.d, thresholds),
          };
          if (r.score.severity !== "none") {
            const edges = reportEdges(ref);
            if (edges.length >= 2)
              r.moved = topMoved(
                edges.slice(1).map((_, i) => binLabel(edges, i)),
                binShares(ref, edges),
                binShares(cur, edges),
              );
          }
        }
        results.push(r);
      }
    }
  }
  results.sort((a, b) =>
    a.model === b.model
      ? a.feature === b.feature
        ? a.version.localeCompare(b.version)
        : a.feature.localeCompare(b.feature)
      : a.model.localeCompare(b.model),
  );
  return results;
}
