// A health check's attempts counted by result: 121 refused connections are one line with a count,
// not 121 lines. The record keeps every attempt; this is only how they are shown.
import type { HealthAttempt } from '../state/types.js';

export interface HealthTally {
  /** Distinct results in the order they first came. */
  results: Array<{ ok: boolean; message: string; count: number }>;
  attempts: number;
  lastOk: boolean;
}

/** The tally with one more attempt, and whether its result is new (the first of its kind is shown as it happens). */
export function addAttempt(tally: HealthTally | undefined, attempt: HealthAttempt): { tally: HealthTally; first: boolean } {
  const results = tally?.results ?? [];
  const at = results.findIndex((r) => r.ok === attempt.ok && r.message === attempt.message);
  const next = at >= 0 ? results.map((r, i) => (i === at ? { ...r, count: r.count + 1 } : r)) : [...results, { ok: attempt.ok, message: attempt.message, count: 1 }];
  return { tally: { results: next, attempts: (tally?.attempts ?? 0) + 1, lastOk: attempt.ok }, first: at < 0 };
}

/** `connection refused (127.0.0.1:8080) ×120, status 503 (expected 2xx) ×1` */
export function describeTally(tally: HealthTally): string {
  return tally.results.map((r) => `${r.message} ×${r.count}`).join(', ');
}

/** Some result came more than once: the lines shown as they happened left attempts out, and the count line says how many. */
export function hasRepeats(tally: HealthTally | undefined): tally is HealthTally {
  return tally !== undefined && tally.attempts > tally.results.length;
}
