// health: the configured health check of a target, run now, against the version that runs there.
import type { HealthAttempt } from '../state/types.js';
import { ConfigError, HealthError, UsageError } from '../errors.js';
import { maskText } from '../engine/secrets.js';
import type { CoreDeps } from './deps.js';
import { recentEntries, runningNow } from './running.js';
import { destroyedRecord } from './rollback-policy.js';
import { loadTargetConfig } from './target.js';

interface HealthRequest {
  app: string;
  env: string;
  /** The version to expect; default: the one that runs there, else the last one tried there. */
  version?: string;
  set?: string[];
}

interface HealthOutcome {
  app: string;
  env: string;
  /** null: nothing deployed there, and the check does not use ${version}. */
  version: string | null;
  ok: boolean;
  message: string;
  attempts: HealthAttempt[];
  exitCode: number;
}

/** Each attempt is emitted as a `health-attempt` event as it ends, secrets masked. */
export async function health(request: HealthRequest, core: CoreDeps): Promise<HealthOutcome> {
  const { app, env } = request;
  const loaded = await loadTargetConfig(core, app, env, request.set);
  const history = (await core.state()).history;
  if (!request.version) {
    const gone = destroyedRecord(await recentEntries(history, app, env));
    if (gone) {
      throw new UsageError(
        `${app} is not deployed in ${env}: ${gone.version} was destroyed by ${gone.user} at ${gone.finishedAt ?? gone.startedAt} (record ${gone.id}), so there is nothing to check`,
        `deploy it again (deployctl deploy ${app} -e ${env}), or check a version anyway: deployctl health ${app} -e ${env} --version V`,
      );
    }
  }
  const deployed = request.version ? undefined : ((await runningNow(history, app, env)) ?? (await history.latest(app, env)));
  const { resolveApp } = await import('../config/load.js');
  const version = request.version ?? deployed?.version;
  const resolve = (v: string | undefined) => resolveApp(loaded, app, env, { version: v, set: request.set, processEnv: core.env });
  const resolved = await resolve(version).catch(async (error: unknown) => {
    // Nothing deployed there and no version anywhere: a check that does not use ${version} runs all
    // the same (it reads the same with any version); one that does needs --version.
    if (version !== undefined || !(error instanceof UsageError) || error instanceof ConfigError) throw error;
    const [a, b] = await Promise.all([resolve('0.0.0-health-a'), resolve('0.0.0-health-b')]);
    if (JSON.stringify(a.config.health_check) !== JSON.stringify(b.config.health_check)) {
      throw new UsageError(`the health check of ${app} uses \${version}, and no version of ${app} was ever deployed to ${env}`, `pass the version to expect: deployctl health ${app} -e ${env} --version V`);
    }
    return { ...a, version: null };
  });
  const check = resolved.config.health_check;
  if (!check) {
    throw new UsageError(`${app} has no health check in ${env}`, 'add one to deployments.yaml, e.g. health_check: { url: "http://127.0.0.1:${PORT}/health" }');
  }
  const mask = (text: string) => maskText(text, resolved.secretValues);
  const engine = await core.engine();
  const result = await engine.runHealthCheck(check, {
    runner: engine.createRunner({ dryRun: false, env: { ...core.env, ...resolved.config.variables } }),
    cwd: resolved.config.path,
    // A command check reads the values from its environment, as every command does.
    env: { ...resolved.config.variables, DEPLOY_APP: app, DEPLOY_ENV: env, DEPLOY_VERSION: resolved.version ?? '' },
    signal: core.signal,
    onAttempt: (a) => core.emit({ type: 'health-attempt', attempt: { ...a, message: mask(a.message) } }),
  });
  return {
    app,
    env,
    version: resolved.version,
    ok: result.ok,
    message: mask(result.message),
    attempts: result.attempts.map((a) => ({ ...a, message: mask(a.message) })),
    exitCode: result.ok ? 0 : new HealthError('').exitCode,
  };
}
