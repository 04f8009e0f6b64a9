// @mlwatch/deploy: generates mlwatch's Prometheus rules, Alertmanager config
// and Grafana dashboards from the semantic conventions and an SLO spec.

export { buildAlertmanagerConfig, RECEIVERS, SECRET_FILES, SECRETS_DIR } from "./alertmanager.js";
export { buildDashboards, dashboardQueries, HOST_PANEL_TITLES, PAGES } from "./dashboards.js";
export { formatDuration, parseDuration, TimeScale } from "./duration.js";
export { DATASOURCE_UID, type Generated, type GenerateOptions, generate, yamlText } from "./generate-all.js";
export {
  ALERTS,
  type AlertName,
  COLLECTOR_JOB,
  EXAMPLE_SHARDS,
  L,
  M,
  OTLP_GRPC_PORT,
  R,
  SEVERITIES,
  type Severity,
  SHARD_LABEL,
  SLO_WINDOWS,
} from "./names.js";
export {
  buildFrontCollectorConfig,
  buildOtelcolConfigs,
  buildShardSidecarConfig,
  EXAMPLE_RESOLVERS,
  LOAD_BALANCING_EXPORTER,
  type ShardResolver,
} from "./otelcol.js";
export {
  buildPrometheusConfig,
  buildShardedPrometheusConfig,
  COMPOSE_TARGETS,
  EXAMPLE_SHARD_TARGETS,
  type PrometheusTargets,
  type ShardTarget,
} from "./prometheus-config.js";
export { buildRuleTests, RULE_FILES, UNLISTED_MODEL } from "./rule-tests.js";
export {
  type AlertRule,
  alertRules,
  buildRules,
  type RecordingRule,
  type RuleSet,
  recordedSeries,
  recordingRules,
  THRESHOLDS,
} from "./rules.js";
export { crc32, modelRoutingKey, ShardRing } from "./shard-ring.js";
export {
  BURN_POLICY,
  burnFactor,
  DEFAULT_SLO_YAML,
  errorBudget,
  type Objective,
  parseSloSpec,
  parseSloSpecYaml,
  type SloSpec,
  SloSpecError,
} from "./slo-spec.js";
export { goFormatG, humanizeDuration, humanizePercentage, renderTemplate, toGoTemplate } from "./template.js";
