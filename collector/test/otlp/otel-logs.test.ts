// Decodes what the real OpenTelemetry JS logs SDK exports (protobuf and JSON)
// and checks every field against what was emitted.

import { expect, test } from "vitest";
import {
  type Attributes,
  type AttrValue,
  decodeLogsJson,
  decodeLogsProto,
  type LogRecord,
  type LogsRequest,
} from "../../src/otlp/index.js";
import { apiLogs, hrToNanos, type ReadableLogRecord, resources, sdkLogs, transformer } from "./otel.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Attribute / nested value as the decoder renders it (JSON text for structures). */
function flat(v: unknown): AttrValue {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? hex(x) : x));
}

function expectedAttrs(a: Record<string, unknown>): Attributes {
  const out: Attributes = Object.create(null);
  for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== null) out[k] = flat(v);
  return out;
}

function expectedBody(b: unknown): LogRecord["body"] {
  if (b === undefined || b === null) return null;
  if (b instanceof Uint8Array) return hex(b);
  if (Array.isArray(b)) return b.map(flat);
  if (typeof b === "object") return expectedAttrs(b as Record<string, unknown>);
  return b as AttrValue;
}

function expectedRequest(records: ReadableLogRecord[]): LogsRequest {
  const r0 = records[0]!;
  return {
    resourceLogs: [
      {
        resource: expectedAttrs(r0.resource.attributes),
        scopeLogs: [
          {
            scope: { name: r0.instrumentationScope.name, version: r0.instrumentationScope.version ?? "" },
            logRecords: records.map((r) => ({
              timeUnixNano: hrToNanos(r.hrTime),
              observedTimeUnixNano: hrToNanos(r.hrTimeObserved),
              severityNumber: r.severityNumber ?? 0,
              severityText: r.severityText ?? "",
              body: expectedBody(r.body),
              attributes: expectedAttrs(r.attributes),
              eventName: r.eventName ?? "",
            })),
          },
        ],
      },
    ],
  };
}

async function emit(): Promise<ReadableLogRecord[]> {
  const exporter = new sdkLogs.InMemoryLogRecordExporter();
  const provider = new sdkLogs.LoggerProvider({
    resource: resources.resourceFromAttributes({ "service.name": "sentiment-service", "process.pid": 99 }),
    processors: [new sdkLogs.SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("@mlwatch/sdk", "0.1.0");
  const S = apiLogs.SeverityNumber;
  logger.emit({
    eventName: "ml.prediction",
    severityNumber: S.INFO,
    severityText: "INFO",
    timestamp: new Date(1_750_000_000_123),
    body: {
      prediction: "pos",
      confidence: 0.97,
      latency_ms: 12,
      features: { age: 31, income: 52000.5, tags: ["a", "b"] },
      history: [1, 2, 3],
      ok: true,
    },
    attributes: { "model.name": "sentiment", "model.version": "v3", sampled: true, rate: 0.01, n: 5 },
  });
  logger.emit({ severityNumber: S.WARN2, body: "plain text ünïcode", attributes: { tags: ["x", "y"] } });
  logger.emit({ severityNumber: S.ERROR, body: ["pos", 0.5, 3, false] });
  logger.emit({ body: 42 });
  logger.emit({ body: 2.5 });
  logger.emit({ body: false });
  logger.emit({ body: new Uint8Array([0, 1, 0xfe, 0xff]) });
  logger.emit({ severityNumber: S.FATAL4, attributes: { constructor: "y", toString: "z" } });
  logger.emit({ body: { nested: { deeper: { deepest: [{ k: "v" }] } } } });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

for (const encoding of ["proto", "json"] as const) {
  test(`real OTel JS logs, ${encoding}: every field matches what was emitted`, async () => {
    const records = await emit();
    expect(records.length).toBe(9);
    const decoded =
      encoding === "proto"
        ? decodeLogsProto(transformer.ProtobufLogsSerializer.serializeRequest(records)!)
        : decodeLogsJson(new TextDecoder().decode(transformer.JsonLogsSerializer.serializeRequest(records)!));

    expect(decoded).toEqual(expectedRequest(records));

    // Spot checks against the values emitted above.
    const logs = decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(decoded.resourceLogs[0]!.resource["process.pid"]).toBe(99);
    expect(decoded.resourceLogs[0]!.scopeLogs[0]!.scope).toEqual({ name: "@mlwatch/sdk", version: "0.1.0" });
    const p = logs[0]!;
    expect(p.eventName).toBe("ml.prediction");
    expect(p.severityNumber).toBe(9);
    expect(p.severityText).toBe("INFO");
    expect(p.timeUnixNano).toBe(1_750_000_000_123_000_000n);
    expect(p.observedTimeUnixNano).toBeGreaterThan(p.timeUnixNano);
    const body = p.body as Attributes;
    expect(Object.getPrototypeOf(body)).toBeNull();
    expect(body.prediction).toBe("pos");
    expect(body.confidence).toBe(0.97);
    expect(body.latency_ms).toBe(12);
    expect(body.ok).toBe(true);
    expect(JSON.parse(body.features as string)).toEqual({ age: 31, income: 52000.5, tags: ["a", "b"] });
    expect(body.history).toBe("[1,2,3]");
    expect(p.attributes).toEqual({
      "model.name": "sentiment",
      "model.version": "v3",
      sampled: true,
      rate: 0.01,
      n: 5,
    });
    expect(logs[1]!.body).toBe("plain text ünïcode");
    expect(logs[1]!.severityNumber).toBe(14);
    expect(logs[1]!.attributes.tags).toBe('["x","y"]');
    expect(logs[2]!.body).toEqual(["pos", 0.5, 3, false]);
    expect(logs[3]!.body).toBe(42);
    expect(logs[4]!.body).toBe(2.5);
    expect(logs[5]!.body).toBe(false);
    expect(logs[6]!.body).toBe("0001feff");
    expect(logs[7]!.body).toBeNull();
    expect(logs[7]!.severityNumber).toBe(24);
    expect(Object.getPrototypeOf(logs[7]!.attributes)).toBeNull();
    expect(logs[7]!.attributes.constructor).toBe("y");
    expect(logs[7]!.attributes.toString).toBe("z");
    expect(({} as Record<string, unknown>).x).toBeUndefined(); // no prototype pollution
    expect(JSON.parse((logs[8]!.body as Attributes).nested as string)).toEqual({
      deeper: { deepest: [{ k: "v" }] },
    });
  });
}

test("real OTel JS logs: protobuf and JSON decode to the same request", async () => {
  const records = await emit();
  const fromProto = decodeLogsProto(transformer.ProtobufLogsSerializer.serializeRequest(records)!);
  const fromJson = decodeLogsJson(
    new TextDecoder().decode(transformer.JsonLogsSerializer.serializeRequest(records)!),
  );
  expect(fromJson).toEqual(fromProto);
});
