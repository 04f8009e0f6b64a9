// Alert annotations as a tiny template language that renders two ways: to
// the Go template Prometheus evaluates, and to the text Prometheus will
// produce for given labels and value — so the generated promtool tests can
// state the exact annotations they expect.

export type ValueFormat = "percent" | "duration" | "fixed1" | "fixed2";

export type TemplatePart =
  | string
  | { label: string }
  | { value: ValueFormat }
  /** The model's latency objective, looked up with the template `query` function. */
  | { latencyObjective: string }
  /** The feature's effective drift threshold for a severity (a threshold metric by severity label). */
  | { driftThreshold: { metric: string; severity: string } }
  /** The ranges that moved most (a top-range metric: rank, range, baseline_share labels; value the current share). */
  | { driftMoved: string };
export type Template = readonly TemplatePart[];

/** One row of a top-range metric, as the template reads it. */
export interface MovedRow {
  rank: string;
  range: string;
  baselineShare: string;
  current: number;
}

/** Values a template looks up besides labels and $value (for rendering expectations). */
export interface TemplateLookups {
  latencyObjective?: number;
  driftThreshold?: number;
  driftMoved?: MovedRow[];
}

const GO_FORMAT: Record<ValueFormat, string> = {
  percent: "{{ $value | humanizePercentage }}",
  duration: "{{ $value | humanizeDuration }}",
  fixed1: '{{ printf "%.1f" $value }}',
  fixed2: '{{ printf "%.2f" $value }}',
};

/** The Go text/template Prometheus evaluates for an annotation. */
export function toGoTemplate(t: Template): string {
  return t
    .map((p) => {
      if (typeof p === "string") return p;
      if ("label" in p) return `{{ $labels.${p.label} }}`;
      if ("value" in p) return GO_FORMAT[p.value];
      if ("driftThreshold" in p) {
        const { metric, severity } = p.driftThreshold;
        const q = `max(${metric}{model_name=%q,feature_name=%q,severity="${severity}"})`;
        return `{{ with printf \`${q}\` $labels.model_name $labels.feature_name | query }}{{ . | first | value | printf "%.2f" }}{{ end }}`;
      }
      if ("driftMoved" in p) {
        const q = `${p.driftMoved}{model_name=%q,feature_name=%q}`;
        return (
          `{{ range printf \`${q}\` $labels.model_name $labels.feature_name | query | sortByLabel "rank" }}` +
          "{{ .Labels.feature_name }}: {{ .Value | humanizePercentage }} of values now in {{ .Labels.range }}, baseline {{ .Labels.baseline_share | humanizePercentage }}. {{ end }}"
        );
      }
      const q = `min(${p.latencyObjective}{model_name=%q})`;
      return `{{ with printf "${q}" $labels.model_name | query }}{{ . | first | value | humanizeDuration }}{{ end }}`;
    })
    .join("");
}

/** The text Prometheus renders for `t` with these labels and value. */
export function renderTemplate(
  t: Template,
  labels: Record<string, string>,
  value: number,
  lookups: TemplateLookups = {},
): string {
  return t
    .map((p) => {
      if (typeof p === "string") return p;
      if ("label" in p) return labels[p.label] ?? "";
      if ("latencyObjective" in p)
        return lookups.latencyObjective === undefined ? "" : humanizeDuration(lookups.latencyObjective);
      if ("driftThreshold" in p)
        return lookups.driftThreshold === undefined ? "" : lookups.driftThreshold.toFixed(2);
      if ("driftMoved" in p)
        return [...(lookups.driftMoved ?? [])]
          .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
          .map(
            (m) =>
              `${labels.feature_name ?? ""}: ${humanizePercentage(m.current)} of values now in ${m.range}, baseline ${humanizePercentage(Number(m.baselineShare))}. `,
          )
          .join("");
      return formatValue(p.value, value);
    })
    .join("");
}

function formatValue(f: ValueFormat, value: number): string {
  if (f === "percent") return humanizePercentage(value);
  if (f === "duration") return humanizeDuration(value);
  return value.toFixed(f === "fixed1" ? 1 : 2);
}

/** Go's fmt "%.<prec>g" (shortest of %e and %f at prec significant digits, trailing zeros removed). */
export function goFormatG(v: number, prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  if (v === 0) return "0";
  const [mantissa, expText] = v.toExponential(prec - 1).split("e");
  const exp = Number(expText);
  const trim = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (exp < -4 || exp >= prec) {
    const e = Math.abs(exp);
    return `${trim(mantissa)}e${exp < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
  }
  return trim(v.toFixed(Math.max(0, prec - 1 - exp)));
}

/** Prometheus's humanizePercentage: the ratio times 100 with four significant digits. */
export function humanizePercentage(v: number): string {
  return `${goFormatG(v * 100, 4)}%`;
}

/** Prometheus's humanizeDuration for a number of seconds. */
export function humanizeDuration(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) return goFormatG(v, 4);
  if (v === 0) return "0s";
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? "-" : "";
    const a = Math.abs(v);
    const whole = Math.trunc(a);
    const seconds = whole % 60;
    const minutes = Math.trunc(whole / 60) % 60;
    const hours = Math.trunc(whole / 3600) % 24;
    const days = Math.trunc(whole / 86_400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goFormatG(a, 4)}s`;
  }
  let x = v;
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(x) >= 1) break;
    prefix = p;
    x *= 1000;
  }
  return `${goFormatG(x, 4)}${prefix}s`;
}
