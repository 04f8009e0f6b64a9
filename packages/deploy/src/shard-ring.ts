// Which shard owns a model: the placement the OpenTelemetry Collector's
// load-balancing exporter applies, rewritten here from its documented
// behaviour so that mlwatch's own tools (tests, `baseline push`, a feedback
// proxy) pick the same shard for a model as the Collector does.
//
// The exporter's ring (exporter/loadbalancingexporter/consistent_hashing.go):
// - the backends are sorted (the static resolver sorts its hostnames; the DNS
//   and k8s resolvers sort what they resolve);
// - each backend takes 100 positions on a ring of 36 000: crc32 (IEEE) of the
//   backend string followed by one byte i (i = 0..99), modulo 36 000; a
//   position already taken by an earlier backend is skipped;
// - a routing key's position is crc32 (IEEE) of the key, modulo 36 000; it
//   goes to the first backend at or after that position, wrapping round.
// With `routing_key: attributes` and `routing_attributes: [ml.model.name]`
// the key is the string "ml.model.name=<model>|".

import { Attr } from "@mlwatch/semconv";

const RING_POSITIONS = 36_000;
const POSITIONS_PER_BACKEND = 100;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the polynomial of Go's crc32.IEEE and zlib) of the bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const utf8 = new TextEncoder();

/** The routing key the exporter builds from `routing_attributes` for one model. */
export function modelRoutingKey(model: string): string {
  return `${Attr.modelName}=${model}|`;
}

export class ShardRing {
  readonly backends: readonly string[];
  private readonly positions: number[] = [];
  private readonly owners: string[] = [];

  /** `backends` as the resolver yields them, e.g. the static resolver's `hostnames` ("host:port"). */
  constructor(backends: readonly string[]) {
    if (backends.length === 0) throw new Error("a shard ring needs at least one backend");
    const sorted = [...new Set(backends)].sort();
    this.backends = sorted;
    const taken = new Map<number, string>();
    for (const backend of sorted) {
      const name = utf8.encode(backend);
      const buf = new Uint8Array(name.length + 1);
      buf.set(name);
      for (let i = 0; i < POSITIONS_PER_BACKEND; i++) {
        buf[name.length] = i;
        const pos = crc32(buf) % RING_POSITIONS;
        if (!taken.has(pos)) taken.set(pos, backend);
      }
    }
    for (const [pos, backend] of [...taken].sort((a, b) => a[0] - b[0])) {
      this.positions.push(pos);
      this.owners.push(backend);
    }
  }

  /** The backend a routing key goes to. */
  ownerOfKey(key: string): string {
    const pos = crc32(utf8.encode(key)) % RING_POSITIONS;
    // First position at or after pos (binary search), else wrap to the first.
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid] < pos) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.positions.length ? 0 : lo];
  }

  /** The backend every point and log of `model` goes to. */
  ownerOf(model: string): string {
    return this.ownerOfKey(modelRoutingKey(model));
  }
}
