/**
 * @mlwatch/stats — pure statistics for ML monitoring: OpenTelemetry
 * exponential histograms and the two-sample measures computed from them or
 * from raw samples. No runtime dependencies, no I/O. See docs/statistics.md.
 */

export {
  alignCategories,
  type ChiSquareResult,
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  jsCategorical,
  psiCategorical,
  twoProportionZTest,
  type ZTestResult,
} from "./categorical.js";
export {
  binCounts,
  commonBins,
  jensenShannon,
  jsHistograms,
  jsSamples,
  PSI_EPSILON,
  psi,
  psiHistograms,
  psiSamples,
  quantileEdges,
  sameZeroThreshold,
  type WassersteinResult,
  wassersteinHistograms,
  wassersteinSamples,
} from "./drift.js";
export {
  type Cell,
  DEFAULT_MAX_SIZE,
  ExpHistogram,
  type ExpHistogramJSON,
  type ExpHistogramOptions,
  type PackedAdvance,
} from "./exphist.js";
export { durbinCdf, kolmogorovSf, ks2ExactSf, kstwoSf, pelzGoodCdf, smirnovSf } from "./kolmogorov.js";
export {
  KS_EXACT_MAX_N,
  type KsResult,
  ks2Pvalue,
  ksAsymptoticPvalue,
  ksHistograms,
  ksSamples,
} from "./ks.js";
export { lowerBoundary, MAX_SCALE, MIN_SCALE, mapToIndex } from "./mapping.js";
export {
  chiSquareQuantile,
  cramersVCriticalValue,
  effectiveSize,
  FALSE_ALARM_PERIOD_SECONDS,
  jsCriticalValue,
  kolmogorovQuantile,
  ksCriticalValue,
  perTestAlpha,
  psiCriticalValue,
  wassersteinCriticalValue,
  wassersteinSpread,
} from "./null.js";
export {
  materializeBuckets,
  type OtlpBuckets,
  type OtlpExpHistogramPoint,
  type VarintCounts,
} from "./otlp/index.js";
export { burnRate, burnRateThreshold, errorBudgetRemaining, errorRatio } from "./slo.js";
export { chiSquareSf, erfc, gammaP, gammaQ, lnFactorial, lnGamma, normalSf } from "./special.js";
