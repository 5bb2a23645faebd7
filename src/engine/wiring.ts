// Production dependencies of the engine, put together for one CLI invocation. Heavy modules are
// imported here, on demand, never at CLI start.
import type { CliContext } from '../cli/context.js';
import type { DeployEvent } from './events.js';
import type { StateStore } from '../state/port.js';
import type { EngineDeps } from './deploy.js';
import { currentIdentity } from './identity.js';

export interface WiringOptions {
  emit: (event: DeployEvent) => void;
  signal?: AbortSignal;
  /** Around a yes/no question: a live view steps aside while the question is asked. */
  beforePrompt?: () => void;
  afterPrompt?: () => void;
}

export async function createEngineDeps(ctx: CliContext, options: WiringOptions): Promise<EngineDeps> {
  const [{ openContextState }, runnerModule, executors, shell, tools, health] =
    await Promise.all([
      import('../cli/context.js'),
      import('./runner.js'),
      import('../executors/index.js'),
      import('../executors/shell.js'),
      import('../executors/tools.js'),
      import('../health/check.js'),
    ]);
  const env = ctx.io.env;
  const state = await openContextState(ctx);
  const { afterRecord, ci } = await createAfterRecord(ctx, state, options.emit);
  return {
    history: state.history,
    locks: state.locks,
    createRunner: ({ dryRun, onSpawn, onExit }) => runnerModule.createRunner({ dryRun, env, onSpawn, onExit }),
    getExecutor: (type) => executors.getExecutor(type),
    planHooks: (input, phase) => shell.planHooks(input, phase),
    runHealthCheck: (check, opts) => health.runHealthCheck(check, opts),
    resolveTools: (names, overrides) => tools.resolveTools(names, overrides, env),
    newRecordId: (app, envName, at) => state.newRecordId(app, envName, at),
    confirm: async (question) => {
      options.beforePrompt?.();
      try {
        return await confirm(ctx, question);
      } finally {
        options.afterPrompt?.();
      }
    },
    emit: options.emit,
    now: () => new Date(),
    identity: currentIdentity(env),
    ci,
    commandLine: ctx.commandLine,
    afterRecord,
    signal: options.signal,
    processEnv: env,
  };
}

async function createAfterRecord(
  ctx: CliContext,
  state: StateStore,
  emit: (event: DeployEvent) => void,
): Promise<Pick<EngineDeps, 'afterRecord' | 'ci'>> {
  const [{ detectCi }, { sendNotifications }, { currentIdentity: identity }] = await Promise.all([
    import('../notify/ci.js'),
    import('../notify/notify.js'),
    import('./identity.js'),
  ]);
  const warn = (message: string) => emit({ type: 'log', level: 'warn', message });
  const who = identity(ctx.io.env);
  return {
    ci: detectCi(ctx.io.env),
    afterRecord: async (record, context) => {
      await state.audit.append({
        at: record.finishedAt ?? new Date().toISOString(),
        action: record.action,
        app: record.app,
        env: record.env,
        version: record.version,
        result: record.status,
        recordId: record.id,
        user: who.user,
        host: who.host,
        ...(record.error ? { details: { error: record.error.message } } : {}),
      }).catch((e: Error) => warn(`${e.message}: the audit log lacks this ${record.action}`));
      const config = context.notifications as Parameters<typeof sendNotifications>[1];
      const results = await sendNotifications(record, config, {
        secretValues: context.secretValues,
        previousVersion: context.previousVersion,
        warn,
        onSend: (targets) => emit({ type: 'phase', phase: 'notify', status: 'start', message: targets.join(', ') }),
      });
      if (results.length) {
        const failed = results.filter((r) => !r.ok);
        emit({
          type: 'phase',
          phase: 'notify',
          status: failed.length ? 'failed' : 'done',
          message: results.map((r) => `${r.target} ${r.ok ? 'sent' : 'not sent'}`).join(', '),
        });
      }
    },
  };
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
