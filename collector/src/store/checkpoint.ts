// Periodic checkpoints of the window store and the replica streams into
// SQLite, in one transaction each, so what is on disk is always a consistent
// pair. After a crash the collector restores the last checkpoint: series
// totals and windows as they were, and each stream's last cumulative point,
// so the first point after the restart is differenced against it and the
// data received between the checkpoint and the crash is counted exactly once.

import type { FeedbackJoiner, SampledPrediction } from "../analysis/feedback.js";
import type { ModelSlo, SloRegistry } from "../analysis/slo.js";
import type { Normalizer, StreamJSON } from "../pipeline/normalize.js";
import type { Db } from "./database.js";
import type { ModelStore, SeriesJSON } from "./model-store.js";

export class Checkpointer {
  constructor(
    private readonly db: Db,
    private readonly store: ModelStore,
    private readonly normalizer: Normalizer,
    private readonly slos: SloRegistry,
    private readonly feedback: FeedbackJoiner,
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
    const putSlo = this.db.prepare(
      "INSERT INTO slo (model, body) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET body = excluded.body",
    );
    const pending = this.feedback.takeChanges();
    const putPending = this.db.prepare(
      "INSERT INTO pending (request_id, received_ms, body) VALUES (?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET body = excluded.body, received_ms = excluded.received_ms",
    );
    const dropPending = this.db.prepare("DELETE FROM pending WHERE request_id = ?");
    this.db.transaction(() => {
      for (const s of series) putSeries.run(s.family, s.key, JSON.stringify(s.body));
      for (const s of streams.changed) putStream.run(s.key, JSON.stringify(s.body));
      for (const k of streams.removed) dropStream.run(k);
      for (const [model, slo] of this.slos.models) putSlo.run(model, JSON.stringify(slo.toJSON()));
      for (const p of pending.changed) putPending.run(p.requestId, p.receivedMs, JSON.stringify(p));
      for (const id of pending.removed) dropPending.run(id);
    })();
    return series.length + streams.changed.length + streams.removed.length + pending.changed.length;
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
    for (const row of this.db.prepare("SELECT model, body FROM slo").iterate() as Iterable<{
      model: string;
      body: string;
    }>) {
      const slo: ModelSlo | undefined = this.slos.models.get(row.model);
      try {
        slo?.load(JSON.parse(row.body));
      } catch (e) {
        problems.push(`slo ${row.model}: ${(e as Error).message}`);
      }
    }
    for (const row of this.db.prepare("SELECT body FROM pending ORDER BY received_ms").iterate() as Iterable<{
      body: string;
    }>) {
      try {
        this.feedback.restore(JSON.parse(row.body) as SampledPrediction);
      } catch (e) {
        problems.push(`pending prediction: ${(e as Error).message}`);
      }
    }
    return { series, streams, problems };
  }
}
