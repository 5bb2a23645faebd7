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

/** How many of a target's newest records (index entries) tell what runs there and where a rollback goes. */
export const RECENT_RECORDS = 500;

/**
 * A record that stopped before it changed anything: a failed pre-deploy check or preparation, a
 * refused approval. It failed without being marked bad, and says nothing about what runs.
 */
function changedNothing(r: Outcome): boolean {
  return r.status === 'failed' && !r.bad;
}

/**
 * Of records newest first: the ones that succeeded and passed their health check, one per version,
 * leaving out `skipVersions` and versions whose newest finished attempt was marked bad (it failed after
 * changing something) or rolled back. A failure that changed nothing holds nothing against its version.
 */
export function goodOnes<T extends Outcome>(newestFirst: readonly T[], skipVersions: ReadonlySet<string> = new Set()): T[] {
  const lastOutcome = new Map<string, T>();
  for (const r of newestFirst) if (!lastOutcome.has(r.version) && !inFlight(r.status)) lastOutcome.set(r.version, r);
  const seen = new Set<string>();
  const good: T[] = [];
  for (const r of newestFirst) {
    if (r.status !== 'succeeded' || r.healthy === false || r.bad || skipVersions.has(r.version) || seen.has(r.version)) continue;
    const newest = lastOutcome.get(r.version);
    if (newest && (newest.bad || newest.status === 'rolled_back')) continue;
    seen.add(r.version);
    good.push(r);
  }
  return good;
}

/**
 * What runs in a target now, of its records newest first: the newest that succeeded. (A failure that
 * changed something after it may have replaced it in part: `status` shows that one as the last
 * deployment, and a bare rollback goes back from it, see rollbackCandidates.)
 */
export function runningRecord<T extends Outcome>(newestFirst: readonly T[]): T | undefined {
  return newestFirst.find((r) => r.status === 'succeeded');
}

/**
 * Where a bare rollback goes, best first: the good records, without the version that runs now when the
 * last change was its deployment. After a failure that changed something (and was not rolled back),
 * the failed version is what runs, and the running record is the way back. Records in flight, and
 * those that changed nothing, are passed over.
 */
export function rollbackCandidates<T extends Outcome>(newestFirst: readonly T[]): T[] {
  const lastChange = newestFirst.find((r) => !inFlight(r.status) && !changedNothing(r));
  // A last change that succeeded is the running record itself.
  return goodOnes(newestFirst, new Set(lastChange?.status === 'succeeded' ? [lastChange.version] : []));
}
