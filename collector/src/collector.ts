// Wires the stages together: receiver → normaliser → window store →
// analysis → exposition / API. Owns the two listeners, the analysis and
// checkpoint timers, and the SQLite file.

import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { Attr, Instruments, instrumentByName, SampledPredictionEvent } from "@mlwatch/semconv";
import type { ExpHistogram } from "@mlwatch/stats";
import { classWindows, confidenceWindows } from "./analysis/concept.js";
import {
  binLabel,
  binShares,
  categoryWindows,
  FirstSeen,
  featureWindows,
  reportEdges,
  topMoved,
} from "./analysis/drift.js";
import { FeedbackJoiner, type SampledPrediction } from "./analysis/feedback.js";
import { type ObjectiveStatus, SloRegistry } from "./analysis/slo.js";
import { sloEventsOf } from "./analysis/slo-events.js";
import { type AnalysisSnapshot, analyze, emptySnapshot } from "./analysis/snapshot.js";
import { baselineResolver } from "./analysis/versions.js";
import { createQueryServer, type FeedbackItem } from "./api/query-http.js";
import { type ModelSummary, summarize } from "./api/summary.js";
import { makeBaseline } from "./baselines/format.js";
import { BaselineStore } from "./baselines/store.js";
import { type Config, checkPaths, DEFAULT_STORAGE_PATH, durationSeconds } from "./config/config.js";
import { renderMetrics, type SelfStats } from "./export/metrics.js";
import { encodeProtobufExposition, storeNativeSource } from "./export/protobuf-exposition.js";
import type { LogsRequest, MetricsRequest } from "./otlp/types.js";
import { boundedValue } from "./pipeline/bounded.js";
import { Normalizer, type Observation } from "./pipeline/normalize.js";
import { createOtlpReceiver, type IngestResult } from "./receiver/otlp-http.js";
import { Checkpointer, memoryHorizon } from "./store/checkpoint.js";
import { type Db, openDatabase } from "./store/database.js";
import { ModelStore } from "./store/model-store.js";

/** Bucket bounds of the reference design's confidence histogram. */
const CONFIDENCE_BOUNDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Longest model input kept with a sampled prediction for review (longer inputs are cut). */
const MAX_INPUT_LENGTH = 2048;

export interface Listening {
  otlp: string;
  query: string;
}

export type FeedbackOutcome =
  | { requestId: string; status: "joined"; correct: boolean }
  | { requestId: string; status: "unknown" | "invalid"; error?: string };

export class Collector {
  readonly store: ModelStore;
  readonly baselines: BaselineStore;
  readonly feedback: FeedbackJoiner;
  readonly slos: SloRegistry;
  private readonly normalizer: Normalizer;
  private readonly db: Db;
  private readonly checkpointer: Checkpointer;
  private snapshot: AnalysisSnapshot = emptySnapshot;
  /** When the analysis first saw each feature stream: windows younger than the warm-up get no severity. */
  private readonly firstSeen = new FirstSeen();
  private readonly self: SelfStats;
  /** Per model: when it was first seen, and when new values and new requests last arrived (receive time). */
  private readonly seen = new Map<
    string,
    { firstMs: number; lastDataMs: number | null; lastRequestMs: number | null }
  >();
  private otlpServer?: Server;
  private queryServer?: Server;
  private timers: NodeJS.Timeout[] = [];
  private isReady = false;

  constructor(
    readonly config: Config,
    private readonly log: (msg: string) => void = (m) => console.error(m),
  ) {
    // Before anything is created on disk: a bad path must leave no folder or file behind.
    checkPaths(config);
    if (config.storage.path === DEFAULT_STORAGE_PATH)
      mkdirSync(dirname(DEFAULT_STORAGE_PATH), { recursive: true });
    const w = config.windows;
    this.store = new ModelStore(
      { slotMs: w.slotSeconds * 1000, slots: Math.ceil(w.analysisSeconds / w.slotSeconds) },
      new Map([
        [Instruments.duration.name, config.export.latencyBuckets],
        [Instruments.confidence.name, CONFIDENCE_BOUNDS],
      ]),
      config.limits,
      config.storage.path !== ":memory:",
    );
    this.db = openDatabase(config.storage.path);
    this.baselines = new BaselineStore(this.db);
    const a = config.analysis;
    this.feedback = new FeedbackJoiner(
      a.sampledPredictions.maxPending,
      a.sampledPredictions.ttlSeconds * 1000,
      a.accuracy.lastLabels,
      a.accuracy.feedbackSegment,
      config.limits.maxSeriesPerMetric,
    );
    this.slos = new SloRegistry(config.models, durationSeconds);
    const now = Date.now();
    // Streams of metrics the store does not use are not tracked, and all others are capped, so that
    // memory stays bounded whatever the attribute cardinality (the series cap alone does not do that).
    this.normalizer = new Normalizer(memoryHorizon(this.db, BigInt(now) * 1_000_000n), {
      maxStreams: config.limits.maxStreams,
      modelOf: (attrs) => this.label(String(attrs[Attr.modelName] ?? "")),
      onEvictLevel: (memo, key) => this.store.dropLevel(memo, key),
      wanted: (name) => instrumentByName.has(name),
      recall: (key) => this.checkpointer.recall(key),
    });
    this.checkpointer = new Checkpointer(this.db, this.store, this.normalizer, this.slos, this.feedback, {
      seconds: config.storage.streamRetentionSeconds,
      maxRows: config.limits.maxStreams,
    });
    this.self = {
      requests: new Map(),
      rejectedPoints: new Map(),
      activeStreams: 0,
      logRecords: 0,
      lastAnalysisSeconds: 0,
      lastCheckpointSeconds: 0,
      startedAtMs: now,
    };
  }

  private observe(o: Observation, nowMs: number): void {
    // Keyed by the model's label as stored (cut to limits.maxLabelLength, or the overflow series'),
    // not by the attribute as sent: the map then holds no more models than the series do.
    const model = this.store.ingest(o, nowMs)?.model_name;
    if (model !== undefined && model !== "") this.markSeen(model, o, nowMs);
    const slo = sloEventsOf(o);
    if (slo) this.slos.record(slo.model, nowMs, slo.events);
  }

  private markSeen(model: string, o: Observation, nowMs: number): void {
    let seen = this.seen.get(model);
    if (seen === undefined) {
      // At most as many models as series can hold; models whose series all gave way go at each pass.
      if (this.seen.size >= this.maxSeen) return;
      seen = { firstMs: nowMs, lastDataMs: null, lastRequestMs: null };
      this.seen.set(model, seen);
    }
    // A level (requests in flight) is sent again at every export: only new values count as data.
    if (o.kind === "increment" || (o.kind === "histogram" && o.delta.count > 0)) {
      seen.lastDataMs = nowMs;
      if (o.metric === Instruments.requests.name) seen.lastRequestMs = nowMs;
    }
  }

  /** Models the `seen` map holds at most: one per series of every instrument. */
  private get maxSeen(): number {
    return this.config.limits.maxSeriesPerMetric * instrumentByName.size;
  }

  /** A string as a label keeps it: cut to limits.maxLabelLength (pipeline/bounded.ts). */
  private readonly label = (v: string): string => boundedValue(v, this.config.limits.maxLabelLength);

  private reject(reason: string, n = 1): void {
    this.self.rejectedPoints.set(reason, (this.self.rejectedPoints.get(reason) ?? 0) + n);
  }

  ingestMetrics(req: MetricsRequest, nowMs = Date.now()): IngestResult {
    this.store.nextBatch();
    const r = this.normalizer.normalize(req, nowMs, (o) => this.observe(o, nowMs));
    this.store.ignoredPoints += r.ignored;
    for (const x of r.rejected) this.reject(x.reason);
    const message = r.rejected
      .slice(0, 5)
      .map((x) => x.message)
      .join("; ");
    return { rejected: r.rejected.length, message };
  }

  /** Sampled predictions arrive as log records; they wait for feedback in the review queue. */
  ingestLogs(req: LogsRequest, nowMs = Date.now()): IngestResult {
    let rejected = 0;
    const messages: string[] = [];
    for (const rl of req.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const rec of sl.logRecords) {
          this.self.logRecords++;
          const a = rec.attributes;
          const isSample =
            rec.eventName === SampledPredictionEvent.eventName || a[Attr.requestId] !== undefined;
          if (!isSample) continue; // other logs are not ours to judge
          const model = a[Attr.modelName];
          const requestId = a[Attr.requestId];
          const predicted = a[Attr.predictedClass];
          if (
            typeof model !== "string" ||
            typeof requestId !== "string" ||
            requestId === "" ||
            predicted === undefined
          ) {
            rejected++;
            if (messages.length < 5)
              messages.push("sampled prediction without model name, request id or predicted class");
            continue;
          }
          const conf = a[Attr.predictionConfidence];
          // Each of up to analysis.sampledPredictions.maxPending waiting predictions keeps these
          // strings: they are cut as labels are, so the queue's memory is bounded (docs/collector.md).
          const label = this.label;
          const p: SampledPrediction = {
            model: label(model),
            version: label(String(a[Attr.modelVersion] ?? "unknown")),
            requestId: label(requestId),
            predictedClass: label(String(predicted)),
            confidence: typeof conf === "number" ? conf : undefined,
            segment: a[Attr.segment] === undefined ? undefined : label(String(a[Attr.segment])),
            input:
              a[Attr.predictionInput] === undefined
                ? undefined
                : boundedValue(String(a[Attr.predictionInput]), MAX_INPUT_LENGTH),
            receivedMs: nowMs,
          };
          this.feedback.addSampled(p);
        }
      }
    }
    if (rejected) this.reject("invalid_sampled_prediction", rejected);
    return { rejected, message: messages.join("; ") };
  }

  /** Joins labels with sampled predictions; each joined one counts as a correct or incorrect outcome. */
  submitFeedback(items: FeedbackItem[], nowMs = Date.now()): FeedbackOutcome[] {
    return items.map((item) => {
      const label = this.label;
      const r = this.feedback.feedback(
        label(item.requestId),
        label(item.label),
        item.model === undefined ? undefined : label(item.model),
      );
      if (r.status !== "joined") return { requestId: item.requestId, status: "unknown" };
      const attributes = Object.assign(Object.create(null), {
        [Attr.modelName]: r.model,
        [Attr.modelVersion]: r.version,
        [Attr.segment]: r.segment,
        [Attr.outcome]: r.correct ? "correct" : "incorrect",
      });
      this.observe(
        { kind: "increment", metric: Instruments.segmentOutcomes.name, attributes, delta: 1 },
        nowMs,
      );
      return { requestId: item.requestId, status: "joined", correct: r.correct };
    });
  }

  /** Runs one analysis pass now. */
  analyzeNow(nowMs = Date.now()): AnalysisSnapshot {
    const t0 = performance.now();
    if (this.config.analysis.autoBaseline) this.autoBaselines(nowMs);
    this.snapshot = analyze(
      {
        config: this.config,
        store: this.store,
        baselines: this.baselines,
        feedback: this.feedback,
        slos: this.slos,
        firstSeen: this.firstSeen,
      },
      nowMs,
    );
    this.self.lastAnalysisSeconds = (performance.now() - t0) / 1000;
    const cutoff = nowMs - this.config.windows.staleStreamSeconds * 1000;
    this.normalizer.evictStale(cutoff);
    this.store.evictStale(cutoff);
    for (const model of this.seen.keys()) if (!this.store.hasModel(model)) this.seen.delete(model);
    this.feedback.evictExpired(nowMs);
    this.self.activeStreams = this.normalizer.streamCount;
    return this.snapshot;
  }

  /** Freezes the first full window of a model that has no baseline into one (source "auto"). */
  private autoBaselines(nowMs: number): void {
    const windowMs = this.config.windows.analysisSeconds * 1000;
    const numeric = featureWindows(this.store, nowMs);
    const categorical = categoryWindows(this.store, nowMs);
    const confidence = confidenceWindows(this.store, nowMs);
    const classes = classWindows(this.store, nowMs);
    for (const [model, { firstMs }] of this.seen) {
      if (nowMs - firstMs < windowMs || this.baselines.get(model)) continue;
      const features: Record<string, ExpHistogram> = {};
      for (const [f, h] of numeric.get(model) ?? []) if (h.count > 0) features[f] = h;
      const cats: Record<string, Record<string, number>> = {};
      for (const [f, counts] of categorical.get(model) ?? []) cats[f] = Object.fromEntries(counts);
      const cls = classes.get(model);
      const conf = confidence.get(model);
      if (Object.keys(features).length + Object.keys(cats).length === 0 && !conf?.count) continue;
      const b = makeBaseline({
        model,
        features,
        categorical: cats,
        confidence: conf && conf.count > 0 ? conf : undefined,
        classes: cls && cls.size > 0 ? Object.fromEntries(cls) : undefined,
        source: { origin: "auto", rows: conf?.count ?? 0, skippedRows: 0 },
      });
      this.baselines.put(b);
      this.log(
        `mlwatch collector: froze the first ${this.config.windows.analysisSeconds}s of ${model} as its baseline`,
      );
    }
  }

  /**
   * What /metrics serves, in Prometheus text. With a file, running totals
   * (counters, histogram buckets) are shown as of the last checkpoint that
   * wrote them: every value served is in the file, so a collector restarted
   * after a crash serves at least as much, and Prometheus never sees a
   * counter go back (it would read that as a reset and count the whole total
   * again). They lag the live totals by at most storage.checkpointSeconds.
   */
  metricsText(nowMs = Date.now()): string {
    return renderMetrics(this.store, this.snapshot, this.self, this.feedback, nowMs);
  }

  /** The same as metricsText(), in Prometheus protobuf, with native buckets on the latency and confidence histograms. */
  metricsProto(nowMs = Date.now()): Uint8Array {
    return encodeProtobufExposition(
      this.metricsText(nowMs),
      storeNativeSource(this.store, [Instruments.duration, Instruments.confidence]),
    );
  }

  /** Seconds of data the window can hold right now: the configured window, or less just after start. */
  effectiveWindowSeconds(nowMs = Date.now()): number {
    const up = (nowMs - this.self.startedAtMs) / 1000;
    return Math.max(1, Math.min(this.config.windows.analysisSeconds, up));
  }

  driftReport(model: string, nowMs = Date.now()) {
    const windows = featureWindows(this.store, nowMs).get(model) ?? new Map<string, ExpHistogram>();
    const categories =
      categoryWindows(this.store, nowMs).get(model) ?? new Map<string, Map<string, number>>();
    const baseline = baselineResolver(this.baselines, this.store, nowMs)(model);
    const features = this.snapshot.drift
      .filter((r) => r.model === model)
      .map((r) => {
        if (r.kind === "categorical") {
          const cur = categories.get(r.feature);
          const ref = baseline?.categorical.get(r.feature) ?? {};
          const names = [...new Set([...Object.keys(ref), ...(cur?.keys() ?? [])])].sort();
          const share = (get: (c: string) => number) => {
            const t = names.reduce((s, c) => s + get(c), 0);
            return names.map((c) => (t > 0 ? get(c) / t : 0));
          };
          return {
            ...r,
            // What moved, for every scored feature (the snapshot keeps it only for those with a severity).
            moved:
              r.moved ??
              (r.score
                ? topMoved(
                    names,
                    share((c) => ref[c] ?? 0),
                    share((c) => cur?.get(c) ?? 0),
                  )
                : undefined),
            distributions: {
              categories: names,
              baseline: ref,
              current: Object.fromEntries(cur ?? []),
            },
          };
        }
        const ref = baseline?.features.get(r.feature);
        const cur = windows.get(r.feature);
        let distributions: { edges: number[]; baseline: number[]; current: number[] } | null = null;
        let moved = r.moved;
        if (ref && ref.count > 0 && cur && cur.count > 0) {
          // Bins cut at the baseline's 0 %, 5 %, …, 100 % quantiles (ties merged): see reportEdges().
          const edges = reportEdges(ref);
          distributions = { edges, baseline: binShares(ref, edges), current: binShares(cur, edges) };
          if (!moved && r.score && edges.length >= 2)
            moved = topMoved(
              edges.slice(1).map((_, i) => binLabel(edges, i)),
              distributions.baseline,
              distributions.current,
            );
        }
        // The raw window histogram too, for clients that bin or compare on their own.
        return { ...r, moved, distributions, currentHistogram: cur ? cur.toJSON() : null };
      });
    const concept = this.snapshot.concept.find((c) => c.model === model) ?? null;
    return {
      model,
      windowSeconds: this.config.windows.analysisSeconds,
      atMs: this.snapshot.atMs,
      features,
      versions: this.snapshot.versionDrift.filter((v) => v.model === model),
      concept,
    };
  }

  /** One model's summary with its health, as the JSON API and the status page show it. */
  summary(model: string, nowMs = Date.now()): ModelSummary {
    const seen = this.seen.get(model);
    return summarize(this.store, this.snapshot, model, nowMs, this.effectiveWindowSeconds(nowMs), {
      lastDataMs: seen?.lastDataMs ?? null,
      lastRequestMs: seen?.lastRequestMs ?? null,
      collectorStartedMs: this.self.startedAtMs,
      hasSlo: this.slos.models.has(model),
    });
  }

  liveFeatures(model: string): string[] {
    const names = new Set<string>();
    for (const metric of [Instruments.featureValue.name, Instruments.featureCategory.name]) {
      for (const s of this.store.series(metric))
        if (s.labels.model_name === model) names.add(s.labels.feature_name);
    }
    return [...names].sort();
  }

  sloReport(model: string): { model: string; objectives: ObjectiveStatus[] } | undefined {
    const objectives = this.snapshot.slo.get(model);
    return objectives ? { model, objectives } : undefined;
  }

  /** Writes a checkpoint now. */
  checkpoint(): void {
    const t0 = performance.now();
    this.checkpointer.save();
    this.self.lastCheckpointSeconds = (performance.now() - t0) / 1000;
  }

  async start(): Promise<Listening> {
    for (const p of this.baselines.loadAll()) this.log(`mlwatch collector: skipped baseline ${p}`);
    if (this.config.baselines.dir) {
      for (const p of this.baselines.importDir(this.config.baselines.dir))
        this.log(`mlwatch collector: skipped baseline ${p}`);
    }
    const restored = this.checkpointer.restore(Date.now(), this.config.windows.staleStreamSeconds * 1000);
    for (const p of restored.problems) this.log(`mlwatch collector: checkpoint: ${p}`);
    if (restored.series || restored.streams) {
      this.log(
        `mlwatch collector: restored ${restored.series} series and ${restored.streams} streams from ${this.config.storage.path}`,
      );
    }
    this.analyzeNow();
    this.otlpServer = createOtlpReceiver(
      { ...this.config.otlp, queryPort: () => (this.queryServer?.address() as AddressInfo | null)?.port },
      {
        metrics: (r) => this.ingestMetrics(r),
        logs: (r) => this.ingestLogs(r),
        countRequest: (signal, status) => {
          const key = `${signal} ${status}`;
          this.self.requests.set(key, (this.self.requests.get(key) ?? 0) + 1);
        },
      },
    );
    this.queryServer = createQueryServer({
      metricsText: () => this.metricsText(),
      metricsProto: () => this.metricsProto(),
      models: () => this.store.models(),
      summary: (m) => this.summary(m),
      driftReport: (m) => this.driftReport(m),
      sloReport: (m) => this.sloReport(m),
      feedback: (items) => this.submitFeedback(items),
      reviews: (opts) => this.feedback.reviews(opts),
      windowSeconds: () => this.config.windows.analysisSeconds,
      liveFeatures: (m) => this.liveFeatures(m),
      ready: () => this.isReady,
      baselines: this.baselines,
    });
    const otlp = await listen(this.otlpServer, this.config.otlp.host, this.config.otlp.port);
    const query = await listen(this.queryServer, this.config.query.host, this.config.query.port);
    this.every(this.config.analysis.intervalSeconds, "analysis", () => this.analyzeNow());
    this.every(this.config.storage.checkpointSeconds, "checkpoint", () => this.checkpoint());
    this.isReady = true;
    return { otlp, query };
  }

  private every(seconds: number, what: string, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.log(`mlwatch collector: ${what} failed: ${(e as Error).stack}`);
      }
    }, seconds * 1000);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Stops accepting data, lets in-flight requests finish — for at most
   * shutdown.graceSeconds, after which connections still open are cut (a
   * client holding a request open cannot keep the process alive) — writes a
   * last checkpoint and closes the file.
   */
  async stop(): Promise<void> {
    this.isReady = false;
    for (const t of this.timers) clearInterval(t);
    const graceMs = this.config.shutdown.graceSeconds * 1000;
    await Promise.all([close(this.otlpServer, graceMs), close(this.queryServer, graceMs)]);
    try {
      this.checkpoint();
    } finally {
      this.db.close();
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      resolve(`http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}

function close(server: Server | undefined, graceMs: number): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    // server.close() waits for every open connection and stops the timer behind
    // requestTimeout/headersTimeout, so the grace period is enforced here.
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    // Keep-alive clients busy with request after request would hold their connections open: each
    // answer from now on closes its connection.
    server.prependListener("request", (_req, res) => res.setHeader("connection", "close"));
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
