export {
  ExpHistogram,
  type ExpHistogramJSON,
  type ExpHistogramOptions,
  type OtlpExpHistogramPoint,
} from "./exphist.js";
export { kolmogorovSf, ks2ExactSf, kstwoSf } from "./kolmogorov.js";
export {
  KS_EXACT_MAX_N,
  type KsResult,
  ks2Pvalue,
  ksAsymptoticPvalue,
  ksHistograms,
  ksSamples,
} from "./ks.js";
export { lowerBoundary, MAX_SCALE, MIN_SCALE, mapToIndex } from "./mapping.js";
