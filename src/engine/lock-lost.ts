// A deployment whose lock is lost while it runs (its database session ended by `unlock --force`, the
// network to the database cut): the lock handle's `lost` signal fires, the deployment's own signal
// aborts with a LockLost as its reason, the running commands are stopped as on Ctrl-C (whole process
// trees), and the record ends interrupted with the code lock_lost: never a success that nobody can
// vouch for. The engine knows only the port's signal, nothing of the backend.
import type { DeployRecord } from '../state/types.js';

export class LockLost extends Error {
  constructor(
    readonly app: string,
    readonly env: string,
    /** Why, as the backend says it: "its database session was ended (...)". */
    readonly why: string,
  ) {
    super(`lost the lock of ${app} in ${env}: ${why}`);
    this.name = 'LockLost';
  }
}

/**
 * The signal a deployment runs under once it holds the lock: the caller's (Ctrl-C, SIGTERM), and the
 * lock's loss, which aborts it with a LockLost. A lock that cannot be lost leaves the signal as it was.
 */
export function underLock(app: string, env: string, lost: AbortSignal | undefined, signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!lost) return signal;
  const controller = new AbortController();
  const onLost = () => {
    const reason: unknown = lost.reason;
    controller.abort(new LockLost(app, env, reason instanceof Error ? reason.message : String(reason ?? 'the lock is gone')));
  };
  if (lost.aborted) onLost();
  else lost.addEventListener('abort', onLost, { once: true });
  return signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
}

/** The loss of the lock, when that is what aborted the signal. */
export function lockLost(signal: AbortSignal | undefined): LockLost | undefined {
  return signal?.aborted && signal.reason instanceof LockLost ? signal.reason : undefined;
}

/** What to do after a lost lock, for the record's notes and the output. */
export function afterLockLost(record: Pick<DeployRecord, 'app' | 'env'>): string {
  const { app, env } = record;
  return (
    `check what runs in ${env} and who holds its lock now (deployctl status ${app} -e ${env}); ` +
    `if a colleague forced the lock (deployctl unlock --force, shown by deployctl audit), agree with them before deploying again; ` +
    `if the state could not be reached (a PostgreSQL state behind a cut network), check the way to it; then deploy again if needed`
  );
}

/**
 * The record of a deployment that lost its lock: interrupted, lock_lost, with how far it got (`how`:
 * the failure it ended with, if any) and what to do next. Changed in place.
 */
export function markLockLost(record: DeployRecord, lost: LockLost, how: { interrupted: boolean; message?: string }): void {
  const what = `${record.action} ${record.version} of ${record.app} in ${record.env}`;
  const stopped = how.interrupted
    ? `its commands were stopped (${how.message ?? 'interrupted'})`
    : how.message
      ? `it had failed before (${how.message})`
      : 'its commands had run';
  record.status = 'interrupted';
  delete record.healthy;
  record.error = { code: 'lock_lost', message: `${lost.message}; ${stopped}, and deployctl cannot vouch for how ${what} ended` };
  record.notes = [...(record.notes ?? []), afterLockLost(record)];
}
