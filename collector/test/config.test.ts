import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/config/config.js";

describe("config", () => {
  it("fills every default from an empty file", () => {
    const c = parseConfig(null);
    expect(c.otlp.port).toBe(4318);
    expect(c.query.port).toBe(9464);
    expect(c.otlp.host).toBe("127.0.0.1");
    expect(c.export.latencyBuckets).toEqual([0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10]);
    expect(c.analysis.drift.thresholds).toEqual({ info: 0.1, warning: 0.15, critical: 0.25 });
  });

  it("names the offending key", () => {
    expect(() => parseConfig({ otlp: { port: "x" } })).toThrow(/otlp\.port/);
    expect(() => parseConfig({ windows: { slotSeconds: 10, analysisSeconds: 5 } })).toThrow(
      /windows\.analysisSeconds/,
    );
    expect(() => parseConfig({ export: { latencyBuckets: [1, 0.5] } })).toThrow(/export\.latencyBuckets/);
    expect(() => parseConfig({ analysis: { drift: { thresholds: { info: 0.3 } } } })).toThrow(
      /analysis\.drift\.thresholds/,
    );
  });

  it("rejects unknown keys, so a typo does not pass silently", () => {
    expect(() => parseConfig({ otlp: { prot: 1 } })).toThrow(ConfigError);
    expect(() => parseConfig({ windowz: {} })).toThrow(/windowz/);
  });
});
