// The status page and the shipped alert rules agree on every threshold. Both
// come from one table (AlertThresholds in @mlwatch/semconv); the cases below
// are generated from its rows: for each, a value just inside the threshold
// and one just past it give the page the health and reason the rule's
// severity implies, and the generated rule (from deploy/slo.yaml, as shipped)
// compares with that same threshold, the same way, for the `for` the page
// names.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type AlertSeverity,
  AlertThresholds,
  burnFactor,
  type Comparison,
  DefaultAccuracySegment,
  type Severity,
  SeverityLevel,
} from "@mlwatch/semconv";
import { describe, expect, it } from "vitest";
import { type ObjectiveStatus, SLO_WINDOWS } from "../collector/src/analysis/slo.js";
import { type HealthStatus, judgeHealth, spoken } from "../collector/src/api/health.js";
import { renderStatusPage } from "../collector/src/api/status-page.js";
import type { ModelSignals } from "../collector/src/api/summary.js";
import { num } from "../packages/deploy/src/promql.js";
import { type AlertRule, alertRules, buildRules } from "../packages/deploy/src/rules.js";
import { errorBudget, parseSloSpecYaml } from "../packages/deploy/src/slo-spec.js";

const T = AlertThresholds;
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const spec = parseSloSpecYaml(readFileSync(`${ROOT}deploy/slo.yaml`, "utf8"), "deploy/slo.yaml");
const rules = alertRules(buildRules({ spec }));
/** The listed model of the shipped spec; its objectives are what the page gets from the collector config. */
const LISTED = "sentiment";
const listed = spec.models[LISTED];
const NOW = 10 * 86_400_000;

/** The page's objectives for the listed model, with no events burning. */
function objectives(): ObjectiveStatus[] {
  return listed.objectives.flatMap((o): ObjectiveStatus[] => {
    if (o.kind === "throughput" || o.kind === "cost") return [];
    return [
      {
        name: o.name,
        kind: o.kind,
        target: o.target,
        sli: 1,
        met: true,
        errorBudgetRemaining: 1,
        periodSeconds: listed.periodSeconds,
        ...(o.kind === "latency" ? { thresholdSeconds: o.thresholdSeconds } : {}),
        ...(o.kind === "accuracy" ? { segment: o.segment } : {}),
        windows: ["5m", "30m", "1h", "2h", "6h", "1d", "3d"].map((window) => ({
          window,
          sli: 1,
          burnRate: 0,
          events: 1000,
        })),
      },
    ];
  });
}

/** A model whose every signal is well inside every threshold. */
function healthy(hasSlo = true): ModelSignals {
  return {
    model: hasSlo ? LISTED : "other",
    atMs: NOW,
    lastDataAtMs: NOW - 1000,
    lastRequestAtMs: NOW - 1000,
    collectorStartedAtMs: NOW - 86_400_000,
    hasSlo,
    versions: ["1"],
    windowSeconds: 300,
    requestsTotal: 1000,
    errorsTotal: 0,
    requests: 1000,
    errors: 0,
    errorRate: 0,
    requestsPerSecond: 3.3,
    errorsByType: {},
    latencySeconds: { p50: 0.01, p95: 0.02, p99: 0.03 },
    inProgress: 0,
    predictionsByClass: { positive: 500, negative: 500 },
    drift: [
      {
        feature: "x",
        kind: "numeric",
        method: "ks",
        samples: 1000,
        score: 0.01,
        pValue: 0.9,
        severity: "none",
        thresholds: { info: 0.1, warning: 0.15, critical: 0.25 },
        reason: null,
        moved: [],
      },
    ],
    versionDrift: [
      { feature: "x", version: "2", referenceVersion: "1", score: 0.01, severity: "none", samples: 1000 },
    ],
    worstDrift: "none",
    conceptDrift: { confidencePsi: 0.01, classPsi: 0.01, severity: "none" },
    accuracy: [{ segment: DefaultAccuracySegment, accuracy: 0.99, total: 200 }],
    accuracyLastLabels: [],
    lowConfidenceShare: 0.01,
    estimatedAccuracy: 0.9,
    slo: hasSlo ? objectives() : [],
  };
}

/** A value on either side of a threshold: `inside` does not breach it, `past` does. */
function sides(op: Comparison, threshold: number, step = Math.max(1e-9, Math.abs(threshold) * 1e-9)) {
  if (op === ">") return { inside: threshold, past: threshold + step };
  if (op === ">=") return { inside: threshold - step, past: threshold };
  return { inside: threshold, past: threshold - step };
}

const RANK: Record<AlertSeverity, number> = { info: 1, warning: 2, critical: 3 };
const implied: Record<AlertSeverity, HealthStatus> = {
  critical: "critical",
  warning: "warning",
  info: "healthy",
};

interface Row {
  name: string;
  /** The page's signal the row colours. */
  signal: string;
  severity: AlertSeverity;
  for: string;
  op: Comparison;
  threshold: number;
  /** The model with the signal at `value`. */
  at: (value: number) => ModelSignals;
  /** The generated rule this row mirrors. */
  rule: AlertRule | undefined;
  /** What the rule's expression must contain: the comparison with this threshold. */
  expr: string;
  /** Integer-valued signals step by 1. */
  step?: number;
}

const ruleFor = (alert: string, severity: AlertSeverity, scope?: string, slo?: string) =>
  rules.find(
    (r) =>
      r.alert === alert &&
      r.labels.severity === severity &&
      (scope === undefined || r.scope === scope) &&
      (slo === undefined || r.labels.slo === slo),
  );

const with_ = (over: Partial<ModelSignals>, hasSlo = true): ModelSignals => ({ ...healthy(hasSlo), ...over });

/** Every row of the table, as cases. Keys of the table the page cannot judge are listed in NOT_ON_PAGE. */
const ROWS: Record<Exclude<keyof typeof T, "collectorDown">, () => Row[]> = {
  errorRate: () =>
    T.errorRate.tiers.map((t) => ({
      name: `error rate ${t.severity}`,
      signal: "errorRate",
      severity: t.severity,
      for: t.for,
      op: T.errorRate.op,
      threshold: t.ratio,
      at: (v) => with_({ errorRate: v }),
      rule: ruleFor(T.errorRate.alert, t.severity),
      expr: `${T.errorRate.op} ${num(t.ratio)}`,
    })),
  latencyP95: () =>
    // The listed model against its own latency objective, another model against the spec's defaults.
    (
      [
        [listed, true],
        [spec.defaults, false],
      ] as const
    ).flatMap(([slo, hasSlo]) => {
      const objective = Math.min(
        ...slo.objectives.flatMap((o) => (o.kind === "latency" ? [o.thresholdSeconds] : [])),
      );
      return T.latencyP95.tiers.map((t) => ({
        name: `p95 latency ${t.severity} (${hasSlo ? LISTED : "defaults"})`,
        signal: "latencyP95",
        severity: t.severity,
        for: t.for,
        op: T.latencyP95.op,
        threshold: t.times * objective,
        at: (v: number) => with_({ latencySeconds: { p50: v / 2, p95: v, p99: v * 2 } }, hasSlo),
        rule: ruleFor(T.latencyP95.alert, t.severity),
        expr: `${T.latencyP95.op} on (model_name) group_left () (${num(t.times)} * min by (model_name) (model_name:ml_slo_latency_threshold:seconds))`,
      }));
    }),
  dataDrift: () =>
    T.dataDrift.tiers.map((t) => ({
      name: `data drift ${t.severity}`,
      signal: "drift:x",
      severity: t.severity,
      for: t.for,
      op: T.dataDrift.op,
      threshold: t.level,
      step: 1,
      at: (level) => {
        const severity = (Object.keys(SeverityLevel) as Severity[]).find((k) => SeverityLevel[k] === level);
        const base = healthy();
        return { ...base, drift: [{ ...base.drift[0], score: 0.2, severity: severity ?? "none" }] };
      },
      rule: ruleFor(T.dataDrift.alert, t.severity),
      expr: `max by (model_name, feature_name) (ml_data_drift_severity) ${T.dataDrift.op} ${t.level}`,
    })),
  versionDrift: () =>
    T.versionDrift.tiers.map((t) => ({
      name: `version drift ${t.severity}`,
      signal: "version:x@2",
      severity: t.severity,
      for: t.for,
      op: T.versionDrift.op,
      threshold: t.level,
      step: 1,
      at: (level) => {
        const severity = (Object.keys(SeverityLevel) as Severity[]).find((k) => SeverityLevel[k] === level);
        const base = healthy();
        return {
          ...base,
          versionDrift: [{ ...base.versionDrift[0], score: 0.2, severity: severity ?? "none" }],
        };
      },
      rule: ruleFor(T.versionDrift.alert, t.severity),
      expr: `max by (model_name, feature_name, model_version) (ml_version_drift_severity) ${T.versionDrift.op} ${t.level}`,
    })),
  conceptDriftPsi: () =>
    T.conceptDriftPsi.tiers.map((t) => ({
      name: `concept drift ${t.severity}`,
      signal: "confidencePsi",
      severity: t.severity,
      for: t.for,
      op: T.conceptDriftPsi.op,
      threshold: t.psi,
      at: (v) => with_({ conceptDrift: { confidencePsi: v, classPsi: 0.01, severity: null } }),
      rule: ruleFor(T.conceptDriftPsi.alert, t.severity),
      expr: `max by (model_name) (ml_concept_drift_psi) ${T.conceptDriftPsi.op} ${num(t.psi)}`,
    })),
  accuracy: () => {
    const rows: Row[] = [];
    const a = T.accuracy;
    // The listed model judged by its own objective, another model by the spec's defaults.
    for (const [scope, slo, hasSlo] of [
      [LISTED, listed, true],
      ["defaults", spec.defaults, false],
    ] as const) {
      for (const o of slo.objectives) {
        if (o.kind !== "accuracy") continue;
        const at = (v: number) =>
          with_({ accuracy: [{ segment: o.segment, accuracy: v, total: 150 }] }, hasSlo);
        rows.push({
          name: `accuracy critical (${scope})`,
          signal: `accuracy:${o.segment}`,
          severity: "critical",
          for: a.critical.for,
          op: a.op,
          threshold: a.critical.ratio,
          at,
          rule: ruleFor(a.alert, "critical", scope),
          expr: `${a.op} ${num(a.critical.ratio)}`,
        });
        rows.push({
          name: `accuracy warning (${scope})`,
          signal: `accuracy:${o.segment}`,
          severity: "warning",
          for: a.warningFor,
          op: a.op,
          threshold: o.target,
          at,
          rule: ruleFor(a.alert, "warning", scope),
          expr: `${a.op} ${num(o.target)}`,
        });
      }
    }
    return rows;
  },
  lowConfidenceShare: () =>
    T.lowConfidenceShare.tiers.map((t) => ({
      name: `low confidence ${t.severity}`,
      signal: "lowConfidence",
      severity: t.severity,
      for: t.for,
      op: T.lowConfidenceShare.op,
      threshold: t.ratio,
      at: (v) => with_({ lowConfidenceShare: v }),
      rule: ruleFor(T.lowConfidenceShare.alert, t.severity),
      expr: `${T.lowConfidenceShare.op} ${num(t.ratio)}`,
    })),
  burn: () =>
    listed.objectives.flatMap((o) => {
      if (o.kind !== "availability" && o.kind !== "error_rate" && o.kind !== "latency") return [];
      const alert = o.kind === "latency" ? T.burn.alerts.latency : T.burn.alerts.errors;
      return T.burn.policy.map((row) => {
        const f = burnFactor(row, listed.periodSeconds);
        return {
          name: `${alert} ${row.severity} over ${row.long} and ${row.short} (${o.name})`,
          signal: `slo:${o.name}`,
          severity: row.severity,
          for: T.burn.for[row.severity],
          op: T.burn.op,
          threshold: f,
          // Both windows of the row burn at v; the others not at all.
          at: (v: number) => {
            const base = healthy();
            return {
              ...base,
              slo: base.slo.map((s) =>
                s.name !== o.name
                  ? s
                  : {
                      ...s,
                      windows: s.windows.map((w) => ({
                        ...w,
                        burnRate: w.window === row.long || w.window === row.short ? v : 0,
                      })),
                    },
              ),
            };
          },
          rule: ruleFor(alert, row.severity, LISTED, o.name),
          expr: `ratio_rate${row.long}{slo="${o.name}", model_name="${LISTED}"} / ${num(errorBudget(o))} ${T.burn.op} ${num(f)} and model_name:ml_slo_${o.kind === "latency" ? "slow_requests" : "errors"}:ratio_rate${row.short}{slo="${o.name}", model_name="${LISTED}"} / ${num(errorBudget(o))} ${T.burn.op} ${num(f)}`,
        };
      });
    }),
  noData: () => {
    const n = T.noData;
    const windowMs = Number.parseInt(n.window, 10) * 60_000;
    return [
      [true, "critical", n.criticalFor, LISTED],
      [false, "info", n.infoFor, "defaults"],
    ].map(([hasSlo, severity, forText, scope]) => ({
      name: `no data ${severity}`,
      signal: "noData",
      severity: severity as AlertSeverity,
      for: forText as string,
      op: ">=" as const,
      threshold: windowMs,
      step: 1,
      // The value is how long the model has been silent, in milliseconds.
      at: (silentMs: number) => with_({ lastRequestAtMs: NOW - silentMs }, hasSlo as boolean),
      rule: ruleFor(n.alert, severity as AlertSeverity, scope as string),
      expr: `[${n.window}]`,
    }));
  },
};

/** Table keys the page cannot judge: the collector serving the page is up. */
const NOT_ON_PAGE = ["collectorDown"];

const cases = Object.values(ROWS).flatMap((f) => f());

describe("the status page and the shipped rules agree on every threshold", () => {
  it("every key of the table is judged by the page or named as not on it, and every shipped alert is in the table", () => {
    const tableKeys = Object.keys(T).sort();
    expect([...Object.keys(ROWS), ...NOT_ON_PAGE].sort()).toEqual(tableKeys);
    const tableAlerts = new Set(
      Object.values(T).flatMap((e) => ("alert" in e ? [e.alert] : Object.values(e.alerts))),
    );
    expect(new Set(rules.map((r) => r.alert))).toEqual(tableAlerts);
    // Every generated rule has a case, but CollectorDown (the page is served, so the collector is up)
    // and the burn rates of models without SLOs (the collector counts SLO events only for its own).
    const mirrored = new Set(cases.map((c) => c.rule));
    expect(
      rules.filter((r) => !mirrored.has(r)).map((r) => `${r.alert} ${r.labels.severity} ${r.scope ?? ""}`),
    ).toEqual([
      "CollectorDown critical ",
      "ErrorBudgetBurn critical defaults",
      "ErrorBudgetBurn warning defaults",
      "LatencyBudgetBurn critical defaults",
      "LatencyBudgetBurn warning defaults",
    ]);
  });

  it("the collector computes burn rates over every window of the burn-rate policy", () => {
    const windows = SLO_WINDOWS.map(([w]) => w);
    for (const row of T.burn.policy) expect(windows).toEqual(expect.arrayContaining([row.long, row.short]));
  });

  it("a healthy model has no finding", () => {
    expect(judgeHealth(healthy())).toEqual({ status: "healthy", findings: [] });
    expect(judgeHealth(healthy(false))).toEqual({ status: "healthy", findings: [] });
  });

  describe.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    it("has a generated rule comparing with the same threshold, for the same time", () => {
      expect(c.rule, "no generated rule for this row").toBeDefined();
      expect(c.rule?.expr).toContain(c.expr);
      expect(c.rule?.for).toBe(c.for);
    });

    it("just past the threshold: the page shows the rule's severity, names the rule and its duration", () => {
      const { past } = sides(c.op, c.threshold, c.step);
      const h = judgeHealth(c.at(past));
      const f = h.findings.find((x) => x.signal === c.signal);
      expect(f?.severity).toBe(c.severity);
      expect(f?.alert).toBe(c.rule?.alert);
      expect(f?.rule).toContain(`${c.rule?.alert} (${c.severity})`);
      expect(f?.rule).toContain(`for ${spoken(c.for)}`);
      // The worst finding sets the health; nothing else in the model is off.
      expect(h.status).toBe(implied[c.severity]);
      expect(h.findings.every((x) => x.signal === c.signal)).toBe(true);
      const html = renderStatusPage([{ ...c.at(past), health: h }], 300);
      expect(html).toContain(`data-health="${implied[c.severity]}"`);
      expect(html).toContain(`data-alert="${c.rule?.alert}"`);
    });

    it("just inside the threshold: the page shows a lesser severity or nothing", () => {
      const { inside } = sides(c.op, c.threshold, c.step);
      const f = judgeHealth(c.at(inside)).findings.find((x) => x.signal === c.signal);
      if (f) expect(RANK[f.severity]).toBeLessThan(RANK[c.severity]);
    });
  });
});

describe("the page's findings, as the issue saw them", () => {
  it("45% low confidence is a warning naming HighLowConfidencePredictions and its hour", () => {
    const h = judgeHealth(with_({ lowConfidenceShare: 0.45 }));
    expect(h.status).toBe("warning");
    expect(h.findings).toEqual([
      {
        signal: "lowConfidence",
        severity: "warning",
        alert: "HighLowConfidencePredictions",
        seen: "45% of predictions had low confidence, above the 20% alert threshold",
        rule: "HighLowConfidencePredictions (warning) fires if the 1 h share stays above it for 1 h",
      },
    ]);
  });

  it("errors at 1.01% are an info finding, coloured, and leave the model healthy", () => {
    const s = with_({ errorRate: 0.0101 });
    const h = judgeHealth(s);
    expect(h.status).toBe("healthy");
    expect(h.findings.map((f) => [f.severity, f.seen])).toEqual([
      ["info", "error rate 1.01% is above the info threshold 1%"],
    ]);
    expect(renderStatusPage([{ ...s, health: h }], 300)).toContain(
      '<div class="sev-info" data-signal="errorRate"><b>1.01%</b>',
    );
  });

  it("an error rate that rounds to the threshold shows enough digits to tell them apart", () => {
    expect(judgeHealth(with_({ errorRate: 0.05001 })).findings[0].seen).toBe(
      "error rate 5.001% is above the critical threshold 5%",
    );
  });

  it("PSI values are coloured; the class PSI, which no rule reads, is at most a note", () => {
    const s = with_({ conceptDrift: { confidencePsi: 0.25, classPsi: 0.9, severity: "critical" } });
    const h = judgeHealth(s);
    expect(h.status).toBe("warning");
    expect(h.findings.map((f) => [f.signal, f.severity, f.alert])).toEqual([
      ["confidencePsi", "warning", "ConceptDriftDetected"],
      ["classPsi", "info", null],
    ]);
    const html = renderStatusPage([{ ...s, health: h }], 300);
    expect(html).toMatch(/<div class="sev-warning" data-signal="confidencePsi"[^>]*><b>0\.250<\/b>/);
    expect(html).toMatch(/<div class="sev-info" data-signal="classPsi"[^>]*><b>0\.900<\/b>/);
  });

  it("critical data drift is a warning, as DataDriftDetected has no critical tier", () => {
    const base = healthy();
    const h = judgeHealth({ ...base, drift: [{ ...base.drift[0], score: 0.4, severity: "critical" }] });
    expect(h.status).toBe("warning");
    expect(h.findings[0].seen).toBe(
      "feature x: critical drift (ks 0.400, critical at 0.250 for 1000 values)",
    );
    expect(h.findings[0].rule).toBe("DataDriftDetected (warning) fires if it stays warning or worse for 1 h");
  });

  it("a burn rate over the factor in only one of the two windows is not a burn alert", () => {
    const base = healthy();
    const s: ModelSignals = {
      ...base,
      slo: base.slo.map((o) => ({
        ...o,
        windows: o.windows.map((w) => ({ ...w, burnRate: w.window === "1h" ? 100 : 0 })),
      })),
    };
    expect(judgeHealth(s).findings).toEqual([]);
  });

  it("a model with SLOs but no latency objective has no latency finding, as it has no latency rule", () => {
    const base = healthy();
    const s: ModelSignals = {
      ...base,
      slo: base.slo.filter((o) => o.kind !== "latency"),
      latencySeconds: { p50: 5, p95: 9, p99: 10 },
    };
    expect(judgeHealth(s).findings).toEqual([]);
  });

  it("the accuracy finding names the labels behind it", () => {
    const h = judgeHealth(
      with_({ accuracy: [{ segment: DefaultAccuracySegment, accuracy: 0.6, total: 37 }] }),
    );
    expect(h.findings[0].seen).toBe(
      "accuracy 60% on ground_truth_sample (37 labels) is below the critical threshold 70%",
    );
  });

  it("a model never heard from since the collector started is judged from the start", () => {
    const h = judgeHealth(with_({ lastRequestAtMs: null, collectorStartedAtMs: NOW - 12 * 60_000 }));
    expect(h.findings.map((f) => [f.severity, f.seen])).toEqual([
      ["critical", "no requests since the collector started 12 min ago, past the 10 min no-data window"],
    ]);
  });
});
