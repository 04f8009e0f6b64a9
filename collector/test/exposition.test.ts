import { describe, expect, it } from "vitest";
import { Exposition, formatValue } from "../src/export/exposition.js";

describe("Exposition", () => {
  it("escapes label values and help text as the text format requires", () => {
    const x = new Exposition();
    x.family("m_total", "counter", 'help with \\ and\nnewline and "quotes"');
    x.sample("m_total", { a: 'x"y', b: "back\\slash", c: "new\nline" }, 1);
    expect(x.toString()).toBe(
      [
        '# HELP m_total help with \\\\ and\\nnewline and "quotes"',
        "# TYPE m_total counter",
        'm_total{a="x\\"y",b="back\\\\slash",c="new\\nline"} 1',
        "",
      ].join("\n"),
    );
  });

  it("writes classic histograms as cumulative buckets ending in +Inf, with sum and count", () => {
    const x = new Exposition();
    x.family("h", "histogram", "h");
    x.histogram("h", { m: "a" }, [0.1, 1], [2, 3, 5], 7.5);
    expect(x.toString()).toContain(
      'h_bucket{m="a",le="0.1"} 2\nh_bucket{m="a",le="1"} 5\nh_bucket{m="a",le="+Inf"} 10\nh_sum{m="a"} 7.5\nh_count{m="a"} 10',
    );
  });

  it("refuses to write a family twice, which would break grouping", () => {
    const x = new Exposition();
    x.family("a", "gauge", "a");
    expect(() => x.family("a", "gauge", "a")).toThrow(/twice/);
  });

  it("formats special values", () => {
    expect(formatValue(Number.NaN)).toBe("NaN");
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf");
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf");
    expect(formatValue(1e-7)).toBe("1e-7");
  });
});
