// Prometheus text exposition format 0.0.4, written by hand: the JS
// Prometheus exporter drops exponential histograms, and the collector's
// families (re-exported RED, analysis results) are its own anyway.

export type PromType = "counter" | "gauge" | "histogram" | "summary" | "untyped";
export type Labels = Readonly<Record<string, string>>;

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const k in labels) {
    if (!LABEL_NAME.test(k)) continue;
    parts.push(`${k}="${escapeLabelValue(labels[k])}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Collects families and renders them grouped, each with one HELP and TYPE line. */
export class Exposition {
  private readonly out: string[] = [];
  private readonly seen = new Set<string>();

  /** Starts a family; all of its samples must follow before the next family starts. */
  family(name: string, type: PromType, help: string): this {
    if (this.seen.has(name)) throw new Error(`metric family ${name} written twice`);
    this.seen.add(name);
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number, extra?: [string, string]): this {
    this.out.push(`${name}${formatLabels(labels, extra)} ${formatValue(value)}`);
    return this;
  }

  /** A classic histogram: per-bucket (non-cumulative) counts for the given upper bounds, then +Inf. */
  histogram(
    name: string,
    labels: Labels,
    bounds: readonly number[],
    counts: ArrayLike<number>,
    sum: number,
  ): this {
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i];
      this.sample(`${name}_bucket`, labels, cumulative, ["le", formatValue(bounds[i])]);
    }
    cumulative += counts[bounds.length];
    this.sample(`${name}_bucket`, labels, cumulative, ["le", "+Inf"]);
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, cumulative);
    return this;
  }

  toString(): string {
    return this.out.length ? `${this.out.join("\n")}\n` : "";
  }
}
