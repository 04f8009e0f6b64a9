// Turns OTLP points into delta observations. Cumulative streams (the OTel
// default) are differenced per stream identity — resource, scope, metric and
// point attributes — with resets detected; delta streams pass through. A
// duplicate or out-of-order point is dropped so nothing counts twice.

import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";
import {
  type Attributes,
  type AttrValue,
  type ExpHistogramPoint,
  type MetricsRequest,
  type NumberPoint,
  Temporality,
} from "../otlp/types.js";
import { rewriteBytes } from "../store/byte-room.js";
import { boundedKeyPart } from "./bounded.js";

/**
 * A slot kept with each tracked replica stream, for whoever consumes its
 * observations to remember what it resolved for that stream (the store keeps
 * the stream's series there, so labels and keys are not worked out again for
 * every point). The normaliser never reads it.
 */
export interface StreamMemo {
  memo: unknown;
}

export type Observation =
  /** An increase of a monotonic counter. */
  | { kind: "increment"; metric: string; attributes: Attributes; delta: number; memo?: StreamMemo }
  /** The current level of one stream of an up-down counter or gauge. */
  | {
      kind: "level";
      metric: string;
      attributes: Attributes;
      stream: string;
      value: number;
      memo?: StreamMemo;
    }
  /**
   * New values of an exponential histogram. The delta is the consumer's to
   * merge or clone at once, not to keep as it is: its bucket arrays may be
   * views into a buffer shared with other deltas (ExpHistogram.advanceCumulative),
   * and an observation passed to a sink (Normalizer.normalize) may carry a
   * scratch histogram that the next point overwrites.
   */
  | { kind: "histogram"; metric: string; attributes: Attributes; delta: ExpHistogram; memo?: StreamMemo };

export interface Rejection {
  reason: string;
  message: string;
}

export interface NormalizeResult {
  observations: Observation[];
  rejected: Rejection[];
  /** Points that were valid but carried no new data (first cumulative point of an old stream, duplicates). */
  skipped: number;
  /** Points of metrics the collector does not use: no state is kept for them. */
  ignored: number;
}

export interface NormalizerLimits {
  /**
   * Replica streams tracked at most (counters, histograms, up-down counters and
   * gauges together), so that memory stays bounded whatever the attribute
   * cardinality. Past it a new cumulative stream, up-down counter or gauge is
   * rejected ("stream_limit"), and a new delta stream is taken without
   * duplicate detection.
   */
  maxStreams: number;
  /**
   * The model a point's stream counts against, for fair room when the table
   * is full (see Normalizer.makeRoom). Default: one model for all.
   */
  modelOf?: (attrs: Attributes) => string;
  /**
   * Told when a level stream is evicted to make room (makeRoom), with the
   * stream's memo and key, so whoever keeps its level can drop it too.
   */
  onEvictLevel?: (memo: StreamMemo, key: string) => void;
  /** The metrics worth tracking; points of others are only counted as ignored. Default: all. */
  wanted?: (metric: string) => boolean;
  /**
   * The last state of a stream that is not in memory (forgotten as stale, or
   * not restored at start), by stream key: the checkpoint file keeps it for a
   * while, so a replica back from a partition is differenced against what it
   * sent last rather than counted again whole.
   */
  recall?: (key: string) => StreamJSON | undefined;
}

const NO_NAMES: readonly string[] = [];

/**
 * What both kinds of tracked stream share: the memo slot, and the attribute
 * names and values of the stream's last point, so that its next point (which
 * an SDK sends at the same position of the next export) is recognised
 * without building and hashing its key.
 */
abstract class Tracked implements StreamMemo {
  memo: unknown = undefined;
  /** False once evicted. */
  live = true;
  /** The model the stream counts against (NormalizerLimits.modelOf); undefined for one restored and not seen since. */
  model: string | undefined = undefined;
  /** Where the stream is tracked (its metric's streams, under its attributes key), so it can be evicted. */
  home: MetricStreams | undefined = undefined;
  homeKey = "";
  /** True until a second point arrives: a stream sent once (as a flood's are) is the first to give way. */
  once = true;
  /** The request that first brought it (Normalizer.requests): a request does not evict its own streams. */
  bornIn = 0;
  /** The attributes of the stream's last point, in the order they came. */
  names: readonly string[] = NO_NAMES;
  values: AttrValue[] = [];

  /** @param key the stream key (resource, scope, metric and point attributes), as checkpoints name it */
  constructor(readonly key: string) {}

  /**
   * The attributes object of the stream's last point when it is frozen: the
   * decoder hands out the same frozen object for the same attribute bytes,
   * so that object again means the same stream, without comparing entries.
   */
  attrs: Attributes | undefined = undefined;

  /** True when `attrs` holds exactly the remembered names, in order, with the same values: the same stream key. */
  recognises(attrs: Attributes): boolean {
    if (attrs === this.attrs) return true;
    const names = this.names;
    const values = this.values;
    let j = 0;
    for (const k in attrs) {
      if (j >= names.length || k !== names[j] || attrs[k] !== values[j]) return false;
      j++;
    }
    if (j !== names.length) return false;
    if (Object.isFrozen(attrs)) this.attrs = attrs;
    return true;
  }

  /**
   * Keeps nothing of a point's attributes: for a stream whose key is a digest
   * (attributes too long to keep), so its points are matched by the digest.
   */
  forgetAttributes(): void {
    this.names = NO_NAMES;
    this.values = [];
    this.attrs = undefined;
  }

  /** Remembers a point's attributes; `shared` is a names array to reuse when it is the same list. */
  remember(attrs: Attributes, shared: readonly string[]): readonly string[] {
    const keys = Object.keys(attrs);
    const n = keys.length;
    let same = n === shared.length;
    // sized once: an array grown by push() would hold room for 17 values
    const values: AttrValue[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const k = keys[j];
      if (same && shared[j] !== k) same = false;
      values[j] = attrs[k];
    }
    this.names = same ? shared : keys;
    this.values = values;
    this.attrs = Object.isFrozen(attrs) ? attrs : undefined;
    return this.names;
  }
}

// Stands for one cumulative stream's last histogram at a time while its next point is differenced.
const CUMULATIVE = new ExpHistogram();
// The delta of a cumulative stream's steady step, when each observation goes to a sink at once.
const DELTA = new ExpHistogram();

/** A tracked stream's last point; updated in place as points arrive. */
class StreamState extends Tracked {
  /** In the list of streams changed since the last checkpoint. */
  dirty = false;
  constructor(
    key: string,
    public start: bigint,
    public time: bigint,
    /** The last value, or the last histogram packed (ExpHistogram.pack: a small part of its live size). */
    public last: number | Uint8Array,
    public seenMs: number,
  ) {
    super(key);
  }

  static fromJSON(key: string, body: StreamJSON): StreamState {
    const last = body.last;
    return new StreamState(
      key,
      BigInt(body.start),
      BigInt(body.time),
      typeof last === "number"
        ? last
        : "packed" in last
          ? // unpacked and packed again: bytes that are not a packed histogram are refused here
            ExpHistogram.unpack(Buffer.from(last.packed, "base64")).pack()
          : ExpHistogram.fromJSON(last).pack(),
      body.seenMs,
    );
  }

  toJSON(): StreamJSON {
    const last = this.last;
    return {
      start: String(this.start),
      time: String(this.time),
      last:
        typeof last === "number"
          ? last
          : { packed: Buffer.from(last.buffer, last.byteOffset, last.length).toString("base64") },
      seenMs: this.seenMs,
    };
  }
}

/** A level stream (gauge, cumulative up-down counter): only when it was last seen. */
class LevelState extends Tracked {
  constructor(
    key: string,
    public seenMs: number,
  ) {
    super(key);
  }
}

/**
 * The streams of one metric of one resource and scope, by their point
 * attributes' key: a point's lookup hashes its own attributes only, not the
 * resource's (often long) ones.
 */
class MetricStreams {
  readonly streams = new Map<string, StreamState>();
  readonly levels = new Map<string, LevelState>();
  /** The stream of each point of the last request, by position. */
  readonly order: Array<Tracked | undefined> = [];
  /** The attribute names last remembered, shared by streams with the same list. */
  names: readonly string[] = NO_NAMES;
  /** The resource, scope and metric part of the stream keys. */
  constructor(readonly prefix: string) {}
}

/** A stream's state as stored in a checkpoint (64-bit times as decimal strings). */
export interface StreamJSON {
  start: string;
  time: string;
  /** A number, or a histogram: packed in base64 (ExpHistogram.pack), or as JSON (files written before). */
  last: number | { packed: string } | ExpHistogramJSON;
  seenMs: number;
}

/** Stable key for an attribute map: sorted entries, so key order does not matter. */
export function attributesKey(attrs: Attributes): string {
  const keys = Object.keys(attrs);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys.sort();
      break;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    parts.push(k, "\u0001", String(attrs[k]), "\u0002");
  }
  return parts.join("");
}

/**
 * The parts as one flat string. V8 keeps `a + b` as a rope (a 32-byte node
 * per concatenation, pointing at both parts); a key kept for a stream's
 * lifetime is stored flat instead, with no nodes behind it.
 */
function flatConcat(...parts: string[]): string {
  return parts.join("");
}

export class Normalizer {
  /** Tracked streams: resource and scope key → metric name → the metric's streams. */
  private readonly scopes = new Map<string, Map<string, MetricStreams>>();
  /** Streams restored from a checkpoint and not seen since, by stream key. */
  private readonly restored = new Map<string, StreamState>();
  private streamsTracked = 0;
  private levelsTracked = 0;
  /** Tracked streams per model (NormalizerLimits.modelOf), restored ones not yet seen aside. */
  private readonly perModel = new Map<string, number>();
  /** Tracked streams in the order they were taken in (evicted ones removed lazily). */
  private admitted: Tracked[] = [];
  /** Streams changed since the last checkpoint, in the order they first changed. */
  private dirty: StreamState[] = [];
  /** The streams of the last takeChanges(), until the next: put back by untake() when the checkpoint failed. */
  private taken: StreamState[] = [];
  /** Streams forgotten while changed since the last checkpoint: their newest state is only here until it is written. */
  private readonly unwritten = new Map<string, StreamState>();
  // The point being normalised: its metric's streams, attributes, position, and its attributes' key once built.
  private pMs = new MetricStreams("");
  private pAttrs: Attributes = Object.create(null);
  private pIndex = 0;
  private pKey: string | undefined = undefined;
  /** The receive time of the request being normalised, in ns. */
  private pNowNs = 0n;
  /** Where observations go during normalize(), when the caller gave a sink. */
  private sink: ((o: Observation) => void) | undefined = undefined;

  /**
   * @param horizonNs the collector's memory horizon: a cumulative stream it
   * has no state for counts whole when it began after this time, and is a
   * reference only (its first point adds nothing) when it began before,
   * since then it may have been counted by a collector that has forgotten it.
   * It is when the collector's file was first used, raised when the file
   * forgets streams for good (raiseHorizon); for a new collector, its start.
   */
  constructor(
    private horizonNs: bigint,
    private readonly limits: NormalizerLimits = { maxStreams: Number.POSITIVE_INFINITY },
  ) {}

  /** Streams evicted to make room for a model with fewer (makeRoom). */
  evicted = 0;
  /** Requests normalised so far. */
  private requests = 0;

  get streamCount(): number {
    return this.streamsTracked + this.levelsTracked;
  }

  /** The memory horizon (see the constructor). */
  get horizon(): bigint {
    return this.horizonNs;
  }

  /** Moves the horizon on to `ns` (never back): streams that began before it may have been forgotten. */
  raiseHorizon(ns: bigint): void {
    if (ns > this.horizonNs) this.horizonNs = ns;
  }

  /**
   * A tracked stream; else one restored from a checkpoint and not seen since,
   * one forgotten before its last state was written, or one the checkpoint
   * file still remembers (limits.recall) — each moves to its metric's map.
   */
  private stream(ms: MetricStreams, attrsKey: string): StreamState | undefined {
    const s = ms.streams.get(attrsKey);
    if (s !== undefined) return s;
    const recall = this.limits.recall;
    if (this.restored.size === 0 && this.unwritten.size === 0 && recall === undefined) return undefined;
    const key = ms.prefix + attrsKey;
    let r = this.restored.get(key);
    if (r !== undefined) {
      this.restored.delete(key);
    } else {
      if (!this.makeRoom()) return undefined;
      r = this.unwritten.get(key);
      if (r !== undefined) this.unwritten.delete(key);
      else {
        const body = recall?.(key);
        if (body === undefined) return undefined;
        r = StreamState.fromJSON(key, body);
      }
      // A last point stamped after now (a bad clock, a bogus timestamp) would hold the stream's
      // points back as out of order: such a state is not taken back.
      if (r.time > this.pNowNs) return undefined;
      r.live = true;
      this.streamsTracked++;
    }
    ms.streams.set(attrsKey, r);
    this.admit(r, ms, attrsKey);
    return r;
  }

  /** Starts on the index-th point of a metric. */
  private at(ms: MetricStreams, attrs: Attributes, index: number): void {
    this.pMs = ms;
    this.pAttrs = attrs;
    this.pIndex = index;
    this.pKey = undefined;
  }

  /** The current point's attributes key (a digest when the attributes are too long to keep: bounded.ts). */
  private key(): string {
    if (this.pKey === undefined) this.pKey = boundedKeyPart(attributesKey(this.pAttrs));
    return this.pKey;
  }

  /** Records that the current point belongs to `t`, for the next request. */
  private place(t: Tracked): void {
    const ms = this.pMs;
    ms.order[this.pIndex] = t;
    if (this.pKey !== undefined && this.pKey.charCodeAt(0) === 4) t.forgetAttributes();
    else if (!t.recognises(this.pAttrs)) ms.names = t.remember(this.pAttrs, ms.names);
  }

  /** The current point's tracked stream, if any. */
  private findStream(): StreamState | undefined {
    const ms = this.pMs;
    const c = ms.order[this.pIndex];
    if (c instanceof StreamState && c.live && c.recognises(this.pAttrs)) return c;
    const s = this.stream(ms, this.key());
    if (s !== undefined) this.place(s);
    return s;
  }

  /** The current point's level stream, if any. */
  private findLevel(): LevelState | undefined {
    const ms = this.pMs;
    const c = ms.order[this.pIndex];
    if (c instanceof LevelState && c.live && c.recognises(this.pAttrs)) return c;
    const l = ms.levels.get(this.key());
    if (l !== undefined) this.place(l);
    return l;
  }

  /** For a current point without a tracked stream: true when it is a level stream already or there is room for one more. */
  private hasRoom(): boolean {
    return this.pMs.levels.has(this.key()) || this.makeRoom();
  }

  /** The model the current point's stream counts against. */
  private currentModel(): string {
    return this.limits.modelOf?.(this.pAttrs) ?? "";
  }

  /**
   * True when the table has room for the current point's new stream, making
   * it when full: the newest stream of another model that has had only one
   * point, or whose model holds more streams than the current point's model
   * plus one, is evicted (of the 256 newest, none taken in by this request).
   * So a flood of streams sent once (of many model names or of one) and one
   * model's flood of streams give way to a newcomer, newest first, while
   * established replicas' streams stay; a model's own flood does not churn
   * its own streams. An evicted stream's last state is kept for
   * the checkpoint (forget), so when its replica sends again it is taken
   * back, and differenced, as long as there is room for it.
   */
  private makeRoom(): boolean {
    if (this.streamsTracked + this.levelsTracked < this.limits.maxStreams) return true;
    const model = this.currentModel();
    const mine = this.perModel.get(model) ?? 0;
    const admitted = this.admitted;
    while (admitted.length > 0 && !admitted[admitted.length - 1].live) admitted.pop();
    // Only the newest few are looked at, so a full table costs a bounded scan per new stream.
    for (let i = admitted.length - 1, seen = 0; i >= 0 && seen < 256; i--) {
      const s = admitted[i];
      if (!s.live) continue;
      seen++;
      if (s.model === undefined || s.bornIn === this.requests) continue;
      const sentOnce = s.once && s.model !== model;
      if (!sentOnce && (this.perModel.get(s.model) ?? 0) <= mine + 1) continue;
      if (s instanceof StreamState) {
        s.home?.streams.delete(s.homeKey);
        this.forget(s);
      } else {
        s.home?.levels.delete(s.homeKey);
        s.live = false;
        this.release(s);
        this.levelsTracked--;
        this.limits.onEvictLevel?.(s, s.key);
      }
      this.evicted++;
      return true;
    }
    return false;
  }

  /** Counts a newly tracked stream against its model, and makes it evictable (makeRoom). */
  private admit(t: Tracked, ms: MetricStreams, attrsKey: string): void {
    const model = this.currentModel();
    t.model = model;
    this.perModel.set(model, (this.perModel.get(model) ?? 0) + 1);
    t.bornIn = this.requests;
    t.home = ms;
    t.homeKey = attrsKey;
    this.admitted.push(t);
    // dead entries are dropped from the end as they are met; the rest, now and then
    if (this.admitted.length > 2 * (this.streamsTracked + this.levelsTracked) + 1024)
      this.admitted = this.admitted.filter((x) => x.live);
  }

  /** Uncounts a stream no longer tracked. */
  private release(t: Tracked): void {
    if (t.model === undefined) return;
    const n = (this.perModel.get(t.model) ?? 1) - 1;
    if (n === 0) this.perModel.delete(t.model);
    else this.perModel.set(t.model, n);
    t.model = undefined;
  }

  private limitRejection(name: string): Rejection {
    return {
      reason: "stream_limit",
      message: `${name}: more than limits.maxStreams (${this.limits.maxStreams}) streams`,
    };
  }

  /** Counts the current point's level stream against the limit; undefined when it does not fit. */
  private trackLevel(nowMs: number): LevelState | undefined {
    const level = this.findLevel();
    if (level !== undefined) {
      level.seenMs = nowMs;
      level.once = false;
      return level;
    }
    const ms = this.pMs;
    const key = this.key();
    if (this.stream(ms, key) === undefined && !this.makeRoom()) return undefined;
    const created = new LevelState(flatConcat(ms.prefix, key), nowMs);
    ms.levels.set(key, created);
    this.levelsTracked++;
    this.admit(created, ms, key);
    this.place(created);
    return created;
  }

  /** The streams of one metric of a resource and scope, created when first needed. */
  private metricStreams(scope: Map<string, MetricStreams>, scopeKey: string, name: string): MetricStreams {
    let ms = scope.get(name);
    if (ms === undefined) {
      ms = new MetricStreams(flatConcat(scopeKey, name, "\u0003"));
      scope.set(name, ms);
    }
    return ms;
  }

  /**
   * The observations, rejections and counts of one request. With a `sink`,
   * each observation is passed to it as soon as it is made, rather than
   * collected in the result: a histogram delta then holds only until the
   * sink returns (it may be a scratch histogram that the next point reuses),
   * which saves allocating one per point.
   */
  normalize(req: MetricsRequest, nowMs: number, sink?: (o: Observation) => void): NormalizeResult {
    const out: NormalizeResult = { observations: [], rejected: [], skipped: 0, ignored: 0 };
    this.sink = sink;
    try {
      this.normalizeInto(out, req, nowMs);
    } finally {
      this.sink = undefined;
    }
    return out;
  }

  private emit(out: NormalizeResult, o: Observation): void {
    if (this.sink !== undefined) this.sink(o);
    else out.observations.push(o);
  }

  private normalizeInto(out: NormalizeResult, req: MetricsRequest, nowMs: number): void {
    this.pNowNs = BigInt(Math.trunc(nowMs)) * 1_000_000n;
    this.requests++;
    const wanted = this.limits.wanted;
    for (const rm of req.resourceMetrics) {
      // Key parts too long to keep (a resource of 128 attributes of 64 KiB) are kept as digests.
      const resourceKey = boundedKeyPart(attributesKey(rm.resource));
      for (const sm of rm.scopeMetrics) {
        const scopeKey = `${resourceKey}\u0003${boundedKeyPart(sm.scope.name)}\u0003`;
        let scope = this.scopes.get(scopeKey);
        if (scope === undefined) {
          scope = new Map();
          this.scopes.set(scopeKey, scope);
        }
        for (const m of sm.metrics) {
          if (wanted && !wanted(m.name)) {
            out.ignored += m.points.length;
            continue;
          }
          if (
            (m.kind === "sum" || m.kind === "exponential_histogram") &&
            m.temporality === Temporality.Unspecified
          ) {
            for (let i = 0; i < m.points.length; i++) {
              out.rejected.push({
                reason: "unknown_temporality",
                message: `${m.name}: aggregation temporality is neither delta nor cumulative`,
              });
            }
            continue;
          }
          if (m.kind === "histogram") {
            // Explicit-bucket histograms cannot feed KS or quantiles with a known error; not used yet.
            out.skipped += m.points.length;
            continue;
          }
          const ms = this.metricStreams(scope, scopeKey, m.name);
          if (m.kind === "sum") {
            const points = m.points;
            for (let i = 0; i < points.length; i++) {
              this.at(ms, points[i].attributes, i);
              this.sumPoint(out, m.name, points[i], m.temporality, m.monotonic, nowMs);
            }
          } else if (m.kind === "gauge") {
            const points = m.points;
            for (let i = 0; i < points.length; i++) {
              const p = points[i];
              if (!Number.isFinite(p.value)) {
                out.rejected.push({ reason: "non_finite", message: `${m.name}: gauge value ${p.value}` });
                continue;
              }
              this.at(ms, p.attributes, i);
              const level = this.trackLevel(nowMs);
              if (level === undefined) {
                out.rejected.push(this.limitRejection(m.name));
                continue;
              }
              this.emit(out, {
                kind: "level",
                metric: m.name,
                attributes: p.attributes,
                stream: level.key,
                value: p.value,
                memo: level,
              });
            }
          } else {
            const points = m.points;
            for (let i = 0; i < points.length; i++) {
              this.at(ms, points[i].attributes, i);
              this.expHistogramPoint(out, m.name, points[i], m.temporality, nowMs);
            }
          }
          if (ms.order.length > m.points.length) ms.order.length = m.points.length;
          if (ms.streams.size === 0 && ms.levels.size === 0) scope.delete(m.name);
        }
        if (scope.size === 0) this.scopes.delete(scopeKey);
      }
    }
  }

  /** Forgets streams not seen since before cutoffMs. */
  evictStale(cutoffMs: number): number {
    let n = 0;
    for (const [scopeKey, scope] of this.scopes) {
      for (const [name, ms] of scope) {
        for (const [k, level] of ms.levels) {
          if (level.seenMs < cutoffMs) {
            ms.levels.delete(k);
            level.live = false;
            this.release(level);
            this.levelsTracked--;
            n++;
          }
        }
        for (const [k, s] of ms.streams) {
          if (s.seenMs < cutoffMs) {
            ms.streams.delete(k);
            this.forget(s);
            n++;
          }
        }
        if (ms.streams.size === 0 && ms.levels.size === 0) scope.delete(name);
        const order = ms.order;
        for (let i = 0; i < order.length; i++) if (order[i]?.live === false) order[i] = undefined;
      }
      if (scope.size === 0) this.scopes.delete(scopeKey);
    }
    for (const [k, s] of this.restored) {
      if (s.seenMs < cutoffMs) {
        this.restored.delete(k);
        this.forget(s);
        n++;
      }
    }
    return n;
  }

  /**
   * Drops a stream from memory. Its last state stays in the checkpoint file
   * (written at the next checkpoint when it changed since the last one, and
   * until then kept in `unwritten`), where limits.recall finds it again.
   */
  private forget(s: StreamState): void {
    s.live = false;
    this.release(s);
    this.streamsTracked--;
    if (s.dirty) {
      this.unwritten.set(s.key, s);
      // Evictions between two checkpoints are bounded by the points sent, not by the table: past
      // maxStreams, the oldest unwritten states go (their replicas lose replay detection only).
      if (this.unwritten.size > this.limits.maxStreams) {
        const oldest = this.unwritten.keys().next().value as string;
        this.unwritten.delete(oldest);
      }
    }
  }

  /**
   * Streams changed since the last call, for a checkpoint; those forgotten
   * since are among them, so that the file holds every stream's last state.
   */
  takeChanges(): { changed: Array<{ key: string; body: StreamJSON }> } {
    const changed: Array<{ key: string; body: StreamJSON }> = [];
    for (const s of this.dirty) {
      s.dirty = false;
      changed.push({ key: s.key, body: s.toJSON() });
    }
    this.taken = this.dirty;
    this.dirty = [];
    this.unwritten.clear();
    return { changed };
  }

  /** After a checkpoint that failed: the streams last taken count as changed again (and forgotten ones stay in memory). */
  untake(): void {
    for (const s of this.taken) {
      if (!s.live) this.unwritten.set(s.key, s);
      this.markDirty(s);
    }
    this.taken = [];
  }

  /** Restores a stream from a checkpoint, so the next cumulative point is differenced against it. */
  restore(key: string, body: StreamJSON): void {
    const state = StreamState.fromJSON(key, body);
    const old = this.restored.get(key);
    if (old !== undefined) old.live = false;
    else this.streamsTracked++;
    this.restored.set(key, state);
  }

  private markDirty(state: StreamState): void {
    if (!state.dirty) {
      state.dirty = true;
      this.dirty.push(state);
    }
  }

  /** Records the current point as its stream's new last point (in place when it is tracked already). */
  private update(
    prev: StreamState | undefined,
    start: bigint,
    time: bigint,
    last: number | Uint8Array,
    nowMs: number,
  ): StreamState {
    let state = prev;
    if (state === undefined) {
      const ms = this.pMs;
      const key = this.key();
      state = new StreamState(flatConcat(ms.prefix, key), start, time, last, nowMs);
      ms.streams.set(key, state);
      this.streamsTracked++;
      this.admit(state, ms, key);
      this.place(state);
    } else {
      state.start = start;
      state.time = time;
      state.last = last;
      state.seenMs = nowMs;
      state.once = false;
    }
    this.markDirty(state);
    return state;
  }

  private sumPoint(
    out: NormalizeResult,
    name: string,
    p: NumberPoint,
    temporality: Temporality,
    monotonic: boolean,
    nowMs: number,
  ): void {
    if (!Number.isFinite(p.value)) {
      out.rejected.push({ reason: "non_finite", message: `${name}: value ${p.value}` });
      return;
    }
    if (!monotonic) {
      // Up-down counters: a cumulative point is the stream's level; deltas add to the last level.
      let value = p.value;
      let memo: StreamState | LevelState | undefined;
      if (temporality !== Temporality.Delta) {
        memo = this.trackLevel(nowMs);
      } else {
        const prev = this.findStream();
        if (prev !== undefined || this.hasRoom()) {
          value = (typeof prev?.last === "number" ? prev.last : 0) + p.value;
          memo = this.update(prev, p.startTimeUnixNano, p.timeUnixNano, value, nowMs);
        }
      }
      if (memo === undefined) {
        out.rejected.push(this.limitRejection(name));
        return;
      }
      this.emit(out, {
        kind: "level",
        metric: name,
        attributes: p.attributes,
        stream: memo.key,
        value,
        memo,
      });
      return;
    }
    if (p.value < 0) {
      out.rejected.push({
        reason: "negative_count",
        message: `${name}: monotonic sum is negative (${p.value})`,
      });
      return;
    }
    if (temporality === Temporality.Delta) {
      const memo = this.freshDelta(p, nowMs);
      if (memo === null) {
        out.skipped++;
        return;
      }
      if (p.value > 0)
        this.emit(out, {
          kind: "increment",
          metric: name,
          attributes: p.attributes,
          delta: p.value,
          memo,
        });
      return;
    }
    const prev = this.findStream();
    if (prev === undefined && !this.hasRoom()) {
      out.rejected.push(this.limitRejection(name));
      return;
    }
    let delta: number;
    if (!prev || prev.start !== p.startTimeUnixNano) {
      if (prev && p.startTimeUnixNano < prev.start) {
        out.skipped++; // a late point from before the stream's last reset
        return;
      }
      delta = prev || p.startTimeUnixNano >= this.horizonNs ? p.value : 0;
    } else if (p.timeUnixNano <= prev.time) {
      out.skipped++;
      return;
    } else if (typeof prev.last !== "number" || p.value < prev.last) {
      // count dropped without a new start time, or the stream was a histogram until now: a reset
      delta = p.value;
    } else {
      delta = p.value - prev.last;
    }
    const state = this.update(prev, p.startTimeUnixNano, p.timeUnixNano, p.value, nowMs);
    if (delta > 0)
      this.emit(out, {
        kind: "increment",
        metric: name,
        attributes: p.attributes,
        delta,
        memo: state,
      });
    else if (delta === 0 && !prev) out.skipped++;
  }

  private expHistogramPoint(
    out: NormalizeResult,
    name: string,
    p: ExpHistogramPoint,
    temporality: Temporality,
    nowMs: number,
  ): void {
    let prev: StreamState | undefined;
    if (temporality !== Temporality.Delta) {
      prev = this.findStream();
      // Fast path, the steady state of a cumulative stream: the next point of the same run. At the
      // same scale the packed previous point is advanced as it is (ExpHistogram.advancePacked: in
      // place when the bucket span holds), at another through a scratch histogram; the delta comes
      // out in one pass. In every other case (invalid point, reset, new scale ...) nothing changed
      // and the general path below decides, with the same outcome it always had.
      if (
        prev !== undefined &&
        prev.start === p.startTimeUnixNano &&
        p.timeUnixNano > prev.time &&
        typeof prev.last !== "number"
      ) {
        let delta: ExpHistogram | null | undefined;
        const advanced = ExpHistogram.advancePacked(
          prev.last,
          p,
          this.sink === undefined ? undefined : DELTA,
        );
        if (advanced !== undefined) {
          delta = advanced.delta;
          if (advanced.packed !== prev.last) prev.last = rewriteBytes(prev.last, advanced.packed);
        } else {
          CUMULATIVE.unpackFrom(prev.last);
          delta = CUMULATIVE.advanceCumulative(p);
          if (delta !== undefined) prev.last = rewriteBytes(prev.last, CUMULATIVE.packView());
        }
        if (delta !== undefined) {
          prev.time = p.timeUnixNano;
          prev.seenMs = nowMs;
          prev.once = false;
          this.markDirty(prev);
          if (delta !== null)
            this.emit(out, {
              kind: "histogram",
              metric: name,
              attributes: p.attributes,
              delta,
              memo: prev,
            });
          return;
        }
      }
    }
    let h: ExpHistogram;
    try {
      h = ExpHistogram.fromOtlp(p);
    } catch (e) {
      out.rejected.push({ reason: "invalid_histogram", message: `${name}: ${(e as Error).message}` });
      return;
    }
    if (temporality === Temporality.Delta) {
      const memo = this.freshDelta(p, nowMs);
      if (memo === null) {
        out.skipped++;
        return;
      }
      if (h.count > 0)
        this.emit(out, { kind: "histogram", metric: name, attributes: p.attributes, delta: h, memo });
      return;
    }
    if (prev === undefined && !this.hasRoom()) {
      out.rejected.push(this.limitRejection(name));
      return;
    }
    let delta: ExpHistogram | undefined;
    if (!prev || prev.start !== p.startTimeUnixNano) {
      if (prev && p.startTimeUnixNano < prev.start) {
        out.skipped++;
        return;
      }
      delta = prev || p.startTimeUnixNano >= this.horizonNs ? h : undefined;
    } else if (p.timeUnixNano <= prev.time) {
      out.skipped++;
      return;
    } else if (typeof prev.last === "number") {
      delta = h; // the stream was a delta histogram or a number until now: a new run, taken whole
    } else {
      const last = ExpHistogram.unpack(prev.last);
      if (h.count < last.count || h.scale > last.scale) {
        delta = h; // count dropped or scale went up without a new start time: a reset
      } else {
        try {
          delta = h.clone();
          delta.subtract(last);
        } catch {
          delta = h; // buckets went down somewhere: treat as a reset rather than emit negative counts
        }
      }
    }
    const packed = rewriteBytes(typeof prev?.last === "object" ? prev.last : undefined, h.packView());
    const state = this.update(prev, p.startTimeUnixNano, p.timeUnixNano, packed, nowMs);
    if (delta && delta.count > 0) {
      this.emit(out, {
        kind: "histogram",
        metric: name,
        attributes: p.attributes,
        delta,
        memo: state,
      });
    } else if (!delta) {
      out.skipped++;
    }
  }

  /**
   * For delta streams: the stream's state unless the point repeats or precedes
   * one already taken (null). A new stream past the stream limit is taken
   * without being tracked (undefined: no duplicate detection for it).
   */
  private freshDelta(
    p: { startTimeUnixNano: bigint; timeUnixNano: bigint },
    nowMs: number,
  ): StreamState | null | undefined {
    const prev = this.findStream();
    if (prev && p.timeUnixNano <= prev.time) return null;
    if (!prev && !this.hasRoom()) return undefined;
    return this.update(prev, p.startTimeUnixNano, p.timeUnixNano, 0, nowMs);
  }
}
