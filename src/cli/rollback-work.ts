// Choosing what a rollback goes back to, for `deployctl rollback` and the `ui` board.
import type { CliContext } from './context.js';
import type { EngineDeps } from '../engine/deploy.js';
import type { DeployRecord, HistoryStore, IndexEntry } from '../state/types.js';

export interface RollbackOptions {
  env: string;
  to?: string;
  dryRun?: boolean;
  yes?: boolean;
  waitLock?: string;
}

/** Checks the request and picks the records to go back to; `work` then runs the rollback. */
export async function prepareRollback(ctx: CliContext, appName: string, opts: RollbackOptions) {
  const { loadTargetConfig, parseDurationFlag } = await import('./target.js');
  const { rollbackTarget, readRecords } = await import('../engine/deploy.js');
  const { rollbackCandidates, runningRecord, RECENT_RECORDS } = await import('../state/good.js');
  const { openContextState } = await import('./context.js');
  const { UsageError } = await import('../errors.js');
  const loaded = await loadTargetConfig(ctx, appName, opts.env);
  const environment = loaded.environments.find((e) => e.name === opts.env);
  if (!environment) {
    throw new UsageError(
      `unknown environment ${JSON.stringify(opts.env)}`,
      `environments.yaml defines: ${loaded.environments.map((e) => e.name).join(', ')}`,
    );
  }
  const history = (await openContextState(ctx)).history;
  // The index only: the records themselves are read for the candidates chosen.
  const entries = await history.entries({ app: appName, env: opts.env, limit: RECENT_RECORDS });
  if (!loaded.apps.includes(appName) && entries.length === 0) {
    throw new UsageError(`unknown app ${JSON.stringify(appName)}`, `deployments.yaml defines: ${loaded.apps.join(', ')}`);
  }
  let candidates;
  if (opts.to) {
    candidates = [await namedRecord(history, entries, appName, opts.env, opts.to)];
  } else {
    candidates = await readRecords(history, rollbackCandidates(entries));
    if (candidates.length === 0) {
      const running = runningRecord(entries);
      throw new UsageError(
        `no earlier good deployment of ${appName} in ${opts.env} to roll back to${running ? ` (${running.version} runs now)` : ''}`,
        `see the records with: deployctl history ${appName} -e ${opts.env}`,
      );
    }
  }
  const waitLockMs = opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0;
  return {
    target: candidates[0]!,
    history,
    work: (deps: EngineDeps) =>
      rollbackTarget(
        candidates,
        {
          app: appName,
          env: opts.env,
          environment,
          dryRun: Boolean(opts.dryRun),
          approved: Boolean(opts.yes),
          interactive: !ctx.nonInteractive,
          autoRollback: false,
          waitLockMs,
          tools: loaded.tools,
        },
        deps,
      ),
  };
}

/**
 * `--to <id | version>`: a record of this target that succeeded, of a version not marked bad since.
 * Anything else is refused with what happened to it, before the lock is taken.
 */
async function namedRecord(history: HistoryStore, entries: IndexEntry[], app: string, env: string, to: string): Promise<DeployRecord> {
  const { UsageError } = await import('../errors.js');
  const { goodOnes } = await import('../state/good.js');
  // `entries`, the newest records the index holds, are enough to find a version to go back to, and
  // what became of it since, without reading the whole history.
  const found = await history.get(to);
  const byId = found && found.app === app && found.env === env ? found : undefined;
  const entry = entries.find((r) => r.version === to && r.status === 'succeeded') ?? entries.find((r) => r.version === to);
  const named = byId ?? (entry && (await history.get(entry.id)));
  const list = `deployctl history ${app} -e ${env}`;
  if (!named) {
    throw new UsageError(`no deployment of ${app} in ${env} has the id or version ${JSON.stringify(to)}`, `see the records with: ${list}`);
  }
  const why = (r: DeployRecord) => `record ${r.id} (${r.version}) ended ${r.status}${r.error ? ` (${r.error.message})` : ''}`;
  if (named.status !== 'succeeded') {
    throw new UsageError(
      byId ? `${why(named)}: only a deployment that succeeded can be re-applied` : `${named.version} never succeeded in ${env}: ${why(named)}`,
      `pick one that succeeded from: ${list} --status succeeded`,
    );
  }
  const window = entries.some((r) => r.id === named.id) ? entries : [...entries, named];
  if (!goodOnes(window).some((r) => r.version === named.version)) {
    const since = entries.find((r) => r.version === named.version && r.status !== 'succeeded');
    const failure = since && (await history.get(since.id));
    throw new UsageError(
      `${named.version} is marked bad in ${env}${failure ? `: ${why(failure)}` : ''}, so deployctl will not roll back to it`,
      `to put it back anyway, deploy it: deployctl deploy ${app} -e ${env} --version ${named.version}`,
    );
  }
  return named;
}
