// Prometheus durations ("5m", "1h30m", "250ms") and the time scale that
// compresses every window and `for:` so that tests can run the very rules
// that ship, minutes becoming seconds.

const UNITS: ReadonlyArray<[string, number]> = [
  ["y", 365 * 86_400],
  ["w", 7 * 86_400],
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
  ["ms", 0.001],
];

const TOKEN = /(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)/y;

/** Seconds in a Prometheus duration such as "30d", "1h30m" or "500ms" (decimals allowed here, e.g. "1.5h"). */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "") throw new Error("empty duration");
  let total = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < s.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(s);
    if (!m) throw new Error(`invalid duration "${text}" at "${s.slice(at)}": use e.g. 30s, 5m, 1h30m, 30d`);
    const unit = UNITS.find(([u]) => u === m[2])!;
    total += Number(m[1]) * unit[1];
  }
  return total;
}

/**
 * The shortest Prometheus duration for a number of seconds, in whole
 * milliseconds: 300 → "5m", 864 → "14m24s", 0.6 → "600ms".
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`cannot format duration ${seconds}`);
  let ms = Math.round(seconds * 1000);
  if (ms === 0) return "0s";
  let out = "";
  for (const [unit, size] of UNITS) {
    if (unit === "y" || unit === "w") continue; // days read better than weeks in rules and docs
    const unitMs = Math.round(size * 1000);
    const n = Math.floor(ms / unitMs);
    if (n > 0) {
      out += `${n}${unit}`;
      ms -= n * unitMs;
    }
  }
  return out;
}

/** Multiplies durations by a factor (1 = production; 0.01 turns an hour into 36 s). */
export class TimeScale {
  constructor(readonly factor: number) {
    if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`time scale must be > 0, got ${factor}`);
  }

  /** Scaled seconds of a duration. */
  seconds(d: string): number {
    return parseDuration(d) * this.factor;
  }

  /** A duration scaled and written back in Prometheus syntax; never shorter than 1 ms. */
  d(d: string): string {
    const s = this.seconds(d);
    if (s > 0 && s < 0.001) throw new Error(`duration ${d} scaled by ${this.factor} is below 1ms`);
    return formatDuration(s);
  }
}
