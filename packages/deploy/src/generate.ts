#!/usr/bin/env node
// CLI: node packages/deploy/dist/generate.js [--out deploy] [--time-scale F] [--slo-spec file]
//                                            [--runbook-base-url URL] [--check]
// Writes the generated files into the output folder (deploy/ by default),
// reading the SLO spec from deploy/slo.yaml when it exists. --check writes
// nothing and exits 1 if any file on disk differs.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generate } from "./generate-all.js";
import { DEFAULT_SLO_YAML, parseSloSpecYaml } from "./slo-spec.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const HELP = `Usage: node packages/deploy/dist/generate.js [options]

Generates mlwatch's Prometheus rules (and their promtool tests), prometheus.yml,
alertmanager.yml and Grafana dashboards and provisioning.

Options:
  --out <dir>               output folder (default: deploy/ at the repository root)
  --slo-spec <file>         SLO spec YAML (default: <out>/slo.yaml if it exists, else built-in
                            defaults); a collector config with models.<name>.slo works too
  --time-scale <factor>     multiply every window and for: duration, e.g. 0.01 turns 1h into 36s
                            (for tests; promtool unit tests are only written at 1)
  --runbook-base-url <url>  prefix of runbook_url annotations (default: docs/runbooks)
  --check                   write nothing; exit 1 if a generated file differs from the one on disk
  -h, --help                show this help
`;

function main(): number {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "slo-spec": { type: "string" },
      "time-scale": { type: "string", default: "1" },
      "runbook-base-url": { type: "string" },
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = resolve(values.out ?? join(ROOT, "deploy"));
  const factor = Number(values["time-scale"]);
  if (!(factor > 0)) {
    process.stderr.write(`--time-scale must be a positive number, got ${values["time-scale"]}\n`);
    return 2;
  }
  const specPath =
    values["slo-spec"] ?? (existsSync(join(out, "slo.yaml")) ? join(out, "slo.yaml") : undefined);
  const specText = specPath ? readFileSync(specPath, "utf8") : DEFAULT_SLO_YAML;
  const specSource = specPath ? relative(ROOT, resolve(specPath)) : "the built-in SLO spec";
  const spec = parseSloSpecYaml(specText, specSource);
  const { files } = generate({
    spec,
    specSource,
    timeScale: factor,
    runbookBaseUrl: values["runbook-base-url"],
  });

  let stale = 0;
  for (const [name, content] of files) {
    const path = join(out, name);
    const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    if (current === content) continue;
    if (values.check) {
      process.stderr.write(`out of date: ${relative(process.cwd(), path)}\n`);
      stale++;
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    process.stdout.write(`wrote ${relative(process.cwd(), path)}\n`);
  }
  if (values.check && stale > 0) {
    process.stderr.write(`${stale} generated file(s) out of date: run npm run generate:deploy\n`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
