// promtool unit tests for the generated rules, generated beside them: for
// every alert, series on which it fires, series on which it stays silent,
// and series at (or just inside) its threshold and `for:` duration. Expected
// annotations are rendered from the same templates the rules use, so a test
// also checks what a person paged would read.

import { ALERTS, type AlertName, COLLECTOR_JOB, L, M, R, type Severity } from "./names.js";
import { num } from "./promql.js";
import { type AlertRule, alertRules, GROUPS, type RuleSet, type Scope, scopes, THRESHOLDS } from "./rules.js";
import {
  BURN_POLICY,
  burnFactor,
  errorBudget,
  goodTarget,
  type Objective,
  type SloSpec,
} from "./slo-spec.js";
import { humanizeDuration, type MovedRow, renderTemplate, type TemplateLookups } from "./template.js";

type Labels = Record<string, string>;

export interface PromtoolAlert {
  exp_labels: Labels;
  exp_annotations: Labels;
}
export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: PromtoolAlert[] }>;
  promql_expr_test?: Array<{
    expr: string;
    eval_time: string;
    exp_samples: Array<{ labels: string; value: number }>;
  }>;
}
export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval: string;
  group_eval_order: string[];
  tests: PromtoolTest[];
}

/** Model name used for tests of rules that apply to every model not listed in the spec. */
export const UNLISTED_MODEL = "unlisted_model";
const INSTANCE = "collector:9464";
const RPM = 1000; // requests per minute in every scenario

/** `name{a="b", ...}` in the series notation promtool reads. */
function series(name: string, labels: Labels): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return `${name}{${l}}`;
}

/** Common labels of a raw series from the collector, as Prometheus stores it. */
function raw(model: string, extra: Labels = {}): Labels {
  return {
    [L.model]: model,
    [L.version]: "1.0.0",
    [L.endpoint]: "/predict",
    ...extra,
    job: COLLECTOR_JOB,
    instance: INSTANCE,
  };
}

/** A counter increasing by `perMinute` for `minutes`, segment after segment, from 0. */
export type Segments = ReadonlyArray<readonly [perMinute: number, minutes: number]>;

export function counterValues(segs: Segments): string {
  // promtool expands "a+bxn" by repeated addition; a later segment's start written from our own sum could
  // land a hair below it in floating point and read as a counter reset. Whole increments avoid that.
  if (segs.length > 1 && segs.some(([r]) => !Number.isInteger(r)))
    throw new Error("counters with several segments need whole increments per minute");
  const tokens = ["0"];
  let v = 0;
  for (const [r, n] of segs) {
    if (n <= 0) continue;
    tokens.push(n === 1 ? num(v + r) : `${num(v + r)}+${num(r)}x${n - 1}`);
    v += r * n;
  }
  return tokens.join(" ");
}

/** Value of such a counter at minute t. */
export function counterAt(segs: Segments, t: number): number {
  let v = 0;
  let m = 0;
  for (const [r, n] of segs) {
    const k = Math.max(0, Math.min(n, t - m));
    v += r * k;
    m += n;
  }
  return v;
}

/** A promql_expr_test that `expr` equals `value` within 1e-9 (promtool compares floats exactly). */
function approx(expr: string, labels: Labels, value: number, evalTime: string) {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return {
    expr: `abs(${expr} - ${num(value)}) < bool 1e-9`,
    eval_time: evalTime,
    exp_samples: [{ labels: `{${l}}`, value: 1 }],
  };
}

const gauge = (v: number, minutes: number) => `${num(v)}+0x${minutes}`;
const minutes = (m: number) => {
  const h = Math.floor(m / 60);
  const r = m % 60;
  return h > 0 ? `${h}h${r > 0 ? `${r}m` : ""}` : `${m}m`;
};

class TestBuilder {
  readonly alerts: AlertRule[];
  readonly scopes: Scope[];
  constructor(
    rules: RuleSet,
    readonly spec: SloSpec,
  ) {
    this.alerts = alertRules(rules);
    this.scopes = scopes(spec);
  }

  rule(alert: AlertName, severity: Severity, scope?: string, slo?: string): AlertRule {
    const r = this.alerts.find(
      (a) =>
        a.alert === alert &&
        a.labels.severity === severity &&
        (scope === undefined || a.scope === scope) &&
        (slo === undefined || a.labels.slo === slo),
    );
    if (!r) throw new Error(`no ${severity} ${alert} rule${scope ? ` for ${scope}` : ""}`);
    return r;
  }

  /** What promtool should see for an alert with these labels and value. */
  expect(
    rule: AlertRule,
    labels: Labels,
    value: number,
    latencyObjective?: number,
    lookups: Omit<TemplateLookups, "latencyObjective"> = {},
  ): PromtoolAlert {
    const all = { ...labels, ...rule.labels };
    return {
      exp_labels: all,
      exp_annotations: {
        summary: renderTemplate(rule.summary, all, value),
        description: renderTemplate(rule.description, all, value, { latencyObjective, ...lookups }),
        runbook_url: rule.runbookUrl,
      },
    };
  }

  modelOf(sc: Scope): string {
    return sc.key === "defaults" ? UNLISTED_MODEL : sc.key;
  }

  /** Steady traffic from every listed model except `except`, so no-data alerts of others stay quiet. */
  backgroundTraffic(total: number, except?: string) {
    return this.scopes
      .filter((s) => s.key !== "defaults" && s.key !== except)
      .map((s) => ({ series: series(M.requests, raw(s.key)), values: counterValues([[RPM, total]]) }));
  }

  latencyObjectiveOf(sc: Scope): number | undefined {
    const t = sc.slo.objectives.flatMap((o) => (o.kind === "latency" ? [o.thresholdSeconds] : []));
    return t.length ? Math.min(...t) : undefined;
  }

  // --- HighErrorRate ------------------------------------------------------------

  errorRate(): PromtoolTestFile {
    const model = UNLISTED_MODEL;
    const a = (sev: Severity, value: number) =>
      this.expect(this.rule(ALERTS.highErrorRate, sev), { [L.model]: model }, value);
    const run = (name: string, errPerMin: number, evalAt: number, exp: PromtoolAlert[]): PromtoolTest => ({
      name,
      interval: "1m",
      input_series: [
        { series: series(M.requests, raw(model)), values: counterValues([[RPM, 40]]) },
        {
          series: series(M.errors, raw(model, { [L.errorType]: "ModelTimeoutError" })),
          values: counterValues([[errPerMin, 40]]),
        },
      ],
      alert_rule_test: [{ eval_time: minutes(evalAt), alertname: ALERTS.highErrorRate, exp_alerts: exp }],
    });
    return this.file([
      run("10% of requests failing fires every tier", 100, 30, [
        a("critical", 0.1),
        a("warning", 0.1),
        a("info", 0.1),
      ]),
      run("0.5% failing is silent", 5, 30, []),
      run("4.9% failing: warning and info, no page", 49, 30, [a("warning", 0.049), a("info", 0.049)]),
      run("a page waits for its for: (pending at 4m)", 100, 4, []),
      {
        name: "errors aggregate per model across versions and endpoints; exactly 5% does not page",
        interval: "1m",
        input_series: [
          {
            series: series(M.requests, raw(model, { [L.version]: "1" })),
            values: counterValues([[500, 40]]),
          },
          {
            series: series(M.requests, raw(model, { [L.version]: "2", [L.endpoint]: "/batch" })),
            values: counterValues([[500, 40]]),
          },
          {
            series: series(M.errors, raw(model, { [L.version]: "2", [L.errorType]: "ValidationError" })),
            values: counterValues([[50, 40]]),
          },
        ],
        alert_rule_test: [
          {
            eval_time: "30m",
            alertname: ALERTS.highErrorRate,
            exp_alerts: [a("warning", 0.05), a("info", 0.05)],
          },
        ],
      },
      {
        name: "a model without any error series has an error ratio of 0, not none",
        interval: "1m",
        input_series: [{ series: series(M.requests, raw(model)), values: counterValues([[RPM, 20]]) }],
        promql_expr_test: [
          {
            expr: R.errorRatio5m,
            eval_time: "10m",
            exp_samples: [{ labels: `${R.errorRatio5m}{${L.model}="${model}"}`, value: 0 }],
          },
        ],
      },
    ]);
  }

  // --- HighLatencyP95 -----------------------------------------------------------

  /**
   * Per-minute bucket counts whose histogram_quantile(0.95) is `p95`: a share
   * x of the requests in the lowest bucket, the rest in the bucket holding p95.
   */
  latencyBuckets(p95: number): Array<{ le: string; perMinute: number }> | undefined {
    const bounds = this.spec.latencyBuckets;
    const i = bounds.findIndex((b, k) => p95 > (k === 0 ? 0 : bounds[k - 1]) && p95 < b);
    if (i <= 0) return undefined;
    const lo = bounds[i - 1];
    const u = (p95 - lo) / (bounds[i] - lo);
    if (u > 0.95) return undefined;
    const x = (0.95 - u) / (1 - u);
    return [...bounds.map(String), "+Inf"].map((le, k) => ({
      le,
      perMinute: k === 0 || k < i ? x * RPM : RPM,
    }));
  }

  latency(): PromtoolTestFile {
    const tests: PromtoolTest[] = [];
    for (const sc of this.scopes) {
      const t = this.latencyObjectiveOf(sc);
      if (t === undefined) continue;
      const model = this.modelOf(sc);
      const a = (sev: Severity, v: number) =>
        this.expect(this.rule(ALERTS.highLatency, sev), { [L.model]: model }, v, t);
      const run = (name: string, p95: number, exp: PromtoolAlert[]): PromtoolTest | undefined => {
        const buckets = this.latencyBuckets(p95);
        if (!buckets) return undefined;
        return {
          name: `${sc.key}: ${name} (objective ${humanizeDuration(t)}, p95 ${humanizeDuration(p95)})`,
          interval: "1m",
          input_series: [
            { series: series(M.requests, raw(model)), values: counterValues([[RPM, 50]]) },
            ...buckets.map((b) => ({
              series: series(M.durationBucket, raw(model, { le: b.le })),
              values: counterValues([[b.perMinute, 50]]),
            })),
          ],
          alert_rule_test: [{ eval_time: "40m", alertname: ALERTS.highLatency, exp_alerts: exp }],
        };
      };
      const bad = 2.5 * t;
      const edge = 1.9 * t;
      const good = 0.5 * t;
      for (const x of [
        run("p95 at 2.5× the objective fires every tier", bad, [
          a("critical", bad),
          a("warning", bad),
          a("info", bad),
        ]),
        run("p95 at 1.9× the objective: warning and info, no page", edge, [
          a("warning", edge),
          a("info", edge),
        ]),
        run("p95 at half the objective is silent", good, []),
      ])
        if (x) tests.push(x);
      if (sc.key !== "defaults") {
        tests.push({
          name: `${sc.key}: the recorded p95 and objective`,
          interval: "1m",
          input_series: [
            { series: series(M.requests, raw(model)), values: counterValues([[RPM, 20]]) },
            ...(this.latencyBuckets(bad) ?? []).map((b) => ({
              series: series(M.durationBucket, raw(model, { le: b.le })),
              values: counterValues([[b.perMinute, 20]]),
            })),
          ],
          promql_expr_test: [
            {
              expr: `min by (${L.model}) (${R.sloLatencyThreshold}{${L.model}="${model}"})`,
              eval_time: "10m",
              exp_samples: [{ labels: `{${L.model}="${model}"}`, value: t }],
            },
          ],
        });
      }
    }
    return this.file(tests);
  }

  // --- DataDriftDetected ---------------------------------------------------------

  dataDrift(): PromtoolTestFile {
    const model = UNLISTED_MODEL;
    // feature, score, severity level, thresholds (info, warning, critical) at the window's size
    const features: Array<[string, number, number, [number, number, number]]> = [
      ["severe", 0.3, 3, [0.1, 0.15, 0.25]],
      ["moderate", 0.15, 2, [0.1, 0.15, 0.25]],
      ["slight", 0.12, 1, [0.1, 0.15, 0.25]],
      ["stable", 0.05, 0, [0.1, 0.15, 0.25]],
      // A small window: 0.2 is past the 0.15 floor but not past what chance reaches (0.22), so no severity.
      ["small_window", 0.2, 0, [0.22, 0.22, 0.25]],
    ];
    // What moved, for the features with a severity (the collector exports it only for those).
    const moved: Record<string, MovedRow[]> = {
      severe: [
        { rank: "2", range: "(0.5, 1]", baselineShare: "0.15", current: 0.05 },
        { rank: "1", range: "(-inf, -2]", baselineShare: "0.04", current: 0.38 },
      ],
      moderate: [{ rank: "1", range: "(3, +inf)", baselineShare: "0.05", current: 0.21 }],
    };
    const input = features.flatMap(([f, score, level, th]) => [
      {
        series: series(M.driftScore, raw(model, { [L.feature]: f, method: "ks" })),
        values: gauge(score, 90),
      },
      { series: series(M.driftSeverity, raw(model, { [L.feature]: f })), values: gauge(level, 90) },
      ...(["info", "warning", "critical"] as const).map((sev, i) => ({
        series: series(M.driftThreshold, raw(model, { [L.feature]: f, severity: sev })),
        values: gauge(th[i], 90),
      })),
      ...(moved[f] ?? []).map((m) => ({
        series: series(
          M.driftTopRange,
          raw(model, { [L.feature]: f, rank: m.rank, range: m.range, baseline_share: m.baselineShare }),
        ),
        values: gauge(m.current, 90),
      })),
    ]);
    const thresholdOf = (f: string, sev: Severity) =>
      features.find((x) => x[0] === f)![3][sev === "info" ? 0 : sev === "warning" ? 1 : 2];
    const a = (sev: Severity, f: string, v: number) =>
      this.expect(this.rule(ALERTS.dataDrift, sev), { [L.model]: model, [L.feature]: f }, v, undefined, {
        driftThreshold: thresholdOf(f, sev),
        driftMoved: moved[f] ?? [],
      });
    return this.file([
      {
        name: "drift alerts follow the collector's size-aware per-feature severity; the page names the threshold and what moved",
        interval: "1m",
        input_series: input,
        alert_rule_test: [
          { eval_time: "50m", alertname: ALERTS.dataDrift, exp_alerts: [] },
          {
            eval_time: "70m",
            alertname: ALERTS.dataDrift,
            exp_alerts: [
              a("warning", "severe", 0.3),
              a("warning", "moderate", 0.15),
              a("info", "severe", 0.3),
              a("info", "moderate", 0.15),
              a("info", "slight", 0.12),
            ],
          },
        ],
      },
    ]);
  }

  // --- VersionDriftDetected ------------------------------------------------------

  versionDrift(): PromtoolTestFile {
    const model = UNLISTED_MODEL;
    const labels = (f: string, v: string) =>
      raw(model, { [L.feature]: f, [L.version]: v, reference_version: "1.0.0" });
    const input = [
      // version 2.0.0 moved on one feature (warning), not on another; a canary with a critical shift
      ["text_length", "2.0.0", 0.2, 2],
      ["sentiment_score", "2.0.0", 0.04, 0],
      ["text_length", "2.1.0", 0.4, 3],
    ].flatMap(([f, v, score, level]) => [
      {
        series: series(M.versionDriftScore, labels(f as string, v as string)),
        values: gauge(score as number, 40),
      },
      {
        series: series(M.versionDriftSeverity, labels(f as string, v as string)),
        values: gauge(level as number, 40),
      },
    ]);
    const a = (f: string, v: string, value: number) =>
      this.expect(
        this.rule(ALERTS.versionDrift, "warning"),
        { [L.model]: model, [L.feature]: f, [L.version]: v },
        value,
      );
    return this.file([
      {
        name: "version drift warns per feature and version after its for:, not before",
        interval: "1m",
        input_series: input,
        alert_rule_test: [
          { eval_time: "10m", alertname: ALERTS.versionDrift, exp_alerts: [] },
          {
            eval_time: "20m",
            alertname: ALERTS.versionDrift,
            exp_alerts: [a("text_length", "2.0.0", 0.2), a("text_length", "2.1.0", 0.4)],
          },
        ],
      },
    ]);
  }

  // --- ConceptDriftDetected -------------------------------------------------------

  conceptDrift(): PromtoolTestFile {
    const models: Array<[string, number]> = [
      ["m_severe", 0.3],
      ["m_at_warning", 0.2],
      ["m_slight", 0.15],
      ["m_stable", 0.05],
    ];
    const a = (sev: Severity, m: string, v: number) =>
      this.expect(this.rule(ALERTS.conceptDrift, sev), { [L.model]: m }, v);
    return this.file([
      {
        name: "PSI of 0.2 or more warns, 0.1 or more informs, after an hour",
        interval: "1m",
        input_series: models.map(([m, psi]) => ({
          series: series(M.conceptPsi, { [L.model]: m, job: COLLECTOR_JOB, instance: INSTANCE }),
          values: gauge(psi, 90),
        })),
        alert_rule_test: [
          { eval_time: "50m", alertname: ALERTS.conceptDrift, exp_alerts: [] },
          {
            eval_time: "70m",
            alertname: ALERTS.conceptDrift,
            exp_alerts: [
              a("warning", "m_severe", 0.3),
              a("warning", "m_at_warning", 0.2),
              a("info", "m_severe", 0.3),
              a("info", "m_at_warning", 0.2),
              a("info", "m_slight", 0.15),
            ],
          },
        ],
      },
    ]);
  }

  // --- LowModelAccuracy -----------------------------------------------------------

  accuracy(): PromtoolTestFile {
    const tests: PromtoolTest[] = [];
    for (const sc of this.scopes) {
      for (const o of sc.slo.objectives) {
        if (o.kind !== "accuracy") continue;
        const model = this.modelOf(sc);
        const crit = THRESHOLDS.accuracy.critical.ratio;
        const hasWarning = o.target > crit;
        const labels = { [L.model]: model, [L.segment]: o.segment };
        const a = (sev: Severity, v: number) =>
          this.expect(this.rule(ALERTS.lowAccuracy, sev, sc.key), labels, v);
        const run = (name: string, acc: number, exp: PromtoolAlert[]): PromtoolTest => ({
          name: `${sc.key}: ${name}`,
          interval: "1m",
          input_series: [
            {
              series: series(M.accuracy, { ...labels, job: COLLECTOR_JOB, instance: INSTANCE }),
              values: gauge(acc, 90),
            },
            // Another segment doing badly is not the objective's business.
            {
              series: series(M.accuracy, {
                [L.model]: model,
                [L.segment]: "other_segment",
                job: COLLECTOR_JOB,
                instance: INSTANCE,
              }),
              values: gauge(0.1, 90),
            },
          ],
          alert_rule_test: [{ eval_time: "70m", alertname: ALERTS.lowAccuracy, exp_alerts: exp }],
        });
        const low = Math.round((crit - 0.1) * 100) / 100;
        tests.push(
          run(
            `accuracy ${low} pages`,
            low,
            hasWarning ? [a("critical", low), a("warning", low)] : [a("critical", low)],
          ),
        );
        tests.push(
          run(`accuracy exactly ${crit} does not page`, crit, hasWarning ? [a("warning", crit)] : []),
        );
        tests.push(run(`accuracy exactly at the target ${o.target} is silent`, o.target, []));
        tests.push(run("accuracy 0.99 is silent", 0.99, []));
        tests.push({
          name: `${sc.key}: a critical accuracy waits ${THRESHOLDS.accuracy.critical.for}`,
          interval: "1m",
          input_series: [
            {
              series: series(M.accuracy, { ...labels, job: COLLECTOR_JOB, instance: INSTANCE }),
              values: gauge(low, 40),
            },
          ],
          alert_rule_test: [{ eval_time: "20m", alertname: ALERTS.lowAccuracy, exp_alerts: [] }],
        });
      }
    }
    return this.file(tests);
  }

  // --- HighLowConfidencePredictions ---------------------------------------------------

  lowConfidence(): PromtoolTestFile {
    const shares: Array<[string, number]> = [
      ["m_unsure", 0.3],
      ["m_above", 0.21],
      ["m_at_threshold", 0.2],
      ["m_below", 0.19],
    ];
    const a = (m: string, v: number) =>
      this.expect(this.rule(ALERTS.lowConfidence, "warning"), { [L.model]: m, [L.threshold]: "0.7" }, v);
    return this.file([
      {
        name: "more than 20% of predictions under the confidence threshold for an hour warns",
        interval: "1m",
        input_series: shares.flatMap(([m, share]) => [
          { series: series(M.confidenceCount, raw(m)), values: counterValues([[RPM, 120]]) },
          {
            series: series(M.lowConfidence, { ...raw(m), [L.threshold]: "0.7" }),
            values: counterValues([[share * RPM, 120]]),
          },
        ]),
        alert_rule_test: [
          { eval_time: "50m", alertname: ALERTS.lowConfidence, exp_alerts: [] },
          {
            eval_time: "90m",
            alertname: ALERTS.lowConfidence,
            exp_alerts: [a("m_unsure", 0.3), a("m_above", 0.21)],
          },
        ],
        promql_expr_test: [
          approx(
            `${R.lowConfidenceRatio1h}{${L.model}="m_unsure"}`,
            { [L.model]: "m_unsure", [L.threshold]: "0.7" },
            0.3,
            "90m",
          ),
        ],
      },
    ]);
  }

  // --- ErrorBudgetBurn / LatencyBudgetBurn ------------------------------------------------

  /** Burn-rate alert value the rule reports: the long window of the first matching pair. */
  burnValue(
    o: Objective,
    sc: Scope,
    severity: Severity,
    bad: Segments,
    total: Segments,
    at: number,
  ): number | undefined {
    const budget = errorBudget(o);
    const ratio = (w: string) => {
      const from = Math.max(0, at - parseWindowMinutes(w));
      return (counterAt(bad, at) - counterAt(bad, from)) / (counterAt(total, at) - counterAt(total, from));
    };
    for (const row of BURN_POLICY.filter((r) => r.severity === severity)) {
      const f = burnFactor(row, sc.slo.periodSeconds);
      const long = ratio(row.long) / budget;
      const short = ratio(row.short) / budget;
      if (long > f && short > f) return long;
    }
    return undefined;
  }

  burn(kind: "errors" | "latency"): PromtoolTestFile {
    const tests: PromtoolTest[] = [];
    for (const sc of this.scopes) {
      for (const o of sc.slo.objectives) {
        const isLatency = o.kind === "latency";
        if (kind === "latency" ? !isLatency : o.kind !== "availability" && o.kind !== "error_rate") continue;
        const model = this.modelOf(sc);
        const budget = errorBudget(o);
        const alertname = isLatency ? ALERTS.latencyBudgetBurn : ALERTS.errorBudgetBurn;
        const labels = { [L.model]: model, slo: o.name };
        const total: Segments = [[RPM, 480]];
        const inputs = (bad: Segments, errorType = "ModelTimeoutError") => {
          if (o.kind === "latency") {
            const good: Segments = bad.map(([r, n]) => [RPM - r, n] as const);
            return [
              { series: series(M.durationCount, raw(model)), values: counterValues(total) },
              {
                series: series(M.durationBucket, raw(model, { le: String(o.thresholdSeconds) })),
                values: counterValues(good),
              },
            ];
          }
          return [
            { series: series(M.requests, raw(model)), values: counterValues(total) },
            {
              series: series(M.errors, raw(model, { [L.errorType]: errorType })),
              values: counterValues(bad),
            },
          ];
        };
        const expected = (bad: Segments, at: number) =>
          (["critical", "warning"] as const).flatMap((sev) => {
            const v = this.burnValue(o, sc, sev, bad, total, at);
            return v === undefined ? [] : [this.expect(this.rule(alertname, sev, sc.key, o.name), labels, v)];
          });
        const perMin = (burn: number) => Math.round(burn * budget * RPM);
        const run = (
          name: string,
          bad: Segments,
          evalAt: number[],
          opts: { errorType?: string; exp?: (at: number) => PromtoolAlert[] } = {},
        ): PromtoolTest => ({
          name: `${sc.key}/${o.name}: ${name}`,
          interval: "1m",
          input_series: inputs(bad, opts.errorType),
          alert_rule_test: evalAt.map((at) => ({
            eval_time: minutes(at),
            alertname,
            exp_alerts: opts.exp ? opts.exp(at) : expected(bad, at),
          })),
        });
        const page = burnFactor(BURN_POLICY[0], sc.slo.periodSeconds);
        tests.push(run("burning 20× pages and opens a ticket", [[perMin(20), 480]], [420]));
        // 6 h clean, then an hour at just above the fast threshold, then clean again: the page fires
        // while it lasts and stops within the short window once it ends; the ticket stays.
        const burst: Segments = [
          [0, 360],
          [perMin(page * 1.12), 60],
          [0, 60],
        ];
        const b = run(
          "an hour-long burst pages, and the page stops 5 min after the burst",
          burst,
          [420, 430],
        );
        tests.push(b);
        tests.push(run("burning 2× opens a ticket, never a page", [[perMin(2), 480]], [420]));
        tests.push(run("burning 0.8× is silent", [[perMin(0.8), 480]], [420]));
        // Burning from the start: the condition holds from 1m, so the page is pending at 2m and fires
        // at 3m, while the ticket (for: 15m) is still pending.
        const from0: Segments = [[perMin(20), 480]];
        tests.push(
          run("a page waits for its for:", from0, [2, 3], {
            exp: (at) =>
              at < 3
                ? []
                : [
                    this.expect(
                      this.rule(alertname, "critical", sc.key, o.name),
                      labels,
                      this.burnValue(o, sc, "critical", from0, total, at)!,
                    ),
                  ],
          }),
        );
        if ((o.kind === "availability" || o.kind === "error_rate") && o.excludeErrorTypes.length > 0)
          tests.push(
            run(`errors of excluded type ${o.excludeErrorTypes[0]} do not count`, from0, [420], {
              errorType: o.excludeErrorTypes[0],
              exp: () => [],
            }),
          );
        if (kind === "errors" && sc.key !== "defaults")
          tests.push({
            name: `${sc.key}/${o.name}: the recorded indicator and target`,
            interval: "1m",
            input_series: inputs([[perMin(20), 120]]),
            promql_expr_test: [
              {
                expr: `${R.sloTarget}{${L.model}="${model}", slo="${o.name}"}`,
                eval_time: "10m",
                exp_samples: [
                  {
                    labels: `${R.sloTarget}{kind="${o.kind}", ${L.model}="${model}", slo="${o.name}"}`,
                    value: goodTarget(o),
                  },
                ],
              },
              approx(
                `${R.sloErrors("1h")}{${L.model}="${model}", slo="${o.name}"}`,
                { [L.model]: model, slo: o.name },
                perMin(20) / RPM,
                "90m",
              ),
            ],
          });
      }
    }
    return this.file(tests);
  }

  // --- ModelNoData ---------------------------------------------------------------------

  noData(): PromtoolTestFile {
    const tests: PromtoolTest[] = [];
    const up = { series: series("up", { job: COLLECTOR_JOB, instance: INSTANCE }), values: gauge(1, 60) };
    for (const sc of this.scopes) {
      const model = this.modelOf(sc);
      const listed = sc.key !== "defaults";
      const sev: Severity = listed ? "critical" : "info";
      const rule = this.rule(ALERTS.noData, sev, sc.key);
      const a = (v: number) => this.expect(rule, { [L.model]: model }, v);
      const run = (
        name: string,
        values: string | undefined,
        at: number,
        exp: PromtoolAlert[],
      ): PromtoolTest => ({
        name: `${sc.key}: ${name}`,
        interval: "1m",
        input_series: [
          up,
          ...this.backgroundTraffic(60, listed ? model : undefined),
          ...(values === undefined ? [] : [{ series: series(M.requests, raw(model)), values }]),
        ],
        alert_rule_test: [{ eval_time: minutes(at), alertname: ALERTS.noData, exp_alerts: exp }],
      });
      tests.push(
        run(
          "traffic stopping at 30m alerts",
          counterValues([
            [RPM, 30],
            [0, 30],
          ]),
          55,
          [a(0)],
        ),
      );
      tests.push(
        run(
          "a pause shorter than the window is silent",
          counterValues([
            [RPM, 30],
            [0, 8],
            [RPM, 22],
          ]),
          45,
          [],
        ),
      );
      tests.push(run("steady traffic is silent", counterValues([[RPM, 60]]), 55, []));
      if (listed) tests.push(run("a listed model that never reported alerts", undefined, 20, [a(1)]));
    }
    return this.file(tests);
  }

  // --- CollectorDown -------------------------------------------------------------------

  collectorDown(): PromtoolTestFile {
    const rule = this.rule(ALERTS.collectorDown, "critical");
    const labels = { job: COLLECTOR_JOB, instance: INSTANCE };
    return this.file([
      {
        name: "a failing scrape of the collector pages after 2m; other jobs do not count",
        interval: "1m",
        input_series: [
          { series: series("up", labels), values: `${gauge(1, 19)} 0+0x20` },
          { series: series("up", { job: "node", instance: "node-exporter:9100" }), values: gauge(0, 40) },
        ],
        alert_rule_test: [
          { eval_time: "19m", alertname: ALERTS.collectorDown, exp_alerts: [] },
          { eval_time: "21m", alertname: ALERTS.collectorDown, exp_alerts: [] },
          { eval_time: "25m", alertname: ALERTS.collectorDown, exp_alerts: [this.expect(rule, labels, 0)] },
        ],
      },
    ]);
  }

  file(tests: PromtoolTest[]): PromtoolTestFile {
    return {
      rule_files: RULE_FILES.map((f) => `../${f}`),
      evaluation_interval: "1m",
      // Deterministic order (promtool otherwise picks one at random): objectives before what reads them.
      group_eval_order: [GROUPS.slo, GROUPS.period, GROUPS.main],
      tests,
    };
  }
}

function parseWindowMinutes(w: string): number {
  const n = Number.parseInt(w, 10);
  const unit = w.slice(String(n).length);
  return n * (unit === "d" ? 1440 : unit === "h" ? 60 : 1);
}

/** File names of the generated rule files, relative to deploy/rules. */
export const RULE_FILES = ["mlwatch.rules.yml", "mlwatch-slo.rules.yml"] as const;

/** promtool test files by name (relative to deploy/rules/tests), one per alert. */
export function buildRuleTests(rules: RuleSet, spec: SloSpec): Record<string, PromtoolTestFile> {
  const b = new TestBuilder(rules, spec);
  return {
    [`${ALERTS.highErrorRate}.test.yml`]: b.errorRate(),
    [`${ALERTS.highLatency}.test.yml`]: b.latency(),
    [`${ALERTS.dataDrift}.test.yml`]: b.dataDrift(),
    [`${ALERTS.versionDrift}.test.yml`]: b.versionDrift(),
    [`${ALERTS.conceptDrift}.test.yml`]: b.conceptDrift(),
    [`${ALERTS.lowAccuracy}.test.yml`]: b.accuracy(),
    [`${ALERTS.lowConfidence}.test.yml`]: b.lowConfidence(),
    [`${ALERTS.errorBudgetBurn}.test.yml`]: b.burn("errors"),
    [`${ALERTS.latencyBudgetBurn}.test.yml`]: b.burn("latency"),
    [`${ALERTS.noData}.test.yml`]: b.noData(),
    [`${ALERTS.collectorDown}.test.yml`]: b.collectorDown(),
  };
}
