#!/usr/bin/env node
// The `mlwatch` command: run the collector; build, push and list baselines.

import { readFileSync, writeFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
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

// `npm run mlwatch -- …` runs the CLI from the repository root; paths the user typed are
// relative to where they stand, which npm passes as INIT_CWD.
if (process.env.npm_lifecycle_event === "mlwatch" && process.env.INIT_CWD)
  process.chdir(process.env.INIT_CWD);

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** "1 row", "3 rows". */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Prints a usage error (a misconfiguration, not a failure at run time) and exits 2. */
function usage(message: string): never {
  console.error(`mlwatch: ${message}`);
  process.exit(2);
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
  .version(version)
  .showHelpAfterError();

program
  .command("collector")
  .description(
    "run the collector: OTLP/HTTP in, drift analysis, Prometheus /metrics, JSON API and status page out",
  )
  .option("-c, --config <file>", "YAML config file (every key optional; see docs/collector.md)")
  .option("--otlp-port <port>", "OTLP/HTTP listener port (default 4318)", port)
  .option("--port <port>", "query listener port: /metrics, API, status page (default 9464)", port)
  .option("--baselines <dir>", "folder of baseline JSON files imported at start (must exist)")
  .option(
    "--db <file>",
    "SQLite file for baselines and checkpoints, in a folder that exists (default .mlwatch/collector.db)",
  )
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
      let listening: Awaited<ReturnType<Collector["start"]>>;
      let collector: Collector;
      try {
        collector = new Collector(config);
        listening = await collector.start();
      } catch (e) {
        console.error(`mlwatch: cannot start the collector: ${(e as Error).message}`);
        // A path the flags or config name wrongly is a configuration error, like an invalid config file.
        process.exit(e instanceof ConfigError ? 2 : 1);
      }
      const shutdown = (signal: string) => {
        console.error(`mlwatch collector: ${signal}, shutting down`);
        collector.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      // Before the line below: whoever reads it may signal at once, and a signal with no handler yet kills.
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      // One line a machine can read, for scripts and tests that start the collector on port 0.
      console.log(JSON.stringify({ event: "listening", ...listening }));
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
  .addOption(
    new Option("--format <format>", "csv or jsonl (default: from the file name)").choices(["csv", "jsonl"]),
  )
  .option("--confidence-column <name>", "column with the model's confidence (0-1), for concept drift")
  .option("--class-column <name>", "column with the predicted class, for concept drift")
  .option(
    "--label-column <name>",
    "column with the true label; needs --class-column, gives the reference accuracy",
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
        const of = opts.modelVersion ? `${opts.model} version ${opts.modelVersion}` : opts.model;
        console.error(
          `baseline for ${of}: ${count(r.rows, "row")}, ${count(names.length, "feature")} (${names.join(", ")}) → ${opts.out}`,
        );
        const b = r.baseline;
        if (b.confidence || b.classes) {
          const parts = [
            b.confidence && `confidence from ${opts.confidenceColumn}`,
            b.classes &&
              `${count(Object.keys(b.classes).length, "class", "classes")} from ${opts.classColumn}`,
            b.referenceAccuracy !== undefined &&
              `reference accuracy ${(b.referenceAccuracy * 100).toFixed(1)} % against ${opts.labelColumn}`,
          ];
          console.error(`model outputs: ${parts.filter(Boolean).join(", ")}`);
        }
        if (r.skippedRows || r.skippedValues) {
          console.error(`skipped ${count(r.skippedRows, "row")} and ${count(r.skippedValues, "value")}:`);
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

/** The collector's query address from --url, or a usage error naming it. */
function queryUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    usage(`--url ${raw}: not a URL (example: http://127.0.0.1:9464)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") usage(`--url ${raw}: use http:// or https://`);
  return raw.replace(/\/+$/, "");
}

/**
 * A request to the collector's query API; exits 1 with a message that points
 * at the cause when there is no collector, or when the address is its OTLP port.
 */
async function callCollector(url: string, init?: RequestInit): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    // fetch says "fetch failed"; the reason is in its cause (an AggregateError when both IPv4 and IPv6 were tried).
    const cause = (e as { cause?: { code?: string; errors?: Array<{ code?: string }>; message?: string } })
      .cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code;
    const where = new URL(url).host;
    if (code === "ECONNREFUSED")
      console.error(`mlwatch: connection refused at ${where}: is the collector running? (mlwatch collector)`);
    else if (code === "ENOTFOUND") console.error(`mlwatch: host not found: ${new URL(url).hostname}`);
    else console.error(`mlwatch: cannot reach ${url}: ${cause?.message ?? (e as Error).message}`);
    process.exit(1);
  }
  const text = await res.text();
  if (!res.ok) {
    // The OTLP receiver answers every path but its own two with a 404 that says where the API is.
    if (text.includes("OTLP/HTTP port"))
      console.error(
        `mlwatch: ${new URL(url).host} is the collector's OTLP port, not its API: ${errorOf(text)}`,
      );
    else console.error(`mlwatch: collector answered ${res.status}: ${errorOf(text)}`);
    process.exit(1);
  }
  return text;
}

/** The message of a JSON error answer (the API's `error`, OTLP's `message`), else the text itself. */
function errorOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const e = body.error ?? body.message;
    if (typeof e === "string") return e;
  } catch {}
  return text.trim();
}

baseline
  .command("push")
  .description("upload a baseline file to a running collector")
  .requiredOption("-f, --file <file>", "baseline JSON built by `mlwatch baseline build`")
  .option("--url <url>", "collector query address", "http://127.0.0.1:9464")
  .action(async (opts: { file: string; url: string }) => {
    const base = queryUrl(opts.url);
    let b: ReturnType<typeof parseBaseline>;
    try {
      b = parseBaseline(JSON.parse(readFileSync(opts.file, "utf8")));
    } catch (e) {
      console.error(`mlwatch: ${opts.file}: ${(e as Error).message}`);
      process.exit(1);
    }
    // A versioned baseline is addressed to its version, so it cannot replace the model's default one.
    const query = b.modelVersion !== undefined ? `?version=${encodeURIComponent(b.modelVersion)}` : "";
    const url = `${base}/api/v1/baselines/${encodeURIComponent(b.model)}${query}`;
    const text = await callCollector(url, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(b),
    });
    const of =
      b.modelVersion !== undefined
        ? `${b.model} version ${b.modelVersion}`
        : `${b.model} (no version: the model's default)`;
    console.error(`pushed baseline for ${of} to ${base}`);
    let answer: { warnings?: unknown };
    try {
      answer = JSON.parse(text) as { warnings?: unknown };
    } catch {
      answer = {};
    }
    if (Array.isArray(answer.warnings)) for (const w of answer.warnings) console.error(`  warning: ${w}`);
  });

baseline
  .command("list")
  .description("print the baselines a running collector holds, as one JSON line on stdout")
  .option("--url <url>", "collector query address", "http://127.0.0.1:9464")
  .action(async (opts: { url: string }) => {
    const text = await callCollector(`${queryUrl(opts.url)}/api/v1/baselines`);
    console.log(JSON.stringify(JSON.parse(text)));
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`mlwatch: ${e.message}`);
  process.exit(1);
});
