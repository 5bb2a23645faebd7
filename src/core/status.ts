// status and list: what runs where (running.ts, the one definition), since when, by whom, and how the
// last deployment of each target ended.
import type { DeployRecord, RecordStatus } from '../state/types.js';
import { assertName } from '../names.js';
import type { CoreDeps } from './deps.js';
import { runningRecord } from './rollback-policy.js';
import { recentEntries } from './running.js';
import { assertKnownTarget, loadConfigFor } from './target.js';

export interface StatusRequest {
  app?: string;
  env?: string;
}

export interface TargetStatus {
  app: string;
  env: string;
  /** What runs there now, if anything does. */
  version: string | null;
  since: string | null;
  by: string | null;
  /** The newest record of the target, whatever its status. */
  last: DeployRecord;
}

export async function status(request: StatusRequest, core: CoreDeps): Promise<{ targets: TargetStatus[] }> {
  if (request.app) assertName('app', request.app);
  if (request.env) assertName('environment', request.env);
  const state = await core.state();
  const history = state.history;
  const latest = (await history.current()).filter((r) => (!request.app || r.app === request.app) && (!request.env || r.env === request.env));
  if (latest.length === 0) await assertKnownTarget({ ...core, stateLocation: state.location }, history, request);
  const targets: TargetStatus[] = [];
  for (const last of latest) {
    const entries = await recentEntries(history, last.app, last.env);
    // From the newest record that could be read on (a damaged newer one is reported and skipped).
    const running = runningRecord(entries.slice(Math.max(0, entries.findIndex((e) => e.id === last.id))));
    targets.push({ app: last.app, env: last.env, version: running?.version ?? null, since: running?.finishedAt ?? null, by: running?.user ?? null, last });
  }
  return { targets };
}

export interface GridCell {
  /** What runs there now. */
  version: string | null;
  /** How the last deployment there ended. */
  status: RecordStatus | null;
  lastVersion: string | null;
  at: string | null;
  by: string | null;
}

/** Apps × environments from the config, with what runs in each: `list` and the `ui` board. */
export interface Grid {
  apps: string[];
  envs: Array<{ name: string; protected: boolean }>;
  cells: Record<string, Record<string, GridCell>>;
}

export async function boardData(core: CoreDeps): Promise<Grid> {
  const loaded = await loadConfigFor(core);
  const history = (await core.state()).history;
  const envs = loaded.environments.map((e) => ({ name: e.name, protected: e.protected }));
  const latest = new Map((await history.current()).map((r) => [`${r.app}\0${r.env}`, r]));
  const cells: Grid['cells'] = {};
  for (const app of loaded.apps) {
    cells[app] = {};
    for (const { name: env } of envs) {
      const last = latest.get(`${app}\0${env}`);
      const running = !last ? undefined : last.status === 'succeeded' ? last : runningRecord(await recentEntries(history, app, env));
      cells[app][env] = {
        version: running?.version ?? null,
        status: last?.status ?? null,
        lastVersion: last?.version ?? null,
        at: running?.finishedAt ?? last?.startedAt ?? null,
        by: running?.user ?? last?.user ?? null,
      };
    }
  }
  return { apps: loaded.apps, envs, cells };
}

/** `list`: the grid, as plain data per app. */
export async function list(core: CoreDeps) {
  const grid = await boardData(core);
  const envs = grid.envs.map((e) => e.name);
  const apps = grid.apps.map((name) => ({
    app: name,
    environments: Object.fromEntries(
      envs.map((e) => {
        const c = grid.cells[name]![e]!;
        return [e, { version: c.version, status: c.status, lastVersion: c.lastVersion }];
      }),
    ),
  }));
  return { environments: envs, apps };
}
