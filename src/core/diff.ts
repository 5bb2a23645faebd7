// diff: the versions and resolved config that differ between two environments, and the command that
// brings the second up to the first (a promotion along the order, a deploy against it).
import { assertName } from '../names.js';
import { ConfigError, formatProblem, UsageError, type ConfigProblem } from '../errors.js';
import { maskDeep, sealSecrets, secretsOfConfig } from '../engine/secrets.js';
import { durationsAsWritten } from '../config/duration-view.js';
import { unifiedDiff } from '../engine/text-diff.js';
import { gitCommitsBetween } from '../engine/git-log.js';
import type { CoreDeps } from './deps.js';
import { runningNow } from './running.js';
import { loadConfigFor } from './target.js';

interface DiffRequest {
  src: string;
  dst: string;
  app?: string;
}

interface AppDiff {
  app: string;
  src: { version: string | null; at: string | null; by: string | null };
  dst: { version: string | null; at: string | null; by: string | null };
  sameVersion: boolean;
  same: boolean;
  configDiff: string;
  commits: string[] | null;
  command: string | null;
}

export async function diff(request: DiffRequest, core: CoreDeps): Promise<{ src: string; dst: string; differs: boolean; apps: AppDiff[] }> {
  const { src, dst } = request;
  assertName('environment', src);
  assertName('environment', dst);
  if (request.app) assertName('app', request.app);
  const [{ resolveApp }, { stringify }] = await Promise.all([import('../config/load.js'), import('../vendor/yaml.js')]);
  const loaded = await loadConfigFor(core);
  const envs = loaded.environments.map((e) => e.name);
  for (const env of [src, dst]) if (!envs.includes(env)) throw new UsageError(`unknown environment "${env}"`, `environments.yaml defines: ${envs.join(', ')}`);
  if (request.app && !loaded.apps.includes(request.app)) throw new UsageError(`unknown app "${request.app}"`, `deployments.yaml defines: ${loaded.apps.join(', ')}`);
  const history = (await core.state()).history;
  // Along the promotion order dst is brought up to src by a promotion; against it, by a deploy.
  const forward = envs.indexOf(dst) > envs.indexOf(src);
  const sortKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sortKeys)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]))
        : value;
  const apps: AppDiff[] = [];
  // A target whose config cannot be resolved is a config error (exit 2), not a difference to show.
  const unresolved: Array<{ app: string; env: string; problems: ConfigProblem[] }> = [];
  for (const name of request.app ? [request.app] : loaded.apps) {
    const side = async (env: string) => {
      const record = await runningNow(history, name, env);
      let config: unknown;
      try {
        const resolved = await resolveApp(loaded, name, env, { version: record?.version ?? '0.0.0-undeployed', processEnv: core.env });
        const sealed = sealSecrets(resolved.config, secretsOfConfig(resolved.config.secrets, resolved.config.variables, core.env)).sealed;
        config = durationsAsWritten(maskDeep(sealed, resolved.secretValues) as unknown as Record<string, unknown>).config;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        unresolved.push({ app: name, env, problems: error.problems });
      }
      return { version: record?.version ?? null, at: record?.finishedAt ?? null, by: record?.user ?? null, config };
    };
    const a = await side(src);
    const b = await side(dst);
    if (unresolved.length) continue;
    const configDiff = unifiedDiff(stringify(sortKeys(b.config)), stringify(sortKeys(a.config)), { fromLabel: `${name} in ${dst}`, toLabel: `${name} in ${src}` });
    const repo = (await resolveApp(loaded, name, src, { version: a.version ?? '0.0.0', processEnv: core.env }).catch(() => undefined))?.config.repo;
    const commits = repo && a.version && b.version && a.version !== b.version ? gitCommitsBetween(String(repo), b.version, a.version) : undefined;
    const sameVersion = a.version === b.version;
    apps.push({
      app: name,
      src: { version: a.version, at: a.at, by: a.by },
      dst: { version: b.version, at: b.at, by: b.by },
      sameVersion,
      same: sameVersion && !configDiff,
      configDiff,
      commits: commits ?? null,
      command:
        a.version && a.version !== b.version
          ? forward
            ? `deployctl promote ${name} --from ${src} --to ${dst}`
            : `deployctl deploy ${name} -e ${dst} --version ${a.version}`
          : null,
    });
  }
  if (unresolved.length) {
    const problems = new Map(unresolved.flatMap((u) => u.problems).map((p) => [formatProblem(p), p]));
    const targets = unresolved.map((u) => `${u.app} in ${u.env}`).join(', ');
    throw new ConfigError([...problems.values()], `the config of ${targets} cannot be resolved, so there is nothing to compare: fix it (deployctl validate lists every problem), then run diff again`);
  }
  return { src, dst, differs: apps.some((a) => !a.sameVersion), apps };
}
