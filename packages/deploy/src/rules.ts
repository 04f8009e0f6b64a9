// Prometheus recording and alerting rules, generated from the semantic
// conventions (metric and label names), the reference design (alerts,
// thresholds, severities) and the SLO spec (objectives per model).
//
// Every alert aggregates per model with `by (model_name, ...)`, so replicas,
// versions and endpoints never split or duplicate an alert, and carries a
// severity, a summary, a description with the value and a runbook link.

import { AlertThresholds } from "@mlwatch/semconv";
import { TimeScale } from "./duration.js";
import { type AlertName, COLLECTOR_JOB, L, M, R, type Severity, SLO_WINDOWS } from "./names.js";
import { eq, notIn, num, sel, str } from "./promql.js";
import {
  BURN_POLICY,
  burnFactor,
  errorBudget,
  goodTarget,
  type ModelSlo,
  type Objective,
  type SloSpec,
} from "./slo-spec.js";
import type { Template } from "./template.js";

export interface RecordingRule {
  kind: "record";
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertRule {
  kind: "alert";
  alert: AlertName;
  expr: string;
  for: string;
  labels: { severity: Severity } & Record<string, string>;
  summary: Template;
  description: Template;
  runbookUrl: string;
  /** Queries for the data this alert judges: each must return series when the system is fed (no dead queries). */
  signals: string[];
  /** For SLO alerts: the scope (model name, or "defaults") the rule was generated for. */
  scope?: string;
}

export type Rule = RecordingRule | AlertRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleSet {
  /** Rules that do not depend on the SLO spec: RED and quality recordings, threshold alerts. */
  main: RuleGroup[];
  /** Rules generated from the SLO spec: objectives, indicators, burn-rate, accuracy and no-data alerts. */
  slo: RuleGroup[];
}

export interface RuleOptions {
  spec: SloSpec;
  scale?: TimeScale;
  /** Where runbooks live; `<base>/<Alert>.md` goes into runbook_url. */
  runbookBaseUrl?: string;
}

/** Rule group names; the SLO group comes first so the objectives exist when the main group reads them. */
export const GROUPS = { slo: "mlwatch-slo", period: "mlwatch-slo-period", main: "mlwatch" } as const;

/** The alert thresholds, shared with the collector's status page (see @mlwatch/semconv alerts.ts). */
export const THRESHOLDS = AlertThresholds;

const pct = (ratio: number) => `${num(ratio * 100)}%`;
const model = { label: L.model } as const;

/** The model selection a block of SLO rules applies to. */
export interface Scope {
  /** "sentiment", or "defaults" for every model not listed. */
  key: string;
  /** Matchers selecting the scope's models. */
  matchers: string[];
  /**
   * Static labels for the scope's rules: model_name for a listed model (the value its series carry
   * anyway), none for the defaults; this keeps rules of different scopes distinct for promtool's lint.
   */
  labels: Record<string, string>;
  slo: ModelSlo;
}

export function scopes(spec: SloSpec): Scope[] {
  const listed = Object.keys(spec.models);
  return [
    ...listed.map((m) => ({
      key: m,
      matchers: [eq(L.model, m)],
      labels: { [L.model]: m },
      slo: spec.models[m],
    })),
    { key: "defaults", matchers: [notIn(L.model, listed)].filter(Boolean), labels: {}, slo: spec.defaults },
  ];
}

class Builder {
  readonly s: TimeScale;
  readonly base: string;
  constructor(readonly opts: RuleOptions) {
    this.s = opts.scale ?? new TimeScale(1);
    this.base = (opts.runbookBaseUrl ?? "docs/runbooks").replace(/\/$/, "");
  }

  alert(
    a: Omit<AlertRule, "kind" | "runbookUrl" | "for" | "labels"> & {
      for: string;
      severity: Severity;
      labels?: Record<string, string>;
    },
  ): AlertRule {
    return {
      kind: "alert",
      alert: a.alert,
      expr: a.expr,
      for: this.s.d(a.for),
      labels: { severity: a.severity, ...(a.labels ?? {}) },
      summary: a.summary,
      description: a.description,
      runbookUrl: `${this.base}/${a.alert}.md`,
      signals: a.signals,
      ...(a.scope ? { scope: a.scope } : {}),
    };
  }

  // --- spec-independent rules -------------------------------------------------

  recording(): RuleGroup {
    const w5 = this.s.d("5m");
    const w1h = this.s.d("1h");
    return {
      name: "mlwatch-recording",
      rules: [
        {
          kind: "record",
          record: R.requestsRate5m,
          expr: `sum by (${L.model}) (rate(${M.requests}[${w5}]))`,
        },
        {
          kind: "record",
          record: R.errorRatio5m,
          // Models without any error have no ml_errors_total series: count them as 0, not as missing.
          expr: `(sum by (${L.model}) (rate(${M.errors}[${w5}])) or 0 * ${R.requestsRate5m}) / ${R.requestsRate5m}`,
        },
        {
          kind: "record",
          record: R.latencyP95,
          expr: quantile(0.95, M.duration, [], w5, [L.model]),
        },
        {
          kind: "record",
          record: R.lowConfidenceRatio1h,
          // Share of the predictions that had a confidence (not of all requests, some of which fail).
          expr:
            `sum by (${L.model}, ${L.threshold}) (rate(${M.lowConfidence}[${w1h}]))` +
            ` / on (${L.model}) group_left () (${histogramCount(M.confidence, [], w1h, [L.model])})`,
        },
      ],
    };
  }

  thresholdAlerts(): RuleGroup {
    const rules: AlertRule[] = [];
    const w5 = this.s.d("5m");
    const er = THRESHOLDS.errorRate;
    for (const t of er.tiers) {
      rules.push(
        this.alert({
          alert: er.alert,
          severity: t.severity,
          expr: `${R.errorRatio5m} ${er.op} ${num(t.ratio)}`,
          for: t.for,
          summary: [`Error rate above ${pct(t.ratio)} on model `, model],
          description: [
            { value: "percent" },
            " of requests to model ",
            model,
            ` failed over the last ${w5} (${t.severity} above ${pct(t.ratio)} for ${this.s.d(t.for)}).`,
          ],
          signals: [R.errorRatio5m],
        }),
      );
    }
    const lat = THRESHOLDS.latencyP95;
    for (const t of lat.tiers) {
      const objective = `min by (${L.model}) (${R.sloLatencyThreshold})`;
      rules.push(
        this.alert({
          alert: lat.alert,
          severity: t.severity,
          expr: `${R.latencyP95} ${lat.op} on (${L.model}) group_left () (${num(t.times)} * ${objective})`,
          for: t.for,
          summary: [`p95 latency above ${num(t.times)}× the objective on model `, model],
          description: [
            "p95 latency of model ",
            model,
            " is ",
            { value: "duration" },
            ` over the last ${w5}, above ${num(t.times)}× its latency objective of `,
            { latencyObjective: R.sloLatencyThreshold },
            ` for ${this.s.d(t.for)}.`,
          ],
          signals: [R.latencyP95, R.sloLatencyThreshold],
        }),
      );
    }
    const dd = THRESHOLDS.dataDrift;
    for (const t of dd.tiers) {
      const by = `${L.model}, ${L.feature}`;
      rules.push(
        this.alert({
          alert: dd.alert,
          severity: t.severity,
          // Severity comes from the collector, which applies each feature's drift method and thresholds
          // (KS D: 0.1 info, 0.15 warning, 0.25 critical), raised at small windows to what chance reaches
          // (ml_data_drift_threshold), and none while a window warms up; the value shown is the score.
          expr: `max by (${by}) (${M.driftScore}) and on (${by}) (max by (${by}) (${M.driftSeverity}) ${dd.op} ${t.level})`,
          for: t.for,
          summary: ["Input drift on feature ", { label: L.feature }, " of model ", model],
          description: [
            "Feature ",
            { label: L.feature },
            " of model ",
            model,
            " has drifted from its baseline: score ",
            { value: "fixed2" },
            ` (KS D unless configured otherwise) against a ${t.name} threshold of `,
            { driftThreshold: { metric: M.driftThreshold, severity: t.name } },
            ` at the size of this window, ${t.name} severity or worse for ${this.s.d(t.for)}. `,
            { driftMoved: M.driftTopRange },
          ],
          signals: [M.driftScore, M.driftSeverity, M.driftThreshold],
        }),
      );
    }
    const vd = THRESHOLDS.versionDrift;
    for (const t of vd.tiers) {
      const by = `${L.model}, ${L.feature}, ${L.version}`;
      rules.push(
        this.alert({
          alert: vd.alert,
          severity: t.severity,
          expr: `max by (${by}) (${M.versionDriftScore}) and on (${by}) (max by (${by}) (${M.versionDriftSeverity}) ${vd.op} ${t.level})`,
          for: t.for,
          summary: [
            "Version ",
            { label: L.version },
            " of model ",
            model,
            " sees different ",
            { label: L.feature },
          ],
          description: [
            "During a rollout, feature ",
            { label: L.feature },
            " of model ",
            model,
            " in version ",
            { label: L.version },
            " differs from the version live first: KS D ",
            { value: "fixed2" },
            `, ${t.name} severity or worse for the size of the two windows, for ${this.s.d(t.for)}.`,
          ],
          signals: [M.versionDriftScore, M.versionDriftSeverity],
        }),
      );
    }
    const cd = THRESHOLDS.conceptDriftPsi;
    for (const t of cd.tiers) {
      rules.push(
        this.alert({
          alert: cd.alert,
          severity: t.severity,
          expr: `max by (${L.model}) (${M.conceptPsi}) ${cd.op} ${num(t.psi)}`,
          for: t.for,
          summary: ["Prediction confidence distribution shifted on model ", model],
          description: [
            "PSI of the confidence distribution of model ",
            model,
            " against its baseline is ",
            { value: "fixed2" },
            ` (${t.severity} at ${num(t.psi)}) for ${this.s.d(t.for)}: the model behaves differently on current traffic.`,
          ],
          signals: [M.conceptPsi],
        }),
      );
    }
    const lcs = THRESHOLDS.lowConfidenceShare;
    for (const lc of lcs.tiers)
      rules.push(
        this.alert({
          alert: lcs.alert,
          severity: lc.severity,
          expr: `${R.lowConfidenceRatio1h} ${lcs.op} ${num(lc.ratio)}`,
          for: lc.for,
          summary: ["Many low-confidence predictions on model ", model],
          description: [
            { value: "percent" },
            " of the predictions of model ",
            model,
            ` over the last ${this.s.d("1h")} had confidence below `,
            { label: L.threshold },
            ` (warning above ${pct(lc.ratio)} for ${this.s.d(lc.for)}).`,
          ],
          signals: [R.lowConfidenceRatio1h],
        }),
      );
    const up = sel("up", [eq("job", COLLECTOR_JOB)]);
    rules.push(
      this.alert({
        alert: THRESHOLDS.collectorDown.alert,
        severity: "critical",
        expr: `${up} == 0`,
        for: THRESHOLDS.collectorDown.for,
        summary: ["mlwatch collector is down"],
        description: [
          "Prometheus cannot scrape the mlwatch collector at ",
          { label: "instance" },
          ` for ${this.s.d(THRESHOLDS.collectorDown.for)}: no model metrics are collected and the other mlwatch alerts cannot fire.`,
        ],
        signals: [up],
      }),
    );
    return { name: "mlwatch-alerts", rules };
  }

  // --- SLO rules ----------------------------------------------------------------

  /** Constant series with each model's objectives, for joins in alerts and dashboards. */
  objectives(scopesList: Scope[]): RuleGroup {
    const rules: RecordingRule[] = [];
    for (const sc of scopesList) {
      // A listed model gets its constants even before it reports; defaults apply to every model seen.
      const everyModel = `group by (${L.model}) (${sel(M.requests, sc.matchers)})`;
      const constant = (v: number) =>
        sc.key === "defaults" ? `${num(v)} * ${everyModel}` : `vector(${num(v)})`;
      const scopeLabels = sc.labels;
      for (const o of sc.slo.objectives) {
        if (o.kind === "throughput" || o.kind === "cost") continue;
        const good = goodTarget(o);
        rules.push({
          kind: "record",
          record: R.sloTarget,
          expr: constant(good),
          labels: { ...scopeLabels, slo: o.name, kind: o.kind },
        });
        if (o.kind === "latency")
          rules.push({
            kind: "record",
            record: R.sloLatencyThreshold,
            expr: constant(o.thresholdSeconds),
            labels: { ...scopeLabels, slo: o.name },
          });
      }
    }
    return { name: "mlwatch-slo-objectives", rules };
  }

  /** Bad-event ratio of a request objective over a window, per model. */
  indicator(o: Objective, sc: Scope, range: string): string {
    const by = `sum by (${L.model})`;
    if (o.kind === "latency") {
      const good = sel(M.durationBucket, [...sc.matchers, eq("le", String(o.thresholdSeconds))]);
      const all = sel(M.durationCount, sc.matchers);
      const native = `${by} (rate(${sel(M.duration, sc.matchers)}[${range}]))`;
      // Classic buckets count exactly at a bucket bound; a native histogram's share is interpolated
      // within the exponential bucket holding the threshold.
      return (
        `(1 - (${by} (rate(${good}[${range}])) / ${by} (rate(${all}[${range}]))))` +
        ` or (1 - histogram_fraction(0, ${num(o.thresholdSeconds)}, ${native}))`
      );
    }
    if (o.kind === "availability" || o.kind === "error_rate") {
      const errors = sel(M.errors, [...sc.matchers, notIn(L.errorType, o.excludeErrorTypes)]);
      const requests = `${by} (rate(${sel(M.requests, sc.matchers)}[${range}]))`;
      return `(${by} (rate(${errors}[${range}])) or 0 * ${requests}) / ${requests}`;
    }
    throw new Error(`no request indicator for ${o.kind}`);
  }

  indicators(scopesList: Scope[]): { windows: RuleGroup; period: RuleGroup } {
    const windows: RecordingRule[] = [];
    const period: RecordingRule[] = [];
    for (const sc of scopesList) {
      for (const o of sc.slo.objectives) {
        if (o.kind !== "availability" && o.kind !== "error_rate" && o.kind !== "latency") continue;
        const latency = o.kind === "latency";
        for (const w of SLO_WINDOWS)
          windows.push({
            kind: "record",
            record: latency ? R.sloSlow(w) : R.sloErrors(w),
            expr: this.indicator(o, sc, this.s.d(w)),
            labels: { ...sc.labels, slo: o.name },
          });
        period.push({
          kind: "record",
          record: latency ? R.sloSlowPeriod : R.sloErrorsPeriod,
          expr: this.indicator(o, sc, formatScaled(this.s, sc.slo.periodSeconds)),
          labels: { ...sc.labels, slo: o.name, period: sc.slo.period },
        });
      }
    }
    return {
      windows: { name: "mlwatch-slo-indicators", rules: windows },
      // Over the whole SLO period: expensive, and only needed for budget-remaining panels, so less often.
      period: { name: GROUPS.period, interval: this.s.d("5m"), rules: period },
    };
  }

  sloAlerts(scopesList: Scope[]): RuleGroup {
    const rules: AlertRule[] = [];
    for (const sc of scopesList) {
      for (const o of sc.slo.objectives) {
        if (o.kind === "availability" || o.kind === "error_rate" || o.kind === "latency")
          rules.push(...this.burnAlerts(o, sc));
        if (o.kind === "accuracy") rules.push(...this.accuracyAlerts(o, sc));
      }
      rules.push(this.noDataAlert(sc));
    }
    return { name: "mlwatch-slo-alerts", rules };
  }

  burnAlerts(o: Objective, sc: Scope): AlertRule[] {
    const budget = errorBudget(o);
    const latency = o.kind === "latency";
    const name = latency ? THRESHOLDS.burn.alerts.latency : THRESHOLDS.burn.alerts.errors;
    const series = (w: string) =>
      sel(latency ? R.sloSlow(w) : R.sloErrors(w), [eq("slo", o.name), ...sc.matchers]);
    const out: AlertRule[] = [];
    for (const severity of ["critical", "warning"] as const) {
      const rows = BURN_POLICY.filter((r) => r.severity === severity);
      const pairs = rows.map((r) => {
        const f = num(burnFactor(r, sc.slo.periodSeconds));
        const op = THRESHOLDS.burn.op;
        return `(${series(r.long)} / ${num(budget)} ${op} ${f} and ${series(r.short)} / ${num(budget)} ${op} ${f})`;
      });
      const policy = rows
        .map(
          (r) =>
            `${num(burnFactor(r, sc.slo.periodSeconds))}× over ${this.s.d(r.long)} and ${this.s.d(r.short)}`,
        )
        .join(", or ");
      const what =
        o.kind === "latency"
          ? `requests slower than ${num(o.thresholdSeconds)}s`
          : o.kind === "availability" && o.excludeErrorTypes.length > 0
            ? `failed requests except ${o.excludeErrorTypes.join(", ")}`
            : "failed requests";
      out.push(
        this.alert({
          alert: name,
          severity,
          scope: sc.key,
          labels: { ...sc.labels, slo: o.name },
          expr: pairs.join("\nor\n"),
          for: THRESHOLDS.burn.for[severity],
          summary: [
            severity === "critical" ? "Fast" : "Steady",
            ` burn of the ${o.name} error budget of model `,
            model,
          ],
          description: [
            "Model ",
            model,
            ` is spending the error budget of its ${o.name} SLO (${pct(1 - budget)} good, ${what} count against it, ${sc.slo.period} period) `,
            { value: "fixed1" },
            `× as fast as the period allows (${severity === "critical" ? "pages" : "opens a ticket"} at ${policy}).`,
          ],
          signals: rows.flatMap((r) => [series(r.long), series(r.short)]),
        }),
      );
    }
    return out;
  }

  accuracyAlerts(o: Extract<Objective, { kind: "accuracy" }>, sc: Scope): AlertRule[] {
    const by = `${L.model}, ${L.segment}`;
    const acc = `min by (${by}) (${sel(M.accuracy, [...sc.matchers, eq(L.segment, o.segment)])})`;
    const rule = THRESHOLDS.accuracy;
    const crit = rule.critical;
    const tiers: Array<{ severity: Severity; ratio: number; for: string; what: string }> = [
      { severity: "critical", ratio: crit.ratio, for: crit.for, what: "critical below" },
    ];
    if (o.target > crit.ratio)
      tiers.push({
        severity: "warning",
        ratio: o.target,
        for: rule.warningFor,
        what: `objective ${o.name}:`,
      });
    return tiers.map((t) =>
      this.alert({
        alert: rule.alert,
        severity: t.severity,
        scope: sc.key,
        labels: sc.labels,
        expr: `${acc} ${rule.op} ${num(t.ratio)}`,
        for: t.for,
        summary: [`Accuracy below ${pct(t.ratio)} on model `, model],
        description: [
          "Accuracy of model ",
          model,
          " on labelled predictions of segment ",
          { label: L.segment },
          " is ",
          { value: "percent" },
          ` (${t.what} ${pct(t.ratio)}) for ${this.s.d(t.for)}.`,
        ],
        signals: [sel(M.accuracy, [...sc.matchers, eq(L.segment, o.segment)])],
      }),
    );
  }

  noDataAlert(sc: Scope): AlertRule {
    const t = THRESHOLDS.noData;
    const w = this.s.d(t.window);
    const requests = sel(M.requests, sc.matchers);
    const zero = `sum by (${L.model}) (rate(${requests}[${w}])) == 0`;
    if (sc.key !== "defaults") {
      // A model with SLOs must report: absent_over_time also catches a model whose series vanished
      // (or never appeared), and takes its model_name from the equality matcher.
      return this.alert({
        alert: t.alert,
        severity: "critical",
        scope: sc.key,
        labels: sc.labels,
        expr: `(${zero}) or absent_over_time(${requests}[${w}])`,
        for: t.criticalFor,
        summary: ["No requests from model ", model],
        description: [
          "The collector has received no requests from model ",
          model,
          ` for ${w}, and the model has SLOs: its service is down, not exporting, or cannot reach the collector.`,
        ],
        signals: [requests],
      });
    }
    return this.alert({
      alert: t.alert,
      severity: "info",
      scope: sc.key,
      expr: zero,
      for: t.infoFor,
      summary: ["No requests from model ", model],
      description: [
        "Model ",
        model,
        ` reported before but has had no requests for ${w}; list it in the SLO spec to page on this.`,
      ],
      signals: [requests],
    });
  }
}

const sumBy = (by: string[]) => (by.length ? `sum by (${by.join(", ")})` : "sum");

/**
 * A quantile from a histogram scraped either way: classic `_bucket` series, or a native histogram
 * (Prometheus 2.x with --enable-feature=native-histograms keeps only the native one when both are
 * offered). The classic form wins when both exist.
 */
export function quantile(
  q: number,
  histogram: string,
  matchers: string[],
  range: string,
  by: string[],
): string {
  const classic = `sum by (${[...by, "le"].join(", ")}) (rate(${sel(`${histogram}_bucket`, matchers)}[${range}]))`;
  const native = `${sumBy(by)} (rate(${sel(histogram, matchers)}[${range}]))`;
  return `histogram_quantile(${q}, ${classic}) or histogram_quantile(${q}, ${native})`;
}

/** Observations per second of a histogram, classic (`_count`) or native. */
export function histogramCount(histogram: string, matchers: string[], range: string, by: string[]): string {
  const g = sumBy(by);
  return (
    `${g} (rate(${sel(`${histogram}_count`, matchers)}[${range}]))` +
    ` or ${g} (histogram_count(rate(${sel(histogram, matchers)}[${range}])))`
  );
}

function formatScaled(s: TimeScale, seconds: number): string {
  return s.d(`${seconds}s`);
}

/** All rules for a spec. */
export function buildRules(opts: RuleOptions): RuleSet {
  const b = new Builder(opts);
  const sc = scopes(opts.spec);
  const ind = b.indicators(sc);
  // Prometheus evaluates groups independently; rules within a group run in order. Alerts therefore
  // share a group with the recordings they read, so they never judge a value one interval old.
  const merge = (name: string, ...groups: RuleGroup[]): RuleGroup => ({
    name,
    rules: groups.flatMap((g) => g.rules),
  });
  return {
    main: [merge(GROUPS.main, b.recording(), b.thresholdAlerts())],
    slo: [merge(GROUPS.slo, b.objectives(sc), ind.windows, b.sloAlerts(sc)), ind.period],
  };
}

/** Every alert rule of a rule set. */
export function alertRules(set: RuleSet): AlertRule[] {
  return [...set.main, ...set.slo].flatMap((g) => g.rules.filter((r): r is AlertRule => r.kind === "alert"));
}

/** Every recording rule of a rule set. */
export function recordingRules(set: RuleSet): RecordingRule[] {
  return [...set.main, ...set.slo].flatMap((g) =>
    g.rules.filter((r): r is RecordingRule => r.kind === "record"),
  );
}

/** PromQL selecting what a recording rule records (its name and static labels). */
export function recordedSeries(r: RecordingRule): string {
  return sel(
    r.record,
    Object.entries(r.labels ?? {}).map(([k, v]) => `${k}=${str(v)}`),
  );
}
