export {
  errorTypeOf,
  ModelMonitor,
  type ModelMonitorOptions,
  type Prediction,
  type RequestTimer,
} from "./monitor.js";
export {
  type Monitoring,
  type MonitoringOptions,
  mlwatchViews,
  type OtlpProtocol,
  startMonitoring,
} from "./setup.js";
