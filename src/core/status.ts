// status and list: what runs where (running.ts, the one definition), since when, by whom, and how the
// last deployment of each target ended.
import type { IndexEntry, LockState, RecordStatus } from '../state/types.js';
import { assertName } from '../names.js';
import type { CoreDeps } from './deps.js';
import { destroyedOfHead, runningOfHead } from './rollback-policy.js';
import { assertKnownTarget, loadConfigFor } from './target.js';

interface StatusRequest {
  app?: string;
  env?: string;
}

interface TargetStatus {
  app: string;
  env: string;
  /** What runs there now, if anything does. */
  version: string | null;
  since: string | null;
  by: string | null;
  /** The newest record of the target, whatever its status (its index entry). */
  last: IndexEntry;
  /** Torn down by `destroy`, and nothing deployed there since: which version, when, by whom. */
  destroyed?: { version: string; at: string; by: string; recordId: string };
  /** Who holds the target's lock now (a deployment in flight, or one that left it behind). */
  lock?: { user: string; host: string; pid: number; command: string; startedAt: string; state: LockState; description: string };
}

export async function status(request: StatusRequest, core: CoreDeps): Promise<{ targets: TargetStatus[] }> {
  if (request.app) assertName('app', request.app);
  if (request.env) assertName('environment', request.env);
  const state = await core.state();
  const history = state.history;
  // Every target's head in one read: what runs there and its newest record, whatever the size of the history.
  const heads = await history.heads({ app: request.app, env: request.env });
  if (heads.length === 0) await assertKnownTarget({ ...core, stateLocation: state.location }, history, request);
  // One read of every lock held, whatever the number of targets.
  const locks = new Map((await state.locks.holders()).map((l) => [`${l.holder.app}\0${l.holder.env}`, l]));
  const targets: TargetStatus[] = heads.map((head) => {
    const running = runningOfHead(head);
    const gone = destroyedOfHead(head);
    const destroyed = gone && { version: gone.version, at: gone.finishedAt ?? gone.startedAt, by: gone.user, recordId: gone.id };
    const held = locks.get(`${head.app}\0${head.env}`);
    const lock = held && { user: held.holder.user, host: held.holder.host, pid: held.holder.pid, command: held.holder.command, startedAt: held.holder.startedAt, state: held.state, description: held.description };
    return { app: head.app, env: head.env, version: running?.version ?? null, since: running?.finishedAt ?? null, by: running?.user ?? null, last: head.last, ...(destroyed ? { destroyed } : {}), ...(lock ? { lock } : {}) };
  });
  return { targets };
}

export interface GridCell {
  /** What runs there now. */
  version: string | null;
  /** How the last deployment there ended. */
  status: RecordStatus | null;
  lastVersion: string | null;
  /** Torn down by `destroy`, nothing deployed since. */
  destroyed?: boolean;
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
  // One read of every target's head: no record is read, whatever the size of the history.
  const heads = new Map((await history.heads()).map((h) => [`${h.app}\0${h.env}`, h]));
  const cells: Grid['cells'] = {};
  for (const app of loaded.apps) {
    cells[app] = {};
    for (const { name: env } of envs) {
      const head = heads.get(`${app}\0${env}`);
      const last = head?.last;
      const running = head && runningOfHead(head);
      const gone = head && destroyedOfHead(head);
      cells[app][env] = {
        ...(gone ? { destroyed: true } : {}),
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
        return [e, { version: c.version, status: c.status, lastVersion: c.lastVersion, ...(c.destroyed ? { destroyed: true } : {}) }];
      }),
    ),
  }));
  return { environments: envs, apps };
}
