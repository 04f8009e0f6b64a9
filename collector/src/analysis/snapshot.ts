// One analysis pass over the window store, kept until the next pass so that
// scrapes and API calls read results without recomputing them.

import type { BaselineStore } from "../baselines/store.js";
import type { ModelStore } from "../store/model-store.js";
import { computeAccuracy, type SegmentAccuracy } from "./accuracy.js";
import { computeDrift, type DriftOptions, type FeatureDrift } from "./drift.js";

export interface AnalysisSnapshot {
  atMs: number;
  drift: FeatureDrift[];
  accuracy: SegmentAccuracy[];
}

export const emptySnapshot: AnalysisSnapshot = { atMs: 0, drift: [], accuracy: [] };

export function analyze(
  store: ModelStore,
  baselines: BaselineStore,
  nowMs: number,
  drift: DriftOptions,
): AnalysisSnapshot {
  return {
    atMs: nowMs,
    drift: computeDrift(store, baselines, nowMs, drift),
    accuracy: computeAccuracy(store, nowMs),
  };
}
