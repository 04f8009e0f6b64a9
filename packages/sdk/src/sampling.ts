// Ground-truth sampling: a deterministic decision per request id, so that
// every replica (and any other language's SDK that implements the same two
// functions) picks the same requests, and a bounded, expiring store of this
// process's sampled predictions for joining feedback.
//
// Decision: h = fmix32(fnv1a32(UTF-8 bytes of the id)); sampled iff h < rate · 2^32.
// FNV-1a alone leaves similar ids (req-1, req-2, …) with correlated high
// bits; MurmurHash3's 32-bit finaliser spreads them over the whole range.

/** FNV-1a (32-bit) over the UTF-8 encoding of `s`, without allocating the bytes. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The id's position in [0, 1): the same on every replica and in every process. */
export function requestIdHash(requestId: string): number {
  return fmix32(fnv1a32(requestId)) / 4294967296;
}

/**
 * Whether the prediction of `requestId` is sampled for ground truth at `rate`
 * (a fraction in [0, 1]). Deterministic: the same id and rate give the same
 * answer everywhere, and an id sampled at some rate is sampled at every
 * higher rate.
 */
export function isSampled(requestId: string, rate: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return requestIdHash(requestId) < rate;
}

export interface PendingPrediction {
  predictedClass: string | undefined;
  segment: string;
  expiresAt: number;
}

/**
 * Sampled predictions waiting for their label: insertion-ordered, at most
 * `maxEntries` (the oldest go first), each dropped `ttlMs` after it was made.
 */
export class PendingPredictions {
  private readonly entries = new Map<string, PendingPrediction>();
  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(requestId: string, predictedClass: string | undefined, segment: string): void {
    const now = this.now();
    this.expire(now);
    // Re-adding an id moves it to the end, so the map stays ordered by expiry.
    this.entries.delete(requestId);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(requestId, { predictedClass, segment, expiresAt: now + this.ttlMs });
  }

  /** Removes and returns the pending prediction of `requestId` if it has not expired. */
  take(requestId: string): PendingPrediction | undefined {
    const e = this.entries.get(requestId);
    if (e === undefined) return undefined;
    this.entries.delete(requestId);
    return e.expiresAt > this.now() ? e : undefined;
  }

  private expire(now: number): void {
    for (const [id, e] of this.entries) {
      if (e.expiresAt > now) break;
      this.entries.delete(id);
    }
  }
}
