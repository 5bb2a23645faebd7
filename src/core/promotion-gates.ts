// Promotion along the ordered environments: which environment a version comes from and goes to, and
// the gates it must pass (the source's last deployment succeeded, `requires:`, `soak:`).
import type { EnvironmentConfig } from '../config/types.js';
import type { Artifacts } from '../executors/types.js';
import { formatDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';
import type { DeployRecord, HistoryStore } from '../state/types.js';
import { inFlight } from './rollback-policy.js';

export interface PromotionRoute {
  from: string;
  to: string;
}

/**
 * Without --to: the environment after the source. Without --from: the one before the target. With
 * neither: the first environment whose running version has not reached the next one yet.
 */
export function planPromotion(options: {
  app: string;
  order: string[];
  /** The version running in each environment (newest succeeded record), if any. */
  running: Map<string, string | undefined>;
  from?: string;
  to?: string;
}): PromotionRoute {
  const { order, app } = options;
  const position = (env: string, flag: string) => {
    const at = order.indexOf(env);
    if (at < 0) throw new UsageError(`unknown environment "${env}" in ${flag}`, `the promotion order is: ${order.join(' → ')}`);
    return at;
  };
  if (options.from && options.to) {
    if (position(options.from, '--from') >= position(options.to, '--to')) {
      throw new UsageError(`${options.to} does not come after ${options.from}`, `the promotion order is: ${order.join(' → ')}`);
    }
    return { from: options.from, to: options.to };
  }
  if (options.to) {
    const at = position(options.to, '--to');
    if (at === 0) throw new UsageError(`${options.to} is the first environment: nothing comes before it`, `deploy to it with: deployctl deploy ${app} -e ${options.to}`);
    return { from: order[at - 1]!, to: options.to };
  }
  if (options.from) {
    const at = position(options.from, '--from');
    if (at === order.length - 1) throw new UsageError(`${options.from} is the last environment: there is nothing to promote to`, `the promotion order is: ${order.join(' → ')}`);
    return { from: options.from, to: order[at + 1]! };
  }
  for (let i = 0; i < order.length - 1; i++) {
    const here = options.running.get(order[i]!);
    if (here && here !== options.running.get(order[i + 1]!)) return { from: order[i]!, to: order[i + 1]! };
  }
  throw new UsageError(
    `nothing to promote: ${app} runs the same version everywhere it is deployed, or nowhere yet`,
    `deploy a new version first (deployctl deploy ${app} -e ${order[0]}), or name --from and --to`,
  );
}

/**
 * What a promotion carries over from the source besides the version: the exact image reference it ran
 * (a docker app then runs that image instead of building or pulling the tag again). Rendered manifests
 * are not carried: they are rendered again for the target environment, with the same version.
 */
export function promotedArtifacts(source: DeployRecord): Artifacts | undefined {
  const image = source.artifacts?.image;
  return typeof image === 'string' ? { image } : undefined;
}

/** Refuses, with the reason and the way out, a promotion that must not happen. */
export async function checkPromotionGates(options: {
  app: string;
  route: PromotionRoute;
  source: DeployRecord | undefined;
  targetRunning: string | undefined;
  toEnv: EnvironmentConfig;
  history: HistoryStore;
  now: Date;
  force: boolean;
}): Promise<DeployRecord> {
  const { app, route, source } = options;
  if (!source) {
    throw new UsageError(`${app} has never been deployed to ${route.from}: there is nothing to promote`, `deploy it first: deployctl deploy ${app} -e ${route.from}`);
  }
  if (source.action === 'destroy') {
    throw new UsageError(
      `the last action on ${app} in ${route.from} was a destroy of ${source.version} by ${source.user} (${source.id}, ${source.status}): there is nothing there to promote`,
      `deploy a version to ${route.from} first, then promote from it`,
    );
  }
  if (source.action === 'rollback' && source.status === 'succeeded') {
    // The source went back to an older version: what was meant to move on did not hold there.
    const undone = source.triggeredBy ? await options.history.get(source.triggeredBy) : undefined;
    throw new UsageError(
      undone
        ? `the last deployment of ${app} to ${route.from} (${undone.version}, ${undone.id}) was rolled back: ${route.from} runs ${source.version} again`
        : `${app} in ${route.from} was rolled back by hand to ${source.version} (${source.id})`,
      `deploy or promote a version to ${route.from} first, then promote from it; deployctl history ${app} -e ${route.from} shows what happened`,
    );
  }
  if (source.status !== 'succeeded') {
    throw new UsageError(
      `the last deployment of ${app} to ${route.from} (${source.version}, ${source.id}) ${inFlight(source.status) ? 'is still running' : `ended ${source.status}`}: only a version that succeeded there can be promoted`,
      `fix ${route.from} first, then promote; deployctl history ${app} -e ${route.from} shows what happened`,
    );
  }
  if (!options.force && options.targetRunning === source.version) {
    throw new UsageError(`${route.to} already runs ${app} ${source.version}`, 'pass --force to deploy it again');
  }
  for (const required of options.toEnv.requires) {
    if (required === route.from) continue;
    const ok = (await options.history.list({ app, env: required, status: 'succeeded', limit: 200 })).some((r) => r.version === source.version && r.action !== 'destroy');
    if (!ok) {
      throw new UsageError(
        `${route.to} requires ${app} ${source.version} to have succeeded in ${required} first, and it has not`,
        `promote it there first: deployctl promote ${app} --to ${required}`,
      );
    }
  }
  if (options.toEnv.soak) {
    const since = Date.parse(source.finishedAt ?? source.startedAt);
    const ran = options.now.getTime() - since;
    if (ran < options.toEnv.soak) {
      throw new UsageError(
        `${route.to} needs ${app} ${source.version} to have run in ${route.from} for ${formatDuration(options.toEnv.soak)}; it has run for ${formatDuration(ran)}`,
        `try again in ${formatDuration(options.toEnv.soak - ran)}`,
      );
    }
  }
  return source;
}
