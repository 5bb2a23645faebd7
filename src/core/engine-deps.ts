// The engine's dependencies, put together from the core's container for one deployment: the state
// store's history and locks (the lock taken in the core's identity), the approver as the engine's
// question, the audit log and notifications after each record, and the rollback guard below.
import type { EngineDeps } from '../engine/deploy.js';
import type { DeployRecord } from '../state/types.js';
import { InterruptedError } from '../errors.js';
import type { CoreDeps } from './deps.js';
import { failedTheSameWay, type FailureCause } from './rollback-policy.js';

export interface GuardedEngine {
  deps: EngineDeps;
  /** Why the rollbacks stopped (one failed the same way as the failure before it), if they did. */
  stopped(): string | undefined;
}

/**
 * Engine dependencies whose rollbacks stop at the first one that fails the same way as the failure
 * before it (the deployment's, or the previous attempt's; `before` is the one a manual rollback starts
 * from): that rollback is not marked bad, no older version is tried, and none is condemned.
 */
export async function engineDeps(core: CoreDeps, before?: FailureCause): Promise<GuardedEngine> {
  const parts = await core.engine();
  const state = await core.state();
  const warn = (message: string) => core.emit({ type: 'log', level: 'warn', message });
  let lastFailure: FailureCause | DeployRecord | undefined = before;
  let stopped: string | undefined;
  let stoppedAt = '';

  const write = async (record: DeployRecord) => {
    if (record.status === 'failed' || record.status === 'rolled_back') {
      if (record.action === 'rollback' && record.status === 'failed' && !stopped && lastFailure && failedTheSameWay(lastFailure, record)) {
        stopped = `the rollback to ${record.version} failed the same way as ${lastFailure.version} did: the cause is not the version (a tool, a password, the environment), so no older version was tried and none is marked bad; fix the cause, then deploy or roll back again`;
        stoppedAt = record.version;
        record.bad = false;
        record.notes = [...(record.notes ?? []), stopped];
        core.emit({ type: 'log', level: 'error', message: stopped });
        // The attempt before, of this same run, failed for that cause too: it says nothing against its version either.
        const earlier = lastFailure;
        if (earlier !== before && 'action' in earlier && earlier.action === 'rollback' && earlier.bad) {
          earlier.bad = false;
          earlier.notes = [...(earlier.notes ?? []), `${record.version} failed the same way after it: the cause is not the version`];
          await state.history.write(earlier).catch((e: Error) => warn(`${e.message}: record ${earlier.id} still marks ${earlier.version} bad`));
        }
      }
      lastFailure = record;
    }
    return state.history.write(record);
  };
  const history = new Proxy(state.history, {
    get: (target, name) => {
      if (name === 'write') return write;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  // The lock is taken as the core's user: the engine passes deps.identity.user to acquire.
  const locks = state.locks;

  const deps: EngineDeps = {
    history,
    locks,
    createRunner: ({ dryRun, onSpawn, onExit }) => parts.createRunner({ dryRun, env: core.env, onSpawn, onExit }),
    getExecutor: async (type) => {
      // The next rollback candidate after one failed the same way: not tried (the engine stops here).
      if (stopped) throw new InterruptedError(`not tried after the rollback to ${stoppedAt} failed the same way`);
      return parts.getExecutor(type);
    },
    planHooks: (input, phase) => parts.planHooks(input, phase),
    runHealthCheck: (check, options) => parts.runHealthCheck(check, options),
    resolveTools: (names, overrides) => parts.resolveTools(names, overrides),
    probeTool: parts.probeTool,
    newRecordId: (app, env, at) => state.newRecordId(app, env, at),
    confirm: (question, about) => core.approver.ask(question, about),
    emit: core.emit,
    now: core.clock,
    identity: core.identity,
    ci: core.ci,
    commandLine: core.commandLine,
    afterRecord: async (record, context) => {
      await state.audit
        .append({
          at: record.finishedAt ?? core.clock().toISOString(),
          action: record.action,
          app: record.app,
          env: record.env,
          version: record.version,
          result: record.status,
          recordId: record.id,
          user: core.identity.user,
          host: core.identity.host,
          ...(record.error ? { details: { error: record.error.message } } : {}),
        })
        .catch((e: Error) => warn(`${e.message}: the audit log lacks this ${record.action}`));
      if (!parts.notify) return;
      const results = await parts.notify(record, context.notifications, {
        secretValues: context.secretValues,
        previousVersion: context.previousVersion,
        warn,
        onSend: (targets) => core.emit({ type: 'phase', phase: 'notify', status: 'start', message: targets.join(', ') }),
      });
      if (results.length) {
        const failed = results.filter((r) => !r.ok);
        core.emit({
          type: 'phase',
          phase: 'notify',
          status: failed.length ? 'failed' : 'done',
          message: results.map((r) => `${r.target} ${r.ok ? 'sent' : 'not sent'}`).join(', '),
        });
      }
    },
    signal: core.signal,
    processEnv: core.env,
  };
  return { deps, stopped: () => stopped };
}
