// OpenTelemetry Collector (contrib) configs for running N mlwatch collectors
// as model shards (docs/scaling.md):
//
//   SDK replicas ──OTLP──► front Collector ── load_balancing exporter, key = ml.model.name ──►
//     OTLP/gRPC ──► shard k: sidecar Collector ──OTLP/HTTP──► mlwatch collector k
//
// Why a sidecar: the load-balancing exporter sends OTLP over gRPC only
// (`protocol.otlp` is the gRPC OTLP exporter's config) and the mlwatch
// collector receives OTLP over HTTP only. A Collector next to each shard
// turns one into the other; it holds no state and needs no routing.

import { Attr, DefaultPorts } from "@mlwatch/semconv";
import { EXAMPLE_SHARDS, OTLP_GRPC_PORT } from "./names.js";

export const LOAD_BALANCING_EXPORTER = "load_balancing";

/** How the front Collector finds the shards. */
export type ShardResolver =
  | { kind: "static"; hostnames: string[] }
  | { kind: "dns"; hostname: string; port: number }
  | { kind: "k8s"; service: string; port: number };

/** The example resolvers of deploy/otelcol/: placeholder names, to be replaced by yours. */
export const EXAMPLE_RESOLVERS: Record<"static" | "dns" | "k8s", ShardResolver> = {
  static: { kind: "static", hostnames: EXAMPLE_SHARDS.map((h) => `${h}:${OTLP_GRPC_PORT}`) },
  // A headless service's name, resolving to one A record per shard.
  dns: { kind: "dns", hostname: "mlwatch-shards.monitoring.svc.cluster.local", port: OTLP_GRPC_PORT },
  // <service>.<namespace> of a StatefulSet's headless service.
  k8s: { kind: "k8s", service: "mlwatch-shard.monitoring", port: OTLP_GRPC_PORT },
};

function resolverConfig(r: ShardResolver): Record<string, unknown> {
  switch (r.kind) {
    case "static":
      if (r.hostnames.length === 0) throw new Error("resolver.static.hostnames must name at least one shard");
      return { static: { hostnames: r.hostnames } };
    case "dns":
      // The exporter's port is a string in its schema.
      return { dns: { hostname: r.hostname, port: String(r.port), interval: "5s", timeout: "1s" } };
    case "k8s":
      // Hostnames, not pod IPs: a restarted StatefulSet pod keeps its name, so it keeps its models.
      return { k8s: { service: r.service, ports: [r.port], timeout: "1s", return_hostnames: true } };
  }
}

/** Memory limiter first, so that an overloaded Collector refuses data (and the SDK retries) rather than dying. */
const PROCESSORS = {
  memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 20 },
  // Batching before the exporter is safe: the load-balancing exporter splits every batch by routing key again.
  batch: { send_batch_size: 8192, send_batch_max_size: 16384, timeout: "1s" },
};

const RETRY = { enabled: true, initial_interval: "1s", max_interval: "30s", max_elapsed_time: "300s" };

function pipelines(exporter: string) {
  const p = { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: [exporter] };
  return { metrics: p, logs: p };
}

/** The front tier: receives from every model service, routes each model to the shard that owns it. */
export function buildFrontCollectorConfig(resolver: ShardResolver): Record<string, unknown> {
  return {
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
          http: { endpoint: `0.0.0.0:${DefaultPorts.otlpHttp}` },
        },
      },
    },
    processors: PROCESSORS,
    exporters: {
      [LOAD_BALANCING_EXPORTER]: {
        // One model = one key: its points (a data-point attribute in mlwatch's SDK) and its sampled
        // predictions (a log-record attribute) hash alike, whatever replica, version or resource sent them.
        routing_key: "attributes",
        routing_attributes: [Attr.modelName],
        protocol: {
          otlp: {
            // Inside the cluster in this example; set tls.ca_file etc. across untrusted networks.
            tls: { insecure: true },
            compression: "gzip",
            timeout: "10s",
          },
        },
        resolver: resolverConfig(resolver),
        timeout: "10s",
        retry_on_failure: RETRY,
        // One queue per shard: a slow shard backs up its own models only.
        sending_queue: { enabled: true, num_consumers: 4, queue_size: 5000 },
      },
    },
    service: { pipelines: pipelines(LOAD_BALANCING_EXPORTER) },
  };
}

/** The sidecar beside each mlwatch collector: OTLP/gRPC in, OTLP/HTTP out to the collector on the same host. */
export function buildShardSidecarConfig(collectorOtlp = `http://127.0.0.1:${DefaultPorts.otlpHttp}`) {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` } } } },
    processors: PROCESSORS,
    exporters: {
      otlphttp: {
        endpoint: collectorOtlp,
        compression: "gzip",
        timeout: "10s",
        retry_on_failure: RETRY,
        sending_queue: { enabled: true, num_consumers: 2, queue_size: 5000 },
      },
    },
    service: { pipelines: pipelines("otlphttp") },
  };
}

/** Files of deploy/otelcol/, by name. */
export function buildOtelcolConfigs(): Record<string, Record<string, unknown>> {
  return {
    "otelcol.yaml": buildFrontCollectorConfig(EXAMPLE_RESOLVERS.static),
    "otelcol-dns.yaml": buildFrontCollectorConfig(EXAMPLE_RESOLVERS.dns),
    "otelcol-k8s.yaml": buildFrontCollectorConfig(EXAMPLE_RESOLVERS.k8s),
    "shard-sidecar.yaml": buildShardSidecarConfig(),
  };
}
