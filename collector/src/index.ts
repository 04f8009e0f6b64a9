export type { ModelSummary } from "./api/summary.js";
export { type BuildResult, buildBaseline } from "./baselines/build.js";
export { type Baseline, BaselineError, makeBaseline, parseBaseline } from "./baselines/format.js";
export { Collector, type Listening } from "./collector.js";
export { type Config, ConfigError, loadConfigFile, parseConfig } from "./config/config.js";
