// prometheus.yml: scrape the collector (and the stack itself), load the
// generated rules, send alerts to Alertmanager.

import { DefaultPorts } from "@mlwatch/semconv";
import { COLLECTOR_JOB, EXAMPLE_SHARDS, SHARD_LABEL } from "./names.js";

export interface PrometheusTargets {
  collector: string;
  alertmanager?: string;
  prometheus?: string;
  nodeExporter?: string;
}

/** Addresses inside docker-compose.yml. */
export const COMPOSE_TARGETS: PrometheusTargets = {
  collector: `collector:${DefaultPorts.query}`,
  alertmanager: "alertmanager:9093",
  prometheus: "localhost:9090",
  nodeExporter: "node-exporter:9100",
};

export function buildPrometheusConfig(opts: {
  targets?: PrometheusTargets;
  scrapeInterval?: string;
  scrapeTimeout?: string;
  evaluationInterval?: string;
  ruleFiles?: string[];
}): Record<string, unknown> {
  const t = opts.targets ?? COMPOSE_TARGETS;
  const job = (name: string, target: string | undefined) =>
    target ? [{ job_name: name, static_configs: [{ targets: [target] }] }] : [];
  return {
    global: {
      scrape_interval: opts.scrapeInterval ?? "15s",
      ...(opts.scrapeTimeout ? { scrape_timeout: opts.scrapeTimeout } : {}),
      evaluation_interval: opts.evaluationInterval ?? "15s",
    },
    rule_files: opts.ruleFiles ?? ["rules/*.rules.yml"],
    ...(t.alertmanager
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [t.alertmanager] }] }] } }
      : {}),
    scrape_configs: [
      ...job(COLLECTOR_JOB, t.collector),
      ...job("prometheus", t.prometheus),
      ...job("alertmanager", t.alertmanager),
      ...job("node", t.nodeExporter),
    ],
  };
}

/** A shard's name (its `shard` label) and the address of its query listener. */
export interface ShardTarget {
  shard: string;
  target: string;
}

/** The example shards of deploy/otelcol/, at their query port. */
export const EXAMPLE_SHARD_TARGETS: ShardTarget[] = EXAMPLE_SHARDS.map((shard) => ({
  shard,
  target: `${shard}:${DefaultPorts.query}`,
}));

/**
 * prometheus-sharded.yml: as prometheus.yml, with one collector target per
 * shard, each labelled `shard`. A model lives on one shard, so every series
 * of a model comes from one target and `sum by (model_name)` counts it once.
 */
export function buildShardedPrometheusConfig(opts: {
  shards?: ShardTarget[];
  targets?: Omit<PrometheusTargets, "collector">;
  scrapeInterval?: string;
  scrapeTimeout?: string;
  evaluationInterval?: string;
  ruleFiles?: string[];
}): Record<string, unknown> {
  const shards = opts.shards ?? EXAMPLE_SHARD_TARGETS;
  if (shards.length === 0) throw new Error("a sharded Prometheus config needs at least one shard");
  const names = new Set(shards.map((s) => s.shard));
  if (names.size !== shards.length) throw new Error("shard names must be unique");
  const base = buildPrometheusConfig({
    ...opts,
    targets: { ...(opts.targets ?? COMPOSE_TARGETS), collector: "" },
  });
  const collectorJob = {
    job_name: COLLECTOR_JOB,
    static_configs: shards.map((s) => ({ targets: [s.target], labels: { [SHARD_LABEL]: s.shard } })),
  };
  return { ...base, scrape_configs: [collectorJob, ...(base.scrape_configs as unknown[])] };
}
