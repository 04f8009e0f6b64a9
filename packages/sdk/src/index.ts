export { type Baseline, type BaselineInput, buildBaseline } from "./baseline.js";
export {
  type ExpressRequestLike,
  type ExpressResponseLike,
  expressErrorHandler,
  expressMiddleware,
  type HttpMonitorOptions,
  UNMATCHED_ENDPOINT,
} from "./integrations/express.js";
export {
  type FastifyInstanceLike,
  type FastifyPluginLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
  fastifyPlugin,
} from "./integrations/fastify.js";
export {
  type CardinalityLimits,
  DefaultLimits,
  errorTypeOf,
  type FeatureValue,
  type FeedbackResult,
  type GroundTruthOptions,
  ModelMonitor,
  type ModelMonitorOptions,
  type Prediction,
  type PredictionBatch,
  type RequestTimer,
} from "./monitor.js";
export {
  type CounterHandle,
  type HistogramHandle,
  MlwatchMetricProducer,
  type MlwatchMetricProducerOptions,
  mlwatchMetricProducer,
  type PrometheusViewOptions,
} from "./producer.js";
export { type RuntimeMetricsHandle, startHostMetrics, startRuntimeMetrics } from "./runtime.js";
export { isSampled, requestIdHash } from "./sampling.js";
export {
  type MlwatchViewsOptions,
  type Monitoring,
  type MonitoringOptions,
  mlwatchViews,
  type OtlpProtocol,
  type PrometheusOptions,
  startMonitoring,
} from "./setup.js";
export {
  type CountingSink,
  callbackSink,
  type JsonlFileSinkOptions,
  jsonlFileSink,
  type ReviewItem,
  type ReviewSink,
  type WebhookSinkOptions,
  webhookSink,
} from "./sinks.js";
export { SDK_NAME, SDK_VERSION } from "./version.js";
