// The committed dashboards validate against Grafana's dashboard JSON Schema
// (a copy in fixtures/, see fixtures/README.md), have the variables and
// colour-coded health stats the reference design asks for, and query only
// series that mlwatch, its rules or a known exporter produce.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import {
  COLLECTOR_JOB,
  type DATASOURCE_UID,
  dashboardQueries,
  generate,
  M,
  PAGES,
  parseSloSpecYaml,
  recordingRules,
} from "../src/index.js";

/** Grafana's reference to the datasource variable. */
const DS_VAR = ["$", "{datasource}"].join("");
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DIR = join(ROOT, "deploy/grafana/dashboards");
const schema = JSON.parse(
  readFileSync(new URL("./fixtures/grafana-dashboard.jsonschema.json", import.meta.url), "utf8"),
);
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);

// biome-ignore lint/suspicious/noExplicitAny: dashboard JSON is walked loosely here; the schema checks its shape
type Json = Record<string, any>;
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));
const dashboards: Array<[string, Json]> = files.map((f) => [
  f,
  JSON.parse(readFileSync(join(DIR, f), "utf8")),
]);

describe("Grafana dashboards", () => {
  it("are the four pages of the reference design", () => {
    expect(files.sort()).toEqual(
      Object.values(PAGES)
        .map((p) => `${p.uid}.json`)
        .sort(),
    );
  });

  it.each(dashboards)("%s validates against Grafana's dashboard JSON Schema", (_, d) => {
    const ok = validate(d);
    expect(ok ? [] : validate.errors).toEqual([]);
  });

  it("the schema check has teeth: an unknown panel key or a bad grid position fails", () => {
    const d = structuredClone(dashboards[0][1]);
    d.panels[1].colour = "red";
    expect(validate(d)).toBe(false);
    const e = structuredClone(dashboards[0][1]);
    e.panels[1].gridPos.w = 30;
    expect(validate(e)).toBe(false);
  });

  it.each(dashboards)(
    "%s has datasource and model variables, unique panel ids, every panel on the datasource variable",
    (_, d) => {
      const vars = d.templating.list.map((v: Json) => `${v.name}:${v.type}`);
      expect(vars).toEqual(expect.arrayContaining(["datasource:datasource", "model:query"]));
      const ids = d.panels.map((p: Json) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of d.panels)
        if (p.type !== "row" && p.type !== "text") expect(p.datasource.uid).toBe(DS_VAR);
      expect(d.tags).toContain("mlwatch");
    },
  );

  it("page 1 opens with four colour-coded stats: request rate, error rate, p95 vs SLO, accuracy", () => {
    const health = dashboards.find(([f]) => f === `${PAGES.health.uid}.json`)![1];
    const stats = health.panels.filter((p: Json) => p.type === "stat" && p.gridPos.y <= 1);
    expect(stats.map((p: Json) => p.title)).toEqual([
      "Request rate: now and 1-day average",
      "Error rate",
      "Latency p95 vs objective",
      "Accuracy (labelled sample)",
    ]);
    for (const p of stats) {
      expect(p.gridPos.w).toBe(6);
      expect(p.options.colorMode).toBe("background");
      const colours = p.fieldConfig.defaults.thresholds.steps.map((s: Json) => s.color);
      expect(colours).toEqual(expect.arrayContaining(["green", "red"]));
    }
  });

  it("query only series mlwatch, its rules, Prometheus or a host exporter produce", () => {
    const spec = parseSloSpecYaml(readFileSync(join(ROOT, "deploy/slo.yaml"), "utf8"));
    const known = new Set<string>([
      ...recordingRules(generate({ spec }).rules).map((r) => r.record),
      ...Object.values(M),
      `${M.confidence}_count`,
      "ALERTS",
      "up",
      // Resource metrics: Prometheus client, OTel host/process metrics, node_exporter, the collector itself.
      "process_cpu_seconds_total",
      "process_cpu_time_seconds_total",
      "process_resident_memory_bytes",
      "process_memory_usage_bytes",
      "node_cpu_seconds_total",
      "node_memory_MemTotal_bytes",
      "node_memory_MemAvailable_bytes",
      "node_disk_read_bytes_total",
      "node_disk_written_bytes_total",
      "system_cpu_utilization_ratio",
      "system_memory_usage_bytes",
      "system_disk_io_bytes_total",
      "mlwatch_collector_otlp_requests_total",
      "mlwatch_collector_active_series",
      "mlwatch_collector_active_streams",
      "mlwatch_collector_analysis_duration_seconds",
      "mlwatch_collector_resident_memory_bytes",
    ]);
    const unknown: string[] = [];
    for (const [file, d] of dashboards)
      for (const { panel, expr } of dashboardQueries(d as never)) {
        for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g))
          if (!known.has(m[1])) unknown.push(`${file} / ${panel}: ${m[1]}`);
        // A name regex must match at least one known series name.
        for (const m of expr.matchAll(/__name__=~"([^"]+)"/g)) {
          const re = new RegExp(`^(?:${m[1]})$`);
          if (![...known].some((n) => re.test(n))) unknown.push(`${file} / ${panel}: ${m[1]}`);
        }
      }
    expect(unknown).toEqual([]);
  });

  it("provisioning points Grafana at the Prometheus the dashboards use", () => {
    const uid: typeof DATASOURCE_UID = "prometheus";
    const ds = readFileSync(join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yaml"), "utf8");
    expect(ds).toContain(`uid: ${uid}`);
    expect(ds).toContain("type: prometheus");
    expect(COLLECTOR_JOB).toBe("mlwatch-collector");
  });
});
