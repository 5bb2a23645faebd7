// A request's names checked, the config loaded, and the target it names resolved from it.
import type { LoadedConfig } from '../config/types.js';
import type { Target } from '../engine/deploy.js';
import type { HistoryStore } from '../state/types.js';
import { assertName } from '../names.js';
import { UsageError } from '../errors.js';

interface ConfigSource {
  configDir: string;
  env: NodeJS.ProcessEnv;
}

export async function loadConfigFor(source: ConfigSource): Promise<LoadedConfig> {
  const { loadConfig } = await import('../config/load.js');
  return loadConfig({ configDir: source.configDir, env: source.env });
}

/** For a request about one target: its names checked, then the config loaded. */
/** `set`: the request's --set, which the check must see as the deployment will. */
export async function loadTargetConfig(source: ConfigSource, app: string, env: string, set?: string[]): Promise<LoadedConfig> {
  assertName('app', app);
  assertName('environment', env);
  const loaded = await loadConfigFor(source);
  // Everything validate checks about this target, before any lock (rollback re-applies a stored config).
  const { checkTarget } = await import('../config/load.js');
  await checkTarget(loaded, app, env, source.env, set);
  return loaded;
}

/** The environment named, from the config: an unknown one is a usage error listing those there are. */
export function environmentOf(loaded: LoadedConfig, env: string): LoadedConfig['environments'][number] {
  const environment = loaded.environments.find((e) => e.name === env);
  if (!environment) {
    throw new UsageError(`unknown environment ${JSON.stringify(env)}`, `environments.yaml defines: ${loaded.environments.map((e) => e.name).join(', ')}`);
  }
  return environment;
}

/**
 * For a rollback or a destroy, which work from the history: the app must be in the config or in that
 * target's history (an app removed from the config can still be rolled back or torn down).
 */
export function assertAppKnown(loaded: LoadedConfig, app: string, historyEntries: readonly unknown[]): void {
  if (!loaded.apps.includes(app) && historyEntries.length === 0) {
    throw new UsageError(`unknown app ${JSON.stringify(app)}`, `deployments.yaml defines: ${loaded.apps.join(', ')}`);
  }
}

/** The target of `app` in `env` from a config already loaded. */
export async function resolveTarget(
  source: ConfigSource,
  loaded: LoadedConfig,
  app: string,
  env: string,
  options: { version?: string; set?: string[] },
): Promise<Target> {
  const { resolveApp } = await import('../config/load.js');
  const resolved = await resolveApp(loaded, app, env, { version: options.version, set: options.set, processEnv: source.env });
  return {
    app: resolved.app,
    env: resolved.env,
    version: resolved.version,
    config: resolved.config,
    environment: resolved.environment,
    secretValues: resolved.secretValues,
  };
}

/**
 * For the requests that read state (status, history, prune, unlock): an app or environment that is
 * neither in the config nor in the history is a typo, not an empty result. Called only when nothing
 * matched, so the config is read only then; a missing or broken config leaves the history to decide.
 */
export async function assertKnownTarget(source: ConfigSource & { stateLocation: string }, history: HistoryStore, names: { app?: string; env?: string }): Promise<void> {
  if (!names.app && !names.env) return;
  const targets = await history.targets();
  let config: LoadedConfig | undefined;
  try {
    config = await loadConfigFor(source);
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
        : `no config in ${source.configDir} and no history in ${source.stateLocation}: check --config-dir and --home`,
    );
  };
  check('app', names.app, config?.apps ?? [], targets.map((t) => t.app));
  check('environment', names.env, config?.environments.map((e) => e.name) ?? [], targets.map((t) => t.env));
}
