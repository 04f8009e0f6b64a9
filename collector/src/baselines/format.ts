// The baseline file format (version 1): the reference distributions a model's
// live traffic is compared with. Numeric features are exponential histograms
// in the same form the stats package serialises, so a baseline merges and
// compares exactly like live data. See docs/baselines.md.

import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";
import { z } from "zod";

export const BASELINE_FORMAT = "mlwatch.baseline";
export const BASELINE_VERSION = 1;

const buckets = z
  .object({ offset: z.number().int(), counts: z.array(z.number().int().nonnegative()) })
  .strict();

export const HistogramSchema = z
  .object({
    scale: z.number().int().min(-10).max(20),
    zeroCount: z.number().int().nonnegative(),
    zeroThreshold: z.number().nonnegative(),
    count: z.number().int().nonnegative(),
    sum: z.number(),
    min: z.number(),
    max: z.number(),
    positive: buckets,
    negative: buckets,
  })
  .strict();

const featureName = z.string().min(1).max(256);

export const BaselineSchema = z
  .object({
    format: z.literal(BASELINE_FORMAT),
    version: z.literal(BASELINE_VERSION),
    model: z.string().min(1).max(256),
    modelVersion: z.string().min(1).max(256).optional(),
    createdAt: z.string().datetime(),
    source: z
      .object({
        /** How the baseline was made: built from training data, frozen from live traffic, or by the SDK helper. */
        origin: z.enum(["build", "auto", "sdk"]).optional(),
        file: z.string().optional(),
        rows: z.number().int().nonnegative(),
        skippedRows: z.number().int().nonnegative(),
      })
      .strict()
      .optional(),
    features: z.record(
      featureName,
      z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("numeric"), histogram: HistogramSchema }).strict(),
        z
          .object({
            kind: z.literal("categorical"),
            counts: z.record(z.string(), z.number().int().nonnegative()),
          })
          .strict(),
      ]),
    ),
    confidence: HistogramSchema.optional(),
    classes: z.record(z.string().min(1), z.number().int().nonnegative()).optional(),
    referenceAccuracy: z.number().min(0).max(1).optional(),
  })
  .strict();

export type Baseline = z.infer<typeof BaselineSchema>;

export class BaselineError extends Error {
  override name = "BaselineError";
}

/** Validates a parsed baseline document, including that every histogram's counts add up. */
export function parseBaseline(raw: unknown): Baseline {
  const r = BaselineSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new BaselineError(`invalid baseline:\n${lines.join("\n")}`);
  }
  const b = r.data;
  for (const [name, f] of Object.entries(b.features)) {
    if (f.kind === "numeric") checkHistogram(f.histogram, `features.${name}.histogram`);
  }
  if (b.confidence) checkHistogram(b.confidence, "confidence");
  return b;
}

function checkHistogram(h: ExpHistogramJSON, path: string): void {
  try {
    ExpHistogram.fromJSON(h);
  } catch (e) {
    throw new BaselineError(`invalid baseline:\n  ${path}: ${(e as Error).message}`);
  }
}

/** Builds a version-1 baseline from per-feature histograms and category counts. */
export function makeBaseline(args: {
  model: string;
  modelVersion?: string;
  features: Record<string, ExpHistogram>;
  categorical?: Record<string, Record<string, number>>;
  confidence?: ExpHistogram;
  classes?: Record<string, number>;
  referenceAccuracy?: number;
  source?: Baseline["source"];
}): Baseline {
  const features: Baseline["features"] = {};
  for (const [name, h] of Object.entries(args.features))
    features[name] = { kind: "numeric", histogram: h.toJSON() };
  for (const [name, counts] of Object.entries(args.categorical ?? {}))
    features[name] = { kind: "categorical", counts };
  return {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    model: args.model,
    ...(args.modelVersion ? { modelVersion: args.modelVersion } : {}),
    createdAt: new Date().toISOString(),
    ...(args.source ? { source: args.source } : {}),
    features,
    ...(args.confidence ? { confidence: args.confidence.toJSON() } : {}),
    ...(args.classes ? { classes: args.classes } : {}),
    ...(args.referenceAccuracy !== undefined ? { referenceAccuracy: args.referenceAccuracy } : {}),
  };
}
