// What the collector remembers of replica streams across forgetting and
// restarts: forgotten streams are recalled from the checkpoint file, the
// memory horizon decides whether an unknown stream counts whole, and the file
// forgets for good only past its retention, moving the horizon on. Uses a real
// SQLite file in a temporary folder.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FeedbackJoiner } from "../src/analysis/feedback.js";
import { SloRegistry } from "../src/analysis/slo.js";
import { durationSeconds } from "../src/config/config.js";
import type { MetricsRequest } from "../src/otlp/types.js";
import { Temporality } from "../src/otlp/types.js";
import { Normalizer, type Observation } from "../src/pipeline/normalize.js";
import { Checkpointer, memoryHorizon } from "../src/store/checkpoint.js";
import { type Db, openDatabase } from "../src/store/database.js";
import { ModelStore } from "../src/store/model-store.js";

const MS = 1_000_000n;

function counter(instance: string, value: number, startMs: number, timeMs: number): MetricsRequest {
  return {
    resourceMetrics: [
      {
        resource: Object.assign(Object.create(null), { "service.instance.id": instance }),
        scopeMetrics: [
          {
            scope: { name: "s", version: "" },
            metrics: [
              {
                name: "ml.requests",
                unit: "",
                description: "",
                kind: "sum",
                temporality: Temporality.Cumulative,
                monotonic: true,
                points: [
                  {
                    attributes: Object.assign(Object.create(null), { "ml.model.name": "m" }),
                    startTimeUnixNano: BigInt(startMs) * MS,
                    timeUnixNano: BigInt(timeMs) * MS,
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

const deltas = (obs: Observation[]) => obs.map((o) => (o.kind === "increment" ? o.delta : Number.NaN));

/** One collector's normaliser and checkpointer over a database file, as collector.ts wires them. */
function collectorOn(db: Db, nowMs: number, retention = { seconds: 3600, maxRows: 1000 }) {
  const store = new ModelStore({ slotMs: 1000, slots: 60 });
  let cp: Checkpointer | undefined;
  const n = new Normalizer(memoryHorizon(db, BigInt(nowMs) * MS), {
    maxStreams: 1000,
    recall: (key) => cp?.recall(key),
  });
  cp = new Checkpointer(
    db,
    store,
    n,
    new SloRegistry({}, durationSeconds),
    new FeedbackJoiner(10, 1000, 10, "g"),
    retention,
  );
  return { n, cp, store };
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tempDb(): { path: string; open: () => Db } {
  dir = mkdtempSync(join(tmpdir(), "mlwatch-streams-"));
  const path = join(dir, "c.db");
  return { path, open: () => openDatabase(path) };
}

describe("a forgotten stream", () => {
  it("is recalled from the file when it comes back, so what it counted before is not counted again", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000);
    expect(deltas(n.normalize(counter("a", 10, 2000, 3000), 3000).observations)).toEqual([10]);
    cp.save(3000);
    expect(n.evictStale(10_000)).toBe(1);
    expect(n.streamCount).toBe(0);
    // back after the partition: only what it counted meanwhile
    expect(deltas(n.normalize(counter("a", 25, 2000, 20_000), 20_000).observations)).toEqual([15]);
    expect(n.streamCount).toBe(1);
    db.close();
  });

  it("forgotten before its last state was written is recalled from memory, not from the older row", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000);
    n.normalize(counter("a", 10, 2000, 3000), 3000);
    cp.save(3000); // the file holds 10
    n.normalize(counter("a", 14, 2000, 4000), 4000); // not written yet
    n.evictStale(10_000);
    expect(deltas(n.normalize(counter("a", 20, 2000, 20_000), 20_000).observations)).toEqual([6]);
    db.close();
  });

  it("keeps its row through a checkpoint after it is forgotten, with its newest state", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000);
    n.normalize(counter("a", 10, 2000, 3000), 3000);
    cp.save(3000);
    n.normalize(counter("a", 14, 2000, 4000), 4000);
    n.evictStale(10_000);
    cp.save(10_000);
    expect(cp.recall([...db.prepare("SELECT key FROM streams").pluck().all()][0] as string)?.last).toBe(14);
    expect(deltas(n.normalize(counter("a", 20, 2000, 20_000), 20_000).observations)).toEqual([6]);
    db.close();
  });
});

describe("a forgotten stream stamped in the future", () => {
  it("is not taken back: its points would otherwise be held back as out of order", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000);
    n.normalize(counter("a", 10, 2000, 9_000_000), 3000); // stamped long after it arrived
    cp.save(3000);
    n.evictStale(10_000);
    // treated as unknown again: it began after the horizon, so it counts whole
    expect(deltas(n.normalize(counter("a", 12, 2000, 20_000), 20_000).observations)).toEqual([12]);
    db.close();
  });
});

describe("after a restart", () => {
  it("a stream that began after the file was first used but is not in the last checkpoint counts whole", () => {
    const { open } = tempDb();
    let db = open();
    let c = collectorOn(db, 1000);
    c.n.normalize(counter("a", 10, 2000, 3000), 3000);
    c.cp.save(3000);
    // born after the last checkpoint; its points die with the process
    c.n.normalize(counter("b", 7, 4000, 5000), 5000);
    db.close(); // a crash: no checkpoint
    db = open();
    c = collectorOn(db, 60_000);
    c.cp.restore(60_000);
    expect(deltas(c.n.normalize(counter("b", 9, 4000, 61_000), 61_000).observations)).toEqual([9]);
    expect(deltas(c.n.normalize(counter("a", 12, 2000, 61_000), 61_000).observations)).toEqual([2]);
    db.close();
  });

  it("a stream that began before the file was first used is a reference only", () => {
    const { open } = tempDb();
    const db = open();
    const { n } = collectorOn(db, 10_000);
    const r = n.normalize(counter("old", 500, 1000, 11_000), 11_000);
    expect(r.observations).toEqual([]);
    expect(deltas(n.normalize(counter("old", 504, 1000, 12_000), 12_000).observations)).toEqual([4]);
    db.close();
  });

  it("restores only streams seen within the stale time; older ones are recalled when they come back", () => {
    const { open } = tempDb();
    let db = open();
    let c = collectorOn(db, 1000);
    c.n.normalize(counter("a", 10, 2000, 3000), 3000);
    c.n.normalize(counter("b", 5, 2000, 50_000), 50_000);
    c.cp.save(50_000);
    db.close();
    db = open();
    c = collectorOn(db, 60_000);
    expect(c.cp.restore(60_000, 20_000).streams).toBe(1);
    expect(c.n.streamCount).toBe(1);
    expect(deltas(c.n.normalize(counter("a", 13, 2000, 61_000), 61_000).observations)).toEqual([3]);
    db.close();
  });
});

describe("the file's retention of forgotten streams", () => {
  it("drops rows past it and moves the horizon past them, so their stream is not counted whole again", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000, { seconds: 100, maxRows: 1000 });
    n.normalize(counter("a", 10, 2000, 3000), 3000);
    cp.save(3000);
    n.evictStale(10_000);
    expect(n.horizon).toBe(1000n * MS);
    cp.save(200_000); // 197 s after it was seen: dropped
    expect(db.prepare("SELECT count(*) FROM streams").pluck().get()).toBe(0);
    expect(n.horizon).toBe(3000n * MS);
    expect(memoryHorizon(db, 0n)).toBe(3000n * MS);
    // it comes back: a reference only, not 10 counted again
    expect(n.normalize(counter("a", 12, 2000, 201_000), 201_000).observations).toEqual([]);
    // a stream born after the horizon still counts whole
    expect(deltas(n.normalize(counter("c", 4, 5000, 201_000), 201_000).observations)).toEqual([4]);
    db.close();
  });

  it("keeps at most maxRows rows, dropping the oldest first", () => {
    const { open } = tempDb();
    const db = open();
    const { n, cp } = collectorOn(db, 1000, { seconds: 3600, maxRows: 2 });
    for (const [i, id] of ["a", "b", "c"].entries()) n.normalize(counter(id, 1, 2000, 3000 + i), 3000 + i);
    cp.save(4000);
    expect(db.prepare("SELECT count(*) FROM streams").pluck().get()).toBe(2);
    expect(n.horizon).toBe(3000n * MS);
    db.close();
  });
});

describe("database schema", () => {
  it("upgrades a version 1 file, keeping its streams and when they were seen", () => {
    const { open } = tempDb();
    let db = open();
    // make it look like a version 1 file
    db.exec("DROP INDEX streams_seen; ALTER TABLE streams DROP COLUMN seen_ms");
    db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema'").run();
    db.prepare("INSERT INTO streams (key, body) VALUES (?, ?)").run(
      "k",
      JSON.stringify({ start: "1", time: "2", last: 3, seenMs: 1234 }),
    );
    db.close();
    db = open();
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe("2");
    expect(db.prepare("SELECT seen_ms FROM streams WHERE key = 'k'").pluck().get()).toBe(1234);
    db.close();
  });

  it("refuses a file of an unknown version, naming it", () => {
    const { path, open } = tempDb();
    const db = open();
    db.prepare("UPDATE meta SET value = '9' WHERE key = 'schema'").run();
    db.close();
    expect(() => openDatabase(path)).toThrow(/schema version 9/);
  });
});
