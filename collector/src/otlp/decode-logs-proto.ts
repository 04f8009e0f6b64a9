// ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1) decoder.
//
// Field numbers are those of opentelemetry-proto logs/v1/logs.proto:
//   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }
//   ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3 }
//   ScopeLogs    { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3 }
//   LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11;
//               SeverityNumber severity_number = 2; string severity_text = 3; AnyValue body = 5;
//               repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7;
//               fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12 }
// trace_id, span_id, flags and dropped counts are checked for wire type and skipped.

import { readAttribute, readBody, readResourceInto, readScopeInto } from "./any-value.js";
import { resolveLimits, rethrowAt, rethrowFinal } from "./errors.js";
import { I32, I64, LEN, ProtoReader, readRepeatedMessage, VARINT, wrongWire } from "./proto-reader.js";
import type { DecodeLimits, LogRecord, LogsRequest, ResourceLogs, ScopeLogs } from "./types.js";

/** Decodes a binary ExportLogsServiceRequest. Throws DecodeError on malformed input. */
export function decodeLogsProto(buf: Uint8Array, limits?: Partial<DecodeLimits>): LogsRequest {
  const r = new ProtoReader(buf, resolveLimits(limits));
  const resourceLogs: ResourceLogs[] = [];
  try {
    const end = r.len;
    while (r.pos < end) {
      const tag = r.readTag(end);
      const f = tag >>> 3;
      const wt = tag & 7;
      if (f === 1) {
        readRepeatedMessage(
          r,
          f,
          wt,
          end,
          resourceLogs,
          resourceLogs.length,
          "resource_logs",
          readResourceLogs,
        );
      } else {
        r.skipField(wt, f, end);
      }
    }
  } catch (e) {
    rethrowFinal(e);
  }
  return { resourceLogs };
}

function readResourceLogs(r: ProtoReader, end: number): ResourceLogs {
  const rl: ResourceLogs = { resource: Object.create(null), scopeLogs: [] };
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readResourceInto(r, r.readLen(end), rl.resource);
        } catch (e) {
          rethrowAt(e, "resource");
        }
        break;
      case 2:
        readRepeatedMessage(r, f, wt, end, rl.scopeLogs, rl.scopeLogs.length, "scope_logs", readScopeLogs);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return rl;
}

function readScopeLogs(r: ProtoReader, end: number): ScopeLogs {
  const sl: ScopeLogs = { scope: { name: "", version: "" }, logRecords: [] };
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          readScopeInto(r, r.readLen(end), sl.scope);
        } catch (e) {
          rethrowAt(e, "scope");
        }
        break;
      case 2:
        readRepeatedMessage(r, f, wt, end, sl.logRecords, sl.logRecords.length, "log_records", readLogRecord);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return sl;
}

function readLogRecord(r: ProtoReader, end: number): LogRecord {
  const rec: LogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: "",
    body: null,
    attributes: Object.create(null),
    eventName: "",
  };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== I64) wrongWire(f, wt, I64);
        rec.timeUnixNano = r.readFixed64Big(end);
        break;
      case 11:
        if (wt !== I64) wrongWire(f, wt, I64);
        rec.observedTimeUnixNano = r.readFixed64Big(end);
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        rec.severityNumber = r.readVarint32(end) | 0;
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        rec.severityText = r.readString(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          rec.body = readBody(r, r.readLen(end));
        } catch (e) {
          rethrowAt(e, "body");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        nAttrs = readAttribute(r, end, rec.attributes, nAttrs);
        break;
      case 12:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        rec.eventName = r.readString(end);
        break;
      case 7:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        r.skipField(wt, f, end);
        break;
      case 8:
        if (wt !== I32) wrongWire(f, wt, I32);
        r.skipField(wt, f, end);
        break;
      case 9:
      case 10:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return rec;
}
