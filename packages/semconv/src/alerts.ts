// The thresholds mlwatch alerts on, in one table. packages/deploy generates
// the Prometheus alert rules from it, and the collector's status page judges
// a model's health with it, so a colour on the page and a rule that would
// fire come from the same row. It lives here, in the package of shared names,
// because both import this package and neither imports the other (the
// collector does not depend on deploy's YAML and Grafana libraries).
//
// Values follow the reference design; `for` is how long a condition must hold
// before the rule fires, which a page showing one moment cannot see.

/** Severity of an alert: critical pages, warning goes to chat, info to a low-priority channel. */
export type AlertSeverity = "critical" | "warning" | "info";

/** How a rule compares its value with a threshold; the page compares the same way. */
export type Comparison = ">" | ">=" | "<";

export function breaches(value: number, op: Comparison, threshold: number): boolean {
  if (op === ">") return value > threshold;
  if (op === ">=") return value >= threshold;
  return value < threshold;
}

/** Names of the shipped alerts. */
export const AlertNames = {
  highErrorRate: "HighErrorRate",
  highLatency: "HighLatencyP95",
  dataDrift: "DataDriftDetected",
  versionDrift: "VersionDriftDetected",
  conceptDrift: "ConceptDriftDetected",
  lowAccuracy: "LowModelAccuracy",
  lowConfidence: "HighLowConfidencePredictions",
  errorBudgetBurn: "ErrorBudgetBurn",
  latencyBudgetBurn: "LatencyBudgetBurn",
  noData: "ModelNoData",
  collectorDown: "CollectorDown",
} as const;
export type AlertName = (typeof AlertNames)[keyof typeof AlertNames];

/** The value of ml_data_drift_severity and ml_concept_drift_severity for each severity. */
export const SeverityLevel = { none: 0, info: 1, warning: 2, critical: 3 } as const;

/** Segment whose accuracy an accuracy objective judges when it names none. */
export const DefaultAccuracySegment = "ground_truth_sample";

/**
 * The reference design's objectives. They are the `defaults` of deploy's built-in SLO spec (and
 * of the shipped deploy/slo.yaml), so the rules judge every model not listed there by them; the
 * status page judges latency and accuracy by them too when the collector has no SLO for a model.
 */
export const DefaultObjectives = {
  period: "30d",
  availability: { target: 0.99 },
  latency: { target: 0.95, thresholdSeconds: 0.5 },
  accuracy: { target: 0.85, segment: DefaultAccuracySegment },
} as const;

export const AlertThresholds = {
  /** Share of requests that failed over `window`. */
  errorRate: {
    alert: AlertNames.highErrorRate,
    op: ">",
    window: "5m",
    tiers: [
      { severity: "critical", ratio: 0.05, for: "5m" },
      { severity: "warning", ratio: 0.02, for: "10m" },
      { severity: "info", ratio: 0.01, for: "15m" },
    ],
  },
  /** p95 latency over `window` as a multiple of the model's smallest latency objective threshold. */
  latencyP95: {
    alert: AlertNames.highLatency,
    op: ">",
    window: "5m",
    tiers: [
      { severity: "critical", times: 2, for: "10m" },
      { severity: "warning", times: 1.5, for: "15m" },
      { severity: "info", times: 1, for: "30m" },
    ],
  },
  /**
   * On the collector's per-feature drift severity (SeverityLevel), which applies each feature's
   * drift measure and thresholds (KS D ≥ 0.15 warning, ≥ 0.1 info by default, raised at small
   * windows to what chance reaches at the configured false-alarm rate). Critical drift
   * (D ≥ 0.25) is inside the warning: drift opens a ticket, it does not page.
   */
  dataDrift: {
    alert: AlertNames.dataDrift,
    op: ">=",
    tiers: [
      { severity: "warning", level: SeverityLevel.warning, name: "warning", for: "1h" },
      { severity: "info", level: SeverityLevel.info, name: "info", for: "1h" },
    ],
  },
  /**
   * During a rollout, on the collector's severity of a newer version's feature window against the
   * version live first (ml_version_drift_severity, KS with size-aware thresholds): the new version
   * sees, or produces, different inputs than the one it replaces.
   */
  versionDrift: {
    alert: AlertNames.versionDrift,
    op: ">=",
    tiers: [{ severity: "warning", level: SeverityLevel.warning, name: "warning", for: "15m" }],
  },
  /** PSI of the confidence distribution against the baseline (ml_concept_drift_psi). */
  conceptDriftPsi: {
    alert: AlertNames.conceptDrift,
    op: ">=",
    tiers: [
      { severity: "warning", psi: 0.2, for: "1h" },
      { severity: "info", psi: 0.1, for: "1h" },
    ],
  },
  /** Accuracy on labelled predictions of an accuracy objective's segment: below `critical` pages, below the objective's target warns. */
  accuracy: {
    alert: AlertNames.lowAccuracy,
    op: "<",
    critical: { severity: "critical", ratio: 0.7, for: "30m" },
    warningFor: "1h",
  },
  /** Share of the predictions over `window` whose confidence was below the SDK's threshold. */
  lowConfidenceShare: {
    alert: AlertNames.lowConfidence,
    op: ">",
    window: "1h",
    tiers: [{ severity: "warning", ratio: 0.2, for: "1h" }],
  },
  /**
   * The multiwindow, multi-burn-rate policy of the Google SRE workbook: alert when `budgetShare`
   * of the period's error budget would be spent within the long window, confirmed by the short
   * window (which also stops the alert soon after the burning stops). For a 30-day period the
   * factors are 14.4, 6, 3 and 1.
   */
  burn: {
    alerts: { errors: AlertNames.errorBudgetBurn, latency: AlertNames.latencyBudgetBurn },
    op: ">",
    policy: [
      { severity: "critical", long: "1h", short: "5m", budgetShare: 0.02 },
      { severity: "critical", long: "6h", short: "30m", budgetShare: 0.05 },
      { severity: "warning", long: "1d", short: "2h", budgetShare: 0.1 },
      { severity: "warning", long: "3d", short: "6h", budgetShare: 0.1 },
    ],
    for: { critical: "2m", warning: "15m" },
  },
  /** No requests over `window`: critical for a model with SLOs, info for any other. */
  noData: { alert: AlertNames.noData, window: "10m", criticalFor: "5m", infoFor: "10m" },
  collectorDown: { alert: AlertNames.collectorDown, for: "2m" },
} as const satisfies Record<string, { op?: Comparison; [key: string]: unknown }>;

export type BurnPolicyRow = (typeof AlertThresholds.burn.policy)[number];

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in one of the table's windows ("5m", "1h", "3d"). */
export function windowSeconds(w: string): number {
  const m = /^(\d+)([smhd])$/.exec(w);
  if (!m) throw new Error(`not a window of the alert table: "${w}"`);
  return Number(m[1]) * UNIT_SECONDS[m[2]];
}

/** Rounds away binary noise (0.1 * 720 / 24 = 3.0000000000000004) to 12 significant digits. */
export function roundNoise(v: number): number {
  return Number(v.toPrecision(12));
}

/** Burn-rate factor of one policy row for an SLO period: the budget share spent over the long window. */
export function burnFactor(row: BurnPolicyRow, periodSeconds: number): number {
  return roundNoise((row.budgetShare * periodSeconds) / windowSeconds(row.long));
}
