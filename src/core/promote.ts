// promote: the route along the environments, the gates, and what a promotion carries from the source.
import { deployTarget } from '../engine/deploy.js';
import { assertName } from '../names.js';
import type { CoreDeps } from './deps.js';
import type { DeploymentOutcome } from './deploy.js';
import { engineRequest, runEngine } from './engine-request.js';
import { checkPromotionGates, planPromotion, promotedArtifacts, type PromotionRoute } from './promotion-gates.js';
import { runningEntry } from './running.js';
import { loadConfigFor, resolveTarget } from './target.js';

interface PromoteRequest {
  app: string;
  /** The target environment; default: the one after `from`. */
  to?: string;
  /** The source environment; default: the one before `to`. */
  from?: string;
  /** Promote even when the target already runs that version. */
  force?: boolean;
  dryRun?: boolean;
  waitLockMs?: number;
  /** --set overrides of the target environment's config. */
  set?: string[];
}

interface PreparedPromotion {
  app: string;
  route: PromotionRoute;
  /** The version it carries: the one that succeeded in the source environment. */
  version: string;
  run(): Promise<DeploymentOutcome>;
}

/** Picks the route, checks the gates, and resolves the target; `run` then deploys it. */
export async function preparePromotion(request: PromoteRequest, core: CoreDeps): Promise<PreparedPromotion> {
  const { app } = request;
  assertName('app', app);
  const loaded = await loadConfigFor(core);
  const history = (await core.state()).history;
  const order = loaded.environments.map((e) => e.name);
  const running = new Map<string, string | undefined>();
  for (const env of order) running.set(env, (await runningEntry(history, app, env))?.version);
  const route = planPromotion({ app, order, running, from: request.from, to: request.to });
  const source = await checkPromotionGates({
    app,
    route,
    source: await history.latest(app, route.from),
    targetRunning: running.get(route.to),
    toEnv: loaded.environments.find((e) => e.name === route.to)!,
    history,
    now: core.clock(),
    force: Boolean(request.force),
  });
  const target = await resolveTarget(core, loaded, app, route.to, { version: source.version, set: request.set });
  target.artifacts = promotedArtifacts(source);
  return {
    app,
    route,
    version: source.version,
    run: () =>
      runEngine(core, (deps) =>
        deployTarget(
          engineRequest(core, request, {
            target,
            action: 'promote' as const,
            autoRollback: target.config.rollback?.auto !== false,
            tools: loaded.tools,
            from: { env: route.from, recordId: source.id },
          }),
          deps,
        ),
      ),
  };
}

export async function promote(request: PromoteRequest, core: CoreDeps): Promise<DeploymentOutcome> {
  return (await preparePromotion(request, core)).run();
}
