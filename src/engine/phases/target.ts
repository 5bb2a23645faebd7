// The phases around the attempts of one target: its tools, approval, the lock, retention, the release
// of the lock and the notifications. Each runs once per deployment of the target, however many
// attempts (the deployment, its rollbacks) run under the lock.
import { ApprovalError, StateWriteError } from '../../errors.js';
import { formatDuration } from '../../config/duration.js';
import type { HistoryStore, IndexEntry, LockHandle, LockInfo, Takeover } from '../../state/types.js';
import { pruneProtects, RECENT_RECORDS, runningRecord } from '../../core/rollback-policy.js';
import type { DeployRequest, EngineDeps } from '../deploy.js';
import { underLock } from '../lock-lost.js';
import type { TargetContext, TargetPhase } from '../lifecycle.js';
import { maskText } from '../secrets.js';
import { notStartedIfRefused } from '../unsaved.js';

export const toolsPhase: TargetPhase = {
  scope: 'target',
  name: 'tools',
  does: "finds the executor's tools (kubectl, terraform...) on PATH or where `tools:` says",
  onFailure: 'stop',
  dryRun: 'run',
  async run(context) {
    const { request, deps, executor } = context;
    const names = executor.tools(request.target.config, request.tools, deps.probeTool ?? (() => false));
    if (context.dryRun) {
      // A dry run goes on without them, and says where a real deploy would stop.
      for (const tool of names) {
        try {
          deps.resolveTools([tool], request.tools);
        } catch {
          context.missingTools.push(tool);
        }
      }
      return;
    }
    context.tools = deps.resolveTools(names, request.tools);
    if (Object.keys(context.tools).length) {
      deps.emit({ type: 'log', level: 'debug', message: `tools: ${Object.entries(context.tools).map(([k, v]) => `${k}=${v}`).join(' ')}` });
    }
  },
};

export const approvePhase: TargetPhase = {
  scope: 'target',
  name: 'approve',
  does: 'a protected environment needs --yes, or a yes in a terminal',
  onFailure: 'stop',
  dryRun: 'skip',
  run: (context) => requireApproval(context.request, context.deps),
};

export const lockPhase: TargetPhase = {
  scope: 'target',
  name: 'lock',
  does: 'takes the lock of the app in the environment (a stale one is taken over), settles records left in flight, and reads what runs there now',
  onFailure: 'stop',
  dryRun: 'skip',
  async run(context) {
    const { request, deps } = context;
    const { app, env } = request.target;
    let takeover: Takeover | undefined;
    const lock = await acquireLock(request, deps, context.what, (t) => (takeover = t));
    context.lock = lock;
    // The lock records the process groups of the commands run under it: after a kill -9, the next run stops them.
    const secrets = request.target.secretValues;
    // A lock lost while held (unlock --force, a cut network) aborts the deployment as Ctrl-C does (lock-lost.ts).
    context.deps = {
      ...deps,
      heldLock: lock,
      signal: underLock(app, env, lock.lost, deps.signal),
      createRunner: (o) => deps.createRunner({ ...o, onSpawn: (pid, label) => void lock.track?.(pid, maskText(label, secrets)), onExit: (pid) => void lock.untrack?.(pid) }),
    };
    await settleOrphans(deps, app, env, context.what, takeover);
    context.previous = await currentRecord(deps.history, app, env);
  },
};

export const retentionPhase: TargetPhase = {
  scope: 'target',
  name: 'retention',
  does: '`retention.keep`: old records of the target go, whatever the outcome (a failure only warns)',
  onFailure: 'warn',
  dryRun: 'skip',
  async run({ request, deps }) {
    const { target } = request;
    const keep = target.config.retention?.keep;
    if (!keep) return;
    await deps.history.prune({ keep, app: target.app, env: target.env, protect: pruneProtects }).catch((e: Error) => {
      deps.emit({ type: 'log', level: 'warn', message: `retention clean-up failed: ${e.message}` });
    });
  },
};

export const unlockPhase: TargetPhase = {
  scope: 'target',
  name: 'unlock',
  does: 'releases the lock; one the disk will not let go is left stale, with a warning saying how it goes',
  onFailure: 'warn',
  dryRun: 'skip',
  always: true,
  async run({ lock, deps }) {
    if (lock) await releaseLock(lock, deps);
  },
};

export const notifyPhase: TargetPhase = {
  scope: 'target',
  name: 'notify',
  does: 'for each record finished (the deployment and its rollbacks): notifications, the audit log, the CI summary; a failure only warns',
  onFailure: 'warn',
  dryRun: 'skip',
  always: true,
  async run(context: TargetContext) {
    const { deps, request, previous } = context;
    for (const record of context.finished) {
      await deps.afterRecord?.(record, {
        previousVersion: previous?.version,
        secretValues: request.target.secretValues,
        notifications: request.target.config.notifications,
      });
    }
  },
};

/**
 * Under the lock no other deployment of this target runs, so a record still pending or running here
 * belongs to a deployctl that died or lost its lock (killed on another host, pid reused): say so.
 */
async function settleOrphans(deps: EngineDeps, app: string, env: string, what: string, takeover?: Takeover): Promise<void> {
  const settled = await deps.history
    .interruptInFlight(
      app,
      env,
      (r) =>
        `deployctl (pid ${r.pid} on ${r.host}) stopped before this deployment finished, or could not save how it ended: its lock was free or stale when the next deployment of ${app} in ${env} started${takeoverNote(takeover)}`,
      // A stale lock taken over: its holder died, maybe between writing a record and indexing it.
      { afterCrash: takeover !== undefined },
    )
    .catch(notStartedIfRefused(what));
  for (const r of settled) {
    deps.emit({ type: 'log', level: 'warn', message: `record ${r.id} (${r.action} ${r.version} by ${r.user}@${r.host}, pid ${r.pid}) never finished: marked interrupted` });
  }
}

/**
 * The lock of one target, shown as a phase; a stale one is taken over with a warning naming the old
 * holder. Others read its command line ("Lock held by ..."): secrets in it are masked, as in the record.
 */
async function acquireLock(request: DeployRequest, deps: EngineDeps, what: string, onTakeover: (t: Takeover) => void): Promise<LockHandle> {
  const { target, waitLockMs: waitMs } = request;
  const { app, env } = target;
  deps.emit({ type: 'phase', phase: 'lock', status: 'start', message: waitMs > 0 ? `waiting up to ${formatDuration(waitMs)} for ${app} in ${env}` : undefined });
  const lock = await deps.locks
    .acquire(app, env, {
      command: maskText(deps.commandLine, target.secretValues),
      user: deps.identity.user,
      waitMs,
      signal: deps.signal,
      onStale: (old: LockInfo, takeover?: Takeover) => {
        if (takeover) onTakeover(takeover);
        deps.emit({
          type: 'log',
          level: 'warn',
          message: `took over a stale lock of ${old.user}@${old.host} (pid ${old.pid}, since ${old.startedAt}, ${old.command}): that process is gone${takeoverNote(takeover)}`,
        });
      },
    })
    .catch(notStartedIfRefused(what));
  deps.emit({ type: 'phase', phase: 'lock', status: 'done', message: `${app} in ${env}` });
  return lock;
}

/** Release the lock; one the disk will not let go is left stale, and the warning says how it goes. */
async function releaseLock(lock: LockHandle, deps: EngineDeps): Promise<void> {
  await lock.release().catch((error: Error) => {
    deps.emit({ type: 'log', level: 'warn', message: `${error.message}${error instanceof StateWriteError ? `: ${error.hint}` : ''}` });
  });
}

async function requireApproval(request: DeployRequest, deps: EngineDeps): Promise<void> {
  const { target } = request;
  if (!target.environment.protected || request.approved) return;
  const what =
    request.action === 'promote' && request.from
      ? `promote ${target.app} ${target.version} from ${request.from.env} to ${target.env}`
      : `${request.action} ${target.app} ${target.version} ${request.action === 'destroy' ? 'in' : 'to'} ${target.env}`;
  if (!request.interactive) {
    throw new ApprovalError(
      `${target.env} is protected: ${what} needs approval`,
      'pass --yes to approve (no prompt is shown without a terminal or when CI is set)',
    );
  }
  const ok = await deps.confirm(`${target.env} is protected. ${what[0]!.toUpperCase()}${what.slice(1)}?`, { action: request.action, app: target.app, env: target.env, version: target.version });
  if (!ok) throw new ApprovalError(`${what}: not approved`, 'answer y to approve, or pass --yes');
}

/** What runs there now. */
async function currentRecord(history: HistoryStore, app: string, env: string): Promise<IndexEntry | undefined> {
  return runningRecord(await history.entries({ app, env, limit: RECENT_RECORDS }));
}

/** What a takeover did about the commands the dead holder left running, for its warning and the interrupted record. */
function takeoverNote(t: Takeover | undefined): string {
  if (!t) return '';
  const list = (ps: Takeover['stopped']) => ps.map((p) => `pid ${p.pid}${p.command ? ` ${p.command}` : ''}`).join(', ');
  return `${t.stopped.length ? `; its commands still running were stopped (${list(t.stopped)})` : ''}${t.leftRunning.length ? `; these may still be running: ${list(t.leftRunning)}` : ''}`;
}
