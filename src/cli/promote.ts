import type { Command } from 'commander';
import type { CliApp } from './main.js';
import type { CliContext } from './context.js';
import type { EngineDeps } from '../engine/deploy.js';

export interface PromoteOptions {
  to?: string;
  from?: string;
  yes?: boolean;
  force?: boolean;
  dryRun?: boolean;
  waitLock?: string;
}

export function registerPromote(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('promote <app>')
        .description('deploy to the next environment the exact version that succeeded in the one before it')
        .option('--to <env>', 'target environment (default: the one after --from)')
        .option('--from <env>', 'source environment (default: the one before --to)')
        .option('-y, --yes', 'approve a protected environment without asking')
        .option('--force', 'promote even when the target already runs that version')
        .option('--dry-run', 'print every command with its arguments and run none that change anything')
        .option('--wait-lock <duration>', 'wait this long for another deployment of the target to finish'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: PromoteOptions) => {
        const { runDeployment } = await import('./run-deployment.js');
        const { work } = await preparePromotion(ctx, appName, opts);
        return runDeployment(ctx, work);
      }),
    );
}

/** Picks the route, checks the gates, and resolves the target; `work` then deploys it. */
export async function preparePromotion(ctx: CliContext, appName: string, opts: PromoteOptions) {
  const { assertName } = await import('../names.js');
  const { loadConfig } = await import('../config/load.js');
  const { FileHistoryStore } = await import('../state/history.js');
  const { planPromotion, checkPromotionGates } = await import('../engine/promote.js');
  const { prepareTarget, parseDurationFlag } = await import('./target.js');
  const { deployTarget } = await import('../engine/deploy.js');
  assertName('app', appName);
  const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
  const history = new FileHistoryStore(ctx.home);
  const order = loaded.environments.map((e) => e.name);
  const running = new Map<string, string | undefined>();
  for (const env of order) running.set(env, (await history.list({ app: appName, env, status: 'succeeded', limit: 1 }))[0]?.version);
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
  ctx.io.stderr.write(`promoting ${appName} ${source.version} from ${route.from} to ${route.to}\n`);
  const { target } = await prepareTarget(ctx, appName, route.to, { version: source.version });
  const waitLockMs = opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0;
  return {
    route,
    version: source.version,
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
