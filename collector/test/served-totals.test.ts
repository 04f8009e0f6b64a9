// With a database file, /metrics shows running totals as of the last
// checkpoint that wrote them, so nothing it served can be lost in a crash; a
// checkpoint that fails changes nothing served and its series are written by
// the next. Uses the Collector class on a real SQLite file, without listeners.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Instruments } from "@mlwatch/semconv";
import { afterEach, describe, expect, it } from "vitest";
import { Collector } from "../src/collector.js";
import { parseConfig } from "../src/config/config.js";
import { type MetricsRequest, Temporality } from "../src/otlp/types.js";
import { openDatabase } from "../src/store/database.js";

const attrs = (a: Record<string, string>) => Object.assign(Object.create(null), a);

/** A cumulative count of one replica that began at START_MS (after every collector here was made). */
let START_MS = 0;

function requests(value: number, timeMs: number): MetricsRequest {
  return {
    resourceMetrics: [
      {
        resource: attrs({ "service.instance.id": "r" }),
        scopeMetrics: [
          {
            scope: { name: "s", version: "" },
            metrics: [
              {
                name: Instruments.requests.name,
                unit: "",
                description: "",
                kind: "sum",
                temporality: Temporality.Cumulative,
                monotonic: true,
                points: [
                  {
                    attributes: attrs({ "ml.model.name": "m" }),
                    startTimeUnixNano: BigInt(START_MS) * 1_000_000n,
                    timeUnixNano: BigInt(timeMs) * 1_000_000n,
                    value,
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

const served = (c: Collector): number | undefined => {
  const line = c
    .metricsText()
    .split("\n")
    .find((l) => l.startsWith(`${Instruments.requests.prom}{`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function collectorOn(path: string): Collector {
  return new Collector(parseConfig({ storage: { path, checkpointSeconds: 3600 } }), () => {});
}

describe("/metrics with a database file", () => {
  it("shows a counter as of the last checkpoint, and a restarted collector shows at least as much", async () => {
    dir = mkdtempSync(join(tmpdir(), "mlwatch-served-"));
    const path = join(dir, "c.db");
    const c = collectorOn(path);
    const t = Date.now() + 10;
    START_MS = t - 1;
    c.ingestMetrics(requests(5, t), t);
    expect(served(c)).toBeUndefined(); // not checkpointed yet: not shown
    c.checkpoint();
    expect(served(c)).toBe(5);
    c.ingestMetrics(requests(9, t + 1), t + 1);
    expect(served(c)).toBe(5);
    c.checkpoint();
    expect(served(c)).toBe(9);
    c.ingestMetrics(requests(12, t + 2), t + 2); // never checkpointed: as if the process died now
    const again = new Collector(
      parseConfig({ otlp: { port: 0 }, query: { port: 0 }, storage: { path, checkpointSeconds: 3600 } }),
      () => {},
    );
    await again.start();
    // what was restored is shown at once, before any replica exports again
    expect(served(again)).toBe(9);
    again.ingestMetrics(requests(15, t + 3), t + 3);
    again.checkpoint();
    expect(served(again)).toBe(15);
    await again.stop();
  });

  it("keeps showing the last committed totals when a checkpoint fails, and the next one writes them", () => {
    dir = mkdtempSync(join(tmpdir(), "mlwatch-served-"));
    const path = join(dir, "c.db");
    const c = collectorOn(path);
    const t = Date.now() + 10;
    START_MS = t - 1;
    c.ingestMetrics(requests(5, t), t);
    c.checkpoint();
    c.ingestMetrics(requests(8, t + 1), t + 1);
    const side = openDatabase(path);
    side.exec("ALTER TABLE series RENAME TO series_away");
    expect(() => c.checkpoint()).toThrow();
    expect(served(c)).toBe(5);
    side.exec("ALTER TABLE series_away RENAME TO series");
    side.close();
    c.checkpoint(); // nothing changed since the failed one: it still writes the series and streams it held
    expect(served(c)).toBe(8);
    const file = openDatabase(path);
    const body = JSON.parse(
      file
        .prepare("SELECT body FROM series WHERE family = ?")
        .pluck()
        .get(Instruments.requests.name) as string,
    ) as { total: number };
    const stream = JSON.parse(file.prepare("SELECT body FROM streams").pluck().get() as string) as {
      last: number;
    };
    file.close();
    expect(body.total).toBe(8);
    expect(stream.last).toBe(8);
  });
});

describe("/metrics with :memory:", () => {
  it("shows live totals: there is no file to keep them", () => {
    const c = new Collector(parseConfig({ storage: { path: ":memory:" } }), () => {});
    const t = Date.now() + 10;
    START_MS = t - 1;
    c.ingestMetrics(requests(5, t), t);
    expect(served(c)).toBe(5);
  });
});
