// The engine's dependencies, put together from the core's container for one deployment: the state
// store's history and locks (the lock taken in the core's identity), the approver as the engine's
// question, the audit log and notifications after each record.
import type { EngineDeps } from '../engine/deploy.js';
import type { CoreDeps } from './deps.js';

export async function engineDeps(core: CoreDeps): Promise<EngineDeps> {
  const parts = await core.engine();
  const state = await core.state();
  const warn = (message: string) => core.emit({ type: 'log', level: 'warn', message });
  // The lock is taken as the core's user: the engine passes deps.identity.user to acquire.
  const { history, locks } = state;

  const deps: EngineDeps = {
    history,
    locks,
    createRunner: ({ dryRun, onSpawn, onExit }) => parts.createRunner({ dryRun, env: core.env, onSpawn, onExit }),
    getExecutor: (type) => parts.getExecutor(type),
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
  return deps;
}
