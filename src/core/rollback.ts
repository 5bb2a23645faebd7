// rollback: which record it goes back to (rollback-policy.ts decides), then the engine re-applies it,
// falling back to older good records, and stopping where a rollback fails the way the one before did.
import { firstCandidate, recordsOf, rollbackTarget, type Candidates } from '../engine/deploy.js';
import { UsageError } from '../errors.js';
import type { DeployRecord, HistoryStore, IndexEntry } from '../state/types.js';
import type { CoreDeps } from './deps.js';
import type { DeploymentOutcome } from './deploy.js';
import { engineRequest, runEngine } from './engine-request.js';
import { destroyedRecord, goodOnes, inFlight, rollbackCandidates, runningRecord } from './rollback-policy.js';
import { recentEntries } from './running.js';
import { assertAppKnown, environmentOf, loadTargetConfig } from './target.js';

interface RollbackRequest {
  app: string;
  env: string;
  /** A record id or a version: any good one. Without it, the good version deployed before the one running. */
  to?: string;
  dryRun?: boolean;
  waitLockMs?: number;
}

interface PreparedRollback {
  app: string;
  env: string;
  /** The record it goes back to first (older good ones follow if that one fails, each read when its turn comes). */
  target: DeployRecord;
  run(): Promise<DeploymentOutcome>;
}

/** Checks the request and picks the records to go back to; `run` then rolls back. */
export async function prepareRollback(request: RollbackRequest, core: CoreDeps): Promise<PreparedRollback> {
  const { app, env } = request;
  const loaded = await loadTargetConfig(core, app, env);
  const environment = environmentOf(loaded, env);
  const history = (await core.state()).history;
  // The index only: the records themselves are read for the candidates chosen.
  const entries = await recentEntries(history, app, env);
  assertAppKnown(loaded, app, entries);
  let candidates: Candidates;
  let target: DeployRecord | undefined;
  if (request.to) {
    target = await namedRecord(history, entries, app, env, request.to);
    candidates = [target];
  } else {
    // Chosen from the index; only the first is read now, the next ones if it fails.
    ({ first: target, all: candidates } = await firstCandidate(recordsOf(history, app, env, rollbackCandidates(entries))));
    const gone = destroyedRecord(entries);
    if (!target && gone) {
      throw new UsageError(
        `nothing of ${app} runs in ${env}: ${gone.version} was destroyed by ${gone.user} at ${gone.finishedAt ?? gone.startedAt} (record ${gone.id}), and a rollback never goes back across a destroy`,
        `deploy again: deployctl deploy ${app} -e ${env} --version V, or put a good version back: deployctl rollback ${app} -e ${env} --to ${gone.version}`,
      );
    }
    if (!target) {
      const running = runningRecord(entries);
      // Older good versions before a destroy are not "nothing": a bare rollback stops at the destroy.
      const before = entries.find((e) => e.action === 'destroy' && e.status === 'succeeded');
      const since = before ? `, after the destroy of ${before.version} (record ${before.id}): a rollback never goes back across a destroy` : '';
      throw new UsageError(
        running
          ? `no good version of ${app} in ${env} older than ${running.version}, which runs now${since || ': there is nothing older to roll back to'}`
          : `no earlier good deployment of ${app} in ${env} to roll back to${since}`,
        `roll back to any good version with --to; see them with: deployctl history ${app} -e ${env} --status succeeded`,
      );
    }
  }
  // A rollback that fails the way the last change failed (a tool, a password: not the version) stops there.
  const lastChange = entries.find((e) => !inFlight(e.status));
  const before = lastChange && lastChange.status !== 'succeeded' ? await history.get(lastChange.id) : undefined;
  return {
    app,
    env,
    target,
    run: () =>
      runEngine(core, (deps) =>
        rollbackTarget(candidates, engineRequest(core, request, { app, env, environment, autoRollback: false, tools: loaded.tools, after: before }), deps),
      ),
  };
}

export async function rollback(request: RollbackRequest, core: CoreDeps): Promise<DeploymentOutcome> {
  return (await prepareRollback(request, core)).run();
}

/**
 * `--to <id | version>`: a record of this target that succeeded, of a version not marked bad since.
 * Anything else is refused with what happened to it, before the lock is taken.
 */
async function namedRecord(history: HistoryStore, entries: IndexEntry[], app: string, env: string, to: string): Promise<DeployRecord> {
  // `entries`, the newest records the index holds, are enough to find a version to go back to, and
  // what became of it since, without reading the whole history.
  const found = await history.get(to);
  const byId = found && found.app === app && found.env === env ? found : undefined;
  if (byId?.action === 'destroy') {
    throw new UsageError(`record ${byId.id} is the destroy of ${byId.version}: a rollback re-applies a deployment`, `roll back to the version it took down: deployctl rollback ${app} -e ${env} --to ${byId.version}`);
  }
  // A destroy of a version is no deployment of it: never the record re-applied.
  const deployments = entries.filter((r) => r.action !== 'destroy');
  const entry = deployments.find((r) => r.version === to && r.status === 'succeeded') ?? deployments.find((r) => r.version === to);
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
