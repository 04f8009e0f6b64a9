// Builds a baseline from training data in CSV (header row) or JSONL, one
// pass and bounded memory: each numeric column streams into an exponential
// histogram, each text column into category counts (up to a cap). A
// column's kind is set by its first non-empty value; later values that do
// not fit are skipped and reported by line. Optional columns carry the
// model's confidence, predicted class and true label.

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
  /** A text column with more distinct values than this is not a categorical feature (default 100). */
  maxCategories?: number;
  /** Column with the model's confidence on each row, for the concept-drift baseline. */
  confidenceColumn?: string;
  /** Column with the predicted class, for the class-distribution baseline. */
  classColumn?: string;
  /** Column with the true label; with classColumn it gives the reference accuracy. */
  labelColumn?: string;
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
  /** Text columns with more distinct values than `maxCategories`, left out as ids or free text. */
  droppedColumns: string[];
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

type Column = {
  kind: "unknown" | "numeric" | "categorical" | "high_cardinality";
  hist: ExpHistogram;
  categories: Map<string, number>;
};

/**
 * Errors name the `mlwatch baseline build` option at fault, so that a
 * misspelt column stops the build instead of silently leaving out a part.
 */
export async function buildBaseline(opts: BuildOptions): Promise<BuildResult> {
  if (opts.labelColumn && !opts.classColumn) {
    throw new Error(
      `--label-column needs --class-column: the reference accuracy compares the label with the predicted class`,
    );
  }
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
  /** Every column name met (CSV header, or any JSONL key), to tell a misspelt option from an empty column. */
  const seen = new Set<string>();
  let lineNo = 0;
  let rows = 0;
  let skippedRows = 0;
  let skippedValues = 0;

  const maxCategories = opts.maxCategories ?? 100;
  const confidence = new ExpHistogram();
  const classes: Record<string, number> = Object.create(null);
  let labelled = 0;
  let correct = 0;
  const roles = new Set([opts.confidenceColumn, opts.classColumn, opts.labelColumn].filter(Boolean));

  /** Model outputs and labels named by the options feed the concept-drift and accuracy parts, not features. */
  const takeRow = (get: (name: string) => unknown, line: number) => {
    if (opts.confidenceColumn) {
      const c = Number(get(opts.confidenceColumn));
      if (Number.isFinite(c) && c >= 0 && c <= 1) confidence.record(c);
      else if (get(opts.confidenceColumn) !== undefined) {
        skippedValues++;
        problem(
          line,
          `confidence "${String(get(opts.confidenceColumn)).slice(0, 40)}" is not a number in [0, 1]`,
        );
      }
    }
    const predicted = opts.classColumn ? get(opts.classColumn) : undefined;
    if (predicted !== undefined && predicted !== "")
      classes[String(predicted)] = (classes[String(predicted)] ?? 0) + 1;
    const label = opts.labelColumn ? get(opts.labelColumn) : undefined;
    if (predicted !== undefined && predicted !== "" && label !== undefined && label !== "") {
      labelled++;
      if (String(label) === String(predicted)) correct++;
    }
  };

  const take = (name: string, raw: unknown, line: number) => {
    if (roles.has(name) || exclude.has(name) || (only && !only.has(name))) return;
    if (raw === "" || raw === null || raw === undefined) return;
    let col = columns.get(name);
    if (!col) {
      col = { kind: "unknown", hist: new ExpHistogram(), categories: new Map() };
      columns.set(name, col);
    }
    const v =
      typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
    const numeric = Number.isFinite(v);
    if (col.kind === "unknown") col.kind = numeric ? "numeric" : "categorical";
    if (col.kind === "high_cardinality") return;
    if (col.kind === "categorical") {
      const k = String(raw);
      col.categories.set(k, (col.categories.get(k) ?? 0) + 1);
      if (col.categories.size > maxCategories) {
        // Free text or ids, not categories: no meaningful distribution to compare.
        col.kind = "high_cardinality";
        col.categories.clear();
      }
      return;
    }
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
        for (const h of header) seen.add(h);
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
      const h = header;
      for (let i = 0; i < h.length; i++) take(h[i], fields[i], lineNo);
      takeRow((name) => {
        const i = h.indexOf(name);
        return i < 0 ? undefined : fields[i];
      }, lineNo);
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
      for (const [k, v] of Object.entries(obj)) {
        seen.add(k);
        take(k, v, lineNo);
      }
      const o = obj as Record<string, unknown>;
      takeRow((name) => (Object.hasOwn(o, name) ? o[name] : undefined), lineNo);
    }
  }
  const features: Record<string, ExpHistogram> = {};
  const categorical: Record<string, Record<string, number>> = {};
  const droppedColumns: string[] = [];
  for (const [name, col] of columns) {
    if (col.kind === "numeric" && col.hist.count > 0) features[name] = col.hist;
    else if (col.kind === "categorical") categorical[name] = Object.fromEntries(col.categories);
    else if (col.kind === "high_cardinality") droppedColumns.push(name);
  }
  const known = () => {
    const names = [...seen];
    return names.length > 12 ? `${names.slice(0, 12).join(", ")}, …` : names.join(", ");
  };
  const mustExist = (option: string, name: string) => {
    if (!seen.has(name))
      throw new Error(`${option} "${name}": ${opts.input} has no such column (columns: ${known()})`);
  };
  for (const f of opts.exclude ?? []) mustExist("--exclude", f);
  for (const f of only ?? []) {
    mustExist("--features", f);
    if (!features[f] && !categorical[f])
      throw new Error(`--features: feature "${f}" has no usable values in ${opts.input}`);
  }
  if (opts.confidenceColumn) {
    mustExist("--confidence-column", opts.confidenceColumn);
    if (confidence.count === 0)
      throw new Error(
        `--confidence-column "${opts.confidenceColumn}" has no value in [0, 1] in ${opts.input}`,
      );
  }
  if (opts.classColumn) {
    mustExist("--class-column", opts.classColumn);
    if (Object.keys(classes).length === 0)
      throw new Error(`--class-column "${opts.classColumn}" has no value in ${opts.input}`);
  }
  if (opts.labelColumn) {
    mustExist("--label-column", opts.labelColumn);
    if (labelled === 0)
      throw new Error(
        `--label-column "${opts.labelColumn}": no row of ${opts.input} has both a label and a predicted class`,
      );
  }
  if (Object.keys(features).length + Object.keys(categorical).length === 0 && confidence.count === 0) {
    throw new Error(`${opts.input} has no column to build a baseline from`);
  }
  const baseline = makeBaseline({
    model: opts.model,
    modelVersion: opts.modelVersion,
    features,
    categorical,
    confidence: confidence.count > 0 ? confidence : undefined,
    classes: Object.keys(classes).length > 0 ? { ...classes } : undefined,
    referenceAccuracy: labelled > 0 ? correct / labelled : undefined,
    source: { origin: "build", file: opts.input, rows, skippedRows },
  });
  return { baseline, rows, skippedRows, skippedValues, droppedColumns, problems };
}
