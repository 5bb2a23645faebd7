// Which records a rollback may go back to, what runs in a target now, and when a failed rollback says
// nothing against its version. The one definition of each, for the core (choosing), the engine (the
// automatic rollback) and the store (pruning never deletes the record a rollback would need).
import type { RecordAction, RecordStatus } from '../state/types.js';

export interface Outcome {
  id: string;
  version: string;
  status: RecordStatus;
  action?: RecordAction;
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
 * refused approval, a rollback that failed for a cause that is not its version. It failed without
 * being marked bad, and says nothing about what runs.
 */
function changedNothing(r: Outcome): boolean {
  // A destroy that failed may have taken part of the target down (it marks no version bad all the same).
  return r.status === 'failed' && !r.bad && r.action !== 'destroy';
}

/** Succeeded and passed its health check (a deployment: a destroy leaves nothing to go back to). */
function wentWell(r: Outcome): boolean {
  return r.status === 'succeeded' && r.healthy !== false && !r.bad && r.action !== 'destroy';
}

/** A destroy that succeeded: from it on, nothing of the target ran until a deployment succeeded again. */
const destroyed = (r: Outcome) => r.action === 'destroy' && r.status === 'succeeded';

/**
 * Of records newest first: those after the newest destroy that succeeded (all of them when there is
 * none). A destroy ends the line: a bare or automatic rollback never goes back across it (`rollback
 * --to` still can).
 */
export function sinceDestroy<T extends Outcome>(newestFirst: readonly T[]): readonly T[] {
  const at = newestFirst.findIndex(destroyed);
  return at < 0 ? newestFirst : newestFirst.slice(0, at);
}

/** The destroy that took the target down, when nothing has succeeded there since (runningRecord is then undefined). */
export function destroyedRecord<T extends Outcome>(newestFirst: readonly T[]): T | undefined {
  const last = newestFirst.find((r) => r.status === 'succeeded');
  return last && destroyed(last) ? last : undefined;
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
    if (!wentWell(r) || skipVersions.has(r.version) || seen.has(r.version)) continue;
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
  const last = newestFirst.find((r) => r.status === 'succeeded');
  return last && !destroyed(last) ? last : undefined;
}

/** The same, from a target's head (the store keeps the newest record of each status): no record read. */
export function runningOfHead<T extends Outcome>(head: { latest: Partial<Record<RecordStatus, T>> }): T | undefined {
  const last = head.latest.succeeded;
  return last && !destroyed(last) ? last : undefined;
}

/** The destroy that took the target down, from its head, when nothing has succeeded there since. */
export function destroyedOfHead<T extends Outcome>(head: { latest: Partial<Record<RecordStatus, T>> }): T | undefined {
  const last = head.latest.succeeded;
  return last && destroyed(last) ? last : undefined;
}

/** The ids pruning must keep (recordsRollbacksNeed), as the store's prune takes them. */
export function pruneProtects(newestFirst: readonly Outcome[]): string[] {
  return recordsRollbacksNeed(newestFirst).map((r) => r.id);
}

/**
 * Where a bare rollback goes, best first. It walks back: to the good versions deployed before the one
 * that runs now, so rollbacks after 1.0, 1.1, 1.2 go to 1.1, then 1.0, then find nothing older. A
 * running rollback stands where the version it re-applied was first deployed. After a failure that
 * changed something (and was not rolled back), the failed version is what runs, and the newest good
 * record (the running one) is the way back. Records in flight, and those that changed nothing, are
 * passed over.
 */
export function rollbackCandidates<T extends Outcome>(all: readonly T[]): T[] {
  const newestFirst = sinceDestroy(all);
  const from = walkStart(newestFirst);
  if (!from) return goodOnes(newestFirst);
  const good = new Set(goodOnes(newestFirst, new Set([from.running])).map((r) => r.version));
  const seen = new Set<string>();
  const older: T[] = [];
  for (const r of newestFirst.slice(from.anchor + 1)) {
    if (!wentWell(r) || !good.has(r.version) || seen.has(r.version)) continue;
    seen.add(r.version);
    older.push(r);
  }
  return older;
}

/**
 * Where the walk back starts, when the last change succeeded: the version running, and the index of
 * the record that deployed it (for a running rollback, where its version was deployed, not re-applied).
 */
function walkStart<T extends Outcome>(newestFirst: readonly T[]): { running: string; anchor: number } | undefined {
  const at = newestFirst.findIndex((r) => !inFlight(r.status) && !changedNothing(r));
  const lastChange = newestFirst[at];
  if (!lastChange || lastChange.status !== 'succeeded') return undefined;
  const running = lastChange.version;
  if (lastChange.action !== 'rollback') return { running, anchor: at };
  const deployed = newestFirst.findIndex((r, i) => i > at && r.version === running && r.action !== 'rollback' && wentWell(r));
  return { running, anchor: deployed >= 0 ? deployed : at };
}

/**
 * The records pruning must keep for a target, of its records newest first: the newest, the one that
 * runs, the newest good one, the record a bare rollback goes to, and where the walk back starts when
 * the way back depends on it.
 */
export function recordsRollbacksNeed<T extends Outcome>(newestFirst: readonly T[]): T[] {
  const from = walkStart(newestFirst);
  const current = runningRecord(newestFirst);
  const previous = goodOnes(newestFirst, new Set(current ? [current.version] : []));
  const next = rollbackCandidates(newestFirst)[0];
  const keep = [newestFirst[0], current, goodOnes(newestFirst)[0], previous[0], next];
  // Where the walk starts, when the way back would change without it (a newer version deployed after it).
  const anchor = from && newestFirst[from.anchor];
  if (anchor && rollbackCandidates(newestFirst.filter((r) => r !== anchor))[0]?.id !== next?.id) keep.push(anchor);
  return keep.filter((r): r is T => r !== undefined);
}

/** What a failed record says about why: its error, and the step that failed, if any. */
export interface FailureCause {
  version: string;
  status: RecordStatus;
  error?: { code: string; message: string };
  steps?: Array<{ label: string; exitCode: number | null; skipped?: boolean }>;
}

/**
 * A rollback that failed the same way the deployment before it failed: the same error at the same step
 * (a missing tool, a vault password not given, a health endpoint down whatever runs). The cause is then
 * not the version, so the rollback stops there and marks no version bad.
 */
export function failedTheSameWay(before: FailureCause, attempt: FailureCause): boolean {
  if (attempt.status !== 'failed' || (before.status !== 'failed' && before.status !== 'rolled_back')) return false;
  if (!before.error || !attempt.error || before.error.code !== attempt.error.code) return false;
  const failedStep = (r: FailureCause) => r.steps?.filter((s) => !s.skipped && s.exitCode !== 0).pop()?.label;
  if (failedStep(before) !== failedStep(attempt)) return false;
  // The version itself may be named in the error ("image web:1.2 not found"): then it is about the version.
  const message = (r: FailureCause) => r.error!.message.trim();
  return message(before) === message(attempt) && !message(attempt).includes(attempt.version);
}

/**
 * The core's rollback policy, which the engine asks after each failed rollback attempt: one that failed
 * the same way as the failure before it stops the rollbacks there, saying why.
 */
export const stopWhenFailedTheSameWay = {
  onAttemptFailed(attempt: FailureCause, before: FailureCause): string | undefined {
    if (!failedTheSameWay(before, attempt)) return undefined;
    return `the rollback to ${attempt.version} failed the same way as ${before.version} did: the cause is not the version (a tool, a password, the environment), so no older version was tried and none is marked bad; fix the cause, then deploy or roll back again`;
  },
};
