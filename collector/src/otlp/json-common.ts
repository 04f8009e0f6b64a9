// OTLP/JSON readers of the common messages (common.proto, resource.proto):
// attributes, AnyValue (as an attribute value, as JSON text, or as a log
// body), Resource and InstrumentationScope, with the same output as the
// protobuf decoder's any-value.ts. Not field-level JSON reading
// (json-values.ts), nor metrics or logs (decode-json.ts).

import { fail, rethrowAt } from "./errors.js";
import {
  asArray,
  asObject,
  base64ToHex,
  describe,
  doubleValue,
  get,
  INT_RE,
  INT64_MAX,
  INT64_MIN,
  type Json,
  optObject,
  str,
  strValue,
} from "./json-values.js";
import type { Attributes, AttrValue, DecodeLimits } from "./types.js";
import { doubleToJson, int64ToAttr, kvlistToJson } from "./values.js";

export function attributesInto(v: unknown, attrs: Attributes, lim: DecodeLimits): void {
  const list = asArray(v, "attributes", lim);
  if (list.length > lim.maxAttributes) fail(`more than maxAttributes (${lim.maxAttributes}) attributes`);
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = asObject(list[i], "KeyValue");
      const key = str(kv, "key", "key", lim);
      let value: AttrValue | undefined;
      try {
        const av = get(kv, "value", "value");
        value = av === undefined ? undefined : attrValue(av, 1, lim);
      } catch (e) {
        rethrowAt(e, "value");
      }
      if (value === undefined) delete attrs[key];
      else attrs[key] = value;
    } catch (e) {
      rethrowAt(e, "attributes", i);
    }
  }
}

function checkDepth(depth: number, lim: DecodeLimits): void {
  if (depth > lim.maxDepth) fail(`AnyValue nesting exceeds maxDepth (${lim.maxDepth})`);
}

const ONEOF_FIELDS = [
  "stringValue",
  "string_value",
  "boolValue",
  "bool_value",
  "intValue",
  "int_value",
  "doubleValue",
  "double_value",
  "arrayValue",
  "array_value",
  "kvlistValue",
  "kvlist_value",
  "bytesValue",
  "bytes_value",
];

/** Which AnyValue member is set: index into ONEOF_FIELDS / 2, or -1 when empty. */
function anyKind(o: Json): number {
  let kind = -1;
  for (let i = 0; i < ONEOF_FIELDS.length; i++) {
    const v = o[ONEOF_FIELDS[i]!];
    if (v === undefined || v === null) continue;
    const k = i >> 1;
    if (kind !== -1 && kind !== k) fail("AnyValue has more than one value set");
    kind = k;
  }
  return kind;
}

function anyMember(o: Json, kind: number): unknown {
  return get(o, ONEOF_FIELDS[kind * 2]!, ONEOF_FIELDS[kind * 2 + 1]!);
}

function intAttr(v: unknown, what: string): AttrValue {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) fail(`${what}: expected an integer, got ${describe(v)}`);
    if (Number.isSafeInteger(v)) return v;
    v = BigInt(v).toString();
  }
  if (typeof v !== "string" || !INT_RE.test(v)) fail(`${what}: expected an integer, got ${describe(v)}`);
  const b = BigInt(v);
  if (b < INT64_MIN || b > INT64_MAX) fail(`${what}: ${v} is out of the int64 range`);
  return int64ToAttr(b);
}

/** AnyValue as an attribute value; see values.ts for the conversions. */
function attrValue(v: unknown, depth: number, lim: DecodeLimits): AttrValue | undefined {
  checkDepth(depth, lim);
  const o = asObject(v, "AnyValue");
  const kind = anyKind(o);
  if (kind === -1) return undefined;
  const m = anyMember(o, kind);
  switch (kind) {
    case 0:
      return strValue(m, "stringValue", lim);
    case 1:
      if (typeof m !== "boolean") fail(`boolValue: expected a boolean, got ${describe(m)}`);
      return m;
    case 2:
      return intAttr(m, "intValue");
    case 3:
      return doubleValue(m, "doubleValue");
    case 4:
      return arrayJson(m, depth, lim);
    case 5:
      return kvlistJson(m, depth, lim);
    default:
      return base64ToHex(m, "bytesValue", lim);
  }
}

/** AnyValue as JSON text ("null" when empty). */
function anyJson(v: unknown, depth: number, lim: DecodeLimits): string {
  const a = attrValue(v, depth, lim);
  if (a === undefined) return "null";
  const kind = anyKind(v as Json);
  switch (kind) {
    case 2:
      return String(a); // exact digits: a valid JSON number
    case 3:
      return doubleToJson(a as number);
    case 4:
    case 5:
      return a as string; // already JSON text
    default:
      return JSON.stringify(a);
  }
}

function arrayJson(v: unknown, depth: number, lim: DecodeLimits): string {
  try {
    const list = asArray(get(asObject(v, "ArrayValue"), "values", "values"), "values", lim);
    let s = "[";
    for (let i = 0; i < list.length; i++) {
      try {
        s += (i === 0 ? "" : ",") + anyJson(list[i], depth + 1, lim);
      } catch (e) {
        rethrowAt(e, "values", i);
      }
    }
    return s + "]";
  } catch (e) {
    rethrowAt(e, "arrayValue");
  }
}

function kvlistJson(v: unknown, depth: number, lim: DecodeLimits): string {
  try {
    const list = asArray(get(asObject(v, "KeyValueList"), "values", "values"), "values", lim);
    if (list.length > lim.maxAttributes)
      fail(`kvlist has more than maxAttributes (${lim.maxAttributes}) entries`);
    const entries = new Map<string, string>();
    for (let i = 0; i < list.length; i++) {
      try {
        const kv = asObject(list[i], "KeyValue");
        const key = str(kv, "key", "key", lim);
        const av = get(kv, "value", "value");
        let text = "null";
        try {
          if (av !== undefined) text = anyJson(av, depth + 1, lim);
        } catch (e) {
          rethrowAt(e, "value");
        }
        entries.set(key, text);
      } catch (e) {
        rethrowAt(e, "values", i);
      }
    }
    return kvlistToJson(entries);
  } catch (e) {
    rethrowAt(e, "kvlistValue");
  }
}

/** A log body; same shape rules as the protobuf decoder's readBody. */
export function body(v: unknown, lim: DecodeLimits): AttrValue | Attributes | AttrValue[] | null {
  checkDepth(1, lim);
  const o = asObject(v, "AnyValue");
  const kind = anyKind(o);
  if (kind === 4) {
    try {
      const list = asArray(
        get(asObject(anyMember(o, kind), "ArrayValue"), "values", "values"),
        "values",
        lim,
      );
      const out: AttrValue[] = [];
      for (let i = 0; i < list.length; i++) {
        let item: AttrValue | undefined;
        try {
          item = attrValue(list[i], 2, lim);
        } catch (e) {
          rethrowAt(e, "values", i);
        }
        if (item === undefined) return arrayJson(anyMember(o, kind), 1, lim);
        out.push(item);
      }
      return out;
    } catch (e) {
      rethrowAt(e, "arrayValue");
    }
  }
  if (kind === 5) {
    try {
      const attrs: Attributes = Object.create(null);
      const list = asArray(
        get(asObject(anyMember(o, kind), "KeyValueList"), "values", "values"),
        "values",
        lim,
      );
      if (list.length > lim.maxAttributes)
        fail(`kvlist has more than maxAttributes (${lim.maxAttributes}) entries`);
      for (let i = 0; i < list.length; i++) {
        try {
          const kv = asObject(list[i], "KeyValue");
          const key = str(kv, "key", "key", lim);
          let value: AttrValue | undefined;
          try {
            const av = get(kv, "value", "value");
            value = av === undefined ? undefined : attrValue(av, 2, lim);
          } catch (e) {
            rethrowAt(e, "value");
          }
          if (value === undefined) delete attrs[key];
          else attrs[key] = value;
        } catch (e) {
          rethrowAt(e, "values", i);
        }
      }
      return attrs;
    } catch (e) {
      rethrowAt(e, "kvlistValue");
    }
  }
  const a = attrValue(o, 1, lim);
  return a === undefined ? null : a;
}

export function resourceInto(o: Json, attrs: Attributes, lim: DecodeLimits): void {
  const res = optObject(o, "resource", "resource");
  if (res === undefined) return;
  try {
    attributesInto(get(res, "attributes", "attributes"), attrs, lim);
  } catch (e) {
    rethrowAt(e, "resource");
  }
}

export function scopeOf(o: Json, lim: DecodeLimits): { name: string; version: string } {
  const s = optObject(o, "scope", "scope");
  if (s === undefined) return { name: "", version: "" };
  try {
    return { name: str(s, "name", "name", lim), version: str(s, "version", "version", lim) };
  } catch (e) {
    rethrowAt(e, "scope");
  }
}
