// Builds a baseline from training data in CSV (header row) or JSONL, one
// pass and constant memory: each numeric column streams into an
// exponential histogram. A column's kind is set by its first non-empty
// value; later values that do not fit are skipped and reported by line.

import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { ExpHistogram } from "@mlwatch/stats";
import { type Baseline, makeBaseline } from "./format.js";

export interface BuildOptions {
  input: string;
  model: string;
  modelVersion?: string;
  /** Only these columns (default: every numeric column). */
  features?: string[];
  /** Columns to leave out (ids, labels, timestamps). */
  exclude?: string[];
  format?: "csv" | "jsonl";
  /** Called with bytes read so far and the file size, for progress display. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export interface BuildProblem {
  line: number;
  message: string;
}

export interface BuildResult {
  baseline: Baseline;
  rows: number;
  skippedRows: number;
  skippedValues: number;
  /** Columns that held text and were left out of the baseline. */
  nonNumericColumns: string[];
  /** The first problems found (at most 20), with line numbers. */
  problems: BuildProblem[];
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). Returns null for an unterminated quote. */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = "";
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else v += line[i++];
      }
      out.push(v);
      if (i < line.length && line[i] !== ",") return null;
    } else {
      const end = line.indexOf(",", i);
      out.push(end < 0 ? line.slice(i) : line.slice(i, end));
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push("");
      return out;
    }
  }
}

type Column = { kind: "unknown" | "numeric" | "text"; hist: ExpHistogram };

export async function buildBaseline(opts: BuildOptions): Promise<BuildResult> {
  const format = opts.format ?? (/\.jsonl?$/i.test(opts.input) ? "jsonl" : "csv");
  const total = statSync(opts.input).size;
  const stream = createReadStream(opts.input, { encoding: "utf8" });
  let bytes = 0;
  stream.on("data", (chunk) => {
    bytes += Buffer.byteLength(chunk as string);
    opts.onProgress?.(bytes, total);
  });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const only = opts.features ? new Set(opts.features) : undefined;
  const exclude = new Set(opts.exclude ?? []);
  const columns = new Map<string, Column>();
  const problems: BuildProblem[] = [];
  const problem = (line: number, message: string) => {
    if (problems.length < 20) problems.push({ line, message });
  };
  let header: string[] | undefined;
  let lineNo = 0;
  let rows = 0;
  let skippedRows = 0;
  let skippedValues = 0;

  const take = (name: string, raw: unknown, line: number) => {
    if (exclude.has(name) || (only && !only.has(name))) return;
    if (raw === "" || raw === null || raw === undefined) return;
    let col = columns.get(name);
    if (!col) {
      col = { kind: "unknown", hist: new ExpHistogram() };
      columns.set(name, col);
    }
    const v =
      typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
    const numeric = Number.isFinite(v);
    if (col.kind === "unknown") col.kind = numeric ? "numeric" : "text";
    if (col.kind === "text") return;
    if (!numeric) {
      skippedValues++;
      problem(line, `column "${name}": "${String(raw).slice(0, 40)}" is not a finite number`);
      return;
    }
    col.hist.record(v);
  };

  for await (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    if (format === "csv") {
      const fields = splitCsvLine(line);
      if (!header) {
        if (!fields) throw new Error(`${opts.input}:${lineNo}: cannot parse the header row`);
        header = fields.map((f) => f.trim());
        continue;
      }
      if (!fields || fields.length !== header.length) {
        skippedRows++;
        problem(
          lineNo,
          fields ? `expected ${header.length} fields, found ${fields.length}` : "unterminated quoted field",
        );
        continue;
      }
      rows++;
      for (let i = 0; i < header.length; i++) take(header[i], fields[i], lineNo);
    } else {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        skippedRows++;
        problem(lineNo, "not valid JSON");
        continue;
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
        skippedRows++;
        problem(lineNo, "not a JSON object");
        continue;
      }
      rows++;
      for (const [k, v] of Object.entries(obj)) take(k, v, lineNo);
    }
  }
  const features: Record<string, ExpHistogram> = {};
  const nonNumericColumns: string[] = [];
  for (const [name, col] of columns) {
    if (col.kind === "numeric" && col.hist.count > 0) features[name] = col.hist;
    else if (col.kind === "text") nonNumericColumns.push(name);
  }
  if (only) {
    for (const f of only)
      if (!features[f]) throw new Error(`feature "${f}" has no numeric values in ${opts.input}`);
  }
  if (Object.keys(features).length === 0)
    throw new Error(`${opts.input} has no numeric column to build a baseline from`);
  const baseline = makeBaseline({
    model: opts.model,
    modelVersion: opts.modelVersion,
    features,
    source: { file: opts.input, rows, skippedRows },
  });
  return { baseline, rows, skippedRows, skippedValues, nonNumericColumns, problems };
}
