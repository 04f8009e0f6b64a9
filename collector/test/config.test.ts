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

  it("drift calibration: 0.1 false alarms per 30 days and a warm-up of the whole window by default, validated by key", async () => {
    const { calibrationOf } = await import("../src/analysis/snapshot.js");
    const d = parseConfig(null);
    expect(d.analysis.drift.falseAlarmsPer30Days).toBe(0.1);
    expect(d.analysis.drift.warmupSeconds).toBeUndefined();
    const cal = calibrationOf(d);
    expect(cal.warmupMs).toBe(d.windows.analysisSeconds * 1000);
    // A test every 5 s: 518 400 tests in 30 days share the 0.1 expected false alarms.
    expect(cal.alpha * ((30 * 86_400) / d.analysis.intervalSeconds)).toBeCloseTo(0.1, 12);
    const c = parseConfig({ analysis: { drift: { falseAlarmsPer30Days: 1, warmupSeconds: 60 } } });
    expect(calibrationOf(c).warmupMs).toBe(60_000);
    expect(calibrationOf(c).alpha).toBeCloseTo(cal.alpha * 10, 15);
    expect(() => parseConfig({ analysis: { drift: { falseAlarmsPer30Days: 0 } } })).toThrow(
      /analysis\.drift\.falseAlarmsPer30Days/,
    );
    expect(() => parseConfig({ analysis: { drift: { warmupSeconds: -1 } } })).toThrow(
      /analysis\.drift\.warmupSeconds/,
    );
  });

  it("rejects unknown keys, so a typo does not pass silently", () => {
    expect(() => parseConfig({ otlp: { prot: 1 } })).toThrow(ConfigError);
    expect(() => parseConfig({ windowz: {} })).toThrow(/windowz/);
  });
});
