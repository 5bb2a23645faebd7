// destroy: what runs in the target now (the record of the running version: its stored config and
// artifacts, the manifests and var files as they were applied), torn down by the engine's destroy
// strategy with the executor's own tool. Settings that say how to destroy (destroy_playbook,
// destroy_commands) come from today's config, so one added after the deploy counts. Nothing runs
// there (already destroyed, never deployed): said, with exit 0, before any lock.
import { destroyTarget } from '../engine/destroy.js';
import { targetFromRecord } from '../engine/deploy.js';
import { ConfigError, LockError, UsageError } from '../errors.js';
import type { IndexEntry } from '../state/types.js';
import type { CoreDeps } from './deps.js';
import type { DeploymentOutcome } from './deploy.js';
import { engineRequest, runEngine } from './engine-request.js';
import { destroyedRecord, inFlight, runningRecord, sinceDestroy } from './rollback-policy.js';
import { recentEntries } from './running.js';
import { assertAppKnown, environmentOf, loadTargetConfig, resolveTarget } from './target.js';

interface DestroyRequest {
  app: string;
  env: string;
  dryRun?: boolean;
  /** How long to wait for another deployment of the target to finish. */
  waitLockMs?: number;
}

/** Why there is nothing to destroy: already destroyed (by whom, when), or never deployed there. */
interface NothingToDestroy {
  reason: 'already_destroyed' | 'not_deployed';
  message: string;
  destroyed?: { id: string; version: string; by: string; at: string };
}

interface PreparedDestroy {
  app: string;
  env: string;
  /** The version torn down; undefined when there is nothing to destroy. */
  version?: string;
  nothing?: NothingToDestroy;
  run(): Promise<DeploymentOutcome>;
}

/** The settings that say how to destroy: today's config wins over the stored one for these. */
const DESTROY_SETTINGS = ['destroy_playbook', 'destroy_commands'];

/**
 * What a destroy tears down: the running record; else, since the last destroy, the newest deployment
 * that may have left something behind (failed after changing something, or interrupted).
 */
function toTearDown(entries: IndexEntry[]): IndexEntry | undefined {
  const running = runningRecord(entries);
  if (running) return running;
  return sinceDestroy(entries).find((r) => r.action !== 'destroy' && !inFlight(r.status) && (r.bad === true || r.status === 'rolled_back' || r.status === 'interrupted'));
}

export async function prepareDestroy(request: DestroyRequest, core: CoreDeps): Promise<PreparedDestroy> {
  const { app, env } = request;
  const loaded = await loadTargetConfig(core, app, env);
  const environment = environmentOf(loaded, env);
  const state = await core.state();
  const history = state.history;
  const entries = await recentEntries(history, app, env);
  assertAppKnown(loaded, app, entries);
  const inConfig = loaded.apps.includes(app);
  let source = toTearDown(entries);
  // Its first deployment (or the first since a destroy) has not finished: while its deployctl holds the
  // lock, nothing is there yet to tear down from; once it is gone, what it may have made is torn down
  // from its record (the lock phase marks that record interrupted).
  const flying = source ? undefined : sinceDestroy(entries).find((r) => inFlight(r.status) && r.action !== 'destroy');
  if (flying) {
    const held = (await state.locks.holders()).find((l) => l.holder.app === app && l.holder.env === env && l.state !== 'stale');
    if (held) {
      throw new LockError(
        `nothing to destroy yet: ${flying.action} of ${app} ${flying.version} in ${env} by ${flying.user} (record ${flying.id}) has not finished`,
        `wait for it to finish, then run deployctl destroy ${app} -e ${env} again`,
      );
    }
    source = flying;
  }
  // Today's config of the app, for the settings that say how to destroy it, checked before anything else.
  const today = inConfig ? await resolveTarget(core, loaded, app, env, { version: source?.version ?? '0.0.0-destroy' }) : undefined;
  const { EXECUTOR_SETTINGS } = await import('../executors/settings/index.js');
  if (today) {
    const missing = EXECUTOR_SETTINGS[today.config.type].destroyMissing?.(today.config);
    if (missing) {
      const { appLocation } = await import('../config/load.js');
      throw new ConfigError([{ ...appLocation(loaded, app), message: missing.message }], `add ${missing.key}: to ${app} in deployments.yaml, then run deployctl destroy ${app} -e ${env} again`);
    }
  }
  if (!source) {
    const gone = destroyedRecord(entries);
    const nothing: NothingToDestroy = gone
      ? {
          reason: 'already_destroyed',
          message: `${app} in ${env} is already destroyed: ${gone.version} was torn down by ${gone.user} at ${gone.finishedAt ?? gone.startedAt} (record ${gone.id}); nothing to do`,
          destroyed: { id: gone.id, version: gone.version, by: gone.user, at: gone.finishedAt ?? gone.startedAt },
        }
      : {
          reason: 'not_deployed',
          message: entries.length
            ? `nothing to destroy: nothing of ${app} runs in ${env} (no deployment there succeeded or changed anything)`
            : `nothing to destroy: ${app} was never deployed to ${env}`,
        };
    return {
      app,
      env,
      nothing,
      run: () => Promise.reject(new Error('nothing to destroy')),
    };
  }
  const record = await history.get(source.id);
  if (!record) {
    throw new UsageError(`the record of ${app} ${source.version} in ${env} (${source.id}) cannot be read: destroy needs its stored config`, `see the records with: deployctl history ${app} -e ${env}`);
  }
  const target = targetFromRecord(record, environment, core.env);
  if (today && today.config.type === target.config.type) {
    for (const key of DESTROY_SETTINGS) if (today.config[key] !== undefined) target.config[key] = today.config[key];
  }
  // An app no longer in the config: its stored config decides.
  const missing = EXECUTOR_SETTINGS[target.config.type].destroyMissing?.(target.config);
  if (missing) throw new ConfigError([{ path: `deployments.${app}`, message: missing.message }], `add ${missing.key}: to ${app} in deployments.yaml`);
  return {
    app,
    env,
    version: target.version,
    run: () => runEngine(core, (deps) => destroyTarget(engineRequest(core, request, { target, tools: loaded.tools }), deps)),
  };
}
