// When data last arrived for a model, as the summary (and the status page)
// shows it: new values move it, an export that repeats the same cumulative
// count or only the in-flight level does not; new requests move "last
// request" too. Uses the Collector class in memory, without listeners.

import { Instruments } from "@mlwatch/semconv";
import { afterEach, describe, expect, it } from "vitest";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";
import { type MetricsRequest, Temporality } from "../src/otlp/types.js";

const attrs = (a: Record<string, string>) => Object.assign(Object.create(null), a);
/** Start of the replica's cumulative streams: after the collector was made, so their first points count. */
let START_MS = 0;

/** One export of replica "r" of model "m": cumulative counters and the in-flight level. */
function exportOf(
  timeMs: number,
  values: { requests?: number; lowConfidence?: number; inProgress?: number },
): MetricsRequest {
  const point = (value: number, extra: Record<string, string> = {}) => ({
    attributes: attrs({ "ml.model.name": "m", ...extra }),
    startTimeUnixNano: BigInt(START_MS) * 1_000_000n,
    timeUnixNano: BigInt(timeMs) * 1_000_000n,
    value,
  });
  const sum = (name: string, monotonic: boolean, value: number, extra?: Record<string, string>) => ({
    name,
    unit: "",
    description: "",
    kind: "sum" as const,
    temporality: Temporality.Cumulative,
    monotonic,
    points: [point(value, extra)],
  });
  const metrics = [];
  if (values.requests !== undefined) metrics.push(sum(Instruments.requests.name, true, values.requests));
  if (values.lowConfidence !== undefined)
    metrics.push(
      sum(Instruments.lowConfidence.name, true, values.lowConfidence, { "ml.confidence.threshold": "0.7" }),
    );
  if (values.inProgress !== undefined)
    metrics.push(sum(Instruments.inProgress.name, false, values.inProgress));
  return {
    resourceMetrics: [
      {
        resource: attrs({ "service.instance.id": "r" }),
        scopeMetrics: [{ scope: { name: "s", version: "" }, metrics }],
      },
    ],
  };
}

let c: Collector | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe("last data and last request of a model", () => {
  it("move with new values only, and a long silence becomes ModelNoData on the page", () => {
    c = new Collector(parseConfig({ storage: { path: ":memory:" } }), () => {});
    START_MS = Date.now();
    const t = START_MS + 1000;
    const last = (at: number) => {
      const s = c!.summary("m", at);
      return [s.lastDataAtMs, s.lastRequestAtMs];
    };
    c.ingestMetrics(exportOf(t, { requests: 5, inProgress: 1 }), t);
    expect(last(t)).toEqual([t, t]);
    // The same cumulative count again, and the level alone: nothing new arrived.
    c.ingestMetrics(exportOf(t + 1000, { requests: 5, inProgress: 1 }), t + 1000);
    c.ingestMetrics(exportOf(t + 2000, { inProgress: 2 }), t + 2000);
    expect(last(t + 2000)).toEqual([t, t]);
    // New values that are not requests: data, but no request.
    c.ingestMetrics(exportOf(t + 3000, { requests: 5, lowConfidence: 2 }), t + 3000);
    expect(last(t + 3000)).toEqual([t + 3000, t]);
    c.ingestMetrics(exportOf(t + 4000, { requests: 8 }), t + 4000);
    expect(last(t + 4000)).toEqual([t + 4000, t + 4000]);

    // Ten minutes without requests: the no-data rule's window. "m" has no SLO: info, healthy.
    const quiet = c.summary("m", t + 4000 + 10 * 60_000);
    expect(quiet.health.status).toBe("healthy");
    expect(quiet.health.findings.map((f) => [f.alert, f.severity, f.seen])).toEqual([
      ["ModelNoData", "info", "no requests for 10 min, past the 10 min no-data window"],
    ]);
    expect(c.summary("m", t + 4000 + 10 * 60_000 - 1).health.findings).toEqual([]);
  });

  it("a model with SLOs that falls silent is critical, as its ModelNoData pages", () => {
    c = new Collector(
      parseConfig({
        storage: { path: ":memory:" },
        models: {
          m: { slo: { objectives: [{ name: "availability", kind: "availability", target: 0.99 }] } },
        },
      }),
      () => {},
    );
    START_MS = Date.now();
    const t = START_MS + 1000;
    c.ingestMetrics(exportOf(t, { requests: 5 }), t);
    const s = c.summary("m", t + 11 * 60_000);
    expect(s.hasSlo).toBe(true);
    expect(s.health.status).toBe("critical");
    expect(s.health.findings.map((f) => [f.alert, f.severity, f.rule])).toEqual([
      ["ModelNoData", "critical", "ModelNoData (critical) fires if it stays so for 5 min"],
    ]);
  });
});
