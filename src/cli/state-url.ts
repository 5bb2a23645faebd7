// Where the state lives, first match wins: --state, DEPLOYCTL_STATE, `state: { url }` at the top of
// deployments.yaml (interpolated from the environment), then the state folder (--home, DEPLOYCTL_HOME,
// ~/.deployctl). A file of its own: commands.ts registers state.ts, and this is loaded on demand.
import type { CliContext } from './context.js';

/** The state URL of this command, and the folder a relative `file:` in it is relative to. */
export async function chooseStateUrl(ctx: CliContext): Promise<{ url: string; cwd: string }> {
  const fallback = { url: ctx.stateUrl, cwd: ctx.io.cwd };
  if (!ctx.stateFromConfig) return fallback;
  const { join } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const file = join(ctx.configDir, 'deployments.yaml');
  if (!existsSync(file)) return fallback;
  const { readYamlFile, locate } = await import('../config/read.js');
  const { openParseCache } = await import('../config/parse-cache.js');
  const { ConfigError } = await import('../errors.js');
  const problems: import('../errors.js').ConfigProblem[] = [];
  const yaml = await readYamlFile(file, problems, openParseCache(ctx.io.env));
  if (!yaml) throw new ConfigError(problems, 'fix the lines above; `deployctl validate` lists every problem');
  const state = (yaml.data as { state?: unknown } | null)?.state;
  if (state === undefined || state === null) return fallback;
  const url = (state as { url?: unknown }).url;
  if (typeof url !== 'string' || !url.trim()) {
    throw new ConfigError(
      [{ file: yaml.display, ...locate(yaml, ['state']), path: 'state.url', message: 'must be a state URL, for example postgres://deployer@db.internal/deployctl or file:/var/lib/deployctl' }],
      'fix state.url in deployments.yaml',
    );
  }
  const { interpolateString } = await import('../config/interpolate.js');
  const { value, missing } = interpolateString(url, (name) => ctx.io.env[name]);
  if (missing.length) {
    throw new ConfigError(
      [{ file: yaml.display, ...locate(yaml, ['state', 'url']), path: 'state.url', message: `\${${missing[0]}} is not set` }],
      `export ${missing[0]}=... in the environment that runs deployctl, or pass --state URL`,
    );
  }
  return { url: value, cwd: ctx.configDir };
}

