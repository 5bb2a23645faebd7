// Which records a rollback may go back to. Shared by the engine (choosing) and the store (pruning
// never deletes the record a rollback would need).
import type { RecordStatus } from './types.js';

export interface Outcome {
  id: string;
  version: string;
  status: RecordStatus;
  healthy?: boolean;
  bad?: boolean;
}

/** A record whose deployment has not ended (or whose process died before saying so). */
export function inFlight(status: RecordStatus): boolean {
  return status === 'pending' || status === 'running';
}

/**
 * Of records newest first: the ones that succeeded and passed their health check, one per version,
 * leaving out versions marked bad or whose newest finished attempt failed, and `skipVersions`.
 */
export function goodOnes<T extends Outcome>(newestFirst: T[], skipVersions: ReadonlySet<string> = new Set()): T[] {
  const lastOutcome = new Map<string, T>();
  for (const r of newestFirst) if (!lastOutcome.has(r.version) && !inFlight(r.status)) lastOutcome.set(r.version, r);
  const seen = new Set<string>();
  const good: T[] = [];
  for (const r of newestFirst) {
    if (r.status !== 'succeeded' || r.healthy === false || r.bad || skipVersions.has(r.version) || seen.has(r.version)) continue;
    const newest = lastOutcome.get(r.version);
    if (newest && (newest.bad || newest.status === 'failed' || newest.status === 'rolled_back')) continue;
    seen.add(r.version);
    good.push(r);
  }
  return good;
}
