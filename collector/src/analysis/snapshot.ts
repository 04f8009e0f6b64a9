// One analysis pass over the window store, kept until the next pass so that
// scrapes and API calls read results without recomputing them.

import { perTestAlpha } from "@mlwatch/stats";
import type { BaselineStore } from "../baselines/store.js";
import type { Config } from "../config/config.js";
import type { ModelStore } from "../store/model-store.js";
import { computeAccuracy, type SegmentAccuracy } from "./accuracy.js";
import { type ConceptDrift, computeConceptDrift } from "./concept.js";
import { type Calibration, computeDrift, type FeatureDrift, type FirstSeen } from "./drift.js";
import type { FeedbackJoiner } from "./feedback.js";
import { computeQuality, type ModelQuality } from "./quality.js";
import { conceptSettings, driftSettings } from "./settings.js";
import type { ObjectiveStatus, SloRegistry } from "./slo.js";
import { computeVersionDrift, type VersionDrift } from "./version-drift.js";
import { baselineResolver } from "./versions.js";

export interface AnalysisSnapshot {
  atMs: number;
  drift: FeatureDrift[];
  /** During a rollout: each newer version's feature windows against the version seen first. */
  versionDrift: VersionDrift[];
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
  versionDrift: [],
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
  /** When each feature stream was first seen, for the warm-up; lives as long as the collector. */
  firstSeen: FirstSeen;
}

/** The severity calibration the config asks for. */
export function calibrationOf(config: Config): Calibration {
  const d = config.analysis.drift;
  return {
    alpha: perTestAlpha(d.falseAlarmsPer30Days, config.analysis.intervalSeconds),
    warmupMs: (d.warmupSeconds ?? config.windows.analysisSeconds) * 1000,
  };
}

export function analyze(ctx: AnalysisContext, nowMs: number): AnalysisSnapshot {
  const baselineFor = baselineResolver(ctx.baselines, ctx.store, nowMs);
  const settings = driftSettings(ctx.config);
  const calibration = calibrationOf(ctx.config);
  const drift = computeDrift(ctx.store, baselineFor, nowMs, settings, calibration, ctx.firstSeen);
  const versionDrift = computeVersionDrift(ctx.store, nowMs, settings, calibration, ctx.firstSeen);
  ctx.firstSeen.endPass();
  return {
    atMs: nowMs,
    drift,
    versionDrift,
    concept: computeConceptDrift(ctx.store, baselineFor, nowMs, conceptSettings(ctx.config)),
    accuracy: computeAccuracy(ctx.store, nowMs),
    rolling: ctx.feedback.rolling(),
    quality: computeQuality(ctx.store, baselineFor, nowMs),
    slo: ctx.slos.status(nowMs),
  };
}
