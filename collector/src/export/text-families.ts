// Reads the collector's own text exposition (format 0.0.4) back into metric
// families, so that the protobuf exposition is a re-encoding of exactly what
// the text format says: one renderer (metrics.ts) decides names, labels and
// values, and the two formats cannot drift apart.
//
// This is a reader for well-formed output of Exposition, not a general
// Prometheus parser: it understands HELP and TYPE comments, samples with
// escaped label values, and the special values NaN, +Inf and -Inf; it has no
// timestamps because the collector writes none.

export type FamilyType = "counter" | "gauge" | "summary" | "histogram" | "untyped";

/** Label pairs in the order the text wrote them. */
export type LabelPairs = Array<[string, string]>;

export interface TextSample {
  /** The sample's own name (e.g. `x_bucket`, `x_sum` for a histogram family `x`). */
  name: string;
  labels: LabelPairs;
  value: number;
}

export interface TextFamily {
  name: string;
  help: string;
  type: FamilyType;
  samples: TextSample[];
}

const TYPES = new Set<string>(["counter", "gauge", "summary", "histogram", "untyped"]);

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\"));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function unescapeLabel(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(s: string, line: string): number {
  if (s === "+Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  if (s === "NaN") return Number.NaN;
  const v = Number(s);
  if (s === "" || Number.isNaN(v)) throw new Error(`text exposition: bad value in line: ${line}`);
  return v;
}

/** Parses `name{a="x",b="y"} value`, with \\, \" and \n escapes in label values. */
function parseSample(line: string): TextSample {
  let i = 0;
  while (i < line.length && line[i] !== "{" && line[i] !== " ") i++;
  const name = line.slice(0, i);
  const labels: LabelPairs = [];
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      if (i >= line.length) throw new Error(`text exposition: unterminated labels in line: ${line}`);
      const eq = line.indexOf("=", i);
      if (eq < 0 || line[eq + 1] !== '"') throw new Error(`text exposition: bad label in line: ${line}`);
      const key = line.slice(i, eq);
      const start = eq + 2;
      let j = start;
      let escaped = false;
      for (;;) {
        const c = line.charCodeAt(j);
        if (Number.isNaN(c)) throw new Error(`text exposition: unterminated label value in line: ${line}`);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const raw = line.slice(start, j);
      labels.push([key, escaped ? unescapeLabel(raw) : raw]);
      i = j + 1;
      if (line[i] === ",") i++;
    }
    i++;
  }
  if (line[i] !== " ") throw new Error(`text exposition: expected a space before the value in line: ${line}`);
  return { name, labels, value: parseValue(line.slice(i + 1).trim(), line) };
}

/** Splits a text exposition into families, in order. Samples before any TYPE line form untyped families. */
export function parseTextFamilies(text: string): TextFamily[] {
  const out: TextFamily[] = [];
  let current: TextFamily | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) {
      const rest = line.slice(7);
      const sp = rest.indexOf(" ");
      pendingHelp =
        sp < 0
          ? { name: rest, help: "" }
          : { name: rest.slice(0, sp), help: unescapeHelp(rest.slice(sp + 1)) };
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      current = {
        name,
        help: pendingHelp?.name === name ? pendingHelp.help : "",
        type: TYPES.has(type) ? (type as FamilyType) : "untyped",
        samples: [],
      };
      pendingHelp = undefined;
      out.push(current);
      continue;
    }
    if (line.startsWith("#")) continue;
    const s = parseSample(line);
    if (!current || !belongsTo(s.name, current)) {
      current = { name: s.name, help: "", type: "untyped", samples: [] };
      out.push(current);
    }
    current.samples.push(s);
  }
  return out;
}

function belongsTo(sample: string, f: TextFamily): boolean {
  if (sample === f.name) return true;
  if (f.type === "histogram")
    return sample === `${f.name}_bucket` || sample === `${f.name}_sum` || sample === `${f.name}_count`;
  if (f.type === "summary") return sample === `${f.name}_sum` || sample === `${f.name}_count`;
  return false;
}
