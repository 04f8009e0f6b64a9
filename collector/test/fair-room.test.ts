// Fair room when a series family or the stream table is full (ModelStore and
// Normalizer makeRoom): a newcomer takes the room of the newest entry a flood
// sent once, counts are kept (a series given up is folded into overflow, a
// stream given up is differenced when its replica sends again), and a
// restart from the checkpoint counts nothing twice. Uses the Collector class
// with a real SQLite file, without listeners.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseExposition, sumOf } from "../../test/support/processes.js";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";
import { type MetricsRequest, Temporality } from "../src/otlp/types.js";

const attrs = (a: Record<string, string>) => Object.assign(Object.create(null), a);
let T0 = 0;

/** One request of ml.requests points: [model, endpoint, value] each, delta or cumulative, stamped at `ms`. */
function requests(
  points: Array<[string, string, number]>,
  temporality: Temporality,
  ms: number,
  instance = "r",
): MetricsRequest {
  return {
    resourceMetrics: [
      {
        resource: attrs({ "service.instance.id": instance }),
        scopeMetrics: [
          {
            scope: { name: "s", version: "" },
            metrics: [
              {
                name: "ml.requests",
                unit: "",
                description: "",
                kind: "sum",
                temporality,
                monotonic: true,
                points: points.map(([model, endpoint, value]) => ({
                  attributes: attrs({ "ml.model.name": model, "ml.endpoint": endpoint }),
                  startTimeUnixNano: BigInt(T0) * 1_000_000n,
                  timeUnixNano: BigInt(ms) * 1_000_000n,
                  value,
                })),
              },
            ],
          },
        ],
      },
    ],
  };
}

const dirs: string[] = [];
let open: Collector[] = [];
afterEach(async () => {
  for (const c of open) await c.stop().catch(() => undefined);
  open = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function collector(path: string, limits: Record<string, number>): Collector {
  const c = new Collector(parseConfig({ storage: { path }, limits }), () => {});
  open.push(c);
  // streams start after the collector was made (its memory horizon), so their first points count whole
  T0 = Date.now() + 1;
  return c;
}

function requestsOf(c: Collector, model: string): number {
  return sumOf(parseExposition(c.metricsText()), "ml_requests_total", { model_name: model });
}

describe("a full series family", () => {
  it("gives the newest series a flood sent once to a new model, folds its count into overflow, and a restart counts it once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlwatch-room-"));
    dirs.push(dir);
    const path = join(dir, "c.db");
    const c = collector(path, { maxSeriesPerMetric: 3 });
    const now = T0 + 10;
    c.ingestMetrics(
      requests(
        [
          ["a1", "/p", 1],
          ["a2", "/p", 2],
          ["a3", "/p", 4],
        ],
        Temporality.Delta,
        now,
      ),
      now,
    );
    // the family is full: a new model's series takes the room of a3, the newest sent once
    c.ingestMetrics(requests([["late", "/p", 8]], Temporality.Delta, now + 1), now + 1);
    expect(requestsOf(c, "a3")).toBe(0);
    // once it has had a second point, a flood's next names cannot take its room: they take a2's and a1's
    c.ingestMetrics(requests([["late", "/p", 8]], Temporality.Delta, now + 2), now + 2);
    c.ingestMetrics(
      requests(
        [
          ["late2", "/p", 16],
          ["late3", "/p", 32],
        ],
        Temporality.Delta,
        now + 3,
      ),
      now + 3,
    );
    c.checkpoint();
    expect(requestsOf(c, "late")).toBe(16);
    expect(requestsOf(c, "late2")).toBe(16);
    expect(requestsOf(c, "late3")).toBe(32);
    expect(requestsOf(c, "__overflow__")).toBe(1 + 2 + 4);
    const total = sumOf(parseExposition(c.metricsText()), "ml_requests_total");
    expect(total).toBe(1 + 2 + 4 + 16 + 16 + 32);
    await c.stop();
    open = [];

    const again = collector(path, { maxSeriesPerMetric: 3 });
    await again.start().catch(() => undefined);
    expect(sumOf(parseExposition(again.metricsText()), "ml_requests_total")).toBe(total);
    expect(requestsOf(again, "a3")).toBe(0);
    expect(requestsOf(again, "late")).toBe(16);
  });

  it("does not churn one model's own flood: past the cap its new label sets go to overflow", () => {
    const c = collector(":memory:", { maxSeriesPerMetric: 2 });
    const now = T0 + 10;
    c.ingestMetrics(
      requests(
        [
          ["m", "/a", 1],
          ["m", "/b", 1],
        ],
        Temporality.Delta,
        now,
      ),
      now,
    );
    c.ingestMetrics(requests([["m", "/c", 1]], Temporality.Delta, now + 1), now + 1);
    const samples = parseExposition(c.metricsText());
    expect(sumOf(samples, "ml_requests_total", { model_name: "m", endpoint: "/a" })).toBe(1);
    expect(sumOf(samples, "ml_requests_total", { model_name: "m", endpoint: "/b" })).toBe(1);
    expect(sumOf(samples, "ml_requests_total", { model_name: "__overflow__" })).toBe(1);
  });
});

describe("a full stream table", () => {
  it("takes a new model's cumulative stream by evicting the flood's newest, and counts it exactly through churn", () => {
    const c = collector(":memory:", { maxStreams: 4 });
    const now = T0 + 10;
    const flood = (n: number, from: number, ms: number) =>
      c.ingestMetrics(
        requests(
          Array.from({ length: n }, (_, i) => ["flood", `/e${from + i}`, 1] as [string, string, number]),
          Temporality.Cumulative,
          ms,
          "attacker",
        ),
        ms,
      );
    expect(flood(4, 0, now).rejected).toBe(0);
    expect(flood(1, 4, now + 1).rejected).toBe(1); // the flood's own model gets no more room
    const late = (value: number, ms: number) =>
      c.ingestMetrics(requests([["late", "/p", value]], Temporality.Cumulative, ms, "legit"), ms);
    expect(late(5, now + 2).rejected).toBe(0);
    // the flood's next new stream may take the room of late's stream (sent once so far) ...
    flood(1, 5, now + 3);
    // ... whose next point is still differenced against its last state, not counted whole again
    expect(late(8, now + 4).rejected).toBe(0);
    expect(late(9, now + 5).rejected).toBe(0);
    expect(requestsOf(c, "late")).toBe(9);
  });
});

describe("a stream table full of gauges", () => {
  it("gives a flood's gauge streams to a new model's counter, and drops their levels", () => {
    const c = collector(":memory:", { maxStreams: 4 });
    const now = T0 + 10;
    const gauges = (n: number, ms: number): MetricsRequest => ({
      resourceMetrics: [
        {
          resource: attrs({ "service.instance.id": "attacker" }),
          scopeMetrics: [
            {
              scope: { name: "s", version: "" },
              metrics: [
                {
                  name: "ml.requests.in_progress",
                  unit: "",
                  description: "",
                  kind: "gauge",
                  points: Array.from({ length: n }, (_, i) => ({
                    attributes: attrs({ "ml.model.name": "flood", x: `g${i}` }),
                    startTimeUnixNano: 0n,
                    timeUnixNano: BigInt(ms) * 1_000_000n,
                    value: 1,
                  })),
                },
              ],
            },
          ],
        },
      ],
    });
    expect(c.ingestMetrics(gauges(4, now), now).rejected).toBe(0);
    const level = () =>
      sumOf(parseExposition(c.metricsText()), "ml_requests_in_progress", { model_name: "flood" });
    expect(level()).toBe(4);
    const late = c.ingestMetrics(
      requests([["late", "/p", 3]], Temporality.Cumulative, now + 1, "legit"),
      now + 1,
    );
    expect(late.rejected).toBe(0);
    expect(requestsOf(c, "late")).toBe(3);
    expect(level()).toBe(3);
  });
});
