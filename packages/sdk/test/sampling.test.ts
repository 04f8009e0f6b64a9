// The ground-truth sampling decision: a documented hash of the request id's
// UTF-8 bytes, so that every replica — and an SDK in another language — makes
// the same decision; and the bounded, expiring store feedback joins against.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fmix32, fnv1a32, isSampled, PendingPredictions, requestIdHash } from "../src/sampling.js";

function fnvBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

describe("request-id hash", () => {
  it("is FNV-1a 32 on the published test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes the UTF-8 bytes (as TextEncoder encodes them, lone surrogates included)", () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        expect(fnv1a32(s)).toBe(fnvBytes(enc.encode(s)));
      }),
      { numRuns: 2000 },
    );
    for (const s of ["\ud800", "a\udc00b", "\ud83d\ude00", "é", "日本"])
      expect(fnv1a32(s)).toBe(fnvBytes(enc.encode(s)));
  });

  it("pins the decision values other implementations must reproduce", () => {
    // fmix32 is MurmurHash3's finaliser.
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
    expect(requestIdHash("req-1")).toBe(fmix32(fnv1a32("req-1")) / 2 ** 32);
    expect(requestIdHash("")).toBe(fmix32(0x811c9dc5) / 2 ** 32);
  });

  it("gives the test vectors docs/sdk.md publishes, both the 32-bit h and requestIdHash = h / 2^32", () => {
    const doc = readFileSync(new URL("../../../docs/sdk.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| `(0x[0-9a-f]{8})` \| ([0-9.]+) \|$/gm)];
    expect(rows.map((r) => r[1])).toEqual(["req-1", "order-42", "日本"]);
    for (const [, id, h, position] of rows) {
      expect(fmix32(fnv1a32(id)), id).toBe(Number(h));
      expect(requestIdHash(id), id).toBe(Number(position));
      expect(isSampled(id, Number(position) + 1e-9), id).toBe(true);
      expect(isSampled(id, Number(position)), id).toBe(false);
    }
  });

  it("samples the configured share of sequential ids, monotonically in the rate", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `req-${i}`);
    for (const rate of [0.01, 0.1, 0.5]) {
      const share = ids.filter((id) => isSampled(id, rate)).length / ids.length;
      expect(Math.abs(share - rate)).toBeLessThan(0.005 + rate * 0.05);
    }
    for (const id of ids.slice(0, 2000)) {
      if (isSampled(id, 0.05)) expect(isSampled(id, 0.2)).toBe(true);
    }
    expect(ids.some((id) => isSampled(id, 0))).toBe(false);
    expect(ids.every((id) => isSampled(id, 1))).toBe(true);
  });
});

describe("PendingPredictions", () => {
  it("keeps at most maxEntries (oldest out first) and forgets entries after the TTL", () => {
    let now = 1000;
    const p = new PendingPredictions(2, 100, () => now);
    p.add("a", "x", "s");
    p.add("b", "y", "s");
    p.add("c", "z", "s");
    expect(p.size).toBe(2);
    expect(p.take("a")).toBeUndefined();
    expect(p.take("b")).toMatchObject({ predictedClass: "y", segment: "s" });
    expect(p.take("b")).toBeUndefined();
    now += 100;
    expect(p.take("c")).toBeUndefined();
    p.add("d", "x", "s");
    now += 50;
    p.add("e", "x", "s");
    now += 60; // d expired, e not
    p.add("f", "x", "s");
    expect(p.size).toBe(2);
    expect(p.take("e")).toBeDefined();
  });
});
