// Small helpers for writing PromQL safely.

/** A PromQL string literal (Go escaping, which JSON's matches for our purposes). */
export function str(value: string): string {
  return JSON.stringify(value);
}

/** A regular expression matching exactly one of the given strings. */
export function anyOf(values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\.^$|?*+()[\]{}]/g, "\\$&")).join("|");
}

/** `name{matchers}`; matchers like `model_name="x"` are joined with commas. */
export function sel(name: string, matchers: readonly string[] = []): string {
  const m = matchers.filter((x) => x !== "");
  return m.length === 0 ? name : `${name}{${m.join(", ")}}`;
}

export const eq = (label: string, value: string) => `${label}=${str(value)}`;
export const notIn = (label: string, values: readonly string[]) =>
  values.length === 0 ? "" : `${label}!~${str(anyOf(values))}`;

/** Shortest decimal text of a number for PromQL and YAML (no exponent for ordinary values). */
export function num(v: number): string {
  const r = Number(v.toPrecision(12));
  return String(r);
}
