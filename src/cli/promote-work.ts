// Route, gates and target of a promotion, for `deployctl promote` and the `ui` board.
import type { CliContext } from './context.js';
import type { EngineDeps } from '../engine/deploy.js';

export interface PromoteOptions {
  to?: string;
  from?: string;
  yes?: boolean;
  force?: boolean;
  dryRun?: boolean;
  waitLock?: string;
  set?: string[];
}

/** Picks the route, checks the gates, and resolves the target; `work` then deploys it. */
export async function preparePromotion(ctx: CliContext, appName: string, opts: PromoteOptions) {
  const { assertName } = await import('../names.js');
  const { loadConfig } = await import('../config/load.js');
  const { openContextState } = await import('./context.js');
  const { planPromotion, checkPromotionGates, promotedArtifacts } = await import('../engine/promote.js');
  const { resolveTarget, parseDurationFlag } = await import('./target.js');
  const { deployTarget } = await import('../engine/deploy.js');
  assertName('app', appName);
  const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
  const history = (await openContextState(ctx)).history;
  const order = loaded.environments.map((e) => e.name);
  const running = new Map<string, string | undefined>();
  const { runningRecord, RECENT_RECORDS } = await import('../state/good.js');
  for (const env of order) running.set(env, runningRecord(await history.entries({ app: appName, env, limit: RECENT_RECORDS }))?.version);
  const route = planPromotion({ app: appName, order, running, from: opts.from, to: opts.to });
  const source = await checkPromotionGates({
    app: appName,
    route,
    source: await history.latest(appName, route.from),
    targetRunning: running.get(route.to),
    toEnv: loaded.environments.find((e) => e.name === route.to)!,
    history,
    now: new Date(),
    force: Boolean(opts.force),
  });
  const { logLine } = await import('./context.js');
  logLine(ctx, 'info', 'promotion', `promoting ${appName} ${source.version} from ${route.from} to ${route.to}`, { app: appName, version: source.version, from: route.from, to: route.to });
  const target = await resolveTarget(ctx, loaded, appName, route.to, { version: source.version, set: opts.set });
  target.artifacts = promotedArtifacts(source);
  const waitLockMs = opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0;
  return {
    route,
    version: source.version,
    history,
    work: (deps: EngineDeps) =>
      deployTarget(
        {
          target,
          action: 'promote',
          dryRun: Boolean(opts.dryRun),
          approved: Boolean(opts.yes),
          interactive: !ctx.nonInteractive,
          autoRollback: target.config.rollback?.auto !== false,
          waitLockMs,
          tools: loaded.tools,
          from: { env: route.from, recordId: source.id },
        },
        deps,
      ),
  };
}
