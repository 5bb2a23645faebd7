// Turning command-line arguments into a target to deploy: names checked, config loaded and resolved.
import type { CliContext } from './context.js';
import type { LoadedConfig } from '../config/types.js';
import type { HistoryStore } from '../state/types.js';
import type { Target } from '../engine/deploy.js';
import { assertName } from '../names.js';
import { MAX_TIMER_TEXT, parseDuration, parseTimeLimit } from '../config/duration.js';
import { UsageError } from '../errors.js';

export async function loadTargetConfig(ctx: CliContext, app: string, env: string): Promise<LoadedConfig> {
  assertName('app', app);
  assertName('environment', env);
  const { loadConfig, checkTarget } = await import('../config/load.js');
  const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
  // Everything validate checks about this target, before any lock (rollback re-applies a stored config).
  await checkTarget(loaded, app, env, ctx.io.env);
  return loaded;
}

/** For a command about one target (deploy, config): the config loaded, and the target resolved from it. */
export async function prepareTarget(
  ctx: CliContext,
  app: string,
  env: string,
  options: { version?: string; set?: string[] },
): Promise<{ loaded: LoadedConfig; target: Target }> {
  const loaded = await loadTargetConfig(ctx, app, env);
  return { loaded, target: await resolveTarget(ctx, loaded, app, env, options) };
}

/** The target of `app` in `env` from a config already loaded (promote has loaded it to pick the route). */
export async function resolveTarget(
  ctx: CliContext,
  loaded: LoadedConfig,
  app: string,
  env: string,
  options: { version?: string; set?: string[] },
): Promise<Target> {
  const { resolveApp } = await import('../config/load.js');
  const resolved = await resolveApp(loaded, app, env, { version: options.version, set: options.set, processEnv: ctx.io.env });
  return {
    app: resolved.app,
    env: resolved.env,
    version: resolved.version,
    config: resolved.config,
    environment: resolved.environment,
    secretValues: resolved.secretValues,
  };
}

export function parseDurationFlag(flag: string, value: string): number {
  const limit = parseTimeLimit(value);
  if ('error' in limit) {
    const tooLong = parseDuration(value) !== undefined;
    throw new UsageError(`${flag} ${limit.error.replace(/: [^:]*$/, '')}`, tooLong ? `give ${flag} at most ${MAX_TIMER_TEXT}` : 'write it like 90, 90s, 5m or 1m30s');
  }
  return limit.ms;
}

/**
 * For the commands that read state (status, history, prune, unlock): an app or environment that is
 * neither in the config nor in the history is a typo, not an empty result. Called only when nothing
 * matched, so the config is read only then; a missing or broken config leaves the history to decide.
 */
export async function assertKnownTarget(ctx: CliContext, history: HistoryStore, names: { app?: string; env?: string }): Promise<void> {
  if (!names.app && !names.env) return;
  const targets = await history.targets();
  let config: LoadedConfig | undefined;
  try {
    const { loadConfig } = await import('../config/load.js');
    config = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
  } catch {
    config = undefined;
  }
  const check = (kind: 'app' | 'environment', name: string | undefined, inConfig: string[], inHistory: string[]) => {
    if (!name || inConfig.includes(name) || inHistory.includes(name)) return;
    const known = [...new Set([...inConfig, ...inHistory])];
    throw new UsageError(
      `unknown ${kind} ${JSON.stringify(name)}`,
      known.length
        ? `known ${kind === 'app' ? 'apps' : 'environments'}: ${known.join(', ')} (from ${config ? `${kind === 'app' ? 'deployments.yaml' : 'environments.yaml'} and ` : ''}the history)`
        : `no config in ${ctx.configDir} and no history in ${ctx.home}: check --config-dir and --home`,
    );
  };
  check('app', names.app, config?.apps ?? [], targets.map((t) => t.app));
  check('environment', names.env, config?.environments.map((e) => e.name) ?? [], targets.map((t) => t.env));
}
