// The `mlwatch` command as a user meets it: the built CLI run as a child
// process from a folder of the user's own, against a real collector. Every
// misconfiguration is refused with an exit code and a message naming the
// option at fault; network errors say what is wrong.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { CLI, type CollectorHandle, eventually, ROOT, startCollector } from "../support/processes.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end in `cwd` and returns its exit code and output. */
function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const mlwatch = (args: string[], cwd = work) => run(process.execPath, [CLI, ...args], cwd);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "mlwatch-cli-"));
  // Four rows: one bad value ("x" in a numeric column) and one short row.
  writeFileSync(
    join(work, "train.csv"),
    [
      "id,amount,score,predicted,label",
      "1,10,0.9,a,a",
      "2,12,0.8,b,a",
      "3,x,0.7,a,a",
      "4,11",
      "5,13,0.6,b,b",
    ].join("\n"),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("mlwatch --version", () => {
  it("prints the collector package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "collector/package.json"), "utf8"));
    const r = await mlwatch(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});

describe("mlwatch baseline build", () => {
  const build = (extra: string[], out = "out.baseline.json") =>
    mlwatch(["baseline", "build", "-i", "train.csv", "-m", "fraud", "-o", out, ...extra]);

  it("reports rows, features and what it skipped in the singular and plural", async () => {
    const r = await build(["--exclude", "id,score,predicted,label"], "one.json");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("baseline for fraud: 4 rows, 1 feature (amount) → one.json");
    expect(r.stderr).toContain("skipped 1 row and 1 value:");
    expect(r.stderr).toContain('line 4: column "amount": "x" is not a finite number');
    expect(existsSync(join(work, "one.json"))).toBe(true);
  });

  it("says what the model-output columns gave", async () => {
    const r = await build([
      "--exclude",
      "id",
      "--confidence-column",
      "score",
      "--class-column",
      "predicted",
      "--label-column",
      "label",
    ]);
    expect(r.code).toBe(0);
    // Labels match the predicted class on 3 of the 4 usable rows (row 3's bad amount does not drop the row).
    expect(r.stderr).toContain(
      "model outputs: confidence from score, 2 classes from predicted, reference accuracy 75.0 % against label",
    );
    const b = JSON.parse(readFileSync(join(work, "out.baseline.json"), "utf8"));
    expect(b.classes).toEqual({ a: 2, b: 2 });
    expect(b.referenceAccuracy).toBe(0.75);
  });

  it.each([
    [
      ["--class-column", "nope", "--label-column", "label"],
      /--class-column "nope": train.csv has no such column/,
    ],
    [["--label-column", "label"], /--label-column needs --class-column/],
    [
      ["--class-column", "predicted", "--label-column", "truth"],
      /--label-column "truth": train.csv has no such/,
    ],
    [["--confidence-column", "conf"], /--confidence-column "conf": train.csv has no such column/],
    [["--exclude", "idd"], /--exclude "idd": train.csv has no such column \(columns: id, amount, score/],
    [["--features", "amont"], /--features "amont": train.csv has no such column/],
    [["--format", "xml"], /--format <format>' argument 'xml' is invalid/],
  ])("refuses %j with exit 1, naming the option, and writes nothing", async (extra, message) => {
    const out = `refused-${extra[1]}.json`;
    const r = await build(extra, out);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
    expect(existsSync(join(work, out))).toBe(false);
  });

  it("in JSONL, knows a column from any row's keys", async () => {
    writeFileSync(join(work, "rows.jsonl"), '{"amount": 1}\n{"amount": 2, "predicted": "a"}\n');
    const base = ["baseline", "build", "-i", "rows.jsonl", "-m", "m", "-o", "rows.json"];
    const ok = await mlwatch([...base, "--class-column", "predicted"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(readFileSync(join(work, "rows.json"), "utf8")).classes).toEqual({ a: 1 });
    const typo = await mlwatch([...base, "--class-column", "predictd"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(
      '--class-column "predictd": rows.jsonl has no such column (columns: amount, predicted)',
    );
  });

  it("through `npm run mlwatch`, reads and writes relative to the folder the user is in", async () => {
    const sub = join(work, "sub");
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, "mine.csv"), "x\n1\n2\n");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = await run(
      npm,
      [
        "--prefix",
        ROOT,
        "run",
        "-s",
        "mlwatch",
        "--",
        "baseline",
        "build",
        "-i",
        "mine.csv",
        "-m",
        "m",
        "-o",
        "m.json",
      ],
      sub,
    );
    expect(r.stderr).toContain("→ m.json");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(sub, "m.json"), "utf8")).model).toBe("m");
  });
});

// The collector's start-up refusals (missing folders, a database it cannot open) are in collector-start.test.ts.

describe("mlwatch baseline push and list", () => {
  let collector: CollectorHandle;
  beforeAll(async () => {
    collector = await startCollector();
    await mlwatch([
      "baseline",
      "build",
      "-i",
      "train.csv",
      "-m",
      "fraud",
      "--model-version",
      "7",
      "--features",
      "amount",
      "-o",
      "v7.json",
    ]);
    await mlwatch([
      "baseline",
      "build",
      "-i",
      "train.csv",
      "-m",
      "fraud",
      "--features",
      "amount",
      "-o",
      "default.json",
    ]);
  });
  afterAll(() => collector?.close());

  it("says connection refused when no collector listens", async () => {
    const port = await freePort();
    const r = await mlwatch(["baseline", "push", "-f", "v7.json", "--url", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`connection refused at 127.0.0.1:${port}: is the collector running?`);
  });

  it("says so when the address is the collector's OTLP port", async () => {
    const r = await mlwatch(["baseline", "push", "-f", "v7.json", "--url", collector.otlp]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${new URL(collector.otlp).host} is the collector's OTLP port, not its API`);
    expect(r.stderr).toContain(`are on port ${new URL(collector.query).port}`);
  });

  it("refuses a --url that is not one, exit 2", async () => {
    const r = await mlwatch(["baseline", "list", "--url", "9464"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--url 9464: not a URL");
  });

  it("pushes a versioned baseline to its version, not over the model's default, and says which", async () => {
    const r = await mlwatch(["baseline", "push", "-f", "v7.json", "--url", collector.query]);
    expect(r.stderr).toContain(`pushed baseline for fraud version 7 to ${collector.query}`);
    expect(r.code).toBe(0);
    expect((await fetch(`${collector.query}/api/v1/baselines/fraud?version=7`)).status).toBe(200);
    expect((await fetch(`${collector.query}/api/v1/baselines/fraud`)).status).toBe(404);

    const d = await mlwatch(["baseline", "push", "-f", "default.json", "--url", collector.query]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain("pushed baseline for fraud (no version: the model's default)");

    const list = await mlwatch(["baseline", "list", "--url", collector.query]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const versions = JSON.parse(lines[0]).baselines.map(
      (b: { model: string; modelVersion: string | null }) => `${b.model} ${b.modelVersion ?? "(default)"}`,
    );
    expect(versions.sort()).toEqual(["fraud (default)", "fraud 7"]);
  });

  it("prints the collector's warnings about features the model reports without a baseline", async () => {
    const monitoring = startMonitoring({
      endpoint: collector.otlp,
      exportIntervalMillis: 60_000,
      registerGlobal: false,
    });
    const monitor = new ModelMonitor({ modelName: "fraud", meter: monitoring.meterProvider.getMeter("cli") });
    monitor.recordPrediction({ predictedClass: "a", confidence: 0.9, features: { amount: 10, country: 3 } });
    await monitoring.forceFlush();
    await monitoring.shutdown();
    const r = await eventually(async () => {
      const p = await mlwatch(["baseline", "push", "-f", "default.json", "--url", collector.query]);
      return p.stderr.includes("warning:") && p;
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('  warning: the model reports feature "country", which has no baseline');
  });
});
