// RED metrics for fastify (4 and 5) without importing fastify: a plugin
// whose hooks apply to the whole application (it skips fastify's
// encapsulation, as fastify-plugin does), recording each request under its
// route template when the response has been sent.

import { report } from "../diag.js";
import type { ModelMonitor, RequestTimer } from "../monitor.js";
import { type HttpMonitorOptions, UNMATCHED_ENDPOINT } from "./express.js";

/** The parts of a fastify request this module reads. */
export interface FastifyRequestLike {
  routeOptions?: { url?: string };
  routerPath?: string;
}

/** The parts of a fastify reply this module reads. */
export interface FastifyReplyLike {
  statusCode: number;
  raw: { writableFinished?: boolean; once(event: "close", listener: () => void): unknown };
}

/** The parts of a fastify instance this module uses. */
export interface FastifyInstanceLike {
  // biome-ignore lint/suspicious/noExplicitAny: fastify's addHook is a large overload set.
  addHook(name: string, hook: (...args: any[]) => void): unknown;
}

interface State {
  timer: RequestTimer;
  error: unknown;
  done: boolean;
}

export type FastifyPluginLike = ((
  instance: FastifyInstanceLike,
  options: unknown,
  done: (err?: Error) => void,
) => void) & { [key: symbol]: unknown };

function routeOf(req: FastifyRequestLike): string {
  const url = req.routeOptions?.url ?? req.routerPath;
  return typeof url === "string" && url !== "" ? url : UNMATCHED_ENDPOINT;
}

/**
 * A fastify plugin recording every request: count, latency, in-flight, and
 * errors (by the thrown error's type, else by status code >= 500).
 * `app.register(fastifyPlugin(monitor))` before declaring routes.
 */
export function fastifyPlugin<Req extends FastifyRequestLike = FastifyRequestLike>(
  monitor: ModelMonitor,
  options: HttpMonitorOptions<Req> = {},
): FastifyPluginLike {
  const isError = options.isError ?? ((s: number) => s >= 500);
  const endpointOf = options.endpoint;
  const states = new WeakMap<object, State>();

  const finish = (request: Req, reply: FastifyReplyLike, state: State) => {
    if (state.done) return;
    state.done = true;
    const { timer } = state;
    try {
      const endpoint = endpointOf ? endpointOf(request) : routeOf(request);
      if (endpoint === null) {
        timer.discard();
        return;
      }
      timer.endpoint = endpoint ?? routeOf(request);
      if (state.error !== undefined) timer.end(state.error);
      else if (reply.raw.writableFinished === false) timer.fail("aborted");
      else if (isError(reply.statusCode)) timer.fail(String(reply.statusCode));
      else timer.end();
    } catch (e) {
      report("fastify request end", e);
      timer.discard();
    }
  };

  const plugin = ((instance: FastifyInstanceLike, _opts: unknown, done: (err?: Error) => void) => {
    instance.addHook("onRequest", (request: Req, reply: FastifyReplyLike, next: () => void) => {
      try {
        const state: State = {
          timer: monitor.startRequest(UNMATCHED_ENDPOINT),
          error: undefined,
          done: false,
        };
        states.set(request, state);
        // A client that goes away before the response never reaches onResponse.
        reply.raw.once("close", () => finish(request, reply, state));
      } catch (e) {
        report("fastify onRequest", e);
      }
      next();
    });
    instance.addHook(
      "onError",
      (request: Req, _reply: FastifyReplyLike, error: unknown, next: () => void) => {
        const state = states.get(request);
        if (state) state.error = error ?? "undefined";
        next();
      },
    );
    instance.addHook("onResponse", (request: Req, reply: FastifyReplyLike, next: () => void) => {
      const state = states.get(request);
      if (state) finish(request, reply, state);
      next();
    });
    done();
  }) as FastifyPluginLike;
  plugin[Symbol.for("skip-override")] = true;
  plugin[Symbol.for("fastify.display-name")] = "mlwatch";
  return plugin;
}
