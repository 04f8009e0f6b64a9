// Service level objectives per model: compliance over the SLO period, error
// budget remaining, and burn rates over the windows of the burn-rate alerts
// (5m, 30m, 1h, 2h, 6h, 1d, 3d). Each objective counts (bad, total) events
// into three rings of different resolution — 10 s slots for the last hour,
// 5 min slots for three days, 1 h slots for the period — so memory per
// objective is fixed (about 24 KB) whatever the traffic, and a window is a
// sum of whole slots.

import { burnRate, errorBudgetRemaining, errorRatio } from "@mlwatch/stats";
import type { SloObjective } from "../config/config.js";

/** Burn-rate windows, by label. */
export const SLO_WINDOWS: ReadonlyArray<[string, number]> = [
  ["5m", 300],
  ["30m", 1800],
  ["1h", 3600],
  ["2h", 7200],
  ["6h", 21_600],
  ["1d", 86_400],
  ["3d", 259_200],
];

/** Two counts per slot in a ring of fixed size. */
export class PairRing {
  private readonly ids: Float64Array;
  private readonly a: Float64Array;
  private readonly b: Float64Array;

  constructor(
    readonly slotMs: number,
    readonly slots: number,
  ) {
    this.ids = new Float64Array(slots).fill(-1);
    this.a = new Float64Array(slots);
    this.b = new Float64Array(slots);
  }

  add(nowMs: number, a: number, b: number): void {
    const id = Math.floor(nowMs / this.slotMs);
    const i = id % this.slots;
    if (this.ids[i] !== id) {
      if (this.ids[i] > id) return; // older than what the ring holds there
      this.ids[i] = id;
      this.a[i] = 0;
      this.b[i] = 0;
    }
    this.a[i] += a;
    this.b[i] += b;
  }

  /** Sums over the slots that end within windowMs before nowMs (the current slot included). */
  sum(windowMs: number, nowMs: number): [number, number] {
    const newest = Math.floor(nowMs / this.slotMs);
    const oldest = newest - Math.max(1, Math.round(windowMs / this.slotMs)) + 1;
    let a = 0;
    let b = 0;
    for (let i = 0; i < this.slots; i++) {
      const id = this.ids[i];
      if (id >= oldest && id <= newest) {
        a += this.a[i];
        b += this.b[i];
      }
    }
    return [a, b];
  }

  get spanMs(): number {
    return this.slotMs * this.slots;
  }

  toJSON(): { ids: number[]; a: number[]; b: number[] } {
    return { ids: [...this.ids], a: [...this.a], b: [...this.b] };
  }

  load(j: { ids: number[]; a: number[]; b: number[] }): void {
    if (j.ids.length !== this.slots) return; // resolution changed in the config: start afresh
    this.ids.set(j.ids);
    this.a.set(j.a);
    this.b.set(j.b);
  }
}

/** Events of one objective at three resolutions. */
export class ObjectiveCounter {
  readonly rings: PairRing[];

  constructor(periodSeconds: number) {
    this.rings = [
      new PairRing(10_000, 360), // 1 h
      new PairRing(300_000, 864), // 3 d
      new PairRing(3_600_000, Math.max(1, Math.ceil(periodSeconds / 3600))),
    ];
  }

  add(nowMs: number, bad: number, total: number): void {
    if (bad === 0 && total === 0) return;
    for (const r of this.rings) r.add(nowMs, bad, total);
  }

  /** Sums over a window, from the finest ring that spans it. */
  sum(windowSeconds: number, nowMs: number): [number, number] {
    const ms = windowSeconds * 1000;
    const ring = this.rings.find((r) => r.spanMs >= ms) ?? this.rings[this.rings.length - 1];
    return ring.sum(ms, nowMs);
  }
}

export interface ObjectiveStatus {
  name: string;
  kind: SloObjective["kind"];
  /** Target ratio of good events (event objectives) or the threshold (throughput, cost). */
  target: number;
  /** The service level indicator over the SLO period (so far): good ratio, requests per second, or cost per 1000 requests. */
  sli: number | null;
  met: boolean | null;
  /** 1 untouched, 0 spent, negative overspent; event objectives only. */
  errorBudgetRemaining: number | null;
  /** SLO period the budget is counted over. */
  periodSeconds: number;
  /** Latency objectives: the threshold a request must finish within. */
  thresholdSeconds?: number;
  /** Accuracy objectives: the segment whose labelled predictions count (absent: every segment). */
  segment?: string;
  windows: Array<{ window: string; sli: number | null; burnRate: number | null; events: number }>;
}

/** The event counts an observation contributes to an objective, as [bad, total]. */
export type ObjectiveEvents = (o: SloObjective) => [number, number] | undefined;

export class ModelSlo {
  private readonly counters: Map<string, ObjectiveCounter>;

  constructor(
    readonly objectives: SloObjective[],
    readonly periodSeconds: number,
  ) {
    this.counters = new Map(objectives.map((o) => [o.name, new ObjectiveCounter(periodSeconds)]));
  }

  /** Feeds one observation's events to every objective that counts them. */
  record(nowMs: number, events: ObjectiveEvents): void {
    for (const o of this.objectives) {
      const e = events(o);
      if (e) this.counters.get(o.name)!.add(nowMs, e[0], e[1]);
    }
  }

  status(nowMs: number): ObjectiveStatus[] {
    return this.objectives.map((o) => {
      const c = this.counters.get(o.name)!;
      const sliOf = (bad: number, total: number, seconds: number): number | null => {
        if (o.kind === "throughput") return total / seconds;
        if (total === 0) return null;
        if (o.kind === "cost") return ((bad * o.costPerSecond) / total) * 1000;
        return 1 - errorRatio(bad, total);
      };
      const windows = SLO_WINDOWS.map(([label, seconds]) => {
        const [bad, total] = c.sum(seconds, nowMs);
        const sli = sliOf(bad, total, seconds);
        const rate = "target" in o && total > 0 ? burnRate(errorRatio(bad, total), o.target) : null;
        return { window: label, sli, burnRate: rate, events: total };
      });
      const [bad, total] = c.sum(this.periodSeconds, nowMs);
      const sli = sliOf(bad, total, this.periodSeconds);
      let target: number;
      let met: boolean | null;
      let budget: number | null = null;
      if (o.kind === "throughput") {
        target = o.minRequestsPerSecond;
        met = sli === null ? null : sli >= target;
      } else if (o.kind === "cost") {
        target = o.maxCostPer1000Requests;
        met = sli === null ? null : sli <= target;
      } else {
        target = o.target;
        met = sli === null ? null : sli >= target;
        budget = total > 0 ? errorBudgetRemaining(errorRatio(bad, total), o.target) : null;
      }
      return {
        name: o.name,
        kind: o.kind,
        target,
        sli,
        met,
        errorBudgetRemaining: budget,
        periodSeconds: this.periodSeconds,
        ...(o.kind === "latency" ? { thresholdSeconds: o.thresholdSeconds } : {}),
        ...(o.kind === "accuracy" && o.segment !== undefined ? { segment: o.segment } : {}),
        windows,
      };
    });
  }

  toJSON(): Record<string, ReturnType<PairRing["toJSON"]>[]> {
    const out: Record<string, ReturnType<PairRing["toJSON"]>[]> = {};
    for (const [name, c] of this.counters) out[name] = c.rings.map((r) => r.toJSON());
    return out;
  }

  load(j: Record<string, ReturnType<PairRing["toJSON"]>[]>): void {
    for (const [name, rings] of Object.entries(j)) {
      const c = this.counters.get(name);
      if (!c || rings.length !== c.rings.length) continue;
      for (let i = 0; i < rings.length; i++) c.rings[i].load(rings[i]);
    }
  }
}

/** The SLOs of every model that has some in the config, fed from the observations the collector ingests. */
export class SloRegistry {
  readonly models = new Map<string, ModelSlo>();

  constructor(
    settings: Record<string, { slo?: { period: number | string; objectives: SloObjective[] } }>,
    periodSeconds: (p: number | string) => number,
  ) {
    for (const [model, s] of Object.entries(settings)) {
      if (s.slo) this.models.set(model, new ModelSlo(s.slo.objectives, periodSeconds(s.slo.period)));
    }
  }

  record(model: string, nowMs: number, events: ObjectiveEvents): void {
    this.models.get(model)?.record(nowMs, events);
  }

  status(nowMs: number): Map<string, ObjectiveStatus[]> {
    const out = new Map<string, ObjectiveStatus[]>();
    for (const [model, s] of this.models) out.set(model, s.status(nowMs));
    return out;
  }
}
