// Builds a baseline (the reference distributions the collector compares live
// traffic with) from arrays of training values, in the same version-1 format
// that `mlwatch baseline build` writes (docs/baselines.md): one base-2
// exponential histogram per numeric feature, counts per category for
// categorical ones, optional reference confidence histogram, class counts
// and accuracy.

import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";

export const BASELINE_FORMAT = "mlwatch.baseline";
export const BASELINE_VERSION = 1;

/** A version-1 baseline document, ready for JSON.stringify. */
export interface Baseline {
  format: typeof BASELINE_FORMAT;
  version: typeof BASELINE_VERSION;
  model: string;
  modelVersion?: string;
  createdAt: string;
  source?: { origin?: "build" | "auto" | "sdk"; file?: string; rows: number; skippedRows: number };
  features: Record<
    string,
    { kind: "numeric"; histogram: ExpHistogramJSON } | { kind: "categorical"; counts: Record<string, number> }
  >;
  confidence?: ExpHistogramJSON;
  classes?: Record<string, number>;
  referenceAccuracy?: number;
}

export interface BaselineInput {
  model: string;
  modelVersion?: string;
  /**
   * Training values per feature. A column whose first present value is a
   * number is numeric (values that are not finite numbers are skipped); one
   * whose first present value is a string or boolean is categorical (counts
   * per category; other values skipped). null and undefined are missing.
   */
  features: Readonly<Record<string, ArrayLike<unknown>>>;
  /** Reference confidences in [0, 1] (others are skipped), for concept drift. */
  confidence?: ArrayLike<unknown>;
  /** Reference predicted classes, as one label per prediction or as counts per class. */
  classes?: ArrayLike<unknown> | Readonly<Record<string, number>>;
  /** Accuracy of the model on the reference data, in [0, 1]. */
  referenceAccuracy?: number;
  /** Where the data came from (default: origin "sdk", rows = the longest feature column, none skipped). */
  source?: { file?: string; rows: number; skippedRows: number };
}

const MAX_NAME = 256;

function checkName(what: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_NAME)
    throw new TypeError(`buildBaseline: ${what} must be a string of 1 to ${MAX_NAME} characters`);
  return v;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { length?: unknown }).length === "number";
}

function histogramOf(values: ArrayLike<unknown>, accept: (v: number) => boolean): ExpHistogram {
  const h = new ExpHistogram();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && Number.isFinite(v) && accept(v)) h.record(v);
  }
  return h;
}

/**
 * The baseline of a model from arrays of training values, as
 * `mlwatch baseline build` would write it for the same values. Throws a
 * TypeError for malformed input (a missing model name, a feature with no
 * numeric value, …): this is an offline step, not the prediction path.
 */
export function buildBaseline(input: BaselineInput): Baseline {
  if (typeof input !== "object" || input === null) throw new TypeError("buildBaseline: expected an object");
  const model = checkName("model", input.model);
  const modelVersion =
    input.modelVersion === undefined ? undefined : checkName("modelVersion", input.modelVersion);
  if (typeof input.features !== "object" || input.features === null)
    throw new TypeError("buildBaseline: features must be an object of arrays");
  const features: Baseline["features"] = {};
  let rows = 0;
  for (const [name, values] of Object.entries(input.features)) {
    checkName(`feature name "${name}"`, name);
    if (!isArrayLike(values))
      throw new TypeError(`buildBaseline: feature "${name}" must be an array of numbers`);
    rows = Math.max(rows, values.length);
    let first: unknown;
    for (let i = 0; i < values.length && (first === undefined || first === null); i++) first = values[i];
    if (typeof first === "string" || typeof first === "boolean") {
      const counts: Record<string, number> = {};
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v === "string" || typeof v === "boolean") counts[String(v)] = (counts[String(v)] ?? 0) + 1;
      }
      features[name] = { kind: "categorical", counts };
      continue;
    }
    const h = histogramOf(values, () => true);
    if (h.count === 0) throw new TypeError(`buildBaseline: feature "${name}" has no finite numeric value`);
    features[name] = { kind: "numeric", histogram: h.toJSON() };
  }
  const out: Baseline = {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    model,
    ...(modelVersion ? { modelVersion } : {}),
    createdAt: new Date().toISOString(),
    source: { origin: "sdk", ...(input.source ?? { rows, skippedRows: 0 }) },
    features,
  };
  if (input.confidence !== undefined) {
    if (!isArrayLike(input.confidence)) throw new TypeError("buildBaseline: confidence must be an array");
    const h = histogramOf(input.confidence, (v) => v >= 0 && v <= 1);
    if (h.count > 0) out.confidence = h.toJSON();
  }
  if (input.classes !== undefined) {
    const classes: Record<string, number> = {};
    if (isArrayLike(input.classes)) {
      for (let i = 0; i < input.classes.length; i++) {
        const c = input.classes[i];
        if (typeof c === "string" && c !== "") classes[c] = (classes[c] ?? 0) + 1;
      }
    } else if (typeof input.classes === "object" && input.classes !== null) {
      for (const [c, n] of Object.entries(input.classes)) {
        if (c === "" || !Number.isInteger(n) || n < 0)
          throw new TypeError(`buildBaseline: class count of "${c}" must be a non-negative integer`);
        classes[c] = n;
      }
    } else throw new TypeError("buildBaseline: classes must be an array of labels or an object of counts");
    out.classes = classes;
  }
  if (input.referenceAccuracy !== undefined) {
    const a = input.referenceAccuracy;
    if (typeof a !== "number" || !(a >= 0 && a <= 1))
      throw new TypeError("buildBaseline: referenceAccuracy must be a number in [0, 1]");
    out.referenceAccuracy = a;
  }
  return out;
}
