// The committed configuration checked by the tools that will run it:
// promtool (rules with every lint, the Prometheus config, the generated unit
// tests) and amtool (the Alertmanager config and where each severity goes).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { toolAvailable } from "../../../test/support/processes.js";
import { ALERTS, generate, parseSloSpecYaml, RECEIVERS } from "../src/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const RULES = join(DEPLOY, "rules");
const TESTS = join(RULES, "tests");

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd = ROOT) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.runIf(toolAvailable("promtool"))("promtool", () => {
  const ruleFiles = readdirSync(RULES)
    .filter((f) => f.endsWith(".rules.yml"))
    .map((f) => join(RULES, f));

  it("check rules passes with every lint, lint errors fatal", () => {
    const r = run("promtool", ["check", "rules", "--lint=all", "--lint-fatal", ...ruleFiles]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("check rules passes on the same rules at time scale 0.01", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlwatch-rules-"));
    tmp.push(dir);
    const spec = parseSloSpecYaml(readFileSync(join(DEPLOY, "slo.yaml"), "utf8"));
    const files: string[] = [];
    for (const [name, text] of generate({ spec, timeScale: 0.01 }).files) {
      if (!name.endsWith(".rules.yml")) continue;
      mkdirSync(join(dir, "rules"), { recursive: true });
      writeFileSync(join(dir, name), text);
      files.push(join(dir, name));
    }
    const r = run("promtool", ["check", "rules", "--lint=all", "--lint-fatal", ...files]);
    expect(r.status, r.out).toBe(0);
  });

  it("check config passes on deploy/prometheus.yml, loading its rule files", () => {
    const r = run("promtool", [
      "check",
      "config",
      "--lint=all",
      "--lint-fatal",
      join(DEPLOY, "prometheus.yml"),
    ]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS: 2 rule files found");
  });

  it("check config passes on deploy/prometheus-sharded.yml (one target per shard, labelled)", () => {
    const file = join(DEPLOY, "prometheus-sharded.yml");
    const r = run("promtool", ["check", "config", "--lint=all", "--lint-fatal", file]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS: 2 rule files found");
    const job = (
      parseYaml(readFileSync(file, "utf8")) as {
        scrape_configs: Array<{
          job_name: string;
          static_configs: Array<{ labels?: Record<string, string> }>;
        }>;
      }
    ).scrape_configs.find((j) => j.job_name === "mlwatch-collector");
    expect(job?.static_configs.map((c) => c.labels?.shard)).toEqual(["mlwatch-shard-0", "mlwatch-shard-1"]);
  });

  const testFiles = readdirSync(TESTS).filter((f) => f.endsWith(".test.yml"));
  it("there is a unit test file for every alert", () => {
    expect(testFiles.sort()).toEqual(
      Object.values(ALERTS)
        .map((a) => `${a}.test.yml`)
        .sort(),
    );
  });

  // The burn-rate tests evaluate seven hours of one-minute steps over 30-day windows: CPU-bound, 44 s
  // for ErrorBudgetBurn on a 2-core machine at load 4 and 252 s at load 12. Give them time on a busy one.
  it.each(testFiles)("test rules %s passes", { timeout: 600_000 }, (file) => {
    const doc = parseYaml(readFileSync(join(TESTS, file), "utf8"));
    expect(
      doc.tests.every((t: { interval?: string }) => t.interval),
      "every test states its interval",
    ).toBe(true);
    const r = run("promtool", ["test", "rules", file], TESTS);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS");
  });
});

describe.runIf(toolAvailable("amtool"))("amtool", () => {
  const config = join(DEPLOY, "alertmanager.yml");

  it("check-config passes", () => {
    const r = run("amtool", ["check-config", config]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS");
  });

  it.each([
    ["critical", `${RECEIVERS.pager},${RECEIVERS.chat}`],
    ["warning", RECEIVERS.chat],
    ["info", RECEIVERS.info],
  ])("routes severity=%s to %s", (severity, receivers) => {
    const out = execFileSync(
      "amtool",
      [
        "config",
        "routes",
        "test",
        `--config.file=${config}`,
        `severity=${severity}`,
        "model_name=sentiment",
        "alertname=X",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    expect(out.trim()).toBe(receivers);
  });

  it("groups by model and severity with the reference timings, and inhibits lesser alerts of the same family", () => {
    const c = parseYaml(readFileSync(config, "utf8"));
    expect(c.route.group_by).toEqual(["model_name", "severity"]);
    expect([c.route.group_wait, c.route.group_interval, c.route.repeat_interval]).toEqual([
      "30s",
      "5m",
      "4h",
    ]);
    const rule = c.inhibit_rules.find(
      (r: { source_matchers: string[] }) => r.source_matchers[0] === 'severity="critical"',
    );
    expect(rule.target_matchers).toEqual(['severity=~"warning|info"']);
    expect(rule.equal).toEqual(expect.arrayContaining(["model_name", "alertname"]));
  });
});
