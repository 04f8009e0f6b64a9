// The SLO spec: per model, the objectives alerts are generated from. Its
// shape is the collector config's `models.<name>.slo` block, so one file can
// serve both, plus `defaults` for every model not listed.

import {
  AlertThresholds,
  type BurnPolicyRow,
  burnFactor,
  DefaultAccuracySegment,
  DefaultLatencyBuckets,
  DefaultObjectives,
  roundNoise,
} from "@mlwatch/semconv";
import { parse as parseYaml } from "yaml";
import { parseDuration } from "./duration.js";

export type Objective =
  | { name: string; kind: "availability"; target: number; excludeErrorTypes: string[] }
  /** Like availability, but every error counts (no exclusions); the collector's meaning too. */
  | { name: string; kind: "error_rate"; target: number; excludeErrorTypes: string[] }
  | { name: string; kind: "latency"; target: number; thresholdSeconds: number }
  | { name: string; kind: "accuracy"; target: number; segment: string }
  /** Recognised so that a collector config can be read, but not alerted on here. */
  | { name: string; kind: "throughput" }
  | { name: string; kind: "cost" };

export interface ModelSlo {
  /** SLO period in seconds (30 days by default). */
  periodSeconds: number;
  /** The period as written, e.g. "30d". */
  period: string;
  objectives: Objective[];
}

export interface SloSpec {
  /** Objectives of every model not listed in `models`. */
  defaults: ModelSlo;
  /** Models with their own objectives; a listed model uses exactly these, not the defaults. */
  models: Record<string, ModelSlo>;
  /** The collector's classic latency buckets; latency thresholds must be one of them. */
  latencyBuckets: number[];
}

/** Segment the collector counts labelled predictions under by default. */
export const DEFAULT_ACCURACY_SEGMENT = DefaultAccuracySegment;

/** Spec used when no file is given: the reference design's SLOs. */
const D = DefaultObjectives;
export const DEFAULT_SLO_YAML = `defaults:
  period: ${D.period}
  objectives:
    - { name: availability, kind: availability, target: ${D.availability.target} }
    - { name: latency, kind: latency, target: ${D.latency.target}, thresholdSeconds: ${D.latency.thresholdSeconds} }
    - { name: accuracy, kind: accuracy, target: ${D.accuracy.target} }
`;

export class SloSpecError extends Error {
  override name = "SloSpecError";
}

// Keys of a collector config that may sit beside the SLO keys when a
// collector.yaml is used as the spec; they are not read here.
const COLLECTOR_KEYS = new Set(["otlp", "query", "windows", "analysis", "export", "storage", "baselines"]);
const COLLECTOR_MODEL_KEYS = new Set(["drift", "conceptDrift"]);

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(path: string, message: string): never {
  throw new SloSpecError(`${path}: ${message}`);
}

function onlyKeys(o: Raw, path: string, allowed: readonly string[], ignored: Set<string> = new Set()): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k) && !ignored.has(k))
      fail(path ? `${path}.${k}` : k, `unknown key (expected one of: ${allowed.join(", ")})`);
  }
}

function ratio(v: unknown, path: string): number {
  if (typeof v !== "number" || !(v > 0 && v < 1))
    fail(path, `must be a number between 0 and 1, got ${String(v)}`);
  return v;
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === ""))
    fail(path, "must be a list of non-empty strings");
  return v as string[];
}

function parseObjective(raw: unknown, path: string, buckets: number[]): Objective {
  if (!isObject(raw)) fail(path, "must be an object with name, kind and target");
  const name = raw.name;
  if (typeof name !== "string" || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
    fail(`${path}.name`, "must be a name like availability or latency_p95 (letters, digits, _)");
  const kind = raw.kind;
  switch (kind) {
    case "availability":
      onlyKeys(raw, path, ["name", "kind", "target", "excludeErrorTypes"]);
      return {
        name,
        kind,
        target: ratio(raw.target, `${path}.target`),
        excludeErrorTypes: stringList(raw.excludeErrorTypes, `${path}.excludeErrorTypes`),
      };
    case "error_rate":
      onlyKeys(raw, path, ["name", "kind", "target"]);
      return { name, kind, target: ratio(raw.target, `${path}.target`), excludeErrorTypes: [] };
    case "latency": {
      onlyKeys(raw, path, ["name", "kind", "target", "thresholdSeconds"]);
      const t = raw.thresholdSeconds;
      if (typeof t !== "number" || !(t > 0)) fail(`${path}.thresholdSeconds`, "must be a positive number");
      if (!buckets.includes(t))
        fail(
          `${path}.thresholdSeconds`,
          `${t} is not one of the collector's latency buckets (${buckets.join(", ")}): ` +
            "add it to the collector's export.latencyBuckets and to latencyBuckets here",
        );
      return { name, kind, target: ratio(raw.target, `${path}.target`), thresholdSeconds: t };
    }
    case "accuracy": {
      onlyKeys(raw, path, ["name", "kind", "target", "segment"]);
      const segment = raw.segment ?? DEFAULT_ACCURACY_SEGMENT;
      if (typeof segment !== "string" || segment === "")
        fail(`${path}.segment`, "must be a non-empty string");
      return { name, kind, target: ratio(raw.target, `${path}.target`), segment };
    }
    case "throughput":
      return { name, kind };
    case "cost":
      return { name, kind };
    default:
      fail(`${path}.kind`, `must be one of availability, error_rate, latency, accuracy; got ${String(kind)}`);
  }
}

function parseModelSlo(raw: unknown, path: string, buckets: number[]): ModelSlo {
  if (!isObject(raw)) fail(path, "must be an object with period and objectives");
  onlyKeys(raw, path, ["period", "objectives"]);
  const period = raw.period ?? "30d";
  let periodSeconds: number;
  if (typeof period === "number" && period > 0) periodSeconds = period;
  else if (typeof period === "string") {
    try {
      periodSeconds = parseDuration(period);
    } catch (e) {
      fail(`${path}.period`, (e as Error).message);
    }
  } else fail(`${path}.period`, "must be a duration such as 30d, or seconds");
  if (periodSeconds < 3 * 86_400)
    fail(`${path}.period`, "must be at least 3d (the longest burn-rate window)");
  if (!Array.isArray(raw.objectives) || raw.objectives.length === 0)
    fail(`${path}.objectives`, "must be a non-empty list");
  const objectives = raw.objectives.map((o, i) => parseObjective(o, `${path}.objectives[${i}]`, buckets));
  const names = new Set<string>();
  for (const o of objectives) {
    if (names.has(o.name)) fail(`${path}.objectives`, `objective name ${o.name} is used twice`);
    names.add(o.name);
  }
  return { period: typeof period === "number" ? `${period}s` : period, periodSeconds, objectives };
}

/** Validates a parsed spec; errors name the offending key. */
export function parseSloSpec(raw: unknown): SloSpec {
  if (!isObject(raw)) fail("(root)", "the SLO spec must be a YAML mapping");
  onlyKeys(raw, "", ["defaults", "models", "latencyBuckets"], COLLECTOR_KEYS);
  let buckets: number[] = [...DefaultLatencyBuckets];
  const fromCollector = isObject(raw.export) ? raw.export.latencyBuckets : undefined;
  const b = raw.latencyBuckets ?? fromCollector;
  if (b !== undefined) {
    if (!Array.isArray(b) || b.length === 0 || b.some((x) => typeof x !== "number" || !(x > 0)))
      fail("latencyBuckets", "must be a non-empty list of positive numbers");
    buckets = b as number[];
  }
  const defaults =
    raw.defaults === undefined
      ? parseModelSlo((parseYaml(DEFAULT_SLO_YAML) as Raw).defaults, "defaults (built in)", buckets)
      : parseModelSlo(raw.defaults, "defaults", buckets);
  const models: Record<string, ModelSlo> = {};
  if (raw.models !== undefined) {
    if (!isObject(raw.models)) fail("models", "must be a mapping of model name to { slo: ... }");
    for (const [name, m] of Object.entries(raw.models)) {
      const path = `models.${name}`;
      if (!isObject(m)) fail(path, "must be an object with an slo key");
      onlyKeys(m, path, ["slo"], COLLECTOR_MODEL_KEYS);
      if (m.slo === undefined) continue; // a collector config may configure drift only
      models[name] = parseModelSlo(m.slo, `${path}.slo`, buckets);
    }
  }
  return { defaults, models, latencyBuckets: buckets };
}

export function parseSloSpecYaml(text: string, source = "SLO spec"): SloSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new SloSpecError(`${source} is not valid YAML: ${(e as Error).message}`);
  }
  try {
    return parseSloSpec(raw ?? {});
  } catch (e) {
    if (e instanceof SloSpecError) throw new SloSpecError(`invalid ${source}: ${e.message}`);
    throw e;
  }
}

/** The target: the share of good events (requests that succeed or are fast enough, correct predictions). */
export function goodTarget(o: Objective): number {
  if (o.kind === "throughput" || o.kind === "cost")
    throw new Error(`objective ${o.name} (${o.kind}) has no ratio target`);
  return o.target;
}

/** Share of requests allowed to be bad under an objective (the error budget as a ratio). */
export function errorBudget(o: Objective): number {
  if (o.kind === "availability" || o.kind === "error_rate" || o.kind === "latency")
    return roundNoise(1 - o.target);
  throw new Error(`objective ${o.name} (${o.kind}) has no request error budget`);
}

/** The burn-rate policy of the shared threshold table (@mlwatch/semconv), re-exported for the generators. */
export const BURN_POLICY: readonly BurnPolicyRow[] = AlertThresholds.burn.policy;
export { burnFactor };
