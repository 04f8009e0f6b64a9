// Ground truth: sampled predictions arrive as OTLP log records and wait,
// bounded in number and age, for a label (POST /api/v1/feedback). A label
// joined with its prediction becomes one correct or incorrect outcome,
// counted like the SDK's own outcome counters, and also enters a rolling
// buffer of the last N labels per model and segment. The pending ones are
// the human review queue (GET /api/v1/reviews).

import { OVERFLOW } from "../store/model-store.js";

export interface SampledPrediction {
  model: string;
  version: string;
  requestId: string;
  predictedClass: string;
  confidence?: number;
  segment?: string;
  /** JSON text of the inputs, when the service opted in. */
  input?: string;
  receivedMs: number;
}

export type FeedbackResult =
  | {
      status: "joined";
      model: string;
      version: string;
      segment: string;
      correct: boolean;
      predictedClass: string;
    }
  | { status: "unknown" };

/** Rolling record of the last N outcomes. */
class LastN {
  private readonly bits: Uint8Array;
  private next = 0;
  private filled = 0;
  private correct = 0;

  constructor(readonly size: number) {
    this.bits = new Uint8Array(size);
  }

  push(ok: boolean): void {
    if (this.filled === this.size) this.correct -= this.bits[this.next];
    else this.filled++;
    this.bits[this.next] = ok ? 1 : 0;
    this.correct += ok ? 1 : 0;
    this.next = (this.next + 1) % this.size;
  }

  get total(): number {
    return this.filled;
  }

  get correctCount(): number {
    return this.correct;
  }
}

export class FeedbackJoiner {
  /** request id → prediction; Map order is arrival order, so the oldest go first. */
  private readonly pending = new Map<string, SampledPrediction>();
  private readonly lastN = new Map<string, LastN>();
  private readonly changed = new Set<string>();
  private readonly removed = new Set<string>();
  dropped = 0;

  constructor(
    private readonly maxPending: number,
    private readonly ttlMs: number,
    private readonly lastLabels: number,
    private readonly defaultSegment: string,
    /** Model × segment pairs with a rolling accuracy at most; later pairs share one overflow pair. */
    private readonly maxRolling = 10_000,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  addSampled(p: SampledPrediction): void {
    if (this.pending.has(p.requestId)) this.pending.delete(p.requestId);
    this.pending.set(p.requestId, p);
    this.changed.add(p.requestId);
    while (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.forget(oldest);
      this.dropped++;
    }
  }

  /** Joins a label with its sampled prediction; the prediction leaves the review queue. */
  feedback(requestId: string, label: string, model?: string): FeedbackResult {
    const p = this.pending.get(requestId);
    if (!p || (model !== undefined && p.model !== model)) return { status: "unknown" };
    this.forget(requestId);
    const segment = p.segment || this.defaultSegment;
    const correct = p.predictedClass === label;
    let key = `${p.model}\u0000${segment}`;
    if (!this.lastN.has(key) && this.lastN.size >= this.maxRolling) key = `${OVERFLOW}\u0000${OVERFLOW}`;
    let buf = this.lastN.get(key);
    if (!buf) {
      buf = new LastN(this.lastLabels);
      this.lastN.set(key, buf);
    }
    buf.push(correct);
    return {
      status: "joined",
      model: p.model,
      version: p.version,
      segment,
      correct,
      predictedClass: p.predictedClass,
    };
  }

  /** The review queue: pending predictions, oldest first. */
  reviews(opts: { model?: string; limit: number; offset: number }): {
    total: number;
    items: SampledPrediction[];
  } {
    const all = [...this.pending.values()].filter((p) => opts.model === undefined || p.model === opts.model);
    return { total: all.length, items: all.slice(opts.offset, opts.offset + opts.limit) };
  }

  /** Accuracy over the last N labels, per model and segment. */
  rolling(): Array<{ model: string; segment: string; correct: number; total: number }> {
    return [...this.lastN].map(([k, b]) => {
      const [model, segment] = k.split("\u0000");
      return { model, segment, correct: b.correctCount, total: b.total };
    });
  }

  evictExpired(nowMs: number): void {
    for (const [id, p] of this.pending) {
      if (nowMs - p.receivedMs <= this.ttlMs) break; // arrival order: the rest are younger
      this.forget(id);
      this.dropped++;
    }
  }

  /** Pending predictions added and removed since the last call, for a checkpoint. */
  takeChanges(): { changed: SampledPrediction[]; removed: string[] } {
    const changed: SampledPrediction[] = [];
    for (const id of this.changed) {
      const p = this.pending.get(id);
      if (p) changed.push(p);
    }
    const removed = [...this.removed];
    this.changed.clear();
    this.removed.clear();
    return { changed, removed };
  }

  restore(p: SampledPrediction): void {
    this.pending.set(p.requestId, p);
  }

  private forget(id: string): void {
    this.pending.delete(id);
    this.changed.delete(id);
    this.removed.add(id);
  }
}
