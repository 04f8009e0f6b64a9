// OTLP/HTTP response bodies, in the request's encoding.
//
//   Export{Metrics,Logs}ServiceResponse { Export*PartialSuccess partial_success = 1 }
//   ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2 }
//   ExportLogsPartialSuccess    { int64 rejected_log_records = 1; string error_message = 2 }
//   google.rpc.Status           { int32 code = 1; string message = 2; repeated Any details = 3 }
//
// Proto3 defaults are omitted (zero counts, empty strings). In JSON, int64 counts
// are decimal strings, as the proto3 JSON mapping writes them. Without a partial
// success the response is the empty message (0 bytes / "{}"), meaning "all accepted".

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export type Encoding = "proto" | "json";

/** google.rpc.Code values that go with OTLP/HTTP error statuses. */
export const RpcCode = {
  InvalidArgument: 3,
  ResourceExhausted: 8,
  Internal: 13,
  Unavailable: 14,
} as const;

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

function partialSuccess(
  countField: string,
  count: number,
  message: string,
  as: Encoding,
): Uint8Array | string {
  if (as === "json") {
    const ps: Record<string, string> = {};
    if (count !== 0) ps[countField] = String(count);
    if (message !== "") ps.errorMessage = message;
    return JSON.stringify({ partialSuccess: ps });
  }
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork();
  if (count !== 0) w.tag(1, WireType.Varint).int64(count);
  if (message !== "") w.tag(2, WireType.LengthDelimited).string(message);
  w.join();
  return w.finish();
}

export function encodeMetricsResponse(
  p: { rejectedDataPoints: number; errorMessage: string } | undefined,
  as: "proto",
): Uint8Array;
export function encodeMetricsResponse(
  p: { rejectedDataPoints: number; errorMessage: string } | undefined,
  as: "json",
): string;
export function encodeMetricsResponse(
  p: { rejectedDataPoints: number; errorMessage: string } | undefined,
  as: Encoding,
): Uint8Array | string;
/** ExportMetricsServiceResponse; pass `p` for a partial success. */
export function encodeMetricsResponse(
  p: { rejectedDataPoints: number; errorMessage: string } | undefined,
  as: Encoding,
): Uint8Array | string {
  if (p === undefined) return as === "json" ? "{}" : new Uint8Array(0);
  checkCount(p.rejectedDataPoints, "rejectedDataPoints");
  return partialSuccess("rejectedDataPoints", p.rejectedDataPoints, p.errorMessage, as);
}

export function encodeLogsResponse(
  p: { rejectedLogRecords: number; errorMessage: string } | undefined,
  as: "proto",
): Uint8Array;
export function encodeLogsResponse(
  p: { rejectedLogRecords: number; errorMessage: string } | undefined,
  as: "json",
): string;
export function encodeLogsResponse(
  p: { rejectedLogRecords: number; errorMessage: string } | undefined,
  as: Encoding,
): Uint8Array | string;
/** ExportLogsServiceResponse; pass `p` for a partial success. */
export function encodeLogsResponse(
  p: { rejectedLogRecords: number; errorMessage: string } | undefined,
  as: Encoding,
): Uint8Array | string {
  if (p === undefined) return as === "json" ? "{}" : new Uint8Array(0);
  checkCount(p.rejectedLogRecords, "rejectedLogRecords");
  return partialSuccess("rejectedLogRecords", p.rejectedLogRecords, p.errorMessage, as);
}

export function encodeStatus(message: string, as: "proto", code?: number): Uint8Array;
export function encodeStatus(message: string, as: "json", code?: number): string;
export function encodeStatus(message: string, as: Encoding, code?: number): Uint8Array | string;
/**
 * google.rpc.Status for OTLP/HTTP error bodies (4xx/5xx). `code` is a google.rpc.Code
 * (see RpcCode, e.g. 3 INVALID_ARGUMENT for a 400); omitted, no code is written.
 */
export function encodeStatus(message: string, as: Encoding, code?: number): Uint8Array | string {
  if (code !== undefined && (!Number.isInteger(code) || code < -2147483648 || code > 2147483647)) {
    throw new RangeError(`code must be an int32, got ${code}`);
  }
  if (as === "json") {
    const s: { code?: number; message?: string } = {};
    if (code !== undefined && code !== 0) s.code = code;
    if (message !== "") s.message = message;
    return JSON.stringify(s);
  }
  const w = new BinaryWriter();
  if (code !== undefined && code !== 0) w.tag(1, WireType.Varint).int32(code);
  if (message !== "") w.tag(2, WireType.LengthDelimited).string(message);
  return w.finish();
}
