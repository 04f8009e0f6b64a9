// The status page at "/": one card per model that answers "is it healthy?"
// at a glance (green / amber / red), then the numbers behind the colour.

import type { Severity } from "@mlwatch/semconv";
import type { ModelSummary } from "./summary.js";

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Health = "ok" | "warn" | "bad";

const SEVERITY_HEALTH: Record<Severity, Health> = {
  none: "ok",
  info: "ok",
  warning: "warn",
  critical: "bad",
};

export function healthOf(s: ModelSummary): { health: Health; reasons: string[] } {
  const reasons: string[] = [];
  let health: Health = "ok";
  const worse = (h: Health, why: string) => {
    reasons.push(why);
    if (h === "bad" || (h === "warn" && health === "ok")) health = h;
  };
  if (s.errorRate !== null && s.errorRate > 0.05)
    worse("bad", `error rate ${(s.errorRate * 100).toFixed(1)}% > 5%`);
  else if (s.errorRate !== null && s.errorRate > 0.02)
    worse("warn", `error rate ${(s.errorRate * 100).toFixed(1)}% > 2%`);
  const dh = SEVERITY_HEALTH[s.worstDrift];
  if (dh !== "ok") {
    const f = s.drift.filter((d) => d.severity === s.worstDrift).map((d) => d.feature);
    worse(dh, `${s.worstDrift} data drift on ${f.join(", ")}`);
  }
  for (const a of s.accuracy) {
    if (a.accuracy !== null && a.accuracy < 0.6)
      worse("bad", `accuracy ${(a.accuracy * 100).toFixed(0)}% on ${a.segment}`);
    else if (a.accuracy !== null && a.accuracy < 0.7)
      worse("warn", `accuracy ${(a.accuracy * 100).toFixed(0)}% on ${a.segment}`);
  }
  const concept = s.conceptDrift?.severity;
  if (concept === "critical" || concept === "warning")
    worse(SEVERITY_HEALTH[concept], `${concept} concept drift`);
  for (const o of s.slo) {
    if (o.errorBudgetRemaining !== null && o.errorBudgetRemaining < 0)
      worse("bad", `SLO ${o.name}: error budget spent`);
  }
  if (s.requests === 0) worse("warn", "no requests in the window");
  return { health, reasons };
}

const fmtPct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(2)}%`);
const fmtShare = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)}%`;
const fmtMs = (v: number | undefined) => (v === undefined ? "–" : `${(v * 1000).toFixed(1)} ms`);

/** Accuracy on labels when there are any (the worst segment), else the label-free estimate. */
function accuracyOf(s: ModelSummary): number | null {
  const labelled = [
    ...s.accuracy.map((a) => a.accuracy),
    ...s.accuracyLastLabels.map((a) => a.accuracy),
  ].filter((a): a is number => a !== null);
  return labelled.length ? Math.min(...labelled) : s.estimatedAccuracy;
}

function card(s: ModelSummary): string {
  const { health, reasons } = healthOf(s);
  const label = { ok: "Healthy", warn: "Degraded", bad: "Unhealthy" }[health];
  const drift = s.drift
    .map(
      (d) =>
        `<tr class="sev-${d.severity ?? "unknown"}"><td>${esc(d.feature)}</td><td>${esc(d.method)}</td><td>${d.score === null ? "–" : d.score.toFixed(3)}</td>` +
        `<td>${d.severity ?? "not scored"}</td><td>${d.samples}</td></tr>`,
    )
    .join("");
  return `<section class="model ${health}" data-model="${esc(s.model)}" data-health="${health}">
<h2>${esc(s.model)} <span class="badge">${label}</span></h2>
<p class="reasons">${reasons.length ? reasons.map(esc).join(" · ") : "All signals within thresholds"}</p>
<div class="stats">
<div><b>${s.requestsPerSecond.toFixed(1)}</b><span>req/s</span></div>
<div><b>${fmtPct(s.errorRate)}</b><span>errors</span></div>
<div><b>${fmtMs(s.latencySeconds?.p95)}</b><span>p95 latency</span></div>
<div><b>${fmtShare(accuracyOf(s))}</b><span>accuracy${s.accuracy.length || s.accuracyLastLabels.length ? "" : " (estimated)"}</span></div>
</div>
<div class="stats small">
<div><b>${s.inProgress}</b><span>in flight</span></div>
<div><b>${fmtShare(s.lowConfidenceShare)}</b><span>low confidence</span></div>
<div><b>${s.conceptDrift?.confidencePsi?.toFixed(3) ?? "–"}</b><span>confidence PSI</span></div>
<div><b>${s.conceptDrift?.classPsi?.toFixed(3) ?? "–"}</b><span>class PSI</span></div>
${s.slo.map((o) => `<div><b>${o.errorBudgetRemaining === null ? "–" : fmtShare(o.errorBudgetRemaining)}</b><span>${esc(o.name)} budget left</span></div>`).join("")}
</div>
<table><thead><tr><th>feature</th><th>method</th><th>score</th><th>drift</th><th>samples</th></tr></thead><tbody>${drift}</tbody></table>
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
.model.warn{border-left-color:#e0a100}.model.bad{border-left-color:#d33b2c}
.badge{font-size:.8rem;padding:.15rem .5rem;border-radius:4px;background:#2e9d4f;color:#fff;vertical-align:middle}
.warn .badge{background:#e0a100}.bad .badge{background:#d33b2c}
.stats{display:flex;gap:2rem;margin:.5rem 0 1rem}.stats div{display:flex;flex-direction:column}.stats b{font-size:1.6rem}
.stats span{color:#667}.stats.small b{font-size:1.1rem}table{border-collapse:collapse}td,th{padding:.2rem .8rem;text-align:left}
.sev-warning td{background:#fff4d6}.sev-critical td{background:#fde2df}.reasons{color:#445}
</style></head>
<body><h1>mlwatch — models</h1><p>Window: last ${windowSeconds} s. Refreshes every 5 s. <a href="/metrics">/metrics</a> · <a href="/api/v1/models">API</a></p>
${body}
</body></html>`;
}
