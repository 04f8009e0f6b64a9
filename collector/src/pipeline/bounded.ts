// Bounds on what a client's strings may cost the collector over time. The
// decoder already caps one request (128 attributes, 64 KiB a string); these
// caps apply to what is *kept* after the request: stream keys, label values
// and sampled-prediction fields. Long values are not refused: they are cut
// and marked with a digest of the whole, so distinct values stay distinct.

import { createHash } from "node:crypto";

/** Longest key part (resource, scope or point attributes) kept as it is in a stream key. */
export const MAX_KEY_PART = 1024;

/** The part as it is when short, else a 44-character digest of it, marked so it cannot equal a short part. */
export function boundedKeyPart(part: string): string {
  if (part.length <= MAX_KEY_PART) return part;
  return `\u0004${createHash("sha256").update(part).digest("base64")}`;
}

/**
 * The value as it is when at most `max` characters, else its first
 * characters, "…" and 11 characters of a digest of the whole value, `max`
 * characters in all (`max` is at least 32).
 */
export function boundedValue(value: string, max: number): string {
  if (value.length <= max) return value;
  const digest = createHash("sha256").update(value).digest("base64url").slice(0, 11);
  let cut = max - 12;
  // never split a surrogate pair: half of one is not valid Unicode in a label
  if (cut > 0 && value.charCodeAt(cut - 1) >= 0xd800 && value.charCodeAt(cut - 1) <= 0xdbff) cut--;
  return `${value.slice(0, cut)}…${digest}`;
}
