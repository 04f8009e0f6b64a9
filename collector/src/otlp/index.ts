// OTLP request decoders and response encoders for the collector's receiver.
// See the module headers for field numbers and the decoding conventions.

export { decodeLogsJson, decodeMetricsJson } from "./decode-json.js";
export { decodeLogsProto } from "./decode-logs-proto.js";
export { decodeMetricsProto, type MetricsDecodeOptions } from "./decode-metrics-proto.js";
export {
  type Encoding,
  encodeLogsResponse,
  encodeMetricsResponse,
  encodeStatus,
  RpcCode,
} from "./encode-response.js";
export * from "./types.js";
