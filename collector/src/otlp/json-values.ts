// The JSON side of the OTLP/JSON decoder: reading one field or value of a
// parsed request as the proto3 JSON mapping allows it (camelCase or
// snake_case names, 64-bit integers as numbers or strings, doubles as
// numbers or "NaN"/"Infinity", bytes as base64), with the decoder's errors.
// Not the messages themselves (decode-json.ts, json-common.ts).

import { fail } from "./errors.js";
import type { DecodeLimits } from "./types.js";
import { toHex, utf8LengthExceeds } from "./values.js";

export type Json = Record<string, unknown>;

const EMPTY: readonly unknown[] = Object.freeze([]);
const UINT64_MAX = (1n << 64n) - 1n;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v.length > 40 ? `string "${v.slice(0, 40)}..."` : `string "${v}"`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** A field by its lowerCamelCase or its proto name; null counts as absent. */
export function get(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const w = o[snake];
  return w === null ? undefined : w;
}

export function asObject(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    fail(`${what}: expected an object, got ${describe(v)}`);
  return v as Json;
}

export function optObject(o: Json, camel: string, snake: string): Json | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : asObject(v, camel);
}

export function asArray(v: unknown, what: string, lim: DecodeLimits): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) fail(`${what}: expected an array, got ${describe(v)}`);
  if (v.length > lim.maxRepeated) fail(`${what} has more than maxRepeated (${lim.maxRepeated}) elements`);
  return v;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function strValue(v: unknown, what: string, lim: DecodeLimits): string {
  if (typeof v !== "string") fail(`${what}: expected a string, got ${describe(v)}`);
  if (utf8LengthExceeds(v, lim.maxStringBytes)) {
    fail(`${what}: string exceeds maxStringBytes (${lim.maxStringBytes})`);
  }
  // JSON "\ud800" escapes can produce lone surrogates; like invalid UTF-8 in protobuf,
  // they become U+FFFD so that every decoded string is valid Unicode.
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(v) ? v.replace(LONE_SURROGATE, "\uFFFD") : v;
}

export function str(o: Json, camel: string, snake: string, lim: DecodeLimits): string {
  const v = get(o, camel, snake);
  return v === undefined ? "" : strValue(v, camel, lim);
}

export const INT_RE = /^-?\d+$/;

/** An unsigned 64-bit count as a number; negative, fractional or above 2^53-1 is an error. */
export function count(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : countValue(v, camel);
}

export function countValue(v: unknown, what: string, index?: number): number {
  // Fast path: a plain non-negative safe integer.
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  let n = Number.NaN;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  const name = index === undefined ? what : `${what}[${index}]`;
  if (!Number.isInteger(n) || n < 0) fail(`${name}: expected a non-negative integer, got ${describe(v)}`);
  if (n > Number.MAX_SAFE_INTEGER) fail(`${name} exceeds 2^53-1 (Number.MAX_SAFE_INTEGER)`);
  return n;
}

/** A signed 64-bit integer as a number; beyond ±(2^53-1) is an error. */
export function int64Num(v: unknown, what: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  else fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n)) fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(n)) fail(`${what} exceeds 2^53-1 (Number.MAX_SAFE_INTEGER) in magnitude`);
  return n;
}

/** A 32-bit integer (int32 / uint32 / enum number). */
export function int32Value(v: unknown, what: string, min: number, max: number): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INT_RE.test(v)) n = Number(v);
  else fail(`${what}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`${what}: expected an integer in [${min}, ${max}], got ${describe(v)}`);
  return n;
}

export function int32(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : int32Value(v, camel, -2147483648, 2147483647);
}

export function uint32(o: Json, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : int32Value(v, camel, 0, 4294967295);
}

/** A fixed64 timestamp as an exact bigint (from a decimal string) or from a non-negative integer number. */
export function timestamp(o: Json, camel: string, snake: string): bigint {
  const v = get(o, camel, snake);
  if (v === undefined) return 0n;
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b <= UINT64_MAX) return b;
  } else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 64) {
    return BigInt(v);
  }
  fail(`${camel}: expected an unsigned 64-bit integer, got ${describe(v)}`);
}

const NUMERIC_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function doubleValue(v: unknown, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (v === "NaN") return Number.NaN;
    if (v === "Infinity") return Number.POSITIVE_INFINITY;
    if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
    if (NUMERIC_RE.test(v)) return Number(v);
  }
  fail(`${what}: expected a number, got ${describe(v)}`);
}

export function optDouble(o: Json, camel: string, snake: string): number | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : doubleValue(v, camel);
}

export function bool(o: Json, camel: string, snake: string): boolean {
  const v = get(o, camel, snake);
  if (v === undefined) return false;
  if (typeof v !== "boolean") fail(`${camel}: expected a boolean, got ${describe(v)}`);
  return v;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function base64ToHex(v: unknown, what: string, lim: DecodeLimits): string {
  if (typeof v !== "string" || !BASE64_RE.test(v) || v.length % 4 === 1) {
    fail(`${what}: expected a base64 string, got ${describe(v)}`);
  }
  const bytes = Buffer.from(v, "base64");
  if (bytes.length > lim.maxStringBytes)
    fail(`${what}: bytes value exceeds maxStringBytes (${lim.maxStringBytes})`);
  return toHex(bytes);
}
