// Accuracy per model and segment over the sliding window, from the SDK's
// outcome counters (predictions whose truth the caller knew).

import { Instruments } from "@mlwatch/semconv";
import type { ModelStore } from "../store/model-store.js";

export interface SegmentAccuracy {
  model: string;
  segment: string;
  correct: number;
  total: number;
  /** correct / total; absent when the window holds no outcome. */
  accuracy?: number;
}

export function computeAccuracy(store: ModelStore, nowMs: number): SegmentAccuracy[] {
  const byKey = new Map<string, SegmentAccuracy>();
  for (const s of store.series(Instruments.segmentOutcomes.name)) {
    if (s.kind !== "counter") continue;
    const { model_name: model, segment, outcome } = s.labels;
    const key = `${model}\u0001${segment}`;
    let row = byKey.get(key);
    if (!row) {
      row = { model, segment, correct: 0, total: 0 };
      byKey.set(key, row);
    }
    const n = s.window.merged(nowMs);
    row.total += n;
    if (outcome === "correct") row.correct += n;
  }
  const rows = [...byKey.values()];
  for (const r of rows) if (r.total > 0) r.accuracy = r.correct / r.total;
  return rows;
}
