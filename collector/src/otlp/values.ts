// Conversions of OTLP AnyValue content to the flat attribute values of types.ts,
// shared by the protobuf and JSON decoders so both produce identical output.
//
//   string/bool/double   -> as is (NaN and ±Infinity kept)
//   int64                -> number if it is a safe integer, else its exact decimal string
//   bytes                -> lowercase hex string
//   array / kvlist       -> JSON text (when used as an attribute value or nested)
//   empty AnyValue       -> attribute omitted; `null` inside JSON text
//
// In JSON text, non-finite doubles are written as the strings "NaN",
// "Infinity" and "-Infinity" (as the proto3 JSON mapping does), bytes as a
// hex string, and a duplicated kvlist key keeps its last value.

import type { Attributes, AttrValue } from "./types.js";

/**
 * A new, empty attribute map: no prototype, so "__proto__" and the like are
 * plain keys. Made with setPrototypeOf rather than Object.create(null): V8
 * keeps such an object in fast mode (a hidden class shared by every map with
 * the same keys), so the normaliser and the store read its keys and values
 * several times faster than from a dictionary-mode Object.create(null).
 */
export function newAttributes(): Attributes {
  return Object.setPrototypeOf({}, null) as Attributes;
}

/** The attributes of a point without any: one frozen object for all of them. */
export const NO_ATTRIBUTES: Attributes = Object.freeze(newAttributes());

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = "";
  for (let i = start; i < end; i++) s += HEX[bytes[i]!];
  return s;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** int64 attribute value: a number when exact, else the decimal string. */
export function int64ToAttr(v: bigint): AttrValue {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
}

/** JSON text of a scalar attribute value. Integers beyond 2^53 arrive as decimal strings and stay numbers in JSON. */
export function doubleToJson(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/** JSON text of a kvlist whose values are already JSON text; `entries` keeps the last value of a duplicated key. */
export function kvlistToJson(entries: Map<string, string>): string {
  let s = "{";
  let first = true;
  for (const [k, v] of entries) {
    if (!first) s += ",";
    first = false;
    s += JSON.stringify(k) + ":" + v;
  }
  return s + "}";
}

/** UTF-8 byte length of a JS string, computed only when it could exceed `max`. */
export function utf8LengthExceeds(s: string, max: number): boolean {
  if (s.length > max) return true; // a UTF-16 unit is at least one UTF-8 byte
  if (s.length * 3 <= max) return false; // and at most three
  return Buffer.byteLength(s, "utf8") > max;
}
