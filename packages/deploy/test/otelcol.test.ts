// The generated OpenTelemetry Collector configs (deploy/otelcol/) against the
// load-balancing exporter's documented schema, and the shard ring against the
// exporter's placement. otelcol-contrib cannot be installed here, so the
// schema is transcribed below and the Collector itself never runs in tests;
// docs/scaling.md says how to run `otelcol-contrib validate` where it exists.

import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Attr } from "@mlwatch/semconv";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  buildFrontCollectorConfig,
  buildOtelcolConfigs,
  crc32,
  EXAMPLE_RESOLVERS,
  generate,
  LOAD_BALANCING_EXPORTER,
  modelRoutingKey,
  parseSloSpecYaml,
  ShardRing,
} from "../src/index.js";

const duration = { type: "string", pattern: "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$" };
const strings = { type: "array", items: { type: "string" } };

// Transcribed from open-telemetry/opentelemetry-collector-contrib
// exporter/loadbalancingexporter/config.schema.yaml at commit
// 0140961f9de290fdf809390d3153c1eb214a2300, with the parts it references:
// - `allOf` timeout_config: exporterhelper's TimeoutConfig, squashed (key `timeout`);
// - `allOf` back_off_config: configretry.BackOffConfig, embedded under the
//   mapstructure key `retry_on_failure` (as in the exporter's README examples);
// - `sending_queue`: exporterhelper's QueueBatchConfig (the fields used here);
// - `protocol.otlp`: the OTLP (gRPC) exporter's config (otlpexporter
//   config.schema.yaml: timeout, retry_on_failure, sending_queue and
//   configgrpc's ClientConfig squashed), minus `endpoint`, which the resolver fills.
// Unknown keys are errors, as the Collector's config unmarshalling makes them.
const backOff = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    initial_interval: duration,
    randomization_factor: { type: "number" },
    multiplier: { type: "number" },
    max_interval: duration,
    max_elapsed_time: duration,
  },
};
const queue = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    num_consumers: { type: "integer", minimum: 1 },
    queue_size: { type: "integer", minimum: 1 },
    block_on_overflow: { type: "boolean" },
    sizer: { enum: ["requests", "items", "bytes"] },
    storage: { type: "string" },
    wait_for_result: { type: "boolean" },
  },
};
const tls = {
  type: "object",
  additionalProperties: false,
  properties: {
    insecure: { type: "boolean" },
    insecure_skip_verify: { type: "boolean" },
    ca_file: { type: "string" },
    cert_file: { type: "string" },
    key_file: { type: "string" },
    server_name_override: { type: "string" },
    min_version: { type: "string" },
  },
};
const otlpGrpcExporter = {
  type: "object",
  additionalProperties: false,
  properties: {
    timeout: duration,
    retry_on_failure: backOff,
    sending_queue: queue,
    compression: { enum: ["gzip", "zstd", "snappy", "zlib", "deflate", "none", ""] },
    tls,
    headers: { type: "object", additionalProperties: { type: "string" } },
    keepalive: { type: "object" },
    balancer_name: { type: "string" },
    wait_for_ready: { type: "boolean" },
    read_buffer_size: { type: "integer" },
    write_buffer_size: { type: "integer" },
    auth: { type: "object" },
  },
};
const loadBalancingSchema = {
  type: "object",
  additionalProperties: false,
  required: ["protocol", "resolver"],
  properties: {
    protocol: {
      type: "object",
      additionalProperties: false,
      properties: { otlp: otlpGrpcExporter },
    },
    resolver: {
      type: "object",
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1, // the exporter accepts exactly one resolver
      properties: {
        static: {
          type: "object",
          additionalProperties: false,
          required: ["hostnames"],
          properties: { hostnames: { ...strings, minItems: 1 } },
        },
        dns: {
          type: "object",
          additionalProperties: false,
          required: ["hostname"],
          properties: {
            hostname: { type: "string" },
            port: { type: "string" },
            interval: duration,
            timeout: duration,
          },
        },
        k8s: {
          type: "object",
          additionalProperties: false,
          required: ["service"],
          properties: {
            service: { type: "string" },
            ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 } },
            timeout: duration,
            return_hostnames: { type: "boolean" },
          },
        },
        aws_cloud_map: { type: "object" },
      },
    },
    routing_key: { enum: ["service", "traceID", "metric", "resource", "streamID", "attributes"] },
    routing_attributes: strings,
    sending_queue: queue,
    timeout: duration,
    retry_on_failure: backOff,
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validateLoadBalancing = ajv.compile(loadBalancingSchema);

type Config = {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, Record<string, unknown>>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
};

const spec = parseSloSpecYaml(readFileSync(new URL("../../../deploy/slo.yaml", import.meta.url), "utf8"));
const generated = generate({ spec }).files;
const files = Object.keys(buildOtelcolConfigs());

describe("deploy/otelcol", () => {
  it.each(files)("%s is written by the generator and parses as YAML", (name) => {
    const text = generated.get(`otelcol/${name}`);
    expect(text, name).toBeDefined();
    expect(parse(text!)).toEqual(buildOtelcolConfigs()[name]);
  });

  it.each(files)("%s: every pipeline names defined components, and every component is used", (name) => {
    const c = parse(generated.get(`otelcol/${name}`)!) as Config;
    expect(Object.keys(c.service.pipelines).sort()).toEqual(["logs", "metrics"]);
    const used = {
      receivers: new Set<string>(),
      processors: new Set<string>(),
      exporters: new Set<string>(),
    };
    for (const [pipeline, p] of Object.entries(c.service.pipelines))
      for (const kind of ["receivers", "processors", "exporters"] as const) {
        expect(p[kind].length, `${pipeline}.${kind}`).toBeGreaterThan(0);
        for (const id of p[kind]) {
          expect(c[kind], `${pipeline} uses ${kind} ${id}`).toHaveProperty([id]);
          used[kind].add(id);
        }
      }
    for (const kind of ["receivers", "processors", "exporters"] as const)
      expect([...used[kind]].sort(), kind).toEqual(Object.keys(c[kind]).sort());
    // The memory limiter must come first, so that it refuses data before anything else holds it.
    for (const p of Object.values(c.service.pipelines)) expect(p.processors[0]).toBe("memory_limiter");
  });

  const fronts = files.filter((f) => f.startsWith("otelcol"));
  it.each(fronts)("%s: the load-balancing exporter matches its schema and keys on the model", (name) => {
    const c = parse(generated.get(`otelcol/${name}`)!) as Config;
    const lb = c.exporters[LOAD_BALANCING_EXPORTER];
    const ok = validateLoadBalancing(lb);
    expect(validateLoadBalancing.errors ?? [], JSON.stringify(lb)).toEqual([]);
    expect(ok).toBe(true);
    expect(lb.routing_key).toBe("attributes");
    expect(lb.routing_attributes).toEqual([Attr.modelName]);
    expect(lb).toHaveProperty(["retry_on_failure", "enabled"], true);
    expect(lb).toHaveProperty(["sending_queue", "enabled"], true);
  });

  it("the schema rejects what the exporter would (so the check above can fail)", () => {
    const good = buildFrontCollectorConfig(EXAMPLE_RESOLVERS.static).exporters as Record<string, object>;
    const lb = good[LOAD_BALANCING_EXPORTER] as Record<string, unknown>;
    const bad = [
      { ...lb, routing_key: "model" },
      { ...lb, routing_attributes: "ml.model.name" },
      { ...lb, resolver: { dns: { hostname: "x", port: 4317 } } }, // port is a string in the schema
      { ...lb, resolver: { static: { hostnames: ["a:1"] }, dns: { hostname: "x" } } },
      { ...lb, retry_on_failure: { enabled: true, initial_interval: 5 } },
      { ...lb, sending_queue: { enabled: true, queue_size: "big" } },
      { ...lb, protocol: { otlphttp: {} } },
      { ...lb, retry: {} },
    ];
    for (const b of bad) expect(validateLoadBalancing(b), JSON.stringify(b)).toBe(false);
  });

  it("each resolver variant differs only in its resolver", () => {
    const [s, d, k] = (["static", "dns", "k8s"] as const).map(
      (kind) => buildFrontCollectorConfig(EXAMPLE_RESOLVERS[kind]) as Config,
    );
    for (const other of [d, k]) {
      expect({ ...other.exporters[LOAD_BALANCING_EXPORTER], resolver: null }).toEqual({
        ...s.exporters[LOAD_BALANCING_EXPORTER],
        resolver: null,
      });
      expect(other.service).toEqual(s.service);
    }
    expect(Object.keys(d.exporters[LOAD_BALANCING_EXPORTER].resolver as object)).toEqual(["dns"]);
    expect(Object.keys(k.exporters[LOAD_BALANCING_EXPORTER].resolver as object)).toEqual(["k8s"]);
    expect(() => buildFrontCollectorConfig({ kind: "static", hostnames: [] })).toThrow(/at least one/);
  });

  it("the sidecar receives OTLP/gRPC and sends OTLP/HTTP to the collector on its host", () => {
    const c = parse(generated.get("otelcol/shard-sidecar.yaml")!) as Config;
    expect(Object.keys((c.receivers.otlp as { protocols: object }).protocols)).toEqual(["grpc"]);
    expect(c.exporters.otlphttp.endpoint).toBe("http://127.0.0.1:4318");
  });
});

describe("ShardRing (the load-balancing exporter's placement)", () => {
  it("crc32 is IEEE CRC-32", () => {
    // The standard check value, and agreement with zlib's CRC (the gzip trailer node writes).
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    for (let n = 0; n < 20; n++) {
      const bytes = new Uint8Array(Array.from({ length: 1 + n * 7 }, (_, i) => (i * 31 + n * 17) & 0xff));
      const gz = gzipSync(bytes);
      expect(crc32(bytes)).toBe(gz.readUInt32LE(gz.length - 8));
    }
  });

  it("the key is the exporter's attribute encoding of ml.model.name", () => {
    expect(modelRoutingKey("churn")).toBe("ml.model.name=churn|");
  });

  it("places models as an independent implementation of the exporter's ring does", () => {
    // Owners computed by a separate Python script (zlib.crc32, the same placement rules) for the
    // example hostnames: two shards, then four.
    const two = new ShardRing(["mlwatch-shard-0:4317", "mlwatch-shard-1:4317"]);
    expect(EXAMPLE_RESOLVERS.static).toEqual({ kind: "static", hostnames: [...two.backends] });
    const four = new ShardRing([0, 1, 2, 3].map((i) => `mlwatch-shard-${i}:4317`));
    const expected: Record<string, [string, string]> = {
      sentiment: ["mlwatch-shard-1:4317", "mlwatch-shard-1:4317"],
      churn: ["mlwatch-shard-0:4317", "mlwatch-shard-0:4317"],
      fraud: ["mlwatch-shard-0:4317", "mlwatch-shard-0:4317"],
      ranker: ["mlwatch-shard-1:4317", "mlwatch-shard-1:4317"],
      spam: ["mlwatch-shard-0:4317", "mlwatch-shard-0:4317"],
      eta: ["mlwatch-shard-1:4317", "mlwatch-shard-2:4317"],
    };
    for (const [model, [a, b]] of Object.entries(expected)) {
      expect(two.ownerOf(model), model).toBe(a);
      expect(four.ownerOf(model), model).toBe(b);
    }
  });

  it("does not depend on the order hostnames are listed in", () => {
    const a = new ShardRing(["s-a:4317", "s-b:4317", "s-c:4317"]);
    const b = new ShardRing(["s-c:4317", "s-a:4317", "s-b:4317"]);
    for (let i = 0; i < 500; i++) expect(b.ownerOf(`model-${i}`)).toBe(a.ownerOf(`model-${i}`));
  });

  it("adding a shard moves models only onto the new shard, and spreads them", () => {
    const before = new ShardRing(["s-0:4317", "s-1:4317", "s-2:4317"]);
    const after = new ShardRing(["s-0:4317", "s-1:4317", "s-2:4317", "s-3:4317"]);
    const counts = new Map<string, number>();
    let moved = 0;
    for (let i = 0; i < 4000; i++) {
      const m = `model-${i}`;
      const [x, y] = [before.ownerOf(m), after.ownerOf(m)];
      if (x !== y) {
        moved++;
        expect(y).toBe("s-3:4317");
      }
      counts.set(y, (counts.get(y) ?? 0) + 1);
    }
    // About a quarter moves; every shard gets a fair share (100 positions each: within ±40 %).
    expect(moved).toBeGreaterThan(4000 * 0.1);
    expect(moved).toBeLessThan(4000 * 0.45);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(400);
    expect(() => new ShardRing([])).toThrow(/at least one/);
  });
});

describe("shard-owner CLI", () => {
  const cli = new URL("../dist/shard-owner.js", import.meta.url).pathname;
  it("prints the ring's owner of each model", () => {
    const shards = ["a-0:4317", "a-1:4317", "a-2:4317"];
    const models = Array.from({ length: 12 }, (_, i) => `model-${i}`);
    const out = execFileSync(process.execPath, [cli, "--shards", shards.join(","), ...models], {
      encoding: "utf8",
    });
    const ring = new ShardRing(shards);
    expect(out).toBe(models.map((m) => `${m}\t${ring.ownerOf(m)}\n`).join(""));
    expect(new Set(models.map((m) => ring.ownerOf(m))).size).toBeGreaterThan(1);
  });
  it("says what is missing", () => {
    const r = spawnSync(process.execPath, [cli, "churn"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--shards and at least one model are required/);
  });
});
