// A model's health as the shipped alert rules would judge its numbers. The
// thresholds, comparisons and alert names come from the table in
// @mlwatch/semconv that packages/deploy generates the rules from. The page
// sees one moment over the collector's window, not how long a value has
// lasted, so each finding says what the page sees and what the rule still
// needs (its `for`). A critical finding makes the model critical, a warning
// makes it warning; info findings are shown and coloured but leave it healthy
// (info alerts go to a low-priority channel, they ask nobody to act).

import {
  type AlertName,
  type AlertSeverity,
  breaches,
  burnFactor,
  type Comparison,
  DefaultAccuracySegment,
  DefaultObjectives,
  SeverityLevel,
  AlertThresholds as T,
  windowSeconds,
} from "@mlwatch/semconv";
import type { ModelSignals } from "./summary.js";

export type HealthStatus = "healthy" | "warning" | "critical";

export interface Finding {
  /**
   * The value the finding is about, which the page colours: errorRate, latencyP95,
   * lowConfidence, confidencePsi, classPsi, noData, drift:<feature>, accuracy:<segment>,
   * slo:<objective>.
   */
  signal: string;
  severity: AlertSeverity;
  /** The shipped alert it mirrors; null when no shipped rule alerts on it. */
  alert: AlertName | null;
  /** What the page sees. */
  seen: string;
  /** What the rule does about it. */
  rule: string;
}

export interface ModelHealth {
  status: HealthStatus;
  /** Most severe first. */
  findings: Finding[];
}

const RANK: Record<AlertSeverity, number> = { info: 1, warning: 2, critical: 3 };

const OP_WORDS: Record<Comparison, string> = { ">": "above", ">=": "at or above", "<": "below" };

/** "5m" → "5 min", "1h" → "1 h". */
export function spoken(window: string): string {
  return window.replace(/^(\d+)([smhd])$/, (_, n: string, u: string) => {
    const unit = { s: "s", m: "min", h: "h", d: "d" }[u as "s" | "m" | "h" | "d"];
    return `${n} ${unit}`;
  });
}

/** A duration in milliseconds, roughly: "42 s", "12 min", "3 h", "2 d". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** A percentage with up to two decimals, more when needed to tell it from `beside` (1.004% vs 1%). */
export function percent(v: number, beside?: number): string {
  const trim = (x: number, digits: number) => `${Number((x * 100).toFixed(digits))}%`;
  let text = trim(v, 2);
  for (let d = 3; beside !== undefined && d <= 6 && v !== beside && text === trim(beside, 2); d++)
    text = trim(v, d);
  return text;
}

const seconds = (v: number) =>
  v < 1 ? `${Number((v * 1000).toPrecision(3))} ms` : `${Number(v.toPrecision(3))} s`;

/** The first (most severe) tier whose threshold the value breaches. */
function tierOf<R>(
  tiers: readonly R[],
  op: Comparison,
  value: number,
  threshold: (t: R) => number,
): R | undefined {
  return tiers.find((t) => breaches(value, op, threshold(t)));
}

function errorRate(s: ModelSignals): Finding[] {
  const r = T.errorRate;
  const v = s.errorRate;
  const t = v === null ? undefined : tierOf(r.tiers, r.op, v, (x) => x.ratio);
  if (v === null || !t) return [];
  return [
    {
      signal: "errorRate",
      severity: t.severity,
      alert: r.alert,
      seen: `error rate ${percent(v, t.ratio)} is ${OP_WORDS[r.op]} the ${t.severity} threshold ${percent(t.ratio)}`,
      rule: `${r.alert} (${t.severity}) fires if the ${spoken(r.window)} error rate stays ${OP_WORDS[r.op]} it for ${spoken(t.for)}`,
    },
  ];
}

/** The latency objective HighLatencyP95 compares with: the smallest threshold, or the default for a model without SLOs. */
export function latencyObjective(s: ModelSignals): { seconds: number; name: string } | undefined {
  if (!s.hasSlo)
    return { seconds: DefaultObjectives.latency.thresholdSeconds, name: "default latency objective" };
  const own = s.slo.flatMap((o) => (o.thresholdSeconds === undefined ? [] : [o.thresholdSeconds]));
  return own.length ? { seconds: Math.min(...own), name: "latency objective" } : undefined;
}

function latency(s: ModelSignals): Finding[] {
  const r = T.latencyP95;
  const p95 = s.latencySeconds?.p95;
  const objective = latencyObjective(s);
  if (p95 === undefined || !objective) return [];
  const t = tierOf(r.tiers, r.op, p95, (x) => x.times * objective.seconds);
  if (!t) return [];
  return [
    {
      signal: "latencyP95",
      severity: t.severity,
      alert: r.alert,
      seen: `p95 latency ${seconds(p95)} is ${OP_WORDS[r.op]} ${t.times}× the ${objective.name} ${seconds(objective.seconds)}`,
      rule: `${r.alert} (${t.severity}) fires if the ${spoken(r.window)} p95 stays ${OP_WORDS[r.op]} it for ${spoken(t.for)}`,
    },
  ];
}

function lowConfidence(s: ModelSignals): Finding[] {
  const r = T.lowConfidenceShare;
  const v = s.lowConfidenceShare;
  const t = v === null ? undefined : tierOf(r.tiers, r.op, v, (x) => x.ratio);
  if (v === null || !t) return [];
  return [
    {
      signal: "lowConfidence",
      severity: t.severity,
      alert: r.alert,
      seen: `${percent(v, t.ratio)} of predictions had low confidence, ${OP_WORDS[r.op]} the ${percent(t.ratio)} alert threshold`,
      rule: `${r.alert} (${t.severity}) fires if the ${spoken(r.window)} share stays ${OP_WORDS[r.op]} it for ${spoken(t.for)}`,
    },
  ];
}

const pct = (v: number) => `${Number((v * 100).toPrecision(3))} %`;

/** "; 38 % of values now in (-5, -2], baseline 4 %" for the range that moved most. */
export function movedText(
  moved: ReadonlyArray<{ range: string; baseline: number; current: number }>,
): string {
  const m = moved[0];
  return m ? `; ${pct(m.current)} of values now in ${m.range}, baseline ${pct(m.baseline)}` : "";
}

function dataDrift(s: ModelSignals): Finding[] {
  const r = T.dataDrift;
  return s.drift.flatMap((d) => {
    if (d.severity === null) return [];
    const t = tierOf(r.tiers, r.op, SeverityLevel[d.severity], (x) => x.level);
    if (!t) return [];
    const at = d.thresholds
      ? `, ${d.severity} at ${d.thresholds[d.severity as keyof typeof d.thresholds]?.toFixed(3)} for ${d.samples} values`
      : "";
    const score = d.score === null ? "" : ` (${d.method} ${d.score.toFixed(3)}${at})`;
    return [
      {
        signal: `drift:${d.feature}`,
        severity: t.severity,
        alert: r.alert,
        seen: `feature ${d.feature}: ${d.severity} drift${score}${movedText(d.moved)}`,
        rule: `${r.alert} (${t.severity}) fires if it stays ${t.name} or worse for ${spoken(t.for)}`,
      },
    ];
  });
}

function versionDrift(s: ModelSignals): Finding[] {
  const r = T.versionDrift;
  return s.versionDrift.flatMap((v) => {
    if (v.severity === null) return [];
    const t = tierOf(r.tiers, r.op, SeverityLevel[v.severity], (x) => x.level);
    if (!t) return [];
    return [
      {
        signal: `version:${v.feature}@${v.version}`,
        severity: t.severity,
        alert: r.alert,
        seen: `feature ${v.feature}: version ${v.version} differs from ${v.referenceVersion} (KS ${v.score?.toFixed(3)}), ${v.severity}`,
        rule: `${r.alert} (${t.severity}) fires if it stays ${t.name} or worse for ${spoken(t.for)}`,
      },
    ];
  });
}

function conceptDrift(s: ModelSignals): Finding[] {
  const r = T.conceptDriftPsi;
  const out: Finding[] = [];
  const v = s.conceptDrift?.confidencePsi ?? null;
  const t = v === null ? undefined : tierOf(r.tiers, r.op, v, (x) => x.psi);
  if (v !== null && t)
    out.push({
      signal: "confidencePsi",
      severity: t.severity,
      alert: r.alert,
      seen: `confidence PSI ${v.toFixed(3)} is ${OP_WORDS[r.op]} the ${t.severity} threshold ${t.psi}`,
      rule: `${r.alert} (${t.severity}) fires if it stays so for ${spoken(t.for)}`,
    });
  // No shipped rule reads the class PSI: it is noted at info, on the lowest PSI threshold.
  const c = s.conceptDrift?.classPsi ?? null;
  const lowest = Math.min(...r.tiers.map((x) => x.psi));
  if (c !== null && breaches(c, r.op, lowest))
    out.push({
      signal: "classPsi",
      severity: "info",
      alert: null,
      seen: `class PSI ${c.toFixed(3)} is ${OP_WORDS[r.op]} ${lowest}`,
      rule: `no shipped rule alerts on the class PSI (${r.alert} reads the confidence PSI)`,
    });
  return out;
}

/** The accuracy objectives LowModelAccuracy judges: the model's own, or the default for a model without SLOs. */
export function accuracyObjectives(
  s: ModelSignals,
): Array<{ target: number; segment: string; name: string }> {
  if (!s.hasSlo)
    return [
      {
        target: DefaultObjectives.accuracy.target,
        segment: DefaultAccuracySegment,
        name: "default objective",
      },
    ];
  return s.slo
    .filter((o) => o.kind === "accuracy")
    .map((o) => ({
      target: o.target,
      segment: o.segment ?? DefaultAccuracySegment,
      name: `objective ${o.name}`,
    }));
}

function accuracy(s: ModelSignals): Finding[] {
  const r = T.accuracy;
  return accuracyObjectives(s).flatMap((o) => {
    const row = s.accuracy.find((a) => a.segment === o.segment);
    if (!row || row.accuracy === null) return [];
    const v = row.accuracy;
    // As the rules: pages below the fixed floor, warns below the objective's target when that is higher.
    const tiers: Array<{ severity: AlertSeverity; ratio: number; for: string; what: string }> = [
      { ...r.critical, what: `${r.critical.severity} threshold` },
    ];
    if (o.target > r.critical.ratio)
      tiers.push({ severity: "warning", ratio: o.target, for: r.warningFor, what: o.name });
    const t = tierOf(tiers, r.op, v, (x) => x.ratio);
    if (!t) return [];
    return [
      {
        signal: `accuracy:${o.segment}`,
        severity: t.severity,
        alert: r.alert,
        seen: `accuracy ${percent(v, t.ratio)} on ${o.segment} (${row.total} labels) is ${OP_WORDS[r.op]} the ${t.what} ${percent(t.ratio)}`,
        rule: `${r.alert} (${t.severity}) fires if it stays ${OP_WORDS[r.op]} it for ${spoken(t.for)}`,
      },
    ];
  });
}

function burn(s: ModelSignals): Finding[] {
  const r = T.burn;
  const out: Finding[] = [];
  for (const o of s.slo) {
    if (o.errorBudgetRemaining !== null && o.errorBudgetRemaining < 0)
      out.push({
        signal: `slo:${o.name}`,
        severity: "info",
        alert: null,
        seen: `SLO ${o.name}: error budget overspent (${percent(1 - o.errorBudgetRemaining)} of it spent)`,
        rule: "no shipped rule alerts on a spent budget; the burn-rate alerts judge how fast it goes",
      });
    if (o.kind !== "availability" && o.kind !== "error_rate" && o.kind !== "latency") continue;
    const rate = (w: string) => o.windows.find((x) => x.window === w)?.burnRate ?? null;
    const alert = o.kind === "latency" ? r.alerts.latency : r.alerts.errors;
    for (const severity of ["critical", "warning"] as const) {
      const hit = r.policy
        .filter((row) => row.severity === severity)
        .map((row) => ({
          row,
          f: burnFactor(row, o.periodSeconds),
          long: rate(row.long),
          short: rate(row.short),
        }))
        .find(
          (x) =>
            x.long !== null &&
            x.short !== null &&
            breaches(x.long, r.op, x.f) &&
            breaches(x.short, r.op, x.f),
        );
      if (!hit) continue;
      out.push({
        signal: `slo:${o.name}`,
        severity,
        alert,
        seen: `SLO ${o.name}: error budget burning ${hit.long?.toFixed(1)}× over ${spoken(hit.row.long)} and ${hit.short?.toFixed(1)}× over ${spoken(hit.row.short)}, ${OP_WORDS[r.op]} ${hit.f}×`,
        rule: `${alert} (${severity}) fires if it stays so for ${spoken(r.for[severity])}`,
      });
      break;
    }
  }
  return out;
}

function noData(s: ModelSignals): Finding[] {
  const r = T.noData;
  const since = s.lastRequestAtMs ?? s.collectorStartedAtMs;
  const silentMs = s.atMs - since;
  if (silentMs < windowSeconds(r.window) * 1000) return [];
  // A model with SLOs must report (critical); any other model going quiet is noted (info).
  const severity: AlertSeverity = s.hasSlo ? "critical" : "info";
  const what =
    s.lastRequestAtMs === null
      ? `no requests since the collector started ${age(silentMs)} ago`
      : `no requests for ${age(silentMs)}`;
  return [
    {
      signal: "noData",
      severity,
      alert: r.alert,
      seen: `${what}, past the ${spoken(r.window)} no-data window`,
      rule: `${r.alert} (${severity}) fires if it stays so for ${spoken(s.hasSlo ? r.criticalFor : r.infoFor)}`,
    },
  ];
}

export function judgeHealth(s: ModelSignals): ModelHealth {
  const findings = [
    ...noData(s),
    ...errorRate(s),
    ...latency(s),
    ...burn(s),
    ...accuracy(s),
    ...lowConfidence(s),
    ...dataDrift(s),
    ...versionDrift(s),
    ...conceptDrift(s),
  ].sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  const worst = findings[0]?.severity;
  const status: HealthStatus =
    worst === "critical" ? "critical" : worst === "warning" ? "warning" : "healthy";
  return { status, findings };
}

/** The colour of one value on the page: its worst finding's severity, or "ok". */
export function colourOf(h: ModelHealth, signal: string): AlertSeverity | "ok" {
  return h.findings.find((f) => f.signal === signal)?.severity ?? "ok";
}
