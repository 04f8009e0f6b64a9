// The generator: committed files in deploy/ are exactly what it writes, the
// time scale compresses every duration and nothing else, the SLO spec is
// validated with errors that name the key, and every alert carries what a
// person paged needs (severity, summary, value, a runbook that exists).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../../collector/src/config/config.js";
import {
  ALERTS,
  alertRules,
  BURN_POLICY,
  burnFactor,
  DEFAULT_SLO_YAML,
  errorBudget,
  formatDuration,
  generate,
  goFormatG,
  humanizeDuration,
  humanizePercentage,
  parseDuration,
  parseSloSpec,
  parseSloSpecYaml,
  RULE_FILES,
  SECRET_FILES,
  SEVERITIES,
  TimeScale,
  toGoTemplate,
} from "../src/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const CLI = join(ROOT, "packages/deploy/dist/generate.js");
const specText = readFileSync(join(DEPLOY, "slo.yaml"), "utf8");
const spec = parseSloSpecYaml(specText, "deploy/slo.yaml");
const committed = generate({ spec, specSource: "deploy/slo.yaml" });

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe("deploy/ holds exactly what the generator writes", () => {
  it("every generated file is committed and up to date (else: pnpm generate:deploy)", () => {
    const stale = [...committed.files]
      .filter(
        ([name, text]) =>
          !existsSync(join(DEPLOY, name)) || readFileSync(join(DEPLOY, name), "utf8") !== text,
      )
      .map(([name]) => name);
    expect(stale).toEqual([]);
  });

  it("no file under the generated folders is left over from an older generator", () => {
    const generated = new Set(committed.files.keys());
    const onDisk = ["rules", "grafana"].flatMap((d) => walk(join(DEPLOY, d))).map((p) => relative(DEPLOY, p));
    expect(onDisk.filter((p) => !generated.has(p))).toEqual([]);
  });

  // Needs the built generator: in CI (npm test builds first) a missing build fails, elsewhere it skips.
  it.runIf(Boolean(process.env.CI) || existsSync(CLI))(
    "the CLI writes the same files into another folder, and --check passes on deploy/",
    () => {
      const out = mkdtempSync(join(tmpdir(), "mlwatch-generate-"));
      tmp.push(out);
      const run = spawnSync(process.execPath, [CLI, "--out", out, "--slo-spec", join(DEPLOY, "slo.yaml")], {
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(0);
      for (const [name, text] of committed.files)
        expect(readFileSync(join(out, name), "utf8").replace(/from .*slo\.yaml\./, ""), name).toBe(
          text.replace(/from .*slo\.yaml\./, ""),
        );
      const check = spawnSync(process.execPath, [CLI, "--check"], { encoding: "utf8", cwd: ROOT });
      expect(check.status, check.stderr).toBe(0);
    },
  );
});

/** Every duration in a rule file: ranges in expressions, for:, group intervals. */
function durations(yamlText: string): number[] {
  const doc = parseYaml(yamlText) as {
    groups: Array<{ interval?: string; rules: Array<{ expr: string; for?: string }> }>;
  };
  const out: number[] = [];
  for (const g of doc.groups) {
    if (g.interval) out.push(parseDuration(g.interval));
    for (const r of g.rules) {
      for (const m of r.expr.matchAll(/\[([0-9a-z]+)\]/g)) out.push(parseDuration(m[1]));
      out.push(r.for ? parseDuration(r.for) : 0);
    }
  }
  return out;
}

describe("--time-scale", () => {
  const scaled = generate({ spec, specSource: "deploy/slo.yaml", timeScale: 0.01 });

  it.each(RULE_FILES)("multiplies every window, for: and interval of %s by the factor", (file) => {
    const a = durations(committed.files.get(`rules/${file}`)!);
    const b = durations(scaled.files.get(`rules/${file}`)!);
    expect(b.length).toBe(a.length);
    expect(a.filter((d) => d > 0).length).toBeGreaterThan(10);
    for (const [i, d] of b.entries()) expect(d).toBeCloseTo(a[i] * 0.01, 3);
  });

  it("changes nothing else: names, labels, thresholds and matchers stay", () => {
    const strip = (t: string) =>
      t
        .replace(/\[[0-9a-z]+\]/g, "[w]")
        .replace(/^(\s*(for|interval)): .*$/gm, "$1: d")
        .replace(/(for|over|last|the last) [0-9][0-9a-z]*/g, "$1 d")
        .replace(/ [0-9][0-9a-z]*(,| and|\)|\.|:)/g, " d$1")
        .replace(/^# .*\n/gm, "");
    for (const f of RULE_FILES)
      expect(strip(scaled.files.get(`rules/${f}`)!)).toBe(strip(committed.files.get(`rules/${f}`)!));
  });

  it("writes promtool unit tests only at scale 1, where their windows hold", () => {
    expect([...scaled.files.keys()].some((n) => n.startsWith("rules/tests/"))).toBe(false);
    expect([...committed.files.keys()].filter((n) => n.startsWith("rules/tests/")).length).toBe(
      Object.values(ALERTS).length,
    );
  });
});

describe("durations", () => {
  it.each([
    ["5m", 300],
    ["1h30m", 5400],
    ["30d", 2_592_000],
    ["250ms", 0.25],
    ["1.5h", 5400],
  ])("parses %s", (text, seconds) => expect(parseDuration(text)).toBe(seconds));
  it.each([
    [300, "5m"],
    [864, "14m24s"],
    [0.6, "600ms"],
    [2592, "43m12s"],
    [86_400, "1d"],
    [0, "0s"],
  ])("formats %s s as %s", (seconds, text) => expect(formatDuration(seconds)).toBe(text));
  it("scales, and refuses nonsense", () => {
    expect(new TimeScale(0.01).d("1h")).toBe("36s");
    expect(new TimeScale(0.01).d("5m")).toBe("3s");
    expect(() => new TimeScale(0)).toThrow();
    expect(() => parseDuration("5 minutes")).toThrow(/invalid duration/);
  });
});

describe("Go template formatting (what promtool tests expect Prometheus to print)", () => {
  it.each([
    [10, 4, "10"],
    [4.9, 4, "4.9"],
    [4.999999999999999, 4, "5"],
    [1e-5, 4, "1e-05"],
    [123456, 4, "1.235e+05"],
    [0.0001234, 4, "0.0001234"],
    [1.25, 4, "1.25"],
  ])("%s with %s significant digits is %s", (v, p, s) => expect(goFormatG(v, p)).toBe(s));
  it.each([
    [0.975, "975ms"],
    [1.25, "1.25s"],
    [75, "1m 15s"],
    [3600, "1h 0m 0s"],
    [90_000, "1d 1h 0m 0s"],
    [0, "0s"],
    [0.0005, "500us"],
  ])("humanizeDuration(%s) is %s", (v, s) => expect(humanizeDuration(v)).toBe(s));
  it("humanizePercentage", () => {
    expect(humanizePercentage(0.049)).toBe("4.9%");
    expect(humanizePercentage(0.1)).toBe("10%");
  });
});

describe("SLO spec", () => {
  it("defaults to the reference design's objectives", () => {
    const d = parseSloSpecYaml(DEFAULT_SLO_YAML).defaults;
    expect(d.objectives.map((o) => o.kind)).toEqual(["availability", "latency", "accuracy"]);
    expect(d.periodSeconds).toBe(30 * 86_400);
  });

  it.each([
    [
      "unknown key",
      { defaults: { period: "30d", objectives: [], extra: 1 } },
      /defaults\.extra: unknown key/,
    ],
    ["empty objectives", { defaults: { objectives: [] } }, /defaults\.objectives: must be a non-empty list/],
    [
      "target of 99.5",
      { models: { m: { slo: { objectives: [{ name: "a", kind: "availability", target: 99.5 }] } } } },
      /models\.m\.slo\.objectives\[0\]\.target: must be a number between 0 and 1/,
    ],
    [
      "latency threshold off the buckets",
      {
        defaults: {
          objectives: [{ name: "l", kind: "latency", target: 0.95, thresholdSeconds: 0.3 }],
        },
      },
      /thresholdSeconds: 0\.3 is not one of the collector's latency buckets/,
    ],
    [
      "duplicate names",
      {
        defaults: {
          objectives: [
            { name: "a", kind: "availability", target: 0.99 },
            { name: "a", kind: "availability", target: 0.9 },
          ],
        },
      },
      /objective name a is used twice/,
    ],
    [
      "period shorter than the longest window",
      { defaults: { period: "1d", objectives: [{ name: "a", kind: "availability", target: 0.99 }] } },
      /defaults\.period: must be at least 3d/,
    ],
    [
      "exclusions on error_rate",
      {
        defaults: { objectives: [{ name: "e", kind: "error_rate", target: 0.99, excludeErrorTypes: ["X"] }] },
      },
      /excludeErrorTypes: unknown key/,
    ],
    [
      "unknown kind",
      { defaults: { objectives: [{ name: "a", kind: "uptime", target: 0.9 }] } },
      /kind: must be one of/,
    ],
  ])("rejects %s with the key named", (_, raw, message) => {
    expect(() => parseSloSpec(raw)).toThrow(message);
  });

  it("reads a collector config: models.<name>.slo and export.latencyBuckets, other keys ignored", () => {
    const s = parseSloSpec({
      otlp: { port: 4318 },
      export: { latencyBuckets: [0.1, 0.3, 0.5, 1] },
      models: {
        fraud: {
          drift: { thresholds: { info: 0.1, warning: 0.2, critical: 0.3 } },
          slo: { objectives: [{ name: "fast", kind: "latency", target: 0.99, thresholdSeconds: 0.3 }] },
        },
        drift_only: { drift: {} },
      },
    });
    expect(s.latencyBuckets).toEqual([0.1, 0.3, 0.5, 1]);
    expect(Object.keys(s.models)).toEqual(["fraud"]);
  });

  it("deploy/collector.yaml carries the same per-model SLOs as deploy/slo.yaml, and is a valid collector config", () => {
    const raw = parseYaml(readFileSync(join(DEPLOY, "collector.yaml"), "utf8"));
    expect(() => parseConfig(raw, "deploy/collector.yaml")).not.toThrow();
    expect(parseSloSpec({ models: raw.models }).models).toEqual(spec.models);
  });

  it("burn-rate factors are 14.4, 6, 3 and 1 for a 30-day period; budgets are 1 - target", () => {
    expect(BURN_POLICY.map((r) => burnFactor(r, 30 * 86_400))).toEqual([14.4, 6, 3, 1]);
    expect(errorBudget({ name: "a", kind: "availability", target: 0.995, excludeErrorTypes: [] })).toBe(
      0.005,
    );
    expect(errorBudget({ name: "l", kind: "latency", target: 0.95, thresholdSeconds: 0.5 })).toBe(0.05);
  });
});

describe("alert rules", () => {
  const alerts = alertRules(committed.rules);

  it("exist for every alert of the reference design and the no-data cases, at the reference severities", () => {
    const got = new Set(alerts.map((a) => `${a.alert}/${a.labels.severity}`));
    for (const want of [
      "HighErrorRate/critical",
      "HighErrorRate/warning",
      "HighErrorRate/info",
      "HighLatencyP95/critical",
      "HighLatencyP95/warning",
      "HighLatencyP95/info",
      "DataDriftDetected/warning",
      "DataDriftDetected/info",
      "ConceptDriftDetected/warning",
      "ConceptDriftDetected/info",
      "LowModelAccuracy/critical",
      "LowModelAccuracy/warning",
      "HighLowConfidencePredictions/warning",
      "ErrorBudgetBurn/critical",
      "ErrorBudgetBurn/warning",
      "LatencyBudgetBurn/critical",
      "LatencyBudgetBurn/warning",
      "ModelNoData/critical",
      "ModelNoData/info",
      "CollectorDown/critical",
    ])
      expect(got).toContain(want);
  });

  it.each(alerts.map((a) => [`${a.alert} ${a.labels.severity} ${a.scope ?? ""}`, a] as const))(
    "%s has a severity, a summary, a description with the value and a runbook that exists",
    (_, a) => {
      expect(SEVERITIES).toContain(a.labels.severity);
      expect(toGoTemplate(a.summary).length).toBeGreaterThan(10);
      const description = toGoTemplate(a.description);
      if (a.alert !== ALERTS.noData && a.alert !== ALERTS.collectorDown)
        expect(description).toContain("$value");
      expect(a.runbookUrl).toBe(`docs/runbooks/${a.alert}.md`);
      const runbook = readFileSync(join(ROOT, a.runbookUrl), "utf8");
      for (const section of ["## What it means", "## How to check", "## How to mitigate"])
        expect(runbook).toContain(section);
    },
  );

  it("aggregate per model: every model-level expression groups by model_name", () => {
    for (const a of alerts) {
      if (a.alert === ALERTS.collectorDown) continue;
      expect(a.expr, a.alert).toMatch(/model_name/);
      // An aggregation straight into its parenthesis has no `by`: it would merge models.
      expect(a.expr, a.alert).not.toMatch(/\b(sum|max|min|avg|count)\s*\(/);
    }
  });
});

interface TestFile {
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
  }>;
}

describe("promtool unit tests (generated beside the rules)", () => {
  const files = [...committed.files].filter(([n]) => n.startsWith("rules/tests/"));
  const checks = files.flatMap(([, text]) =>
    (parseYaml(text) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
  );

  it.each(
    alertRules(committed.rules).map((a) => [`${a.alert} ${a.labels.severity} ${a.scope ?? ""}`, a] as const),
  )("cover %s: it fires in one case and stays silent in another", (_, a) => {
    const model = a.labels.model_name;
    const mine = (l: Record<string, string>) =>
      l.severity === a.labels.severity && (model === undefined || l.model_name === model);
    const ofAlert = checks.filter((c) => c.alertname === a.alert);
    const fires = ofAlert.some((c) => c.exp_alerts.some((e) => mine(e.exp_labels)));
    const silent = ofAlert.some((c) => !c.exp_alerts.some((e) => mine(e.exp_labels)));
    expect({ fires, silent }).toEqual({ fires: true, silent: true });
  });
});

describe("docker-compose.yml", () => {
  const compose = parseYaml(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, { command?: string[]; volumes?: string[]; secrets?: string[]; image?: string }>;
    secrets: Record<string, { environment?: string; file?: string }>;
  };
  const s = compose.services;

  it("mounts only files that exist, and keeps compose-only files in deploy/", () => {
    for (const [name, svc] of Object.entries(s))
      for (const v of svc.volumes ?? []) {
        const [src] = v.split(":");
        if (!src.startsWith(".")) continue;
        expect(existsSync(join(ROOT, src)), `${name}: ${v}`).toBe(true);
        if (src !== "./") expect(src.startsWith("./deploy/"), `${name}: ${v}`).toBe(true);
      }
  });

  it("runs the example service, the collector, Prometheus with native histograms, Alertmanager and Grafana", () => {
    expect(s.sentiment.command?.join(" ")).toBe(
      "node examples/sentiment-service/dist/server.js --host 0.0.0.0 --otlp http://collector:4318 --allow-fault-injection",
    );
    expect(s.collector.command?.join(" ")).toBe(
      "node collector/dist/cli/main.js collector --config /etc/mlwatch/collector.yaml",
    );
    expect(s.prometheus.command).toContain("--enable-feature=native-histograms");
    expect(s.prometheus.volumes).toContain("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    expect(s.prometheus.volumes).toContain("./deploy/rules:/etc/prometheus/rules:ro");
    expect(s.grafana.volumes).toContain("./deploy/grafana/provisioning:/etc/grafana/provisioning:ro");
    const collectorCfg = parseYaml(readFileSync(join(DEPLOY, "collector.yaml"), "utf8"));
    expect(collectorCfg.otlp.host).toBe("0.0.0.0");
    expect(collectorCfg.query.host).toBe("0.0.0.0");
  });

  it("gives Alertmanager its receivers' secrets from the environment, as the files alertmanager.yml reads", () => {
    const am = readFileSync(join(DEPLOY, "alertmanager.yml"), "utf8");
    for (const file of Object.values(SECRET_FILES)) {
      expect(s.alertmanager.secrets).toContain(file);
      expect(compose.secrets[file].environment).toMatch(/^MLWATCH_/);
      expect(am).toContain(`/run/secrets/${file}`);
    }
    expect(am).not.toMatch(/hooks\.slack\.com|api_url:|routing_key:|service_key:/);
  });

  it("provisions the dashboards folder Grafana mounts, and the Prometheus service as datasource", () => {
    const dash = parseYaml(committed.files.get("grafana/provisioning/dashboards/mlwatch.yaml")!);
    expect(s.grafana.volumes).toContain(`./deploy/grafana/dashboards:${dash.providers[0].options.path}:ro`);
    const ds = parseYaml(committed.files.get("grafana/provisioning/datasources/prometheus.yaml")!);
    expect(ds.datasources[0].url).toBe("http://prometheus:9090");
  });
});
