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

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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
  let inFlight = 0;
  return createServer((req, res) => {
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
    if (inFlight >= options.maxConcurrentRequests) {
      req.resume();
      return fail(new HttpError(429, "collector is busy; retry later", { "retry-after": "1" }));
    }
    inFlight++;
    readBody(req, options.maxBodyBytes)
      .then((raw) => decompress(raw, req.headers["content-encoding"], options.maxDecompressedBytes))
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
      .catch(fail)
      .finally(() => {
        inFlight--;
      });
  });
}
