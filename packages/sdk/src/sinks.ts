// Where sampled predictions go for human review: a callback, an append-only
// JSONL file, or a webhook. Every sink is bounded and asynchronous — a slow
// disk or a review service that is down costs the prediction path nothing
// but a dropped item (counted, and reported to the OTel diag logger).

import { createWriteStream, type WriteStream } from "node:fs";
import { report, warn } from "./diag.js";

/** One sampled prediction, as a review queue receives it. */
export interface ReviewItem {
  requestId: string;
  modelName: string;
  modelVersion: string;
  predictedClass?: string;
  confidence?: number;
  segment: string;
  /** ISO 8601 time of the prediction. */
  timestamp: string;
  /** The model inputs, only when the monitor's groundTruth.includeInputs is set. */
  input?: unknown;
}

export interface ReviewSink {
  /** Called on the prediction path: must not block; the SDK catches anything it throws. */
  write(item: ReviewItem): void;
  /** Delivers what is buffered. */
  flush?(): Promise<void>;
  /** Delivers what is buffered and releases resources. */
  close?(): Promise<void>;
}

const live = new Set<ReviewSink>();

/** Remembers a sink so that Monitoring.shutdown() can flush it. */
export function registerSink(sink: ReviewSink): void {
  live.add(sink);
}

/** Flushes and closes every sink in use (called by Monitoring.shutdown()). */
export async function closeSinks(): Promise<void> {
  const sinks = [...live];
  live.clear();
  await Promise.allSettled(
    sinks.map(async (s) => {
      try {
        if (s.close) await s.close();
        else if (s.flush) await s.flush();
      } catch (e) {
        report("review sink close", e);
      }
    }),
  );
}

/** Calls `fn` with each item; a throw or a rejected promise is reported, never passed on. */
export function callbackSink(fn: (item: ReviewItem) => unknown): ReviewSink {
  if (typeof fn !== "function") throw new TypeError("mlwatch: callbackSink needs a function");
  const pending = new Set<Promise<unknown>>();
  return {
    write(item) {
      try {
        const r = fn(item);
        if (r && typeof (r as Promise<unknown>).then === "function") {
          const p = Promise.resolve(r).catch((e) => report("review callback", e));
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
      } catch (e) {
        report("review callback", e);
      }
    },
    async flush() {
      await Promise.allSettled([...pending]);
    },
  };
}

export interface JsonlFileSinkOptions {
  /** Items are dropped while more than this many bytes wait to be written (default 8 MiB). */
  maxBufferedBytes?: number;
}

export interface CountingSink extends ReviewSink {
  /** Items dropped because the destination was too slow, full or failing. */
  readonly dropped: number;
}

/** Appends one JSON object per line to `path` (created if missing). */
export function jsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): CountingSink {
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  let stream: WriteStream | undefined;
  let failed = false;
  let dropped = 0;
  const open = (): WriteStream => {
    if (!stream) {
      stream = createWriteStream(path, { flags: "a" });
      stream.on("error", (e) => {
        failed = true;
        report(`review file ${path}`, e);
      });
    }
    return stream;
  };
  return {
    get dropped() {
      return dropped;
    },
    write(item) {
      if (failed) {
        dropped++;
        return;
      }
      const s = open();
      if (s.writableLength > maxBuffered) {
        dropped++;
        warn("jsonl-full", `review file ${path} is not keeping up; dropping sampled predictions`);
        return;
      }
      s.write(`${JSON.stringify(item)}\n`);
    },
    flush() {
      return new Promise<void>((resolve) => {
        if (!stream || failed || stream.writableEnded) return resolve();
        // Writes complete in order, so an empty write's callback marks everything before it.
        stream.write("", () => resolve());
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (!stream || stream.writableEnded || stream.destroyed) return resolve();
        stream.end(() => resolve());
        stream.once("error", () => resolve());
      });
    },
  };
}

export interface WebhookSinkOptions {
  /** Extra request headers, e.g. authorization. */
  headers?: Record<string, string>;
  /** Items per POST (default 100). */
  batchSize?: number;
  /** A partial batch is sent after this long (default 1000 ms). */
  flushIntervalMs?: number;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Items kept while the webhook is slow or failing; more are dropped (default 10 000). */
  maxQueue?: number;
}

/**
 * POSTs batches of items as a JSON array to `url`. 429, 5xx and network
 * errors keep the batch and retry with backoff (up to 30 s); other 4xx
 * answers drop it.
 */
export function webhookSink(url: string, options: WebhookSinkOptions = {}): CountingSink {
  const target = new URL(url).toString();
  const batchSize = options.batchSize ?? 100;
  const interval = options.flushIntervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxQueue = options.maxQueue ?? 10_000;
  if (!(batchSize >= 1 && interval > 0 && timeoutMs > 0 && maxQueue >= batchSize)) {
    throw new RangeError("mlwatch: webhookSink options must be positive (and maxQueue >= batchSize)");
  }
  const headers = { "content-type": "application/json", ...options.headers };
  let queue: ReviewItem[] = [];
  let dropped = 0;
  let inFlight: Promise<void> | undefined;
  let backoffMs = 0;
  let retryAt = 0;
  let closed = false;

  const sendOnce = async (): Promise<void> => {
    const batch = queue.slice(0, batchSize);
    if (batch.length === 0) return;
    let retry = false;
    try {
      const res = await fetch(target, {
        method: "POST",
        headers,
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        queue = queue.slice(batch.length);
        backoffMs = 0;
        return;
      }
      retry = res.status === 429 || res.status >= 500;
      if (!retry) {
        queue = queue.slice(batch.length);
        dropped += batch.length;
        warn("webhook-4xx", `review webhook answered ${res.status}; dropped ${batch.length} items`);
        return;
      }
      warn("webhook-retry", `review webhook answered ${res.status}; will retry`);
    } catch (e) {
      retry = true;
      report("review webhook", e);
    }
    if (retry) {
      backoffMs = Math.min(30_000, backoffMs ? backoffMs * 2 : 500);
      retryAt = Date.now() + backoffMs;
    }
  };

  const pump = (force = false): Promise<void> => {
    if (inFlight) return inFlight;
    if (queue.length === 0 || (!force && Date.now() < retryAt)) return Promise.resolve();
    inFlight = sendOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const timer = setInterval(() => void pump(), interval);
  timer.unref();

  const drain = async (): Promise<void> => {
    // One pass over what is queued now; items that fail stay queued (or are dropped on close).
    let rounds = Math.ceil(queue.length / batchSize) + 1;
    while (queue.length > 0 && rounds-- > 0) {
      const before = queue.length;
      await pump(true);
      if (queue.length >= before) break;
    }
  };

  return {
    get dropped() {
      return dropped;
    },
    write(item) {
      if (closed || queue.length >= maxQueue) {
        dropped++;
        warn("webhook-full", "review webhook queue is full; dropping sampled predictions");
        return;
      }
      queue.push(item);
      if (queue.length >= batchSize) void pump();
    },
    async flush() {
      if (inFlight) await inFlight;
      await drain();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      if (inFlight) await inFlight;
      await drain();
      dropped += queue.length;
      queue = [];
    },
  };
}
