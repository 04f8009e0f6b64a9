// @mlwatch/stats/otlp: what a decoder of OTLP needs from the statistics core
// and nothing else: the shape of an exponential-histogram point, and the
// decoding of bucket counts left as wire varints. The histogram math does
// not import this entry point; the main entry re-exports it unchanged.

export {
  materializeBuckets,
  type OtlpBuckets,
  type OtlpExpHistogramPoint,
  type VarintCounts,
} from "./point.js";
