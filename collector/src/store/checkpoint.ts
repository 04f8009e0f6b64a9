// Periodic checkpoints of the window store and the replica streams into
// SQLite, in one transaction each, so what is on disk is always a consistent
// pair. After a crash the collector restores the last checkpoint: series
// totals and windows as they were, and each stream's last cumulative point,
// so the first point after the restart is differenced against it and the
// data received between the checkpoint and the crash is counted exactly once.
// Streams forgotten in memory (stale) keep their last state in the file for
// storage.streamRetentionSeconds, so a replica back from a partition is
// differenced, not counted again; past that (or past the row cap) they are
// dropped for good, and the memory horizon moves on past them.

import type { FeedbackJoiner, SampledPrediction } from "../analysis/feedback.js";
import type { ModelSlo, SloRegistry } from "../analysis/slo.js";
import type { Normalizer, StreamJSON } from "../pipeline/normalize.js";
import type { Db } from "./database.js";
import type { ModelStore, SeriesJSON } from "./model-store.js";

/**
 * The collector's memory horizon kept in the file (see Normalizer): when the
 * file was first used, or later once it forgot streams for good. A new file
 * takes `nowNs`.
 */
export function memoryHorizon(db: Db, nowNs: bigint): bigint {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'horizon_ns'").get() as
    | { value: string }
    | undefined;
  if (row) return BigInt(row.value);
  db.prepare("INSERT INTO meta (key, value) VALUES ('horizon_ns', ?)").run(String(nowNs));
  return nowNs;
}

/** How long and how many forgotten streams the file keeps. */
export interface StreamRetention {
  /** Rows of streams unseen for longer than this are dropped for good. */
  seconds: number;
  /** Rows kept at most (the oldest go first). */
  maxRows: number;
}

/** Sweeps for forgotten streams run at most this often. */
const SWEEP_MS = 60_000;

export class Checkpointer {
  private readonly recallStream;
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Db,
    private readonly store: ModelStore,
    private readonly normalizer: Normalizer,
    private readonly slos: SloRegistry,
    private readonly feedback: FeedbackJoiner,
    private readonly retention: StreamRetention = { seconds: 7 * 86_400, maxRows: 500_000 },
  ) {
    this.recallStream = db.prepare("SELECT body FROM streams WHERE key = ?");
  }

  /** A stream's last state as the file holds it (for Normalizer's recall). */
  recall(key: string): StreamJSON | undefined {
    const row = this.recallStream.get(key) as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as StreamJSON);
  }

  /** Writes what changed since the last checkpoint; returns the number of rows written. */
  save(nowMs = Date.now()): number {
    const series = this.store.takeDirty();
    const removed = this.store.takeRemoved();
    const streams = this.normalizer.takeChanges();
    const dropSeries = this.db.prepare("DELETE FROM series WHERE family = ? AND key = ?");
    const putSeries = this.db.prepare(
      "INSERT INTO series (family, key, body) VALUES (?, ?, ?) ON CONFLICT (family, key) DO UPDATE SET body = excluded.body",
    );
    const putStream = this.db.prepare(
      "INSERT INTO streams (key, body, seen_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET body = excluded.body, seen_ms = excluded.seen_ms",
    );
    const putSlo = this.db.prepare(
      "INSERT INTO slo (model, body) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET body = excluded.body",
    );
    const pending = this.feedback.takeChanges();
    const putPending = this.db.prepare(
      "INSERT INTO pending (request_id, received_ms, body) VALUES (?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET body = excluded.body, received_ms = excluded.received_ms",
    );
    const dropPending = this.db.prepare("DELETE FROM pending WHERE request_id = ?");
    const write = this.db.transaction(() => {
      // series folded into their overflow series (ModelStore.makeRoom) go in the same transaction as
      // the overflow series that now holds their counts, so a restart counts them once
      for (const [family, key] of removed) dropSeries.run(family, key);
      for (const s of series) putSeries.run(s.family, s.key, JSON.stringify(s.body));
      for (const s of streams.changed) putStream.run(s.key, JSON.stringify(s.body), s.body.seenMs);
      if (nowMs - this.lastSweepMs >= SWEEP_MS) {
        this.lastSweepMs = nowMs;
        this.sweepStreams(nowMs);
      }
      for (const [model, slo] of this.slos.models) putSlo.run(model, JSON.stringify(slo.toJSON()));
      for (const p of pending.changed) putPending.run(p.requestId, p.receivedMs, JSON.stringify(p));
      for (const id of pending.removed) dropPending.run(id);
    });
    try {
      write();
    } catch (e) {
      // nothing was written: what was taken is still to write, series and streams together
      this.store.untake(series);
      this.store.untakeRemoved(removed);
      this.normalizer.untake();
      throw e;
    }
    this.store.published(series);
    return series.length + streams.changed.length + pending.changed.length;
  }

  /**
   * Drops the rows of streams unseen for longer than the retention, then the
   * oldest past the row cap, and moves the memory horizon past the newest
   * dropped: a stream that began before it may have been counted and
   * forgotten, so it is not counted whole again. Runs inside save()'s transaction.
   */
  private sweepStreams(nowMs: number): void {
    let newest = -1;
    const cutoff = nowMs - this.retention.seconds * 1000;
    const old = this.db.prepare("SELECT max(seen_ms) AS m FROM streams WHERE seen_ms < ?").get(cutoff) as {
      m: number | null;
    };
    if (old.m !== null) {
      newest = old.m;
      this.db.prepare("DELETE FROM streams WHERE seen_ms < ?").run(cutoff);
    }
    const { n } = this.db.prepare("SELECT count(*) AS n FROM streams").get() as { n: number };
    const excess = n - this.retention.maxRows;
    if (excess > 0) {
      const m = (
        this.db
          .prepare("SELECT max(seen_ms) AS m FROM (SELECT seen_ms FROM streams ORDER BY seen_ms LIMIT ?)")
          .get(excess) as { m: number }
      ).m;
      newest = Math.max(newest, m);
      this.db
        .prepare("DELETE FROM streams WHERE key IN (SELECT key FROM streams ORDER BY seen_ms LIMIT ?)")
        .run(excess);
    }
    if (newest < 0) return;
    this.normalizer.raiseHorizon(BigInt(newest) * 1_000_000n);
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('horizon_ns', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(String(this.normalizer.horizon));
  }

  /**
   * Loads the last checkpoint: every series, and the streams seen within
   * `staleMs` of `nowMs` (older ones stay in the file, recalled when they come
   * back). Returns counts of what was restored and messages for rows that could not be.
   */
  restore(
    nowMs = Date.now(),
    staleMs = Number.POSITIVE_INFINITY,
  ): {
    series: number;
    streams: number;
    problems: string[];
  } {
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
    const since = Number.isFinite(staleMs) ? nowMs - staleMs : Number.MIN_SAFE_INTEGER;
    for (const row of this.db
      .prepare("SELECT key, body FROM streams WHERE seen_ms >= ?")
      .iterate(since) as Iterable<{
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
