// Response bodies: checked field by field with a wire reader, and read back by
// the real OTel JS exporters' response deserializers.

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, test } from "vitest";
import { encodeLogsResponse, encodeMetricsResponse, encodeStatus, RpcCode } from "../../src/otlp/index.js";
import { transformer } from "./otel.js";

/** Reads a message into field number → values (varints as bigint, LEN as bytes). */
function fields(buf: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const r = new BinaryReader(buf);
  const out = new Map<number, (bigint | Uint8Array)[]>();
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    const v =
      wt === WireType.Varint ? BigInt(r.int64()) : wt === WireType.LengthDelimited ? r.bytes() : undefined;
    if (v === undefined) throw new Error(`unexpected wire type ${wt}`);
    out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}
const text = (b: bigint | Uint8Array | undefined) => new TextDecoder().decode(b as Uint8Array);

describe("Export*ServiceResponse", () => {
  test("full success: the empty message", () => {
    expect(encodeMetricsResponse(undefined, "proto")).toEqual(new Uint8Array(0));
    expect(encodeMetricsResponse(undefined, "json")).toBe("{}");
    expect(encodeLogsResponse(undefined, "proto")).toEqual(new Uint8Array(0));
    expect(encodeLogsResponse(undefined, "json")).toBe("{}");
    expect(transformer.ProtobufMetricsSerializer.deserializeResponse(new Uint8Array(0))).toEqual({});
  });

  test("partial success, protobuf: partial_success = 1 { rejected (int64) = 1, error_message = 2 }", () => {
    const msg = "3 points rejected: NaN value ✗";
    const buf = encodeMetricsResponse({ rejectedDataPoints: 3, errorMessage: msg }, "proto");
    const outer = fields(buf);
    expect([...outer.keys()]).toEqual([1]);
    const inner = fields(outer.get(1)![0] as Uint8Array);
    expect(inner.get(1)).toEqual([3n]);
    expect(text(inner.get(2)![0])).toBe(msg);
    // What the real OTel JS exporter reads from it:
    expect(transformer.ProtobufMetricsSerializer.deserializeResponse(buf)).toEqual({
      partialSuccess: { rejectedDataPoints: 3, errorMessage: msg },
    });
    const big = encodeLogsResponse({ rejectedLogRecords: 2 ** 40, errorMessage: "" }, "proto");
    expect(fields(fields(big).get(1)![0] as Uint8Array).get(1)).toEqual([2n ** 40n]);
    expect(transformer.ProtobufLogsSerializer.deserializeResponse(big)).toMatchObject({
      partialSuccess: { rejectedLogRecords: 2 ** 40 },
    });
    // A warning-only partial success (0 rejected) still carries partial_success.
    const warn = encodeMetricsResponse({ rejectedDataPoints: 0, errorMessage: "warning" }, "proto");
    expect(transformer.ProtobufMetricsSerializer.deserializeResponse(warn)).toEqual({
      partialSuccess: { errorMessage: "warning" },
    });
  });

  test("partial success, JSON: int64 as a decimal string", () => {
    const json = encodeMetricsResponse({ rejectedDataPoints: 5, errorMessage: 'bad "x"' }, "json");
    expect(JSON.parse(json)).toEqual({
      partialSuccess: { rejectedDataPoints: "5", errorMessage: 'bad "x"' },
    });
    expect(JSON.parse(encodeLogsResponse({ rejectedLogRecords: 1, errorMessage: "m" }, "json"))).toEqual({
      partialSuccess: { rejectedLogRecords: "1", errorMessage: "m" },
    });
    expect(transformer.JsonMetricsSerializer.deserializeResponse(new TextEncoder().encode(json))).toEqual({
      partialSuccess: { rejectedDataPoints: "5", errorMessage: 'bad "x"' },
    });
  });

  test("invalid counts are a programming error", () => {
    for (const n of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => encodeMetricsResponse({ rejectedDataPoints: n, errorMessage: "" }, "proto")).toThrow(
        RangeError,
      );
      expect(() => encodeLogsResponse({ rejectedLogRecords: n, errorMessage: "" }, "json")).toThrow(
        RangeError,
      );
    }
  });
});

describe("google.rpc.Status", () => {
  test("protobuf: code = 1, message = 2", () => {
    const buf = encodeStatus("body is not an ExportMetricsServiceRequest", "proto", RpcCode.InvalidArgument);
    const f = fields(buf);
    expect(f.get(1)).toEqual([3n]);
    expect(text(f.get(2)![0])).toBe("body is not an ExportMetricsServiceRequest");
    expect(fields(encodeStatus("x", "proto")).has(1)).toBe(false);
    expect(fields(encodeStatus("", "proto", -1)).get(1)).toEqual([-1n]);
  });

  test("JSON", () => {
    expect(JSON.parse(encodeStatus("too many requests", "json", RpcCode.Unavailable))).toEqual({
      code: 14,
      message: "too many requests",
    });
    expect(JSON.parse(encodeStatus("m", "json"))).toEqual({ message: "m" });
    expect(() => encodeStatus("m", "json", 1.5)).toThrow(RangeError);
  });
});
