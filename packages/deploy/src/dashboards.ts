// Grafana dashboards, built with @grafana/grafana-foundation-sdk: the
// reference design's four pages. Page 1 answers "is it healthy?" in five
// seconds with four colour-coded stats; the others are for digging in.
// Every query uses the recording rules or metric names the alerts use, so a
// panel shows what an alert judges.

import * as bargauge from "@grafana/grafana-foundation-sdk/bargauge";
import {
  BarGaugeDisplayMode,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizOrientation,
  VizTooltipOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  type DataSourceRef,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as text from "@grafana/grafana-foundation-sdk/text";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { DefaultPorts, DriftThresholds } from "@mlwatch/semconv";
import { TimeScale } from "./duration.js";
import { L, M, R, SEVERITY_COLOR } from "./names.js";
import { num } from "./promql.js";
import { quantile, THRESHOLDS } from "./rules.js";
import { BURN_POLICY, burnFactor, DEFAULT_ACCURACY_SEGMENT, type SloSpec } from "./slo-spec.js";

/** Grafana variable reference: `${name}` (not a template literal). */
const v = (name: string) => `$\{${name}}`;
const DS: DataSourceRef = { type: "prometheus", uid: v("datasource") };
const MODEL = `${L.model}="$model"`;
const C = SEVERITY_COLOR;

/**
 * Resource metrics come from whichever source a deployment has: Prometheus client process metrics,
 * node_exporter, or OTel process/host metrics (semantic-convention names, with or without the unit
 * suffixes an OTel-to-Prometheus translation adds), labelled by job and instance or by OTel resource.
 */
const either = (...alternatives: string[]) => alternatives.join(" or ");
const OTEL_PROCESS = "job, instance, service_name, service_instance_id";
const OTEL_HOST = "instance, host_name";

/** Panels whose data comes from a host exporter (node_exporter or OTel host metrics), not from mlwatch. */
export const HOST_PANEL_TITLES = new Set(["Host CPU utilisation", "Host memory used", "Disk I/O"]);

function query(expr: string, legend?: string, refId = "A") {
  const q = new DataqueryBuilder().expr(expr).refId(refId).range();
  return legend === undefined ? q : q.legendFormat(legend);
}

type Step = [value: number | null, color: string];
function steps(...s: Step[]) {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(s.map(([value, color]) => ({ value, color })));
}

/** Grid layout: panels flow left to right in rows of 24 columns. */
class Grid {
  x = 0;
  y = 0;
  rowHeight = 0;
  id = 1;
  place(w: number, h: number) {
    if (this.x + w > 24) this.newRow();
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return pos;
  }
  newRow() {
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
  row(d: DashboardBuilder, title: string) {
    this.newRow();
    d.withRow(new RowBuilder(title).id(this.id++).gridPos({ x: 0, y: this.y, w: 24, h: 1 }));
    this.y += 1;
  }
  nextId() {
    return this.id++;
  }
}

interface Page {
  uid: string;
  title: string;
  description: string;
}

export const PAGES = {
  health: {
    uid: "mlwatch-health",
    title: "mlwatch · 1 · System health",
    description: "Is the model healthy? Four colour-coded answers, then the SLOs.",
  },
  quality: {
    uid: "mlwatch-quality",
    title: "mlwatch · 2 · Model quality",
    description: "Predictions, confidence and accuracy on labelled samples.",
  },
  drift: {
    uid: "mlwatch-drift",
    title: "mlwatch · 3 · Drift",
    description: "Input drift per feature against the baseline, and concept drift.",
  },
  resources: {
    uid: "mlwatch-resources",
    title: "mlwatch · 4 · Resources",
    description: "CPU, memory, disk and the collector itself: look here when alerted.",
  },
} as const satisfies Record<string, Page>;

function base(page: Page, scale: TimeScale, extraVars: Array<TextBoxVariableBuilder> = []): DashboardBuilder {
  const d = new DashboardBuilder(page.title)
    .uid(page.uid)
    .description(page.description)
    .tags(["mlwatch"])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: `now-${scale.d("6h")}`, to: "now" })
    .timezone("browser")
    .link(
      new DashboardLinkBuilder("mlwatch")
        .type(DashboardLinkType.Dashboards)
        .tags(["mlwatch"])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true)
        .targetBlank(false)
        .icon("dashboard")
        .tooltip("The other mlwatch pages"),
    )
    .withVariable(
      new DatasourceVariableBuilder("datasource")
        .label("Data source")
        .type("prometheus")
        .allowCustomValue(false),
    )
    .withVariable(
      new QueryVariableBuilder("model")
        .label("Model")
        .datasource(DS)
        .query(`label_values(${M.requests}, ${L.model})`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .allowCustomValue(false),
    );
  for (const v of extraVars) d.withVariable(v);
  return d;
}

function statPanel(g: Grid, w: number, h: number) {
  return new stat.PanelBuilder()
    .id(g.nextId())
    .gridPos(g.place(w, h))
    .datasource(DS)
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.Area)
    .textMode(BigValueTextMode.Auto)
    .orientation(VizOrientation.Auto)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds));
}

function tsPanel(g: Grid, w: number, h: number) {
  return new timeseries.PanelBuilder()
    .id(g.nextId())
    .gridPos(g.place(w, h))
    .datasource(DS)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .showLegend(true)
        .calcs([]),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

function thresholdLines(mode: GraphThresholdsStyleMode = GraphThresholdsStyleMode.Dashed) {
  return new GraphThresholdsStyleConfigBuilder().mode(mode);
}

function p95Objective(model = MODEL) {
  return `min by (${L.model}) (${R.sloLatencyThreshold}{${model}})`;
}

function health(spec: SloSpec, s: TimeScale): Dashboard {
  const g = new Grid();
  const d = base(PAGES.health, s);
  const err = THRESHOLDS.errorRate.tiers;
  const lat = THRESHOLDS.latencyP95.tiers;
  const accuracyWarning = Math.max(
    ...[spec.defaults, ...Object.values(spec.models)].flatMap((m) =>
      m.objectives.flatMap((o) => (o.kind === "accuracy" ? [o.target] : [])),
    ),
    THRESHOLDS.accuracy.critical.ratio,
  );
  g.row(d, "Is it healthy?");
  d.withPanel(
    statPanel(g, 6, 7)
      .title("Request rate: now and 1-day average")
      .description(
        "Requests per second over the last few scrapes, beside the average of the last day. Red means no traffic.",
      )
      .unit("reqps")
      .decimals(2)
      .textMode(BigValueTextMode.ValueAndName)
      .thresholds(steps([null, C.critical], [0.001, C.ok]))
      .withTarget(query(`sum(rate(${M.requests}{${MODEL}}[$__rate_interval]))`, "now"))
      .withTarget(query(`sum(rate(${M.requests}{${MODEL}}[${s.d("1d")}]))`, "1-day average", "B")),
  );
  d.withPanel(
    statPanel(g, 6, 7)
      .title("Error rate")
      .description(
        `Failed share of requests over ${s.d("5m")} (the HighErrorRate alerts' measure): info above ${num(err[2].ratio * 100)}%, warning above ${num(err[1].ratio * 100)}%, page above ${num(err[0].ratio * 100)}%.`,
      )
      .unit("percentunit")
      .decimals(2)
      .thresholds(
        steps([null, C.ok], [err[2].ratio, C.info], [err[1].ratio, C.warning], [err[0].ratio, C.critical]),
      )
      .withTarget(query(`${R.errorRatio5m}{${MODEL}}`, "errors")),
  );
  d.withPanel(
    statPanel(g, 6, 7)
      .title("Latency p95 vs objective")
      .description(
        `p95 latency over ${s.d("5m")} as a share of the model's latency objective: 100% is at the objective, ${num(lat[1].times * 100)}% warns, ${num(lat[0].times * 100)}% pages.`,
      )
      .unit("percentunit")
      .decimals(0)
      .thresholds(
        steps([null, C.ok], [lat[2].times, C.info], [lat[1].times, C.warning], [lat[0].times, C.critical]),
      )
      .withTarget(
        query(
          `${R.latencyP95}{${MODEL}} / on (${L.model}) group_left () ${p95Objective()}`,
          "p95 / objective",
        ),
      ),
  );
  d.withPanel(
    statPanel(g, 6, 7)
      .title("Accuracy (labelled sample)")
      .description(
        `Share of correct predictions among those with known truth in segment ${DEFAULT_ACCURACY_SEGMENT}: pages below ${num(THRESHOLDS.accuracy.critical.ratio * 100)}%.`,
      )
      .unit("percentunit")
      .decimals(1)
      .min(0)
      .max(1)
      .noValue("no labels yet")
      .thresholds(
        steps([null, C.critical], [THRESHOLDS.accuracy.critical.ratio, C.warning], [accuracyWarning, C.ok]),
      )
      .withTarget(
        query(
          `min by (${L.model}) (${M.accuracy}{${MODEL}, ${L.segment}="${DEFAULT_ACCURACY_SEGMENT}"})`,
          "accuracy",
        ),
      ),
  );

  g.row(d, "Service level objectives");
  const target = `(1 - ${R.sloTarget}{${MODEL}})`;
  const page = burnFactor(BURN_POLICY[0], spec.defaults.periodSeconds);
  d.withPanel(
    statPanel(g, 8, 6)
      .title("Error budget left this period")
      .description("Share of each SLO's error budget not yet spent over the SLO period (red: overspent).")
      .unit("percentunit")
      .decimals(0)
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName)
      .thresholds(steps([null, C.critical], [0, C.warning], [0.25, C.ok]))
      .withTarget(
        query(
          `1 - ({__name__=~"${R.sloErrorsPeriod}|${R.sloSlowPeriod}", ${MODEL}} / on (${L.model}, slo) group_left () ${target})`,
          "{{slo}}",
        ),
      ),
  );
  d.withPanel(
    statPanel(g, 8, 6)
      .title(`Burn rate over ${s.d("1h")}`)
      .description(
        `How fast each SLO's budget is being spent: 1× lasts exactly the period; ${num(page)}× over an hour pages.`,
      )
      .unit("suffix:×")
      .decimals(1)
      .textMode(BigValueTextMode.ValueAndName)
      .thresholds(steps([null, C.ok], [1, C.warning], [page, C.critical]))
      .withTarget(
        query(
          `{__name__=~"${R.sloErrors("1h")}|${R.sloSlow("1h")}", ${MODEL}} / on (${L.model}, slo) group_left () ${target}`,
          "{{slo}}",
        ),
      ),
  );
  d.withPanel(
    statPanel(g, 8, 6)
      .title("Alerts firing")
      .description("mlwatch alerts firing for this model, by severity.")
      .unit("none")
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName)
      .noValue("none")
      .thresholds(steps([null, C.ok], [1, C.critical]))
      .withTarget(query(`count by (severity) (ALERTS{alertstate="firing", ${MODEL}})`, "{{severity}}")),
  );

  g.row(d, "Traffic, errors and latency");
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Requests / s by endpoint and version")
      .unit("reqps")
      .withTarget(
        query(
          `sum by (${L.endpoint}, ${L.version}) (rate(${M.requests}{${MODEL}}[$__rate_interval]))`,
          `{{${L.endpoint}}} {{${L.version}}}`,
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Errors / s by type")
      .unit("reqps")
      .withTarget(
        query(
          `sum by (${L.errorType}) (rate(${M.errors}{${MODEL}}[$__rate_interval]))`,
          `{{${L.errorType}}}`,
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title(`Error ratio (${s.d("5m")})`)
      .unit("percentunit")
      .min(0)
      .thresholdsStyle(thresholdLines())
      .thresholds(
        steps([null, C.ok], [err[2].ratio, C.info], [err[1].ratio, C.warning], [err[0].ratio, C.critical]),
      )
      .withTarget(query(`${R.errorRatio5m}{${MODEL}}`, "error ratio")),
  );
  const q = (p: number) => quantile(p, M.duration, [MODEL], "$__rate_interval", []);
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Latency p50 / p95 / p99 and objective")
      .unit("s")
      .min(0)
      .withTarget(query(q(0.5), "p50"))
      .withTarget(query(q(0.95), "p95", "B"))
      .withTarget(query(q(0.99), "p99", "C"))
      .withTarget(query(p95Objective(), "objective", "D")),
  );
  return d.build();
}

function quality(s: TimeScale): Dashboard {
  const g = new Grid();
  const d = base(PAGES.quality, s);
  const byClass = `sum by (${L.predictedClass}) (rate(${M.predictions}{${MODEL}}[$__rate_interval]))`;
  g.row(d, "Predictions");
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Predictions / s by class")
      .unit("reqps")
      .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
      .withTarget(query(byClass, `{{${L.predictedClass}}}`)),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Class mix")
      .description("Share of each predicted class: a shift here without a shift in inputs is concept drift.")
      .unit("percentunit")
      .min(0)
      .max(1)
      .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
      .withTarget(
        query(
          `${byClass} / ignoring (${L.predictedClass}) group_left () sum (${byClass})`,
          `{{${L.predictedClass}}}`,
        ),
      ),
  );
  g.row(d, "Confidence");
  // Share of predictions per confidence decile over the time range, from classic buckets or a native histogram.
  const range = "$__range";
  const inc = (m: string, extra: string[] = []) =>
    `increase(${m}{${[MODEL, ...extra].join(", ")}}[${range}])`;
  const decile = (i: number) => {
    const lo = num(i / 10);
    const hi = num((i + 1) / 10);
    const classic =
      `(sum(${inc(M.confidenceBucket, [`le="${hi}"`])}) - sum(${inc(M.confidenceBucket, [`le="${lo}"`])}))` +
      ` / sum(${inc(`${M.confidence}_count`)})`;
    const native = `histogram_fraction(${lo}, ${hi}, sum(${inc(M.confidence)}))`;
    return query(`${classic} or ${native}`, `${lo}–${hi}`, String.fromCharCode(65 + i)).instant();
  };
  const dist = new bargauge.PanelBuilder()
    .id(g.nextId())
    .gridPos(g.place(12, 8))
    .datasource(DS)
    .title("Confidence distribution (time range)")
    .description("Share of predictions in each confidence decile over the dashboard's time range.")
    .unit("percentunit")
    .min(0)
    .max(1)
    .displayMode(BarGaugeDisplayMode.Gradient)
    .orientation(VizOrientation.Vertical)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.ContinuousBlPu));
  for (let i = 0; i < 10; i++) dist.withTarget(decile(i));
  d.withPanel(dist);
  const lc = THRESHOLDS.lowConfidenceShare.tiers[0];
  d.withPanel(
    tsPanel(g, 12, 8)
      .title(`Low-confidence share (${s.d("1h")})`)
      .description(
        `Share of predictions below the confidence threshold; more than ${num(lc.ratio * 100)}% for ${s.d(lc.for)} warns.`,
      )
      .unit("percentunit")
      .min(0)
      .thresholdsStyle(thresholdLines())
      .thresholds(steps([null, C.ok], [lc.ratio, C.warning]))
      .withTarget(query(`${R.lowConfidenceRatio1h}{${MODEL}}`, `below {{${L.threshold}}}`)),
  );
  const cq = (p: number) => quantile(p, M.confidence, [MODEL], "$__rate_interval", []);
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Confidence quantiles")
      .unit("percentunit")
      .min(0)
      .max(1)
      .withTarget(query(cq(0.1), "p10"))
      .withTarget(query(cq(0.5), "median", "B")),
  );
  g.row(d, "Accuracy");
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Accuracy by segment")
      .unit("percentunit")
      .min(0)
      .max(1)
      .thresholdsStyle(thresholdLines())
      .thresholds(steps([null, C.critical], [THRESHOLDS.accuracy.critical.ratio, C.warning], [0.85, C.ok]))
      .withTarget(query(`min by (${L.segment}) (${M.accuracy}{${MODEL}})`, `{{${L.segment}}}`)),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Labelled outcomes / s")
      .unit("reqps")
      .withTarget(
        query(
          `sum by (${L.segment}, ${L.outcome}) (rate(${M.segmentOutcomes}{${MODEL}}[$__rate_interval]))`,
          `{{${L.segment}}} {{${L.outcome}}}`,
        ),
      ),
  );
  return d.build();
}

function drift(s: TimeScale): Dashboard {
  const g = new Grid();
  const collector = new TextBoxVariableBuilder("collector")
    .label("Collector URL")
    .description("Where your browser reaches the collector's query port, for the drift report links")
    .defaultValue(`http://localhost:${DefaultPorts.query}`)
    .current({
      text: `http://localhost:${DefaultPorts.query}`,
      value: `http://localhost:${DefaultPorts.query}`,
    })
    .hide(VariableHide.DontHide);
  const d = base(PAGES.drift, s, [collector]);
  const t = DriftThresholds;
  g.row(d, "Input drift");
  d.withPanel(
    tsPanel(g, 16, 9)
      .title("Drift score by feature")
      .description(
        `KS statistic D of each feature's window against its baseline (or the feature's configured measure): ${t.info} info, ${t.warning} warning, ${t.critical} critical at large windows. The dashed "warning threshold" series is the score a warning needs at the window's current size: at small windows chance alone reaches more than ${t.warning}, and the collector raises the threshold to that.`,
      )
      .min(0)
      .thresholdsStyle(thresholdLines())
      .thresholds(steps([null, C.ok], [t.info, C.info], [t.warning, C.warning], [t.critical, C.critical]))
      .withTarget(query(`max by (${L.feature}) (${M.driftScore}{${MODEL}})`, `{{${L.feature}}}`))
      .withTarget(
        query(
          `max by (${L.feature}) (${M.driftThreshold}{${MODEL}, severity="warning"})`,
          `{{${L.feature}}} warning threshold`,
          "B",
        ),
      ),
  );
  d.withPanel(
    statPanel(g, 8, 9)
      .title("Drift severity now")
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName)
      .mappings([
        {
          type: MappingType.ValueToText,
          options: {
            "0": { text: "none", color: C.ok, index: 0 },
            "1": { text: "info", color: C.info, index: 1 },
            "2": { text: "warning", color: C.warning, index: 2 },
            "3": { text: "critical", color: C.critical, index: 3 },
          },
        },
      ])
      .thresholds(steps([null, C.ok], [1, C.info], [2, C.warning], [3, C.critical]))
      .withTarget(query(`max by (${L.feature}) (${M.driftSeverity}{${MODEL}})`, `{{${L.feature}}}`)),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("KS p-value by feature")
      .description(
        "Tiny for any shift once windows are large: alert on the score, read this as supporting evidence.",
      )
      .withTarget(query(`min by (${L.feature}) (${M.driftPValue}{${MODEL}})`, `{{${L.feature}}}`)),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Values in the drift window")
      .unit("short")
      .withTarget(query(`max by (${L.feature}) (${M.driftSamples}{${MODEL}})`, `{{${L.feature}}}`)),
  );
  d.withPanel(
    statPanel(g, 12, 8)
      .title("What moved")
      .description(
        "For features with a drift severity over the dashboard's range: the value ranges (bins at the baseline's 5 % quantiles) or categories whose share moved most, with the window's share; the baseline's share is in the name.",
      )
      .unit("percentunit")
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName)
      .withTarget(
        query(
          `max by (${L.feature}, rank, range, baseline_share) (max_over_time(${M.driftTopRange}{${MODEL}}[$__range]))`,
          `{{${L.feature}}} {{range}} (baseline {{baseline_share}})`,
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Version against version (rollouts)")
      .description(
        "KS D of each newer version's feature window against the version live first, while two versions are live. VersionDriftDetected warns at warning severity (0.15, raised at small windows).",
      )
      .min(0)
      .thresholdsStyle(thresholdLines())
      .thresholds(steps([null, C.ok], [t.warning, C.warning], [t.critical, C.critical]))
      .withTarget(
        query(
          `max by (${L.feature}, ${L.version}) (${M.versionDriftScore}{${MODEL}})`,
          `{{${L.feature}}} {{${L.version}}}`,
        ),
      ),
  );
  g.row(d, "Concept drift and distributions");
  const cd = THRESHOLDS.conceptDriftPsi.tiers;
  d.withPanel(
    tsPanel(g, 16, 8)
      .title("Concept drift: PSI of the confidence distribution")
      .description(`PSI against the baseline: ${cd[1].psi} info, ${cd[0].psi} warning.`)
      .min(0)
      .thresholdsStyle(thresholdLines())
      .thresholds(steps([null, C.ok], [cd[1].psi, C.info], [cd[0].psi, C.warning]))
      .withTarget(query(`max by (${L.model}) (${M.conceptPsi}{${MODEL}})`, "PSI")),
  );
  d.withPanel(
    new text.PanelBuilder()
      .id(g.nextId())
      .gridPos(g.place(8, 8))
      .title("Feature distributions: current vs baseline")
      .mode(text.TextMode.Markdown)
      .content(
        [
          "The collector keeps each feature's current window and baseline as histograms.",
          "",
          "- Drift report with the binned baseline and current distributions of every feature:",
          `  [${v("collector")}/api/v1/models/${v("model")}/drift](${v("collector")}/api/v1/models/${v("model")}/drift)`,
          `- Status page, one card per model: [${v("collector")}/](${v("collector")}/)`,
          "",
          "See docs/runbooks/DataDriftDetected.md for how to read them.",
        ].join("\n"),
      ),
  );
  return d.build();
}

function resources(s: TimeScale): Dashboard {
  const g = new Grid();
  const d = base(PAGES.resources, s);
  const byProcess = "{{job}} {{service_name}} {{instance}} {{service_instance_id}}";
  g.row(d, "Processes");
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("CPU by process")
      .description(
        "Cores used, from Prometheus client process metrics or OTel process metrics, whichever a process exports.",
      )
      .unit("short")
      .withTarget(
        query(
          either(
            "sum by (job, instance) (rate(process_cpu_seconds_total[$__rate_interval]))",
            `sum by (${OTEL_PROCESS}) (rate({__name__=~"process_cpu_time(_seconds)?(_total)?"}[$__rate_interval]))`,
          ),
          byProcess,
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Memory (RSS) by process")
      .unit("bytes")
      .withTarget(
        query(
          either(
            "sum by (job, instance) (process_resident_memory_bytes)",
            `sum by (${OTEL_PROCESS}) ({__name__=~"process_memory_usage(_bytes)?"})`,
            "sum by (job, instance) (mlwatch_collector_resident_memory_bytes)",
          ),
          byProcess,
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Requests in flight")
      .unit("short")
      .withTarget(query(`sum by (${L.model}) (${M.inProgress}{${MODEL}})`, `{{${L.model}}}`)),
  );
  d.withPanel(
    tsPanel(g, 12, 8)
      .title("Scrape targets up")
      .min(0)
      .max(1)
      .withTarget(query("min by (job) (up)", "{{job}}")),
  );
  g.row(d, "Host");
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("Host CPU utilisation")
      .unit("percentunit")
      .min(0)
      .max(1)
      .withTarget(
        query(
          either(
            `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))`,
            `1 - avg by (${OTEL_HOST}) ({__name__=~"system_cpu_utilization(_ratio)?", state="idle"})`,
          ),
          "{{instance}}",
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("Host memory used")
      .unit("bytes")
      .withTarget(
        query(
          either(
            "sum by (instance) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)",
            `sum by (${OTEL_HOST}) ({__name__=~"system_memory_usage(_bytes)?", state="used"})`,
          ),
          "{{instance}}",
        ),
      ),
  );
  const io = (dir: "read" | "written", otel: string) =>
    either(
      `sum by (instance) (rate(node_disk_${dir}_bytes_total[$__rate_interval]))`,
      `sum by (${OTEL_HOST}) (rate({__name__=~"system_disk_io(_bytes)?(_total)?", direction="${otel}"}[$__rate_interval]))`,
    );
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("Disk I/O")
      .unit("Bps")
      .withTarget(query(io("read", "read"), "{{instance}} read"))
      .withTarget(query(io("written", "write"), "{{instance}} write", "B")),
  );
  g.row(d, "Collector");
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("OTLP requests / s by status")
      .unit("reqps")
      .withTarget(
        query(
          "sum by (signal, code) (rate(mlwatch_collector_otlp_requests_total[$__rate_interval]))",
          "{{signal}} {{code}}",
        ),
      ),
  );
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("Series and replica streams held")
      .unit("short")
      .withTarget(query("sum by (instance) (mlwatch_collector_active_series)", "series {{instance}}"))
      .withTarget(query("sum by (instance) (mlwatch_collector_active_streams)", "streams {{instance}}", "B")),
  );
  d.withPanel(
    tsPanel(g, 8, 8)
      .title("Analysis pass duration")
      .unit("s")
      .withTarget(query("max by (instance) (mlwatch_collector_analysis_duration_seconds)", "{{instance}}")),
  );
  return d.build();
}

/** The four pages, by file name (deploy/grafana/dashboards/<name>). */
export function buildDashboards(spec: SloSpec, scale = new TimeScale(1)): Record<string, Dashboard> {
  return {
    [`${PAGES.health.uid}.json`]: health(spec, scale),
    [`${PAGES.quality.uid}.json`]: quality(scale),
    [`${PAGES.drift.uid}.json`]: drift(scale),
    [`${PAGES.resources.uid}.json`]: resources(scale),
  };
}

/** Every PromQL query of a dashboard, with the panel it belongs to. */
export function dashboardQueries(d: Dashboard): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  for (const p of d.panels ?? []) {
    if (p.type === "row") continue;
    for (const t of (p as { targets?: Array<{ expr?: string }> }).targets ?? [])
      if (t.expr) out.push({ panel: p.title ?? "", expr: t.expr });
  }
  return out;
}
