// Turning command-line arguments into a target to deploy: names checked, config loaded and resolved.
import type { CliContext } from './context.js';
import type { LoadedConfig } from '../config/types.js';
import type { Target } from '../engine/deploy.js';
import { assertName } from '../names.js';
import { parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';

export async function loadTargetConfig(ctx: CliContext, app: string, env: string): Promise<LoadedConfig> {
  assertName('app', app);
  assertName('environment', env);
  const { loadConfig } = await import('../config/load.js');
  return loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
}

export async function prepareTarget(
  ctx: CliContext,
  app: string,
  env: string,
  options: { version?: string; set?: string[] },
): Promise<{ loaded: LoadedConfig; target: Target }> {
  const loaded = await loadTargetConfig(ctx, app, env);
  const { resolveApp } = await import('../config/load.js');
  const resolved = await resolveApp(loaded, app, env, { version: options.version, set: options.set, processEnv: ctx.io.env });
  return {
    loaded,
    target: {
      app: resolved.app,
      env: resolved.env,
      version: resolved.version,
      config: resolved.config,
      environment: resolved.environment,
      secretValues: resolved.secretValues,
    },
  };
}

export function parseDurationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration`, 'write it like 90, 90s, 5m or 1m30s');
  return ms;
}
