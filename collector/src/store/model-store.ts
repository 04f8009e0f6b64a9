// Holds what the collector knows per series: running totals for Prometheus
// counters, levels per replica stream for gauges, and sliding windows of
// merged exponential histograms for drift, quantiles and accuracy. Replicas
// of the same model land on the same series because series are keyed by the
// instrument's own labels only, never by resource attributes.

import { Attr, type InstrumentSpec, instrumentByName, PromLabel } from "@mlwatch/semconv";
import { ExpHistogram, type ExpHistogramJSON } from "@mlwatch/stats";
import type { Attributes } from "../otlp/types.js";
import { boundedValue } from "../pipeline/bounded.js";
import type { Observation, StreamMemo } from "../pipeline/normalize.js";
import { addClassicCounts } from "./classic-buckets.js";
import { HistogramWindow } from "./histogram-window.js";
import { CountWindow, type SlotJSON } from "./sliding-window.js";

export type Labels = Record<string, string>;

/** Label value of the series that collects data past an instrument's series cap. */
export const OVERFLOW = "__overflow__";

/** Longest label value kept, unless limits.maxLabelLength says otherwise. */
const DEFAULT_MAX_LABEL_LENGTH = 256;

/** What every series carries for fair room when its family is full (ModelStore.makeRoom). */
interface RoomMark {
  /** True until a second observation arrives: a series made once (as a flood's are) is the first to give way. */
  once?: boolean;
}

export interface CounterSeries extends RoomMark {
  kind: "counter";
  labels: Labels;
  /** Sum of all increments since the collector started. */
  total: number;
  /** `total` as of the last checkpoint that wrote this series (see ModelStore.servedCount); undefined before the first. */
  served: number | undefined;
  window: CountWindow;
}

export interface LevelSeries extends RoomMark {
  kind: "level";
  labels: Labels;
  /** Latest level reported by each replica stream, with when it was seen. */
  streams: Map<string, { value: number; seenMs: number }>;
}

export interface HistogramSeries extends RoomMark {
  kind: "histogram";
  labels: Labels;
  /**
   * Everything recorded since the collector started, kept only for
   * instruments re-exported as Prometheus histograms (latency, confidence);
   * feature histograms live in their window alone, to save memory.
   */
  total?: ExpHistogram;
  /** Classic bucket counts since the collector started, when the instrument has classic bounds. */
  classic?: { bounds: readonly number[]; counts: number[] };
  /** `total` and the classic counts as of the last checkpoint that wrote this series (see ModelStore.servedHistogram). */
  served?: ServedHistogram;
  window: HistogramWindow;
}

/** What /metrics shows of a histogram series: its running total and classic bucket counts. */
export interface ServedHistogram {
  total: ExpHistogram;
  classic: { bounds: readonly number[]; counts: number[] };
}

/** A series taken for a checkpoint: where it is stored, and what is written. */
export interface TakenSeries {
  family: string;
  key: string;
  body: SeriesJSON;
  series: Series;
}

export type Series = CounterSeries | LevelSeries | HistogramSeries;

function seriesToJSON(s: Series): SeriesJSON {
  switch (s.kind) {
    case "counter":
      return { kind: "counter", labels: s.labels, total: s.total, window: s.window.toJSON() };
    case "level":
      return { kind: "level", labels: s.labels, streams: [...s.streams] };
    case "histogram":
      return {
        kind: "histogram",
        labels: s.labels,
        total: s.total?.toJSON(),
        classic: s.classic?.counts,
        window: s.window.toPacked(),
      };
  }
}

export interface WindowSpec {
  slotMs: number;
  slots: number;
}

const labelKeysCache = new Map<InstrumentSpec, ReadonlyArray<readonly [string, string]>>();

/** Labels an instrument's series carries on /metrics; the feature sign is folded into the histogram instead. */
function labelKeysOf(spec: InstrumentSpec): ReadonlyArray<readonly [string, string]> {
  let keys = labelKeysCache.get(spec);
  if (keys === undefined) {
    keys = spec.attributes.filter((a) => a !== Attr.featureSign).map((a) => [a, PromLabel[a]] as const);
    labelKeysCache.set(spec, keys);
  }
  return keys;
}

/**
 * Where one replica stream's observations go, worked out on its first point
 * and kept in the stream's memo slot (see StreamMemo), so that later points
 * skip labels, keys and the series cap. Checked on every use against the
 * family map, so a series replaced or removed since is looked up again.
 */
class Route {
  /** The series once it exists. */
  series: Series | undefined = undefined;
  /** The store's generation when the route was last checked (ModelStore.generation). */
  generation = -1;
  /** ModelStore.checkpoints when the route last marked its series changed. */
  dirtyEpoch = -1;
  constructor(
    readonly spec: InstrumentSpec,
    readonly key: string,
    readonly labels: Labels,
    /** Key of the stream's own label set when it went to the overflow series instead. */
    readonly cappedKey: string | undefined,
    /** Values of a negative feature sign: the histogram is mirrored. */
    readonly negative: boolean,
  ) {}
}

let nextGeneration = 0;

/** A family's series in the order they were made, and how many each model holds: for ModelStore.makeRoom. */
interface FamilyRoom {
  made: Array<{ key: string; series: Series; batch: number }>;
  perModel: Map<string, number>;
}

/** The key of a label set, joined flat: it is kept for the series' lifetime (see flatConcat in pipeline/normalize.ts). */
function labelsKey(labels: Labels): string {
  const parts: string[] = [];
  for (const k in labels) parts.push(labels[k], "\u0001");
  return parts.join("");
}

/** A histogram of magnitudes of negative values, turned back into the negative range. */
function negated(h: ExpHistogram): ExpHistogram {
  const j = h.toJSON();
  return ExpHistogram.fromJSON({
    ...j,
    sum: -j.sum,
    min: j.count > 0 ? -j.max : j.min,
    max: j.count > 0 ? -j.min : j.max,
    positive: j.negative,
    negative: j.positive,
  });
}

/** A series as stored in a checkpoint. */
export type SeriesJSON =
  | { kind: "counter"; labels: Labels; total: number; window: SlotJSON<number>[] }
  | { kind: "level"; labels: Labels; streams: Array<[string, { value: number; seenMs: number }]> }
  | {
      kind: "histogram";
      labels: Labels;
      total?: ExpHistogramJSON;
      classic?: number[];
      /** The slots' packed records in base64 (HistogramWindow.toPacked), or as JSON (files written before). */
      window: string | SlotJSON<ExpHistogramJSON>[];
    };

export class ModelStore {
  /** instrument name → series key → series */
  readonly families = new Map<string, Map<string, Series>>();
  ignoredPoints = 0;
  /** Label values cut to limits.maxLabelLength. */
  truncatedLabels = 0;
  /** Series changed since the last checkpoint, as [family, key]. */
  private readonly dirty = new Map<Series, [string, string]>();
  /**
   * Changes whenever a stored series is replaced (restore), so that routes are
   * checked again; drawn from one sequence for all stores, so that a route
   * worked out by another store (one normaliser can serve two) never passes.
   */
  private generation = nextGeneration++;
  /** How many times the changed series were taken (takeDirty, dumpAll). */
  private checkpoints = 0;
  /** Per family, for fair room (makeRoom). */
  private readonly rooms = new Map<string, FamilyRoom>();
  /** Series given up to make room since the last checkpoint, as [family, key]: their rows go. */
  private removed: Array<[string, string]> = [];
  /** Counts requests (nextBatch): a request does not take room from series it made itself. */
  private batch = 0;
  /** Series folded into their family's overflow series to make room for a model with fewer. */
  evictedSeries = 0;

  /**
   * @param classicBounds instruments re-exported as classic Prometheus
   * histograms, with their bucket bounds; counts are accumulated per delta so
   * they only ever grow, as Prometheus requires.
   */
  /** Points that went to an overflow series because their instrument hit the series cap, by instrument. */
  readonly capped = new Map<string, number>();

  /**
   * @param servesCheckpointed when true (the collector keeps a file), /metrics
   * shows running totals as of the last checkpoint that wrote them
   * (servedCount, servedHistogram), so a counter it served is always in the
   * file and never goes back after a crash; when false, the live totals.
   */
  constructor(
    private readonly window: WindowSpec,
    private readonly classicBounds: ReadonlyMap<string, readonly number[]> = new Map(),
    private readonly limits: { maxSeriesPerMetric: number; maxLabelLength?: number } = {
      maxSeriesPerMetric: 10_000,
    },
    private readonly servesCheckpointed = false,
  ) {}

  /** The counter's value for /metrics (see the constructor); undefined: not shown yet. */
  servedCount(s: CounterSeries): number | undefined {
    return this.servesCheckpointed ? s.served : s.total;
  }

  /** The histogram's running total and classic counts for /metrics (see the constructor); undefined: not shown. */
  servedHistogram(s: HistogramSeries): ServedHistogram | undefined {
    if (this.servesCheckpointed) return s.served;
    return s.total && s.classic ? { total: s.total, classic: s.classic } : undefined;
  }

  /**
   * Called once the checkpoint holding `taken` is committed: from now on
   * /metrics shows what it wrote. Nothing is ingested in between (both run in
   * one turn of the event loop), so the live totals are what was written.
   */
  published(taken: readonly TakenSeries[]): void {
    for (const { series: s } of taken) {
      if (s.kind === "counter") s.served = s.total;
      else if (s.kind === "histogram" && s.total && s.classic) {
        const served = s.served;
        if (served === undefined)
          s.served = {
            total: s.total.clone(),
            classic: { bounds: s.classic.bounds, counts: [...s.classic.counts] },
          };
        else {
          served.total = s.total.clone();
          served.classic = { bounds: s.classic.bounds, counts: [...s.classic.counts] };
        }
      }
    }
  }

  /** Adds an observation to its series; returns the series' labels, or undefined when it was not used. */
  ingest(obs: Observation, nowMs: number): Labels | undefined {
    const memo = obs.memo;
    let route = memo?.memo;
    // A route checked since the last replacement of a stored series, whose series exists and is not
    // the overflow one, still holds: no lookups needed.
    if (
      route instanceof Route &&
      route.generation === this.generation &&
      route.series !== undefined &&
      route.cappedKey === undefined
    ) {
      this.ingestInto(undefined, route, obs, nowMs);
      this.markDirty(route);
      return route.labels;
    }
    // A route still holds when its series is still the one stored under its key (in this store), and,
    // past the cap, when the stream's own label set still has no series and there is still no room.
    let family = route instanceof Route ? this.families.get(route.spec.name) : undefined;
    if (
      !(route instanceof Route) ||
      family === undefined ||
      route.series === undefined ||
      family.get(route.key) !== route.series ||
      (route.cappedKey !== undefined &&
        (family.has(route.cappedKey) || family.size < this.limits.maxSeriesPerMetric))
    ) {
      const fresh = this.route(obs);
      if (fresh === undefined) {
        this.ignoredPoints++;
        return undefined;
      }
      if (memo !== undefined) memo.memo = fresh;
      route = fresh;
      family = this.families.get(fresh.spec.name) as Map<string, Series>;
    }
    const r = route as Route;
    if (r.cappedKey !== undefined) this.capped.set(r.spec.name, (this.capped.get(r.spec.name) ?? 0) + 1);
    this.ingestInto(family, r, obs, nowMs);
    r.generation = this.generation;
    this.markDirty(r);
    return r.labels;
  }

  private markDirty(r: Route): void {
    // a route that marked its series since the last checkpoint needs no lookup
    if (r.dirtyEpoch === this.checkpoints) return;
    const series = r.series;
    if (series === undefined) return;
    r.dirtyEpoch = this.checkpoints;
    if (!this.dirty.has(series)) this.dirty.set(series, [r.spec.name, r.key]);
  }

  /** Works out where an observation goes: its instrument, family, series key and labels. */
  private route(obs: Observation): Route | undefined {
    const spec = instrumentByName.get(obs.metric);
    if (!spec) return undefined;
    let labels = this.labelsFor(spec, obs.attributes);
    let family = this.families.get(spec.name);
    if (!family) {
      family = new Map();
      this.families.set(spec.name, family);
    }
    let key = labelsKey(labels);
    let cappedKey: string | undefined;
    if (
      !family.has(key) &&
      family.size >= this.limits.maxSeriesPerMetric &&
      !this.makeRoom(spec, family, labels.model_name ?? "")
    ) {
      // Past the cap every new label set shares one series, so memory stays bounded and totals stay whole.
      cappedKey = key;
      labels = Object.fromEntries(Object.keys(labels).map((k) => [k, OVERFLOW]));
      key = labelsKey(labels);
    }
    const negative = obs.attributes[Attr.featureSign] === "negative";
    return new Route(spec, key, labels, cappedKey, negative);
  }

  /**
   * Adds the observation to the route's series, creating the series first
   * when needed (`family` is only read when the route has no series yet).
   */
  private ingestInto(
    family: Map<string, Series> | undefined,
    route: Route,
    obs: Observation,
    nowMs: number,
  ): void {
    const { key } = route;
    // A route checked by ingest() holds its series; a new one looks it up.
    let series = route.series ?? (family as Map<string, Series>).get(key);
    route.series = series;
    switch (obs.kind) {
      case "increment": {
        if (!series) series = this.create(family, route, "counter");
        else series.once = false;
        if (series.kind !== "counter") {
          this.mismatch();
          return;
        }
        series.total += obs.delta;
        series.window.add(nowMs, obs.delta);
        return;
      }
      case "level": {
        if (!series) series = this.create(family, route, "level");
        else series.once = false;
        if (series.kind !== "level") {
          this.mismatch();
          return;
        }
        series.streams.set(obs.stream, { value: obs.value, seenMs: nowMs });
        return;
      }
      case "histogram": {
        if (!series) series = this.create(family, route, "histogram");
        else series.once = false;
        if (series.kind !== "histogram") {
          this.mismatch();
          return;
        }
        const delta = route.negative ? negated(obs.delta) : obs.delta;
        series.total?.merge(delta);
        if (series.classic) addClassicCounts(delta, series.classic.bounds, series.classic.counts);
        series.window.add(nowMs, delta);
        return;
      }
    }
  }

  /** Drops one replica stream's level: the normaliser evicted the stream (NormalizerLimits.onEvictLevel). */
  dropLevel(memo: StreamMemo, stream: string): void {
    const route = memo.memo;
    const series = route instanceof Route ? route.series : undefined;
    if (series?.kind !== "level" || !series.streams.delete(stream)) return;
    const { spec, key } = route as Route;
    // a series given up since (makeRoom) has no row to write
    if (this.families.get(spec.name)?.get(key) === series && !this.dirty.has(series))
      this.dirty.set(series, [spec.name, key]);
  }

  /** True when some series of `model` is held. */
  hasModel(model: string): boolean {
    for (const r of this.rooms.values()) if (r.perModel.has(model)) return true;
    return false;
  }

  /** Starts a new request's observations (see makeRoom). */
  nextBatch(): void {
    this.batch++;
  }

  private room(family: string): FamilyRoom {
    let r = this.rooms.get(family);
    if (r === undefined) {
      r = { made: [], perModel: new Map() };
      this.rooms.set(family, r);
    }
    return r;
  }

  /** Counts a new series against its model in its family's room. */
  private made(family: string, key: string, series: Series, evictable: boolean): void {
    const r = this.room(family);
    const model = series.labels.model_name ?? "";
    r.perModel.set(model, (r.perModel.get(model) ?? 0) + 1);
    if (evictable && model !== OVERFLOW) r.made.push({ key, series, batch: this.batch });
    if (r.made.length > 2 * this.limits.maxSeriesPerMetric + 1024) {
      const f = this.families.get(family);
      r.made = r.made.filter((e) => f?.get(e.key) === e.series);
    }
  }

  /**
   * Makes room in a full family for a new series of `model`: the newest
   * series of another model that had only one observation, or whose model
   * holds more series here than `model` plus one, is folded into the
   * family's overflow series (its counts kept there) and given up. So one client's flood of label sets,
   * of many model names or of one model, gives way to a newcomer, newest
   * first, while series made before the flood stay. False: no such series
   * among the newest 256, and the newcomer goes to overflow.
   */
  private makeRoom(spec: InstrumentSpec, family: Map<string, Series>, model: string): boolean {
    const r = this.room(spec.name);
    const mine = r.perModel.get(model) ?? 0;
    const made = r.made;
    const alive = (e: { key: string; series: Series }) => family.get(e.key) === e.series;
    while (made.length > 0 && !alive(made[made.length - 1])) made.pop();
    for (let i = made.length - 1, seen = 0; i >= 0 && seen < 256; i--) {
      const e = made[i];
      if (!alive(e)) continue;
      seen++;
      if (e.batch === this.batch) continue;
      const theirs = e.series.labels.model_name ?? "";
      const sentOnce = e.series.once === true && theirs !== model;
      if (!sentOnce && (r.perModel.get(theirs) ?? 0) <= mine + 1) continue;
      this.fold(spec, family, e.key, e.series);
      return true;
    }
    return false;
  }

  /** Moves a series' counts into its family's overflow series and drops it (makeRoom). */
  private fold(spec: InstrumentSpec, family: Map<string, Series>, key: string, s: Series): void {
    const labels: Labels = Object.fromEntries(labelKeysOf(spec).map(([, l]) => [l, OVERFLOW]));
    const okey = labelsKey(labels);
    let o = family.get(okey);
    if (o === undefined) {
      o = this.emptySeries(spec, s.kind, labels);
      family.set(okey, o);
      this.made(spec.name, okey, o, false);
    }
    const slotMs = this.window.slotMs;
    if (s.kind === "counter" && o.kind === "counter") {
      o.total += s.total;
      for (const x of s.window.toJSON()) o.window.add(x.slot * slotMs, x.value);
    } else if (s.kind === "histogram" && o.kind === "histogram") {
      if (s.total) o.total?.merge(s.total);
      if (s.classic && o.classic)
        for (let i = 0; i < s.classic.counts.length; i++) o.classic.counts[i] += s.classic.counts[i];
      for (const x of s.window.toJSON()) o.window.add(x.slot * slotMs, ExpHistogram.fromJSON(x.value));
    } else if (s.kind === "level" && o.kind === "level") {
      for (const [k, v] of s.streams) o.streams.set(k, v);
    }
    family.delete(key);
    const r = this.room(spec.name);
    const model = s.labels.model_name ?? "";
    const n = (r.perModel.get(model) ?? 1) - 1;
    if (n === 0) r.perModel.delete(model);
    else r.perModel.set(model, n);
    this.dirty.delete(s);
    this.dirty.set(o, [spec.name, okey]);
    this.removed.push([spec.name, key]);
    this.evictedSeries++;
    // routes to the series given up must be worked out again
    this.generation = nextGeneration++;
  }

  private emptySeries(spec: InstrumentSpec, kind: Series["kind"], labels: Labels): Series {
    if (kind === "counter")
      return {
        kind: "counter",
        labels,
        total: 0,
        served: undefined,
        window: new CountWindow(this.window.slotMs, this.window.slots),
      };
    if (kind === "level") return { kind: "level", labels, streams: new Map() };
    const series: HistogramSeries = {
      kind: "histogram",
      labels,
      window: new HistogramWindow(this.window.slotMs, this.window.slots),
    };
    const bounds = this.classicBounds.get(spec.name);
    if (bounds) {
      series.total = new ExpHistogram();
      series.classic = { bounds, counts: new Array(bounds.length + 1).fill(0) };
    }
    return series;
  }

  /** Rows of series given up since the last call (makeRoom), for the checkpoint to delete. */
  takeRemoved(): Array<[string, string]> {
    const out = this.removed;
    this.removed = [];
    return out;
  }

  /** After a checkpoint that failed: the rows taken are still to delete. */
  untakeRemoved(rows: Array<[string, string]>): void {
    this.removed.push(...rows);
  }

  /** A new series for a route, in its family. */
  private create(family: Map<string, Series> | undefined, route: Route, kind: Series["kind"]): Series {
    const series = this.emptySeries(route.spec, kind, route.labels);
    series.once = true;
    (family as Map<string, Series>).set(route.key, series);
    route.series = series;
    this.made(route.spec.name, route.key, series, true);
    return series;
  }

  /** Serialises the series changed since the last call, for a checkpoint. */
  takeDirty(): TakenSeries[] {
    const out: TakenSeries[] = [];
    for (const [series, [family, key]] of this.dirty)
      out.push({ family, key, body: seriesToJSON(series), series });
    this.dirty.clear();
    this.checkpoints++;
    return out;
  }

  /** Puts series taken for a checkpoint that failed back among the changed ones, for the next. */
  untake(taken: readonly TakenSeries[]): void {
    for (const t of taken) if (!this.dirty.has(t.series)) this.dirty.set(t.series, [t.family, t.key]);
  }

  /** Every series, serialised (a full checkpoint). */
  dumpAll(): TakenSeries[] {
    this.dirty.clear();
    this.checkpoints++;
    const out: TakenSeries[] = [];
    for (const [family, series] of this.families) {
      for (const [key, s] of series) out.push({ family, key, body: seriesToJSON(s), series: s });
    }
    return out;
  }

  /** Restores one series from a checkpoint. */
  restore(family: string, key: string, body: SeriesJSON): void {
    let f = this.families.get(family);
    if (!f) {
      f = new Map();
      this.families.set(family, f);
    }
    const { slotMs, slots } = this.window;
    let series: Series;
    if (body.kind === "counter") {
      const window = new CountWindow(slotMs, slots);
      window.load(body.window);
      series = { kind: "counter", labels: body.labels, total: body.total, served: body.total, window };
    } else if (body.kind === "level") {
      series = { kind: "level", labels: body.labels, streams: new Map(body.streams) };
    } else {
      const window = new HistogramWindow(slotMs, slots);
      window.load(body.window);
      series = { kind: "histogram", labels: body.labels, window };
      const bounds = this.classicBounds.get(family);
      if (bounds) {
        series.total = body.total ? ExpHistogram.fromJSON(body.total) : new ExpHistogram();
        // Bucket bounds changed in the config: classic counts restart (Prometheus sees a counter reset).
        const same = body.classic && body.classic.length === bounds.length + 1;
        series.classic = {
          bounds,
          counts: same && body.classic ? body.classic : new Array(bounds.length + 1).fill(0),
        };
        series.served = {
          total: series.total.clone(),
          classic: { bounds, counts: [...series.classic.counts] },
        };
      }
    }
    const replaced = f.get(key);
    f.set(key, series);
    if (replaced === undefined) this.made(family, key, series, false);
    // routes worked out before may point at the series this one replaced
    this.generation = nextGeneration++;
  }

  /** All series of one instrument. */
  series(instrumentName: string): Iterable<Series> {
    return this.families.get(instrumentName)?.values() ?? [];
  }

  /** Model names seen on any series. */
  models(): string[] {
    const names = new Set<string>();
    for (const family of this.families.values()) {
      for (const s of family.values()) if (s.labels.model_name) names.add(s.labels.model_name);
    }
    return [...names].sort();
  }

  /** Drops replica streams of level series not seen since cutoffMs. */
  evictStale(cutoffMs: number): void {
    for (const family of this.families.values()) {
      for (const s of family.values()) {
        if (s.kind !== "level") continue;
        for (const [k, v] of s.streams) if (v.seenMs < cutoffMs) s.streams.delete(k);
      }
    }
  }

  get seriesCount(): number {
    let n = 0;
    for (const f of this.families.values()) n += f.size;
    return n;
  }

  private labelsFor(spec: InstrumentSpec, attrs: Attributes): Labels {
    const labels: Labels = {};
    const keys = labelKeysOf(spec);
    for (let i = 0; i < keys.length; i++) {
      const [attr, label] = keys[i];
      const v = attrs[attr];
      const value = v === undefined ? "" : String(v);
      const max = this.limits.maxLabelLength ?? DEFAULT_MAX_LABEL_LENGTH;
      if (value.length > max) {
        labels[label] = boundedValue(value, max);
        this.truncatedLabels++;
      } else labels[label] = value;
    }
    return labels;
  }

  private mismatch(): void {
    // The same instrument name arrived as a different kind (another SDK, a bug): not mixed in.
    this.ignoredPoints++;
  }
}
