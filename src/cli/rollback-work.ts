// Choosing what a rollback goes back to, for `deployctl rollback` and the `ui` board.
import type { CliContext } from './context.js';
import type { EngineDeps } from '../engine/deploy.js';

export interface RollbackOptions {
  env: string;
  to?: string;
  dryRun?: boolean;
  yes?: boolean;
  waitLock?: string;
}

/** Checks the request and picks the records to go back to; `work` then runs the rollback. */
export async function prepareRollback(ctx: CliContext, appName: string, opts: RollbackOptions) {
  const { loadTargetConfig, parseDurationFlag } = await import('./target.js');
  const { rollbackTarget, goodRecords } = await import('../engine/deploy.js');
  const { FileHistoryStore } = await import('../state/history.js');
  const { UsageError } = await import('../errors.js');
  const loaded = await loadTargetConfig(ctx, appName, opts.env);
  const environment = loaded.environments.find((e) => e.name === opts.env);
  if (!environment) {
    throw new UsageError(
      `unknown environment ${JSON.stringify(opts.env)}`,
      `environments.yaml defines: ${loaded.environments.map((e) => e.name).join(', ')}`,
    );
  }
  const history = new FileHistoryStore(ctx.home);
  const current = (await history.list({ app: appName, env: opts.env, status: 'succeeded', limit: 1 }))[0];
  let candidates;
  if (opts.to) {
    const byId = await history.get(opts.to);
    const named =
      byId && byId.app === appName && byId.env === opts.env
        ? byId
        : (await history.list({ app: appName, env: opts.env, status: 'succeeded', limit: 1000 })).find((r) => r.version === opts.to);
    if (!named) {
      throw new UsageError(
        `no deployment of ${appName} in ${opts.env} has the id or version ${JSON.stringify(opts.to)}`,
        `see the records with: deployctl history ${appName} -e ${opts.env}`,
      );
    }
    if (named.status !== 'succeeded') {
      throw new UsageError(
        `record ${named.id} (${named.version}) ended ${named.status}: only a succeeded deployment can be re-applied`,
        `pick a succeeded one from: deployctl history ${appName} -e ${opts.env} --status succeeded`,
      );
    }
    candidates = [named];
  } else {
    candidates = await goodRecords(history, appName, opts.env, new Set(current ? [current.version] : []));
    if (candidates.length === 0) {
      throw new UsageError(
        `no earlier good deployment of ${appName} in ${opts.env} to roll back to${current ? ` (${current.version} runs now)` : ''}`,
        `see the records with: deployctl history ${appName} -e ${opts.env}`,
      );
    }
  }
  const waitLockMs = opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0;
  return {
    target: candidates[0]!,
    work: (deps: EngineDeps) =>
      rollbackTarget(
        candidates,
        {
          app: appName,
          env: opts.env,
          environment,
          dryRun: Boolean(opts.dryRun),
          approved: Boolean(opts.yes),
          interactive: !ctx.nonInteractive,
          autoRollback: false,
          waitLockMs,
          tools: loaded.tools,
        },
        deps,
      ),
  };
}
