// Readers of OTLP's common messages (common.proto, resource.proto) on a
// ProtoReader: KeyValue attributes, AnyValue (as an attribute value, as JSON
// text, or as a log body), Resource and InstrumentationScope. Not the wire
// primitives (proto-reader.ts), nor the reuse of a point's attributes across
// exports (attribute-cache.ts).

import { fail, rethrowAt } from "./errors.js";
import { I64, LEN, type ProtoReader, tooMany, VARINT, wrongWire } from "./proto-reader.js";
import type { Attributes, AttrValue } from "./types.js";
import { doubleToJson, kvlistToJson } from "./values.js";

/**
 * Reads one KeyValue (the LEN value of a `repeated KeyValue` field) into `attrs`;
 * `count` is how many entries the field had before this one. Returns the new count.
 */
export function readAttribute(
  r: ProtoReader,
  end: number,
  attrs: Attributes,
  count: number,
  depth = 1,
): number {
  if (count >= r.limits.maxAttributes) fail(`more than maxAttributes (${r.limits.maxAttributes}) attributes`);
  try {
    readKeyValueInto(r, r.readLen(end), attrs, depth);
  } catch (e) {
    rethrowAt(e, "attributes", count);
  }
  return count + 1;
}

function readKeyValueInto(r: ProtoReader, end: number, attrs: Attributes, depth: number): void {
  let key = "";
  let value: AttrValue | undefined;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      key = r.readString(end);
    } else if (f === 2) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      try {
        value = readAttrValue(r, r.readLen(end), depth);
      } catch (e) {
        rethrowAt(e, "value");
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  if (value === undefined) delete attrs[key];
  else attrs[key] = value;
}

function checkDepth(r: ProtoReader, depth: number): void {
  if (depth > r.limits.maxDepth) fail(`AnyValue nesting exceeds maxDepth (${r.limits.maxDepth})`);
}

/** AnyValue as an attribute value: scalar, hex for bytes, JSON text for array/kvlist, undefined when empty. */
export function readAttrValue(r: ProtoReader, end: number, depth: number): AttrValue | undefined {
  checkDepth(r, depth);
  let v: AttrValue | undefined;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readString(end);
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end);
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readInt64Attr(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = r.readDouble(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readArrayJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readKvlistJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readBytesHex(end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

/** AnyValue as JSON text ("null" when empty). */
function readAnyJson(r: ProtoReader, end: number, depth: number): string {
  checkDepth(r, depth);
  let v = "null";
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = JSON.stringify(r.readString(end));
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end) ? "true" : "false";
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = String(r.readInt64Attr(end)); // exact digits either way: a valid JSON number
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = doubleToJson(r.readDouble(end));
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readArrayJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readKvlistJson(r, r.readLen(end), depth);
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = `"${r.readBytesHex(end)}"`;
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

/** ArrayValue { repeated AnyValue values = 1 } as JSON text; its elements are at depth + 1. */
function readArrayJson(r: ProtoReader, end: number, depth: number): string {
  let s = "[";
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxRepeated) tooMany("values", r.limits.maxRepeated);
      try {
        const item = readAnyJson(r, r.readLen(end), depth + 1);
        s += n === 0 ? item : "," + item;
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return s + "]";
}

/** KeyValueList { repeated KeyValue values = 1 } as JSON text; its values are at depth + 1. */
function readKvlistJson(r: ProtoReader, end: number, depth: number): string {
  const entries = new Map<string, string>();
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxAttributes)
        fail(`kvlist has more than maxAttributes (${r.limits.maxAttributes}) entries`);
      try {
        readKeyValueJson(r, r.readLen(end), entries, depth + 1);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return kvlistToJson(entries);
}

function readKeyValueJson(r: ProtoReader, end: number, entries: Map<string, string>, depth: number): void {
  let key = "";
  let value = "null";
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      key = r.readString(end);
    } else if (f === 2) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      try {
        value = readAnyJson(r, r.readLen(end), depth);
      } catch (e) {
        rethrowAt(e, "value");
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  entries.set(key, value);
}

/**
 * A log body (AnyValue): scalars as attribute values, a kvlist as an Attributes map
 * (nested arrays/kvlists as JSON text), an array as AttrValue[] (nested likewise; if
 * an element is empty the whole array is given as JSON text), empty as null.
 */
export function readBody(r: ProtoReader, end: number): AttrValue | Attributes | AttrValue[] | null {
  checkDepth(r, 1);
  let v: AttrValue | Attributes | AttrValue[] | null = null;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readString(end);
        break;
      case 2:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readBool(end);
        break;
      case 3:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        v = r.readInt64Attr(end);
        break;
      case 4:
        if (wt !== I64) wrongWire(f, wt, I64);
        v = r.readDouble(end);
        break;
      case 5:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readBodyArray(r, r.readLen(end));
        } catch (e) {
          rethrowAt(e, "array_value");
        }
        break;
      case 6:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        try {
          v = readBodyKvlist(r, r.readLen(end));
        } catch (e) {
          rethrowAt(e, "kvlist_value");
        }
        break;
      case 7:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        v = r.readBytesHex(end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
  return v;
}

function readBodyArray(r: ProtoReader, end: number): AttrValue[] | string {
  const start = r.pos;
  const out: AttrValue[] = [];
  let hasEmpty = false;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      const n = out.length;
      if (n >= r.limits.maxRepeated) tooMany("values", r.limits.maxRepeated);
      try {
        const item = readAttrValue(r, r.readLen(end), 2);
        if (item === undefined) hasEmpty = true;
        else out.push(item);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
    } else {
      r.skipField(wt, f, end);
    }
  }
  if (!hasEmpty) return out;
  r.pos = start;
  return readArrayJson(r, end, 1);
}

function readBodyKvlist(r: ProtoReader, end: number): Attributes {
  const attrs: Attributes = Object.create(null);
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      if (n >= r.limits.maxAttributes)
        fail(`kvlist has more than maxAttributes (${r.limits.maxAttributes}) entries`);
      try {
        readKeyValueInto(r, r.readLen(end), attrs, 2);
      } catch (e) {
        rethrowAt(e, "values", n);
      }
      n++;
    } else {
      r.skipField(wt, f, end);
    }
  }
  return attrs;
}

/** Resource { repeated KeyValue attributes = 1; dropped_attributes_count = 2; entity_refs = 3 }. */
export function readResourceInto(r: ProtoReader, end: number, attrs: Attributes): void {
  let n = 0;
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1) {
      if (wt !== LEN) wrongWire(f, wt, LEN);
      n = readAttribute(r, end, attrs, n);
    } else if (f === 2) {
      if (wt !== VARINT) wrongWire(f, wt, VARINT);
      r.skipField(wt, f, end);
    } else {
      r.skipField(wt, f, end);
    }
  }
}

/** InstrumentationScope { name = 1; version = 2; attributes = 3; dropped_attributes_count = 4 } (attributes ignored). */
export function readScopeInto(r: ProtoReader, end: number, scope: { name: string; version: string }): void {
  while (r.pos < end) {
    const tag = r.readTag(end);
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 1:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        scope.name = r.readString(end);
        break;
      case 2:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        scope.version = r.readString(end);
        break;
      case 3:
        if (wt !== LEN) wrongWire(f, wt, LEN);
        r.skipField(wt, f, end);
        break;
      case 4:
        if (wt !== VARINT) wrongWire(f, wt, VARINT);
        r.skipField(wt, f, end);
        break;
      default:
        r.skipField(wt, f, end);
    }
  }
}
