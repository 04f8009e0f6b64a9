import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { DefaultLatencyBuckets, DefaultPorts, DriftThresholds } from "@mlwatch/semconv";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** The default database; its folder is the only one the collector creates (see checkPaths). */
export const DEFAULT_STORAGE_PATH = ".mlwatch/collector.db";

const listener = (port: number) =>
  z
    .object({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(port),
    })
    .strict()
    .default({});

const thresholds = z
  .object({
    info: z.number().positive(),
    warning: z.number().positive(),
    critical: z.number().positive(),
  })
  .strict()
  .refine((t) => t.info <= t.warning && t.warning <= t.critical, {
    message: "thresholds must satisfy info <= warning <= critical",
  });

/** Numeric drift measures; each has its own scale, so its own default thresholds. */
export const NumericMethods = ["ks", "psi", "wasserstein", "js"] as const;
export const CategoricalMethods = ["psi", "js", "chi2"] as const;
export type NumericMethod = (typeof NumericMethods)[number];
export type CategoricalMethod = (typeof CategoricalMethods)[number];
export type DriftMethod = NumericMethod | CategoricalMethod;

/** Default severity thresholds per method: KS D from the reference design, PSI by convention, the others by scale. */
export const DefaultMethodThresholds: Record<
  DriftMethod,
  { info: number; warning: number; critical: number }
> = {
  ks: { ...DriftThresholds },
  psi: { info: 0.1, warning: 0.2, critical: 0.25 },
  wasserstein: { info: 0.1, warning: 0.25, critical: 0.5 },
  js: { info: 0.1, warning: 0.2, critical: 0.3 },
  // For chi-square the score is Cramér's V, in [0, 1].
  chi2: { info: 0.1, warning: 0.2, critical: 0.3 },
};

const featureSettings = z
  .object({
    method: z.enum([...NumericMethods, "chi2"] as [string, ...string[]]).optional(),
    thresholds: thresholds.optional(),
  })
  .strict();

const duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?(s|m|h|d)$/, "use a number of seconds or e.g. 30d, 6h, 5m"),
]);

/** Seconds in a duration given as seconds or as "30d", "6h", "5m", "10s". */
export function durationSeconds(d: number | string): number {
  if (typeof d === "number") return d;
  const n = Number.parseFloat(d);
  const unit = d[d.length - 1];
  return n * (unit === "d" ? 86_400 : unit === "h" ? 3600 : unit === "m" ? 60 : 1);
}

const objective = z.discriminatedUnion("kind", [
  z
    .object({
      name: z.string().min(1),
      kind: z.literal("availability"),
      target: z.number().gt(0).lt(1),
      excludeErrorTypes: z.array(z.string()).default([]),
    })
    .strict(),
  z
    .object({ name: z.string().min(1), kind: z.literal("error_rate"), target: z.number().gt(0).lt(1) })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      kind: z.literal("latency"),
      target: z.number().gt(0).lt(1),
      thresholdSeconds: z.number().positive(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      kind: z.literal("accuracy"),
      target: z.number().gt(0).lt(1),
      segment: z.string().optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      kind: z.literal("throughput"),
      minRequestsPerSecond: z.number().positive(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      kind: z.literal("cost"),
      costPerSecond: z.number().positive(),
      maxCostPer1000Requests: z.number().positive(),
    })
    .strict(),
]);
export type SloObjective = z.infer<typeof objective>;

const modelSettings = z
  .object({
    drift: z
      .object({
        thresholds: thresholds.optional(),
        minSamples: z.number().int().positive().optional(),
        features: z.record(z.string().min(1), featureSettings).default({}),
      })
      .strict()
      .default({}),
    conceptDrift: z.object({ thresholds: thresholds.optional() }).strict().default({}),
    slo: z
      .object({
        period: duration.default("30d"),
        objectives: z.array(objective).min(1),
      })
      .strict()
      .refine((s) => new Set(s.objectives.map((o) => o.name)).size === s.objectives.length, {
        message: "objective names must be unique",
        path: ["objectives"],
      })
      .optional(),
  })
  .strict();
export type ModelSettings = z.infer<typeof modelSettings>;

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

export const ConfigSchema = z
  .object({
    otlp: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65535).default(DefaultPorts.otlpHttp),
        /** Largest request body accepted on the wire. */
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(8 * 1024 * 1024),
        /** Largest request body accepted after decompression. */
        maxDecompressedBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        /** Requests decoded at once; more get 429 with Retry-After. */
        maxConcurrentRequests: z.number().int().positive().default(64),
        /**
         * Longest time a client may take to send a request, headers and body (Node's headersTimeout and
         * requestTimeout): a slower one is answered 408 and its connection closed.
         */
        requestTimeoutSeconds: z.number().positive().default(30),
        /** When set, requests must carry "Authorization: Bearer <token>". */
        bearerToken: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    query: listener(DefaultPorts.query),
    windows: z
      .object({
        /** Width of one time slot; windows are whole numbers of slots. */
        slotSeconds: z.number().positive().default(10),
        /** Sliding window that drift, quantiles and accuracy are computed over. */
        analysisSeconds: z.number().positive().default(300),
        /** A replica's stream unseen for this long is forgotten. */
        staleStreamSeconds: z.number().positive().default(900),
      })
      .strict()
      .default({})
      .refine((w) => w.analysisSeconds >= w.slotSeconds, {
        message: "analysisSeconds must be at least slotSeconds",
        path: ["analysisSeconds"],
      }),
    analysis: z
      .object({
        intervalSeconds: z.number().positive().default(5),
        drift: z
          .object({
            /** Thresholds for the default numeric method (KS D unless `method` says otherwise). */
            thresholds: thresholds.default({ ...DriftThresholds }),
            /** Below this many values in the window no drift score is emitted. */
            minSamples: z.number().int().positive().default(100),
            method: z.enum(NumericMethods).default("ks"),
            categoricalMethod: z.enum(CategoricalMethods).default("psi"),
            /**
             * Expected false alarms per feature per 30 days that chance may cause: a severity also needs
             * the score beyond what chance gives at the window's size at this rate.
             */
            falseAlarmsPer30Days: z.number().positive().max(1000).default(0.1),
            /**
             * A feature's window must span this long (since the collector first saw it, or since a
             * restart) before it gets a severity; default the whole analysis window.
             */
            warmupSeconds: z.number().min(0).optional(),
          })
          .strict()
          .default({}),
        conceptDrift: z
          .object({
            thresholds: thresholds.default({ info: 0.1, warning: 0.2, critical: 0.25 }),
            minSamples: z.number().int().positive().default(100),
          })
          .strict()
          .default({}),
        /** With no stored baseline, freeze the first full window as the model's baseline (persisted, source "auto"). */
        autoBaseline: z.boolean().default(false),
        accuracy: z
          .object({
            /** Rolling accuracy over this many most recent labelled predictions, besides the time window. */
            lastLabels: z.number().int().positive().default(100),
            /** Segment that feedback joined with sampled predictions is counted under when the prediction named none. */
            feedbackSegment: z.string().min(1).default("ground_truth_sample"),
          })
          .strict()
          .default({}),
        sampledPredictions: z
          .object({
            /** Sampled predictions kept waiting for feedback, per collector. */
            maxPending: z.number().int().positive().default(100_000),
            ttlSeconds: z
              .number()
              .positive()
              .default(7 * 86_400),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /** Per-model settings, by model name: drift methods and thresholds per feature, SLOs. */
    models: z.record(z.string().min(1), modelSettings).default({}),
    export: z
      .object({
        latencyBuckets: z
          .array(z.number().positive())
          .min(1)
          .refine(increasing, "latencyBuckets must be strictly increasing")
          .default([...DefaultLatencyBuckets]),
      })
      .strict()
      .default({}),
    limits: z
      .object({
        /** Series per instrument; data for new label sets past this goes to one "__overflow__" series. */
        maxSeriesPerMetric: z.number().int().positive().default(10_000),
        /**
         * Replica streams (resource × scope × metric × attributes) the collector keeps state for;
         * past this new cumulative streams and gauges are rejected ("stream_limit").
         */
        maxStreams: z.number().int().positive().default(500_000),
        /**
         * Longest label value kept (model, version, class, feature, segment ...): a longer one is cut to
         * this many characters, ending in a digest of the whole, so distinct values stay distinct.
         */
        maxLabelLength: z.number().int().min(32).max(65_536).default(256),
      })
      .strict()
      .default({}),
    storage: z
      .object({
        /** SQLite file for baselines and checkpoints; ":memory:" keeps nothing across restarts. */
        path: z.string().min(1).default(DEFAULT_STORAGE_PATH),
        /**
         * How often state is checkpointed; what arrived since is re-counted from replicas after a crash.
         * Running totals on /metrics are shown as of the last checkpoint, so they lag by at most this.
         */
        checkpointSeconds: z.number().positive().default(15),
        /**
         * How long a stream forgotten in memory (windows.staleStreamSeconds) keeps its last state in the
         * file, so that a replica back from a partition is not counted twice.
         */
        streamRetentionSeconds: z
          .number()
          .positive()
          .default(7 * 86_400),
      })
      .strict()
      .default({}),
    shutdown: z
      .object({
        /** On SIGTERM/SIGINT, requests in flight get this long to finish before their connections are cut. */
        graceSeconds: z.number().positive().default(10),
      })
      .strict()
      .default({}),
    baselines: z
      .object({
        /** Optional folder of baseline JSON files imported (validated, then stored) at start. */
        dir: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((c) => c.storage.streamRetentionSeconds >= c.windows.staleStreamSeconds, {
    message: "streamRetentionSeconds must be at least windows.staleStreamSeconds",
    path: ["storage", "streamRetentionSeconds"],
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates a parsed config object; the error names each offending key. */
export function parseConfig(raw: unknown, source = "config"): Config {
  const result = ConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new ConfigError(`invalid ${source}:\n${lines.join("\n")}`);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  return parseConfig(raw, `config file ${path}`);
}

/** A path as given, with the absolute one beside it when it was relative. */
export function shownPath(p: string): string {
  return isAbsolute(p) ? `"${p}"` : `"${p}" (${resolve(p)})`;
}

function kindOf(p: string): "folder" | "file" | "missing" {
  try {
    return statSync(p).isDirectory() ? "folder" : "file";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
}

/**
 * Checks the paths a config names before anything is created, so that a typo
 * fails at start instead of running without baselines or creating folders.
 * Run on the final config, after command-line flags are applied, so a flag and
 * its config key behave the same. Only the default database's folder
 * (.mlwatch) may be missing: it is created on first start.
 */
export function checkPaths(config: Config): void {
  const dir = config.baselines.dir;
  if (dir !== undefined) {
    const kind = kindOf(dir);
    if (kind === "missing")
      throw new ConfigError(`baselines.dir (--baselines): the folder ${shownPath(dir)} does not exist`);
    if (kind === "file") {
      throw new ConfigError(
        `baselines.dir (--baselines): ${shownPath(dir)} is a file; name the folder that holds the baseline .json files`,
      );
    }
  }
  const db = config.storage.path;
  if (db === ":memory:" || db === DEFAULT_STORAGE_PATH) return;
  const parent = dirname(db);
  const kind = kindOf(parent);
  if (kind === "missing") {
    throw new ConfigError(
      `storage.path (--db): the folder ${shownPath(parent)} for the database ${shownPath(db)} does not exist; create it first, or name a file in an existing folder`,
    );
  }
  if (kind === "file")
    throw new ConfigError(
      `storage.path (--db): ${shownPath(parent)} is a file, not a folder to hold ${shownPath(db)}`,
    );
}
