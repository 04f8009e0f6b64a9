// The status page at "/": one card per model that answers "is it healthy?"
// at a glance, then the numbers behind the colour. Health, colours and
// reasons come from health.ts, which judges with the shipped alert rules'
// thresholds (docs/status-page.md).

import {
  accuracyObjectives,
  age,
  colourOf,
  type Finding,
  type HealthStatus,
  latencyObjective,
  type ModelHealth,
  movedText,
  percent,
} from "./health.js";
import type { ModelSummary } from "./summary.js";

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const LABEL: Record<HealthStatus, string> = { healthy: "Healthy", warning: "Warning", critical: "Critical" };

/** Judged shares with up to two decimals, so that 69.6% does not read as the 70% threshold. */
const fmtPct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : percent(v));
const fmtShare = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)}%`;
const fmtMs = (v: number | undefined) => (v === undefined ? "–" : `${(v * 1000).toFixed(1)} ms`);
const fmtPsi = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(3));

/**
 * The class a value is coloured with: its finding's severity, "sev-ok" when judged and within
 * the thresholds, "unjudged" when there is no value or no rule to judge it by.
 */
function colour(h: ModelHealth, signal: string, judged: boolean): string {
  return judged ? `sev-${colourOf(h, signal)}` : "unjudged";
}

function stat(value: string, label: string, cls = "unjudged", signal?: string, title?: string): string {
  const attrs = `${signal ? ` data-signal="${esc(signal)}"` : ""}${title ? ` title="${esc(title)}"` : ""}`;
  return `<div class="${cls}"${attrs}><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function finding(f: Finding): string {
  return (
    `<li class="sev-${f.severity}" data-signal="${esc(f.signal)}" data-severity="${f.severity}"` +
    `${f.alert ? ` data-alert="${f.alert}"` : ""}><b>${esc(f.seen)}</b> — ${esc(f.rule)}</li>`
  );
}

function when(atMs: number | null, nowMs: number, attr: string): string {
  if (atMs === null) return `<span ${attr}="">none since the collector started</span>`;
  return `<time ${attr}="${atMs}" datetime="${new Date(atMs).toISOString()}">${age(nowMs - atMs)} ago</time>`;
}

/** Accuracy on the segment the accuracy rule judges, with the labels behind it; else what there is. */
function accuracyStat(s: ModelSummary): string {
  for (const o of accuracyObjectives(s)) {
    const row = s.accuracy.find((a) => a.segment === o.segment && a.accuracy !== null);
    if (row)
      return stat(
        fmtPct(row.accuracy),
        `accuracy on ${row.segment} (${row.total} labels)`,
        colour(s.health, `accuracy:${row.segment}`, true),
        `accuracy:${row.segment}`,
      );
  }
  const other = s.accuracy.find((a) => a.accuracy !== null);
  if (other)
    return stat(
      fmtPct(other.accuracy),
      `accuracy on ${other.segment} (${other.total} labels)`,
      "unjudged",
      undefined,
      "no accuracy objective on this segment: not judged",
    );
  return stat(fmtShare(s.estimatedAccuracy), "accuracy (estimated, no labels)");
}

function card(s: ModelSummary): string {
  const h = s.health;
  const m = esc(s.model);
  const path = `/api/v1/models/${esc(encodeURIComponent(s.model))}`;
  const findings = h.findings.length
    ? `<ul class="findings">${h.findings.map(finding).join("")}</ul>`
    : `<p class="findings none">All signals within the alert thresholds</p>`;
  const latencyJudged = s.latencySeconds !== null && latencyObjective(s) !== undefined;
  const drift = s.drift
    .map(
      (d) =>
        `<tr class="${colour(h, `drift:${d.feature}`, d.severity !== null)}" data-feature="${esc(d.feature)}"><td>${esc(d.feature)}</td><td>${esc(d.method)}</td>` +
        `<td>${d.score === null ? "–" : d.score.toFixed(3)}</td>` +
        `<td class="threshold" title="score for info / warning / critical at this window's size">${d.thresholds ? `${d.thresholds.info.toFixed(3)} / ${d.thresholds.warning.toFixed(3)} / ${d.thresholds.critical.toFixed(3)}` : "–"}</td>` +
        `<td>${d.severity ?? (d.reason === "warming_up" ? "warming up" : "not scored")}</td><td>${d.samples}</td>` +
        `<td class="moved">${esc(movedText(d.moved).replace(/^; /, ""))}</td></tr>`,
    )
    .join("");
  const versions = s.versionDrift
    .map(
      (v) =>
        `<tr data-feature="${esc(v.feature)}" data-version="${esc(v.version)}" class="${v.severity && v.severity !== "none" ? `sev-${v.severity}` : ""}"><td>${esc(v.feature)}</td><td>${esc(v.version)} vs ${esc(v.referenceVersion)}</td>` +
        `<td>${v.score === null ? "–" : v.score.toFixed(3)}</td><td>${v.severity ?? "not scored"}</td><td>${v.samples}</td></tr>`,
    )
    .join("");
  const segments = [
    ...s.accuracy.map(
      (a) =>
        `<tr data-segment="${esc(a.segment)}"><td>${esc(a.segment)}</td><td>window</td><td>${fmtPct(a.accuracy)}</td><td>${a.total}</td></tr>`,
    ),
    ...s.accuracyLastLabels.map(
      (a) =>
        `<tr data-segment="${esc(a.segment)}"><td>${esc(a.segment)}</td><td>last labels</td><td>${fmtPct(a.accuracy)}</td><td>${a.labels}</td></tr>`,
    ),
  ].join("");
  return `<section class="model health-${h.status}" data-model="${m}" data-health="${h.status}">
<h2>${m} <span class="badge">${LABEL[h.status]}</span></h2>
${findings}
<p class="meta">last data ${when(s.lastDataAtMs, s.atMs, "data-last-data")} · last request ${when(s.lastRequestAtMs, s.atMs, "data-last-request")}
 · <a class="drift-report" href="${path}/drift">drift report (JSON)</a>
 · ${s.hasSlo ? `<a class="slo-report" href="${path}/slo">SLO status (JSON)</a>` : "no SLO in the collector config"}</p>
<div class="stats">
${stat(s.requestsPerSecond.toFixed(1), "req/s")}
${stat(fmtPct(s.errorRate), "errors", colour(h, "errorRate", s.errorRate !== null), "errorRate")}
${stat(fmtMs(s.latencySeconds?.p95), "p95 latency", colour(h, "latencyP95", latencyJudged), "latencyP95", latencyJudged ? undefined : "no latency objective: not judged")}
${accuracyStat(s)}
</div>
<div class="stats small">
${stat(String(s.inProgress), "in flight")}
${stat(fmtPct(s.lowConfidenceShare), "low confidence", colour(h, "lowConfidence", s.lowConfidenceShare !== null), "lowConfidence")}
${stat(fmtPsi(s.conceptDrift?.confidencePsi), "confidence PSI", colour(h, "confidencePsi", (s.conceptDrift?.confidencePsi ?? null) !== null), "confidencePsi")}
${stat(fmtPsi(s.conceptDrift?.classPsi), "class PSI", colour(h, "classPsi", (s.conceptDrift?.classPsi ?? null) !== null), "classPsi", "no shipped rule alerts on the class PSI: at most a note")}
${s.slo
  .filter((o) => o.kind !== "throughput" && o.kind !== "cost")
  .map((o) =>
    stat(
      o.errorBudgetRemaining === null ? "–" : fmtShare(o.errorBudgetRemaining),
      `${o.name} budget left`,
      colour(h, `slo:${o.name}`, o.errorBudgetRemaining !== null),
      `slo:${o.name}`,
    ),
  )
  .join("\n")}
</div>
<table class="drift"><thead><tr><th>feature</th><th>method</th><th>score</th><th>thresholds</th><th>drift</th><th>samples</th><th>what moved</th></tr></thead><tbody>${drift}</tbody></table>
${versions ? `<table class="version-drift"><thead><tr><th>feature</th><th>version</th><th>KS D</th><th>drift</th><th>samples</th></tr></thead><tbody>${versions}</tbody></table>` : ""}
${segments ? `<table class="accuracy"><thead><tr><th>segment</th><th>over</th><th>accuracy</th><th>labels</th></tr></thead><tbody>${segments}</tbody></table>` : ""}
</section>`;
}

export function renderStatusPage(summaries: ModelSummary[], windowSeconds: number): string {
  const body = summaries.length
    ? summaries.map(card).join("\n")
    : `<p class="empty">No model has reported yet. Point an OTLP exporter at this collector's /v1/metrics.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>mlwatch status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;background:#f6f7f9;color:#1d2230}
h1{font-size:1.4rem} .model{background:#fff;border-radius:8px;padding:1rem 1.5rem;margin:1rem 0;border-left:10px solid #2e9d4f}
.model.health-warning{border-left-color:#e0a100}.model.health-critical{border-left-color:#d33b2c}
.badge{font-size:.8rem;padding:.15rem .5rem;border-radius:4px;background:#2e9d4f;color:#fff;vertical-align:middle}
.health-warning .badge{background:#e0a100}.health-critical .badge{background:#d33b2c}
.findings{color:#445;padding-left:1.2rem}.findings li{margin:.2rem 0;border-left:4px solid;padding-left:.5rem;list-style:none}
.meta{color:#667;font-size:.9rem}
.stats{display:flex;gap:2rem;margin:.5rem 0 1rem}.stats div{display:flex;flex-direction:column;border-top:4px solid transparent;padding-top:.2rem}
.stats b{font-size:1.6rem}.stats span{color:#667}.stats.small b{font-size:1.1rem}
.stats .sev-ok{border-top-color:#2e9d4f}.stats .sev-info{border-top-color:#2f6fdb}.stats .sev-warning{border-top-color:#e0a100}.stats .sev-critical{border-top-color:#d33b2c}
li.sev-info{border-color:#2f6fdb}li.sev-warning{border-color:#e0a100}li.sev-critical{border-color:#d33b2c}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .8rem;text-align:left}
tr.sev-info td{background:#e3edfc}tr.sev-warning td{background:#fff4d6}tr.sev-critical td{background:#fde2df}
</style></head>
<body><h1>mlwatch — models</h1><p>Window: last ${windowSeconds} s. Refreshes every 5 s.
Health follows the shipped alert rules' thresholds; a rule also needs its condition to last (its <code>for</code>), which this page cannot see.
<a href="/metrics">/metrics</a> · <a href="/api/v1/models">API</a></p>
${body}
</body></html>`;
}
