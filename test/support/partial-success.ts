// Reads the partial_success of an OTLP/protobuf export answer, for tests that
// check what the collector rejected and why.

/** Reads ExportMetricsServiceResponse / ExportLogsServiceResponse { partial_success = 1 { int64 rejected = 1; string message = 2 } }. */
export function decodePartialProto(b: Uint8Array): { rejected: number; message: string } | undefined {
  let pos = 0;
  const readVarint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const x = b[pos++];
      n += (x & 0x7f) * mul;
      if (x < 0x80) return n;
      mul *= 128;
    }
  };
  if (b.length === 0) return undefined;
  if (readVarint() !== (1 << 3) + 2) throw new Error("unexpected response field");
  const end = readVarint() + pos;
  const out = { rejected: 0, message: "" };
  while (pos < end) {
    const t = readVarint();
    if (t === (1 << 3) + 0) out.rejected = readVarint();
    else if (t === (2 << 3) + 2) {
      const n = readVarint();
      out.message = new TextDecoder().decode(b.subarray(pos, pos + n));
      pos += n;
    } else throw new Error(`unexpected partial_success field ${t}`);
  }
  return out;
}
