// Resolves the analysis settings of one model and feature from the config:
// a feature's own entry, then its model's, then the collector-wide defaults.

import { type Config, DefaultMethodThresholds, type DriftMethod } from "../config/config.js";
import type { DriftSettings, Thresholds } from "./drift.js";

const NUMERIC = new Set<DriftMethod>(["ks", "psi", "wasserstein", "js"]);
const CATEGORICAL = new Set<DriftMethod>(["psi", "js", "chi2"]);

export function driftSettings(config: Config): DriftSettings {
  const d = config.analysis.drift;
  return (model, feature, kind) => {
    const m = config.models[model]?.drift;
    const f = m?.features[feature];
    const fallback: DriftMethod = kind === "numeric" ? d.method : d.categoricalMethod;
    const allowed = kind === "numeric" ? NUMERIC : CATEGORICAL;
    // A method that does not apply to the feature's kind (say chi2 on numbers) falls back to the default.
    const method = f?.method && allowed.has(f.method as DriftMethod) ? (f.method as DriftMethod) : fallback;
    let thresholds: Thresholds;
    if (f?.thresholds) thresholds = f.thresholds;
    else if (kind === "numeric" && method === d.method) thresholds = m?.thresholds ?? d.thresholds;
    else thresholds = DefaultMethodThresholds[method];
    return { method, thresholds, minSamples: m?.minSamples ?? d.minSamples };
  };
}

export function conceptSettings(
  config: Config,
): (model: string) => { thresholds: Thresholds; minSamples: number } {
  const c = config.analysis.conceptDrift;
  return (model) => ({
    thresholds: config.models[model]?.conceptDrift.thresholds ?? c.thresholds,
    minSamples: c.minSamples,
  });
}
