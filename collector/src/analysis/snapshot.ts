// One analysis pass over the window store, kept until the next pass so that
// scrapes and API calls read results without recomputing them.

import type { BaselineStore } from "../baselines/store.js";
import type { Config } from "../config/config.js";
import type { ModelStore } from "../store/model-store.js";
import { computeAccuracy, type SegmentAccuracy } from "./accuracy.js";
import { type ConceptDrift, computeConceptDrift } from "./concept.js";
import { computeDrift, type FeatureDrift } from "./drift.js";
import type { FeedbackJoiner } from "./feedback.js";
import { computeQuality, type ModelQuality } from "./quality.js";
import { conceptSettings, driftSettings } from "./settings.js";
import type { ObjectiveStatus, SloRegistry } from "./slo.js";
import { baselineResolver } from "./versions.js";

export interface AnalysisSnapshot {
  atMs: number;
  drift: FeatureDrift[];
  concept: ConceptDrift[];
  /** Accuracy per model and segment over the time window. */
  accuracy: SegmentAccuracy[];
  /** Accuracy over the last N labels joined from feedback. */
  rolling: Array<{ model: string; segment: string; correct: number; total: number }>;
  quality: ModelQuality[];
  slo: Map<string, ObjectiveStatus[]>;
}

export const emptySnapshot: AnalysisSnapshot = {
  atMs: 0,
  drift: [],
  concept: [],
  accuracy: [],
  rolling: [],
  quality: [],
  slo: new Map(),
};

export interface AnalysisContext {
  config: Config;
  store: ModelStore;
  baselines: BaselineStore;
  feedback: FeedbackJoiner;
  slos: SloRegistry;
}

export function analyze(ctx: AnalysisContext, nowMs: number): AnalysisSnapshot {
  const baselineFor = baselineResolver(ctx.baselines, ctx.store, nowMs);
  return {
    atMs: nowMs,
    drift: computeDrift(ctx.store, baselineFor, nowMs, driftSettings(ctx.config)),
    concept: computeConceptDrift(ctx.store, baselineFor, nowMs, conceptSettings(ctx.config)),
    accuracy: computeAccuracy(ctx.store, nowMs),
    rolling: ctx.feedback.rolling(),
    quality: computeQuality(ctx.store, baselineFor, nowMs),
    slo: ctx.slos.status(nowMs),
  };
}
