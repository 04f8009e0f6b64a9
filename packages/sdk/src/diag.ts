// Diagnostics for the prediction path: everything goes to the OTel diag
// logger, rate-limited per kind of problem so that a caller passing NaN a
// million times a second does not turn into a million log lines.

import { diag } from "@opentelemetry/api";

const INTERVAL_MS = 60_000;
const MAX_KEYS = 256;

interface Seen {
  at: number;
  suppressed: number;
}

const seen = new Map<string, Seen>();

function limited(key: string, emit: (suffix: string) => void): void {
  try {
    const now = Date.now();
    const s = seen.get(key);
    if (s !== undefined && now - s.at < INTERVAL_MS) {
      s.suppressed++;
      return;
    }
    const suffix = s && s.suppressed > 0 ? ` (${s.suppressed} similar messages suppressed)` : "";
    if (s) {
      s.at = now;
      s.suppressed = 0;
    } else {
      if (seen.size >= MAX_KEYS) seen.clear();
      seen.set(key, { at: now, suppressed: 0 });
    }
    emit(suffix);
  } catch {
    // The diag logger itself failed; there is nowhere left to report to.
  }
}

/** Warns about bad input at most once a minute per `key`. */
export function warn(key: string, message: string): void {
  limited(key, (suffix) => diag.warn(`mlwatch: ${message}${suffix}`));
}

/** Reports an unexpected failure inside the SDK (never rethrown) at most once a minute per place. */
export function report(where: string, error: unknown): void {
  limited(`error:${where}`, (suffix) => diag.error(`mlwatch: ${where} failed${suffix}`, error));
}

/** For tests: forget the rate-limiting state. */
export function resetDiagLimits(): void {
  seen.clear();
}
