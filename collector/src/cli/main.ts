#!/usr/bin/env node
// The `mlwatch` command: run the collector, build and push baselines.

import { readFileSync, writeFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { buildBaseline } from "../baselines/build.js";
import { parseBaseline } from "../baselines/format.js";
import { Collector } from "../collector.js";
import { type Config, ConfigError, loadConfigFile, parseConfig } from "../config/config.js";

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

function list(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Draws a progress bar on stderr when it is a terminal. */
function progressBar(label: string): { update(done: number, total: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    update(done, total) {
      if (!tty || total <= 0) return;
      const pct = Math.min(100, Math.floor((done / total) * 100));
      if (pct === last) return;
      last = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct}%`);
    },
    done() {
      if (tty && last >= 0) process.stderr.write("\n");
    },
  };
}

const program = new Command("mlwatch")
  .description("OpenTelemetry-native monitoring for machine-learning models")
  .showHelpAfterError();

program
  .command("collector")
  .description(
    "run the collector: OTLP/HTTP in, drift analysis, Prometheus /metrics, JSON API and status page out",
  )
  .option("-c, --config <file>", "YAML config file (every key optional; see docs/collector.md)")
  .option("--otlp-port <port>", "OTLP/HTTP listener port (default 4318)", port)
  .option("--port <port>", "query listener port: /metrics, API, status page (default 9464)", port)
  .option("--baselines <dir>", "folder of baseline JSON files imported at start")
  .option("--db <file>", "SQLite file for baselines and checkpoints (default .mlwatch/collector.db)")
  .action(
    async (opts: { config?: string; otlpPort?: number; port?: number; baselines?: string; db?: string }) => {
      let config: Config;
      try {
        config = opts.config ? loadConfigFile(opts.config) : parseConfig({});
      } catch (e) {
        if (e instanceof ConfigError) {
          console.error(`mlwatch: ${e.message}`);
          process.exit(2);
        }
        throw e;
      }
      if (opts.otlpPort !== undefined) config.otlp.port = opts.otlpPort;
      if (opts.port !== undefined) config.query.port = opts.port;
      if (opts.baselines) config.baselines.dir = opts.baselines;
      if (opts.db) config.storage.path = opts.db;
      let collector: Collector;
      let listening: Awaited<ReturnType<Collector["start"]>>;
      try {
        collector = new Collector(config);
        listening = await collector.start();
      } catch (e) {
        console.error(`mlwatch: cannot start the collector: ${(e as Error).message}`);
        // A path the flags or config name wrongly is a configuration error, like an invalid config file.
        process.exit(e instanceof ConfigError ? 2 : 1);
      }
      // One line a machine can read, for scripts and tests that start the collector on port 0.
      console.log(JSON.stringify({ event: "listening", ...listening }));
      const shutdown = (signal: string) => {
        console.error(`mlwatch collector: ${signal}, shutting down`);
        collector.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    },
  );

const baseline = program
  .command("baseline")
  .description("build and manage the reference distributions drift is measured against");

baseline
  .command("build")
  .description("build a baseline from training data (CSV with a header row, or JSONL)")
  .requiredOption("-i, --input <file>", "training data: .csv or .jsonl")
  .requiredOption("-m, --model <name>", "model name, as the SDK reports it")
  .requiredOption("-o, --out <file>", "where to write the baseline JSON")
  .option("--model-version <version>", "model version the baseline belongs to")
  .option("--features <names>", "comma-separated columns to include (default: every column)", list)
  .option("--exclude <names>", "comma-separated columns to leave out", list)
  .option("--format <format>", "csv or jsonl (default: from the file name)")
  .option("--confidence-column <name>", "column with the model's confidence (0-1), for concept drift")
  .option("--class-column <name>", "column with the predicted class, for concept drift")
  .option(
    "--label-column <name>",
    "column with the true label; with --class-column gives the reference accuracy",
  )
  .option(
    "--max-categories <n>",
    "text columns with more distinct values are left out (default 100)",
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
      return n;
    },
  )
  .action(
    async (opts: {
      input: string;
      model: string;
      out: string;
      modelVersion?: string;
      features?: string[];
      exclude?: string[];
      format?: "csv" | "jsonl";
      confidenceColumn?: string;
      classColumn?: string;
      labelColumn?: string;
      maxCategories?: number;
    }) => {
      const bar = progressBar(`reading ${opts.input}`);
      try {
        const r = await buildBaseline({ ...opts, onProgress: bar.update });
        bar.done();
        writeFileSync(opts.out, `${JSON.stringify(r.baseline, null, 1)}\n`);
        const names = Object.keys(r.baseline.features);
        console.error(
          `baseline for ${opts.model}: ${r.rows} rows, ${names.length} features (${names.join(", ")}) → ${opts.out}`,
        );
        if (r.skippedRows || r.skippedValues) {
          console.error(`skipped ${r.skippedRows} rows and ${r.skippedValues} values:`);
          for (const p of r.problems) console.error(`  line ${p.line}: ${p.message}`);
        }
        if (r.droppedColumns.length) {
          console.error(
            `left out text columns with too many distinct values: ${r.droppedColumns.join(", ")}`,
          );
        }
      } catch (e) {
        bar.done();
        console.error(`mlwatch: ${(e as Error).message}`);
        process.exit(1);
      }
    },
  );

baseline
  .command("push")
  .description("upload a baseline file to a running collector")
  .requiredOption("-f, --file <file>", "baseline JSON built by `mlwatch baseline build`")
  .option("--url <url>", "collector query address", "http://127.0.0.1:9464")
  .action(async (opts: { file: string; url: string }) => {
    let b: ReturnType<typeof parseBaseline>;
    try {
      b = parseBaseline(JSON.parse(readFileSync(opts.file, "utf8")));
    } catch (e) {
      console.error(`mlwatch: ${opts.file}: ${(e as Error).message}`);
      process.exit(1);
    }
    const url = `${opts.url.replace(/\/+$/, "")}/api/v1/baselines/${encodeURIComponent(b.model)}`;
    try {
      const res = await fetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(b),
      });
      const text = await res.text();
      if (!res.ok) {
        console.error(`mlwatch: collector answered ${res.status}: ${text}`);
        process.exit(1);
      }
      console.error(`pushed baseline for ${b.model} to ${opts.url}`);
    } catch (e) {
      console.error(`mlwatch: cannot reach ${url}: ${(e as Error).message}`);
      process.exit(1);
    }
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`mlwatch: ${e.message}`);
  process.exit(1);
});
