// Wires the stages together: receiver → normaliser → window store →
// analysis → exposition / API. Owns the two listeners and the analysis timer.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Instruments } from "@mlwatch/semconv";
import { featureWindows } from "./analysis/drift.js";
import { type AnalysisSnapshot, analyze, emptySnapshot } from "./analysis/snapshot.js";
import { createQueryServer } from "./api/query-http.js";
import { summarize } from "./api/summary.js";
import { BaselineStore } from "./baselines/store.js";
import type { Config } from "./config/config.js";
import { renderMetrics, type SelfStats } from "./export/metrics.js";
import type { LogsRequest, MetricsRequest } from "./otlp/types.js";
import { Normalizer } from "./pipeline/normalize.js";
import { createOtlpReceiver, type IngestResult } from "./receiver/otlp-http.js";
import { Checkpointer } from "./store/checkpoint.js";
import { type Db, openDatabase } from "./store/database.js";
import { ModelStore } from "./store/model-store.js";

/** Bucket bounds of the reference design's confidence histogram. */
const CONFIDENCE_BOUNDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Bins of the distributions in a drift report: the baseline's 5% quantiles. */
const REPORT_QUANTILES = Array.from({ length: 21 }, (_, i) => i / 20);

export interface Listening {
  otlp: string;
  query: string;
}

export class Collector {
  readonly store: ModelStore;
  readonly baselines: BaselineStore;
  private readonly normalizer: Normalizer;
  private readonly db: Db;
  private readonly checkpointer: Checkpointer;
  private checkpointTimer?: NodeJS.Timeout;
  private snapshot: AnalysisSnapshot = emptySnapshot;
  private readonly self: SelfStats;
  private otlpServer?: Server;
  private queryServer?: Server;
  private timer?: NodeJS.Timeout;
  private isReady = false;

  constructor(
    readonly config: Config,
    private readonly log: (msg: string) => void = (m) => console.error(m),
  ) {
    const w = config.windows;
    this.store = new ModelStore(
      { slotMs: w.slotSeconds * 1000, slots: Math.ceil(w.analysisSeconds / w.slotSeconds) },
      new Map([
        [Instruments.duration.name, config.export.latencyBuckets],
        [Instruments.confidence.name, CONFIDENCE_BOUNDS],
      ]),
    );
    this.db = openDatabase(config.storage.path);
    this.baselines = new BaselineStore(this.db);
    const now = Date.now();
    this.normalizer = new Normalizer(BigInt(now) * 1_000_000n);
    this.checkpointer = new Checkpointer(this.db, this.store, this.normalizer);
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

  ingestMetrics(req: MetricsRequest, nowMs = Date.now()): IngestResult {
    const r = this.normalizer.normalize(req, nowMs);
    for (const o of r.observations) this.store.ingest(o, nowMs);
    for (const x of r.rejected)
      this.self.rejectedPoints.set(x.reason, (this.self.rejectedPoints.get(x.reason) ?? 0) + 1);
    const message = r.rejected
      .slice(0, 5)
      .map((x) => x.message)
      .join("; ");
    return { rejected: r.rejected.length, message };
  }

  ingestLogs(req: LogsRequest): IngestResult {
    // Sampled predictions arrive as logs; joining them with feedback is part of the quality analysis.
    let n = 0;
    for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
    this.self.logRecords += n;
    return { rejected: 0, message: "" };
  }

  /** Runs one analysis pass now. */
  analyzeNow(nowMs = Date.now()): AnalysisSnapshot {
    const t0 = performance.now();
    this.snapshot = analyze(this.store, this.baselines, nowMs, this.config.analysis.drift);
    this.self.lastAnalysisSeconds = (performance.now() - t0) / 1000;
    const cutoff = nowMs - this.config.windows.staleStreamSeconds * 1000;
    this.normalizer.evictStale(cutoff);
    this.store.evictStale(cutoff);
    this.self.activeStreams = this.normalizer.streamCount;
    return this.snapshot;
  }

  metricsText(nowMs = Date.now()): string {
    return renderMetrics(this.store, this.snapshot, this.self, nowMs);
  }

  /** Seconds of data the window can hold right now: the configured window, or less just after start. */
  effectiveWindowSeconds(nowMs = Date.now()): number {
    const up = (nowMs - this.self.startedAtMs) / 1000;
    return Math.max(1, Math.min(this.config.windows.analysisSeconds, up));
  }

  driftReport(model: string, nowMs = Date.now()) {
    const windows = featureWindows(this.store, nowMs).get(model) ?? new Map();
    const baseline = this.baselines.get(model);
    const features = this.snapshot.drift
      .filter((r) => r.model === model)
      .map((r) => {
        const ref = baseline?.features.get(r.feature);
        const cur = windows.get(r.feature);
        let distributions: { edges: number[]; baseline: number[]; current: number[] } | null = null;
        // The raw window histogram too, for clients that bin or compare on their own.
        const currentHistogram = cur ? cur.toJSON() : null;
        if (ref && ref.count > 0 && cur && cur.count > 0) {
          const edges = [...new Set(REPORT_QUANTILES.map((q) => ref.quantile(q)))];
          const mass = (h: typeof ref) =>
            edges.slice(1).map((e, i) => h.cdf(e) - (i === 0 ? 0 : h.cdf(edges[i])));
          distributions = { edges, baseline: mass(ref), current: mass(cur) };
        }
        return { ...r, distributions, currentHistogram };
      });
    return { model, windowSeconds: this.config.windows.analysisSeconds, atMs: this.snapshot.atMs, features };
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
    const restored = this.checkpointer.restore();
    for (const p of restored.problems) this.log(`mlwatch collector: checkpoint: ${p}`);
    if (restored.series || restored.streams) {
      this.log(
        `mlwatch collector: restored ${restored.series} series and ${restored.streams} streams from ${this.config.storage.path}`,
      );
      this.analyzeNow();
    }
    const countRequest = (signal: string, status: number) => {
      const key = `${signal} ${status}`;
      this.self.requests.set(key, (this.self.requests.get(key) ?? 0) + 1);
    };
    this.otlpServer = createOtlpReceiver(this.config.otlp, {
      metrics: (r) => this.ingestMetrics(r),
      logs: (r) => this.ingestLogs(r),
      countRequest,
    });
    this.queryServer = createQueryServer({
      metricsText: () => this.metricsText(),
      models: () => this.store.models(),
      summary: (m) => summarize(this.store, this.snapshot, m, Date.now(), this.effectiveWindowSeconds()),
      driftReport: (m) => this.driftReport(m),
      windowSeconds: () => this.config.windows.analysisSeconds,
      ready: () => this.isReady,
      baselines: this.baselines,
    });
    const otlp = await listen(this.otlpServer, this.config.otlp.host, this.config.otlp.port);
    const query = await listen(this.queryServer, this.config.query.host, this.config.query.port);
    this.timer = setInterval(() => {
      try {
        this.analyzeNow();
      } catch (e) {
        this.log(`mlwatch collector: analysis failed: ${(e as Error).stack}`);
      }
    }, this.config.analysis.intervalSeconds * 1000);
    this.timer.unref();
    this.checkpointTimer = setInterval(() => {
      try {
        this.checkpoint();
      } catch (e) {
        this.log(`mlwatch collector: checkpoint failed: ${(e as Error).message}`);
      }
    }, this.config.storage.checkpointSeconds * 1000);
    this.checkpointTimer.unref();
    this.isReady = true;
    return { otlp, query };
  }

  /** Stops accepting data, lets in-flight requests finish, then closes. */
  async stop(): Promise<void> {
    this.isReady = false;
    if (this.timer) clearInterval(this.timer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await Promise.all([close(this.otlpServer), close(this.queryServer)]);
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

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
