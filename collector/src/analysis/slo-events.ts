// What each incoming observation means for each kind of SLO objective, as
// (bad, total) event counts. Requests give the totals of availability, error
// rate and throughput; errors their bad events; the latency histogram both
// sides of a latency objective (bad: slower than the threshold) and the
// inputs of a cost objective; outcomes the accuracy objective.

import { Attr, Instruments } from "@mlwatch/semconv";
import type { Observation } from "../pipeline/normalize.js";
import type { ObjectiveEvents } from "./slo.js";

export function sloEventsOf(obs: Observation): { model: string; events: ObjectiveEvents } | undefined {
  const model = obs.attributes[Attr.modelName];
  if (typeof model !== "string") return undefined;
  if (obs.kind === "increment" && obs.metric === Instruments.requests.name) {
    const n = obs.delta;
    return {
      model,
      events: (o) =>
        o.kind === "availability" || o.kind === "error_rate" || o.kind === "throughput" ? [0, n] : undefined,
    };
  }
  if (obs.kind === "increment" && obs.metric === Instruments.errors.name) {
    const n = obs.delta;
    const type = String(obs.attributes[Attr.errorType] ?? "");
    return {
      model,
      events: (o) => {
        if (o.kind === "error_rate") return [n, 0];
        if (o.kind === "availability" && !o.excludeErrorTypes.includes(type)) return [n, 0];
        return undefined;
      },
    };
  }
  if (obs.kind === "histogram" && obs.metric === Instruments.duration.name) {
    const h = obs.delta;
    return {
      model,
      events: (o) => {
        // Values in the exponential bucket that holds the threshold split by interpolation: at most one bucket's count off.
        if (o.kind === "latency") return [h.count - h.count * h.cdf(o.thresholdSeconds), h.count];
        if (o.kind === "cost") return [h.sum, h.count];
        return undefined;
      },
    };
  }
  if (obs.kind === "increment" && obs.metric === Instruments.segmentOutcomes.name) {
    const n = obs.delta;
    const segment = String(obs.attributes[Attr.segment] ?? "");
    const incorrect = obs.attributes[Attr.outcome] === "incorrect";
    return {
      model,
      events: (o) =>
        o.kind === "accuracy" && (o.segment === undefined || o.segment === segment)
          ? [incorrect ? n : 0, n]
          : undefined,
    };
  }
  return undefined;
}
