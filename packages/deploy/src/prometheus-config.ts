// prometheus.yml: scrape the collector (and the stack itself), load the
// generated rules, send alerts to Alertmanager.

import { DefaultPorts } from "@mlwatch/semconv";
import { COLLECTOR_JOB } from "./names.js";

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
