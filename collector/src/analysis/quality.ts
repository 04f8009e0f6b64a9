// Model quality without waiting for labels: the share of low-confidence
// predictions, and accuracy estimated from the confidence distribution
// (confidence-based performance estimation: for a calibrated classifier the
// expected accuracy is the mean confidence of its predictions). When the
// baseline carries a reference accuracy, the estimate is rescaled by how far
// the model's confidence was from its accuracy on the reference data.

import { Instruments } from "@mlwatch/semconv";
import type { ModelStore } from "../store/model-store.js";
import { confidenceWindows } from "./concept.js";
import type { BaselineFor } from "./versions.js";

export interface ModelQuality {
  model: string;
  predictions: number;
  lowConfidence: number;
  lowConfidenceShare: number | null;
  meanConfidence: number | null;
  estimatedAccuracy: number | null;
  /** True when the estimate was calibrated with the baseline's reference accuracy. */
  calibrated: boolean;
}

export function computeQuality(store: ModelStore, baselineFor: BaselineFor, nowMs: number): ModelQuality[] {
  const low = new Map<string, number>();
  for (const s of store.series(Instruments.lowConfidence.name)) {
    if (s.kind === "counter")
      low.set(s.labels.model_name, (low.get(s.labels.model_name) ?? 0) + s.window.merged(nowMs));
  }
  const out: ModelQuality[] = [];
  for (const [model, conf] of confidenceWindows(store, nowMs)) {
    const n = conf.count;
    const lowN = low.get(model) ?? 0;
    const mean = n > 0 ? conf.sum / n : null;
    let estimate = mean;
    let calibrated = false;
    const b = baselineFor(model);
    const refAcc = b?.baseline.referenceAccuracy;
    if (mean !== null && refAcc !== undefined && b?.confidence && b.confidence.count > 0) {
      const refMean = b.confidence.sum / b.confidence.count;
      if (refMean > 0) {
        estimate = Math.min(1, Math.max(0, (mean * refAcc) / refMean));
        calibrated = true;
      }
    }
    out.push({
      model,
      predictions: n,
      lowConfidence: lowN,
      lowConfidenceShare: n > 0 ? Math.min(1, lowN / n) : null,
      meanConfidence: mean,
      estimatedAccuracy: estimate,
      calibrated,
    });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model));
}
