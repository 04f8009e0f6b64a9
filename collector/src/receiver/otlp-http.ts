// OTLP/HTTP receiver: POST /v1/metrics and /v1/logs, protobuf or JSON,
// optionally gzip-compressed. Answers as the OTLP spec asks: 200 (with
// partial_success when points were rejected), 400 for undecodable bodies,
// 413 for bodies over the limit, 415 for other content types, 429 with
// Retry-After when too many requests are in flight. Other paths (404) and
// methods (405) are told where the query side listens.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { gunzip } from "node:zlib";
import {
  decodeLogsJson,
  decodeLogsProto,
  decodeMetricsJson,
  decodeMetricsProto,
  encodeLogsResponse,
  encodeMetricsResponse,
  encodeStatus,
} from "../otlp/index.js";
import { DecodeError, type LogsRequest, type MetricsRequest } from "../otlp/types.js";

export interface IngestResult {
  rejected: number;
  message: string;
}

export interface IngestSink {
  metrics(req: MetricsRequest): IngestResult;
  logs(req: LogsRequest): IngestResult;
  /** Counts one answered request, for self-metrics. */
  countRequest(signal: "metrics" | "logs" | "other", status: number): void;
}

export interface ReceiverOptions {
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxConcurrentRequests: number;
  /** See otlp.requestTimeoutSeconds in the config. */
  requestTimeoutSeconds: number;
  bearerToken?: string;
  /** The query listener's port, once it listens: named in the answer to requests that belong there. */
  queryPort?: () => number | undefined;
}

type Encoding = "proto" | "json";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function contentEncoding(req: IncomingMessage): Encoding | undefined {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") return "proto";
  if (type === "application/json") return "json";
  return undefined;
}

/** A request holding one of the maxConcurrentRequests slots while its body arrives. */
interface Flight {
  startedMs: number;
  /** Body bytes received so far. */
  bytes: number;
  /** Set once the body is in: from then on the request is being answered, and keeps its slot. */
  read: boolean;
  /** Answers 408 and closes the connection, freeing the slot at once. */
  preempt(): void;
}

/**
 * A request may lose its slot to a new one when it has been sending for at
 * least this long at less than SLOW_BYTES_PER_SECOND: an exporter sends its
 * body in milliseconds, a client dripping bytes holds the slot for nothing.
 */
const SLOW_AFTER_MS = 1000;
const SLOW_BYTES_PER_SECOND = 16 * 1024;

/** The slowest request still sending its body, if it is slow enough to give its slot away. */
function slowest(flights: Set<Flight>, nowMs: number): Flight | undefined {
  let victim: Flight | undefined;
  let lowest = SLOW_BYTES_PER_SECOND;
  for (const f of flights) {
    const ms = nowMs - f.startedMs;
    if (f.read || ms < SLOW_AFTER_MS) continue;
    const rate = (f.bytes * 1000) / ms;
    if (rate < lowest) {
      lowest = rate;
      victim = f;
    }
  }
  return victim;
}

function readBody(req: IncomingMessage, limit: number, flight?: Flight): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (flight) flight.bytes = size;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on("error", (e) => {
      if (!failed) reject(new HttpError(400, `error reading request body: ${e.message}`));
    });
  });
}

function decompress(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const e = (encoding ?? "identity").trim().toLowerCase();
  if (e === "identity" || e === "") return Promise.resolve(body);
  if (e !== "gzip")
    return Promise.reject(new HttpError(415, `unsupported Content-Encoding "${e}"; use gzip or none`));
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        reject(new HttpError(413, `decompressed body exceeds the limit of ${limit} bytes`));
      } else {
        reject(new HttpError(400, `body is not valid gzip: ${err.message}`));
      }
    });
  });
}

function send(
  res: ServerResponse,
  status: number,
  as: Encoding,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": as === "proto" ? "application/x-protobuf" : "application/json",
    ...headers,
  });
  res.end(body);
}

/** Where a request sent here by mistake (an API call, a scrape, a browser) should go instead. */
function elsewhere(options: ReceiverOptions): string {
  const port = options.queryPort?.();
  return `the API (/api/v1/...), /metrics and the status page are on ${port === undefined ? "the query port (query.port)" : `port ${port}`}`;
}

export function createOtlpReceiver(options: ReceiverOptions, sink: IngestSink): Server {
  const flights = new Set<Flight>();
  const timeoutMs = options.requestTimeoutSeconds * 1000;
  const server = createServer({ requestTimeout: timeoutMs, headersTimeout: timeoutMs }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const signal = path === "/v1/metrics" ? "metrics" : path === "/v1/logs" ? "logs" : "other";
    const as = contentEncoding(req) ?? "json";
    const fail = (e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, "internal error");
      if (!(e instanceof HttpError)) console.error("mlwatch collector: error handling OTLP request:", e);
      sink.countRequest(signal, err.status);
      if (!res.headersSent) send(res, err.status, as, encodeStatus(err.message, as), err.headers);
      else res.destroy();
    };
    // A request meant for the query side (a browser, curl, a Prometheus scrape, an API call sent to
    // the wrong port) is told where to go; in plain text unless it came as OTLP.
    const misdirected = (err: HttpError) => {
      req.resume();
      if (contentEncoding(req)) return fail(err);
      sink.countRequest(signal, err.status);
      res.writeHead(err.status, { "content-type": "text/plain; charset=utf-8", ...err.headers });
      res.end(`${err.message}\n`);
    };
    if (signal === "other") {
      return misdirected(
        new HttpError(
          404,
          `${req.method} ${path}: this is the collector's OTLP/HTTP port, which serves only POST /v1/metrics and POST /v1/logs; ${elsewhere(options)}`,
        ),
      );
    }
    if (req.method !== "POST") {
      return misdirected(
        new HttpError(405, `use POST: this is the OTLP/HTTP port; ${elsewhere(options)}`, { allow: "POST" }),
      );
    }
    if (options.bearerToken && req.headers.authorization !== `Bearer ${options.bearerToken}`) {
      return fail(new HttpError(401, "missing or wrong bearer token", { "www-authenticate": "Bearer" }));
    }
    if (!contentEncoding(req)) {
      req.resume();
      return fail(new HttpError(415, "Content-Type must be application/x-protobuf or application/json"));
    }
    if (flights.size >= options.maxConcurrentRequests) {
      // All slots taken: one held by a client that drips its body gives way; else the newcomer waits.
      const victim = slowest(flights, Date.now());
      if (victim === undefined) {
        req.resume();
        return fail(new HttpError(429, "collector is busy; retry later", { "retry-after": "1" }));
      }
      victim.preempt();
    }
    const flight: Flight = {
      startedMs: Date.now(),
      bytes: 0,
      read: false,
      preempt() {
        flights.delete(flight);
        const ms = Date.now() - flight.startedMs;
        fail(
          new HttpError(
            408,
            `request body too slow (${flight.bytes} bytes in ${(ms / 1000).toFixed(1)} s); its slot went to another request`,
            { connection: "close" },
          ),
        );
        res.once("finish", () => req.destroy());
      },
    };
    flights.add(flight);
    readBody(req, options.maxBodyBytes, flight)
      .then((raw) => {
        if (!flights.has(flight)) throw PREEMPTED;
        flight.read = true;
        return decompress(raw, req.headers["content-encoding"], options.maxDecompressedBytes);
      })
      .then((body) => {
        let result: IngestResult;
        try {
          if (signal === "metrics") {
            // the sink consumes the request at once, while `body` is unchanged: bucket counts can stay encoded
            result = sink.metrics(
              as === "proto"
                ? decodeMetricsProto(body, undefined, { keepBucketVarints: true })
                : decodeMetricsJson(body.toString("utf8")),
            );
          } else {
            result = sink.logs(
              as === "proto" ? decodeLogsProto(body) : decodeLogsJson(body.toString("utf8")),
            );
          }
        } catch (e) {
          if (e instanceof DecodeError)
            throw new HttpError(400, `undecodable OTLP ${signal} request: ${e.message}`);
          throw e;
        }
        const partial = result.rejected > 0 ? result : undefined;
        const payload =
          signal === "metrics"
            ? encodeMetricsResponse(
                partial && { rejectedDataPoints: partial.rejected, errorMessage: partial.message },
                as,
              )
            : encodeLogsResponse(
                partial && { rejectedLogRecords: partial.rejected, errorMessage: partial.message },
                as,
              );
        sink.countRequest(signal, 200);
        send(res, 200, as, payload);
      })
      .catch((e) => {
        if (e !== PREEMPTED && flights.has(flight)) fail(e);
      })
      .finally(() => {
        flights.delete(flight);
      });
  });
  return server;
}

/** What a preempted request's body promise ends with: it was answered already. */
const PREEMPTED = new Error("preempted");
