// Concept drift: has the model's behaviour changed? PSI of the confidence
// distribution (ten equal bins on [0, 1], as the reference design bins it)
// and of the predicted-class distribution, each against the baseline.

import { Instruments, type Severity, severityOf } from "@mlwatch/semconv";
import { alignCategories, ExpHistogram, psi, psiCategorical } from "@mlwatch/stats";

import type { ModelStore } from "../store/model-store.js";
import type { Thresholds } from "./drift.js";
import type { BaselineFor } from "./versions.js";

/** Cut points of the ten equal confidence bins. */
export const CONFIDENCE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface ConceptDrift {
  model: string;
  /** Confidence values in the window. */
  samples: number;
  confidencePsi: number | null;
  classPsi: number | null;
  /** Severity of the larger of the two PSIs. */
  severity: Severity | null;
  reason?: "no_baseline" | "too_few_samples";
}

export function confidenceWindows(store: ModelStore, nowMs: number): Map<string, ExpHistogram> {
  const out = new Map<string, ExpHistogram>();
  for (const s of store.series(Instruments.confidence.name)) {
    if (s.kind !== "histogram") continue;
    const w = s.window.merged(nowMs);
    const cur = out.get(s.labels.model_name);
    if (cur) cur.merge(w);
    else out.set(s.labels.model_name, w);
  }
  return out;
}

export function classWindows(store: ModelStore, nowMs: number): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of store.series(Instruments.predictions.name)) {
    if (s.kind !== "counter") continue;
    let m = out.get(s.labels.model_name);
    if (!m) {
      m = new Map();
      out.set(s.labels.model_name, m);
    }
    m.set(s.labels.predicted_class, (m.get(s.labels.predicted_class) ?? 0) + s.window.merged(nowMs));
  }
  return out;
}

export function computeConceptDrift(
  store: ModelStore,
  baselineFor: BaselineFor,
  nowMs: number,
  settings: (model: string) => { thresholds: Thresholds; minSamples: number },
): ConceptDrift[] {
  const confidence = confidenceWindows(store, nowMs);
  const classes = classWindows(store, nowMs);
  const models = new Set([...confidence.keys(), ...classes.keys()]);
  const out: ConceptDrift[] = [];
  for (const model of [...models].sort()) {
    const { thresholds, minSamples } = settings(model);
    const b = baselineFor(model);
    const cur = confidence.get(model) ?? new ExpHistogram();
    const cls = classes.get(model) ?? new Map<string, number>();
    let classTotal = 0;
    for (const n of cls.values()) classTotal += n;
    const row: ConceptDrift = {
      model,
      samples: cur.count,
      confidencePsi: null,
      classPsi: null,
      severity: null,
    };
    if (!b || (!b.confidence && !b.baseline.classes)) row.reason = "no_baseline";
    else if (Math.max(cur.count, classTotal) < minSamples) row.reason = "too_few_samples";
    else {
      if (b.confidence && b.confidence.count > 0 && cur.count >= minSamples) {
        row.confidencePsi = psi(
          b.confidence.toExplicitBuckets(CONFIDENCE_EDGES),
          cur.toExplicitBuckets(CONFIDENCE_EDGES),
        );
      }
      if (b.baseline.classes && classTotal >= minSamples) {
        const { a, b: c } = alignCategories(b.baseline.classes, cls);
        row.classPsi = psiCategorical(a, c);
      }
      const worst = Math.max(row.confidencePsi ?? 0, row.classPsi ?? 0);
      row.severity = severityOf(worst, thresholds);
    }
    out.push(row);
  }
  return out;
}
