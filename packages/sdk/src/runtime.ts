// Host and Node.js runtime metrics for the collector's resources page: CPU,
// memory and network of the host and process (from @opentelemetry/host-metrics)
// and event-loop delay, event-loop utilisation and V8 heap per space, observed
// through the OTel metrics API under the OTel semantic-convention names.

import { type EventLoopUtilization, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { RuntimeMetricNames } from "@mlwatch/semconv";
import { type MeterProvider, metrics, type ObservableGauge } from "@opentelemetry/api";
import { HostMetrics } from "@opentelemetry/host-metrics";
import { report } from "./diag.js";
import { SDK_NAME, SDK_VERSION } from "./version.js";

export interface RuntimeMetricsHandle {
  /** Stops sampling the event loop (the observable instruments stay registered but report nothing). */
  stop(): void;
}

/**
 * Observes event-loop delay (min, max, mean, stddev, p50, p90, p99 since the
 * previous collection, in seconds), event-loop utilisation since the previous
 * collection, and V8 heap used and size per heap space, on `meterProvider`
 * (default: the global one).
 */
export function startRuntimeMetrics(meterProvider?: MeterProvider): RuntimeMetricsHandle {
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(`${SDK_NAME}/runtime`, SDK_VERSION);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let running = true;
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  const N = RuntimeMetricNames;
  const g = (name: string, unit: string, description: string): ObservableGauge =>
    meter.createObservableGauge(name, { unit, description });
  const delayGauges: Array<[ObservableGauge, () => number]> = [
    [g(N.eventLoopDelayMin, "s", "Event loop delay, minimum since the last collection"), () => delay.min],
    [g(N.eventLoopDelayMax, "s", "Event loop delay, maximum since the last collection"), () => delay.max],
    [g(N.eventLoopDelayMean, "s", "Event loop delay, mean since the last collection"), () => delay.mean],
    [g(N.eventLoopDelayStddev, "s", "Event loop delay, standard deviation"), () => delay.stddev],
    [g(N.eventLoopDelayP50, "s", "Event loop delay, median"), () => delay.percentile(50)],
    [g(N.eventLoopDelayP90, "s", "Event loop delay, 90th percentile"), () => delay.percentile(90)],
    [g(N.eventLoopDelayP99, "s", "Event loop delay, 99th percentile"), () => delay.percentile(99)],
  ];
  const utilization = g(
    N.eventLoopUtilization,
    "1",
    "Share of time the event loop was busy since the last collection",
  );
  const heapUsed = g(N.heapUsed, "By", "V8 heap memory used, per heap space");
  const heapSize = g(N.heapLimit, "By", "V8 heap memory reserved, per heap space");
  meter.addBatchObservableCallback(
    (result) => {
      if (!running) return;
      try {
        if (delay.count > 0) {
          for (const [gauge, read] of delayGauges) {
            const ns = read();
            if (Number.isFinite(ns)) result.observe(gauge, ns / 1e9);
          }
        }
        delay.reset();
        const now = performance.eventLoopUtilization();
        result.observe(utilization, performance.eventLoopUtilization(now, lastElu).utilization);
        lastElu = now;
        for (const s of getHeapSpaceStatistics()) {
          const a = { "v8js.heap.space.name": s.space_name };
          result.observe(heapUsed, s.space_used_size, a);
          result.observe(heapSize, s.space_size, a);
        }
      } catch (e) {
        report("runtime metrics", e);
      }
    },
    [...delayGauges.map(([gauge]) => gauge), utilization, heapUsed, heapSize],
  );
  return {
    stop() {
      running = false;
      delay.disable();
    },
  };
}

/** Starts the host and process metrics of @opentelemetry/host-metrics (CPU, memory, network) on `meterProvider`. */
export function startHostMetrics(meterProvider?: MeterProvider): void {
  try {
    new HostMetrics({
      meterProvider: meterProvider ?? metrics.getMeterProvider(),
      name: `${SDK_NAME}/host`,
    }).start();
  } catch (e) {
    report("host metrics", e);
  }
}
