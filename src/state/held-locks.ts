// What every lock backend (files, PostgreSQL, memory) says and keeps about a held lock, written once:
// the holder as messages name it, the refusal with both ways out, and the commands the holder runs now
// (the process groups a takeover after a kill -9 stops).
import { ago, formatDuration } from '../config/duration.js';
import { InterruptedError, LockError, StateWriteError } from '../errors.js';
import { processStartTime } from './process.js';
import type { DeployRecord, LockHandle, LockInfo, LockState } from './types.js';

/** Local time of day, with the date when it is not today. */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toTimeString().slice(0, 5);
  return d.toDateString() === new Date().toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}

export function describeHolder(lock: LockInfo, localHost: string): string {
  const remote = lock.host !== localHost ? `, last refreshed ${ago(lock.refreshedAt)}` : '';
  return `${lock.user}@${lock.host} (pid ${lock.pid}) since ${clock(lock.startedAt)}${remote}: ${lock.command}`;
}

/** The two ways out of a held lock; `--force` unless the holder looks abandoned. */
export function lockHint(app: string, env: string, state: LockState): string {
  return `Wait with --wait-lock 5m, or run \`deployctl unlock ${app} -e ${env}${state === 'silent' ? '' : ' --force'}\` if that run is gone.`;
}

/**
 * The error of an acquire that did not get the lock: interrupted while waiting, or the lock held by
 * `description` (after waiting `waitMs`, when it did), with both ways out.
 */
export function lockRefused(app: string, env: string, found: { description: string; state: LockState }, options: { waitMs?: number; signal?: AbortSignal }): Error {
  if (options.signal?.aborted) return new InterruptedError(`interrupted while waiting for the lock of ${app} in ${env}`);
  const waited = options.waitMs ? ` after waiting ${formatDuration(options.waitMs)}` : '';
  return new LockError(`Lock held by ${found.description}${waited}.`, lockHint(app, env, found.state));
}

/** The holder runs `pid` now (a command's process group): recorded with its start time, in place. */
function trackProcess(info: LockInfo, pid: number, command?: string): void {
  info.processes = [...(info.processes ?? []).filter((p) => p.pid !== pid), { pid, start: processStartTime(pid), ...(command ? { command } : {}) }];
}

/** The command of group `pid` ended: forgotten, in place (no `processes` at all once none run). */
function untrackProcess(info: LockInfo, pid: number): void {
  info.processes = (info.processes ?? []).filter((p) => p.pid !== pid);
  if (info.processes.length === 0) delete info.processes;
}

/** A handle's track and untrack, each a change to `info` made through the backend's `rewrite` (which stores it). */
export function processTracking(info: LockInfo, rewrite: (change: () => void) => Promise<void>): Required<Pick<LockHandle, 'track' | 'untrack'>> {
  return {
    track: (pid, command) => rewrite(() => trackProcess(info, pid, command)),
    untrack: (pid) => rewrite(() => untrackProcess(info, pid)),
  };
}

/**
 * The refusal of a write by a deployment that lost its lock (`reason`: "lost the lock of web in prod:
 * ..."), naming where the state lives (`path`): errno LOCK_LOST.
 */
export function lockLostWrite(reason: string, record: Pick<DeployRecord, 'action' | 'version' | 'app' | 'env'>, path: string): StateWriteError {
  return new StateWriteError(
    `${reason}; deployctl cannot vouch for how ${record.action} ${record.version} of ${record.app} in ${record.env} ended`,
    `check what runs in ${record.env} (deployctl status ${record.app} -e ${record.env}) and deploy again if needed`,
    { path, errno: 'LOCK_LOST' },
  );
}

/**
 * A write made `heldBy` a lock (HistoryStore.write) goes on only while the lock is still held, asked
 * of the state now: one found lost (its `lost` signal fired by stillHeld) refuses it with lockLostWrite.
 */
export async function requireHeld(heldBy: LockHandle | undefined, record: DeployRecord, path: string): Promise<void> {
  if (!heldBy?.stillHeld || (await heldBy.stillHeld())) return;
  const why = heldBy.lost?.reason instanceof Error ? heldBy.lost.reason.message : 'it was released';
  throw lockLostWrite(`lost the lock of ${record.app} in ${record.env}: ${why}`, record, path);
}
