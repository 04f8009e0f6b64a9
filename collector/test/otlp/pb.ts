// A tiny protobuf writer for hand-built (valid and hostile) test messages.

export type Bytes = Uint8Array;

export function cat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Unsigned varint of a number or bigint (bigints below zero are written as 64-bit two's complement). */
export function varint(v: number | bigint): Bytes {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return Uint8Array.from(out);
}

export const tag = (field: number, wt: number): Bytes => varint(field * 8 + wt);

export function fVarint(field: number, v: number | bigint | boolean): Bytes {
  return cat(tag(field, 0), varint(typeof v === "boolean" ? (v ? 1 : 0) : v));
}

export function fSint32(field: number, v: number): Bytes {
  return cat(tag(field, 0), varint(((v << 1) ^ (v >> 31)) >>> 0));
}

export function fixed64(v: number | bigint): Bytes {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  return b;
}

export function f64(field: number, v: number | bigint): Bytes {
  return cat(tag(field, 1), fixed64(v));
}

export function double(v: number): Bytes {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return b;
}

export function fDouble(field: number, v: number): Bytes {
  return cat(tag(field, 1), double(v));
}

export function f32(field: number, v: number): Bytes {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return cat(tag(field, 5), b);
}

export function fLen(field: number, v: Bytes | string): Bytes {
  const b = typeof v === "string" ? new TextEncoder().encode(v) : v;
  return cat(tag(field, 2), varint(b.length), b);
}

export function fGroup(field: number, ...inner: Bytes[]): Bytes {
  return cat(tag(field, 3), ...inner, tag(field, 4));
}

// ---- common.proto

export const anyStr = (s: string) => fLen(1, s);
export const anyBool = (b: boolean) => fVarint(2, b);
export const anyInt = (n: number | bigint) => fVarint(3, n);
export const anyDouble = (d: number) => fDouble(4, d);
export const anyArray = (...values: Bytes[]) => fLen(5, cat(...values.map((v) => fLen(1, v))));
export const anyKvlist = (...kvs: Bytes[]) => fLen(6, cat(...kvs.map((kv) => fLen(1, kv))));
export const anyBytes = (b: number[]) => fLen(7, Uint8Array.from(b));
export const kv = (key: string, value?: Bytes) =>
  cat(fLen(1, key), value ? fLen(2, value) : new Uint8Array(0));

// ---- metrics.proto

export const T0 = 1_700_000_000_000_000_000n;
export const T1 = 1_700_000_060_000_000_000n;

export function numberPoint(o: {
  attrs?: Bytes[];
  asInt?: number | bigint;
  asDouble?: number;
  flags?: number;
}) {
  return cat(
    ...(o.attrs ?? []).map((a) => fLen(7, a)),
    f64(2, T0),
    f64(3, T1),
    o.asInt !== undefined ? f64(6, o.asInt) : fDouble(4, o.asDouble ?? 0),
    o.flags !== undefined ? fVarint(8, o.flags) : new Uint8Array(0),
  );
}

export const packedVarints = (field: number, xs: (number | bigint)[]) => fLen(field, cat(...xs.map(varint)));
export const packedFixed64 = (field: number, xs: (number | bigint)[]) => fLen(field, cat(...xs.map(fixed64)));
export const packedDoubles = (field: number, xs: number[]) => fLen(field, cat(...xs.map(double)));

export function buckets(offset: number, counts: (number | bigint)[], packed = true): Bytes {
  return cat(
    fSint32(1, offset),
    packed ? packedVarints(2, counts) : cat(...counts.map((c) => fVarint(2, c))),
  );
}

export function expPoint(o: {
  attrs?: Bytes[];
  count: number | bigint;
  sum?: number;
  min?: number;
  max?: number;
  scale: number;
  zeroCount: number | bigint;
  zeroThreshold?: number;
  positive?: Bytes;
  negative?: Bytes;
  flags?: number;
}): Bytes {
  const e = new Uint8Array(0);
  return cat(
    ...(o.attrs ?? []).map((a) => fLen(1, a)),
    f64(2, T0),
    f64(3, T1),
    f64(4, o.count),
    o.sum !== undefined ? fDouble(5, o.sum) : e,
    fSint32(6, o.scale),
    f64(7, o.zeroCount),
    o.positive ? fLen(8, o.positive) : e,
    o.negative ? fLen(9, o.negative) : e,
    o.flags !== undefined ? fVarint(10, o.flags) : e,
    o.min !== undefined ? fDouble(12, o.min) : e,
    o.max !== undefined ? fDouble(13, o.max) : e,
    o.zeroThreshold !== undefined ? fDouble(14, o.zeroThreshold) : e,
  );
}

export function histPoint(o: {
  attrs?: Bytes[];
  count: number | bigint;
  sum?: number;
  counts: (number | bigint)[];
  bounds: number[];
  packed?: boolean;
}): Bytes {
  const packed = o.packed ?? true;
  return cat(
    ...(o.attrs ?? []).map((a) => fLen(9, a)),
    f64(2, T0),
    f64(3, T1),
    f64(4, o.count),
    o.sum !== undefined ? fDouble(5, o.sum) : new Uint8Array(0),
    packed ? packedFixed64(6, o.counts) : cat(...o.counts.map((c) => f64(6, c))),
    packed ? packedDoubles(7, o.bounds) : cat(...o.bounds.map((b) => fDouble(7, b))),
  );
}

export const gauge = (...points: Bytes[]) => fLen(5, cat(...points.map((p) => fLen(1, p))));
export const sum = (temporality: number, monotonic: boolean, ...points: Bytes[]) =>
  fLen(7, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality), fVarint(3, monotonic)));
export const histogram = (temporality: number, ...points: Bytes[]) =>
  fLen(9, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality)));
export const expHistogram = (temporality: number, ...points: Bytes[]) =>
  fLen(10, cat(...points.map((p) => fLen(1, p)), fVarint(2, temporality)));

export const metric = (name: string, ...data: Bytes[]) => cat(fLen(1, name), ...data);

export function metricsRequest(o: { resource?: Bytes[]; scope?: [string, string]; metrics: Bytes[] }): Bytes {
  const scope = o.scope ?? ["scope", "1.0"];
  const scopeMetrics = cat(
    fLen(1, cat(fLen(1, scope[0]), fLen(2, scope[1]))),
    ...o.metrics.map((m) => fLen(2, m)),
  );
  const resource = cat(...(o.resource ?? []).map((a) => fLen(1, a)));
  return fLen(1, cat(fLen(1, resource), fLen(2, scopeMetrics)));
}

// ---- logs.proto

export function logRecord(o: {
  time?: bigint;
  severity?: number;
  text?: string;
  body?: Bytes;
  attrs?: Bytes[];
  event?: string;
}): Bytes {
  const e = new Uint8Array(0);
  return cat(
    f64(1, o.time ?? T0),
    f64(11, T1),
    o.severity !== undefined ? fVarint(2, o.severity) : e,
    o.text !== undefined ? fLen(3, o.text) : e,
    o.body ? fLen(5, o.body) : e,
    ...(o.attrs ?? []).map((a) => fLen(6, a)),
    o.event !== undefined ? fLen(12, o.event) : e,
  );
}

export function logsRequest(o: { resource?: Bytes[]; records: Bytes[] }): Bytes {
  const scopeLogs = cat(fLen(1, fLen(1, "logger")), ...o.records.map((r) => fLen(2, r)));
  const resource = cat(...(o.resource ?? []).map((a) => fLen(1, a)));
  return fLen(1, cat(fLen(1, resource), fLen(2, scopeLogs)));
}
