// Periodic checkpoints of the window store and the replica streams into
// SQLite, in one transaction each, so what is on disk is always a consistent
// pair. After a crash the collector restores the last checkpoint: series
// totals and windows as they were, and each stream's last cumulative point,
// so the first point after the restart is differenced against it and the
// data received between the checkpoint and the crash is counted exactly once.

import type { Normalizer, StreamJSON } from "../pipeline/normalize.js";
import type { Db } from "./database.js";
import type { ModelStore, SeriesJSON } from "./model-store.js";

export class Checkpointer {
  constructor(
    private readonly db: Db,
    private readonly store: ModelStore,
    private readonly normalizer: Normalizer,
  ) {}

  /** Writes what changed since the last checkpoint; returns the number of rows written. */
  save(): number {
    const series = this.store.takeDirty();
    const streams = this.normalizer.takeChanges();
    const putSeries = this.db.prepare(
      "INSERT INTO series (family, key, body) VALUES (?, ?, ?) ON CONFLICT (family, key) DO UPDATE SET body = excluded.body",
    );
    const putStream = this.db.prepare(
      "INSERT INTO streams (key, body) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET body = excluded.body",
    );
    const dropStream = this.db.prepare("DELETE FROM streams WHERE key = ?");
    this.db.transaction(() => {
      for (const s of series) putSeries.run(s.family, s.key, JSON.stringify(s.body));
      for (const s of streams.changed) putStream.run(s.key, JSON.stringify(s.body));
      for (const k of streams.removed) dropStream.run(k);
    })();
    return series.length + streams.changed.length + streams.removed.length;
  }

  /** Loads the last checkpoint; returns counts of what was restored and messages for rows that could not be. */
  restore(): { series: number; streams: number; problems: string[] } {
    const problems: string[] = [];
    let series = 0;
    let streams = 0;
    for (const row of this.db.prepare("SELECT family, key, body FROM series").iterate() as Iterable<{
      family: string;
      key: string;
      body: string;
    }>) {
      try {
        this.store.restore(row.family, row.key, JSON.parse(row.body) as SeriesJSON);
        series++;
      } catch (e) {
        problems.push(`series ${row.family}: ${(e as Error).message}`);
      }
    }
    for (const row of this.db.prepare("SELECT key, body FROM streams").iterate() as Iterable<{
      key: string;
      body: string;
    }>) {
      try {
        this.normalizer.restore(row.key, JSON.parse(row.body) as StreamJSON);
        streams++;
      } catch (e) {
        problems.push(`stream: ${(e as Error).message}`);
      }
    }
    return { series, streams, problems };
  }
}
