// RED metrics for express (4 and 5) without importing express: a middleware
// that times every request it sees and records it when the response is
// finished, under the matched route template, plus an error middleware that
// remembers the thrown error so the error is counted by its type.

import { report } from "../diag.js";
import type { ModelMonitor } from "../monitor.js";

/** The parts of express's request this module reads. */
export interface ExpressRequestLike {
  baseUrl?: string;
  route?: { path?: unknown };
}

/** The parts of express's response this module reads. */
export interface ExpressResponseLike {
  statusCode: number;
  writableFinished?: boolean;
  once(event: "finish" | "close", listener: () => void): unknown;
}

export interface HttpMonitorOptions<Req> {
  /**
   * The endpoint a request is recorded under, decided when it ends (default:
   * the matched route template, e.g. "/predict", or "unmatched"). Return null
   * to leave the request out (e.g. health checks).
   */
  endpoint?: (request: Req) => string | null | undefined;
  /** Whether a response without a thrown error counts as an error (default: status >= 500; error.type is the status code). */
  isError?: (statusCode: number) => boolean;
}

/** Endpoint of requests no route matched (404s, probes). */
export const UNMATCHED_ENDPOINT = "unmatched";

const thrown = new WeakMap<object, unknown>();

function routeOf(req: ExpressRequestLike): string {
  const path = req.route?.path;
  return typeof path === "string" ? `${req.baseUrl ?? ""}${path}` : UNMATCHED_ENDPOINT;
}

/**
 * Express middleware that records every request it sees: count, latency,
 * in-flight, and errors (by the type of a thrown error when
 * expressErrorHandler() is installed after the routes, else by status code).
 * Mount it with app.use() before the routes, or on single routes.
 */
export function expressMiddleware<Req extends ExpressRequestLike = ExpressRequestLike>(
  monitor: ModelMonitor,
  options: HttpMonitorOptions<Req> = {},
): (req: Req, res: ExpressResponseLike, next: (err?: unknown) => void) => void {
  const isError = options.isError ?? ((s: number) => s >= 500);
  const endpointOf = options.endpoint;
  return function mlwatchExpress(req, res, next) {
    try {
      const timer = monitor.startRequest(UNMATCHED_ENDPOINT);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        try {
          const endpoint = endpointOf ? endpointOf(req) : routeOf(req);
          if (endpoint === null) {
            timer.discard();
            return;
          }
          timer.endpoint = endpoint ?? routeOf(req);
          const error = thrown.get(res);
          if (error !== undefined) timer.end(error);
          else if (res.writableFinished === false) timer.fail("aborted");
          else if (isError(res.statusCode)) timer.fail(String(res.statusCode));
          else timer.end();
        } catch (e) {
          report("express request end", e);
          timer.discard();
        }
      };
      res.once("finish", finish);
      res.once("close", finish);
    } catch (e) {
      report("express middleware", e);
    }
    next();
  };
}

/**
 * Express error middleware (install after the routes) that lets
 * expressMiddleware() count a thrown or next(err)-passed error by its type.
 * It passes the error on unchanged.
 */
export function expressErrorHandler(): (
  err: unknown,
  req: unknown,
  res: ExpressResponseLike,
  next: (err?: unknown) => void,
) => void {
  return function mlwatchExpressErrors(err, _req, res, next) {
    try {
      if (typeof res === "object" && res !== null) thrown.set(res, err ?? "undefined");
    } catch (e) {
      report("express error handler", e);
    }
    next(err);
  };
}
