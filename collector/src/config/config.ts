import { readFileSync } from "node:fs";
import { DefaultLatencyBuckets, DefaultPorts, DriftThresholds } from "@mlwatch/semconv";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

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
    info: z.number().positive().default(DriftThresholds.info),
    warning: z.number().positive().default(DriftThresholds.warning),
    critical: z.number().positive().default(DriftThresholds.critical),
  })
  .strict()
  .refine((t) => t.info <= t.warning && t.warning <= t.critical, {
    message: "thresholds must satisfy info <= warning <= critical",
  });

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
            thresholds: thresholds.default({}),
            /** Below this many values in the window no drift score is emitted. */
            minSamples: z.number().int().positive().default(100),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
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
    storage: z
      .object({
        /** SQLite file for baselines and checkpoints; ":memory:" keeps nothing across restarts. */
        path: z.string().min(1).default(".mlwatch/collector.db"),
        /** How often window state is checkpointed; at most this much is re-counted from replicas after a crash. */
        checkpointSeconds: z.number().positive().default(30),
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
  .strict();

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
