// Apps × environments with what runs in each: shared by `list` and the `ui` board.
import type { LoadedConfig } from '../config/types.js';
import type { HistoryStore } from '../state/types.js';
import type { BoardCell, BoardData } from './board.js';

export async function loadBoardData(loaded: LoadedConfig, history: HistoryStore): Promise<BoardData> {
  const envs = loaded.environments.map((e) => ({ name: e.name, protected: e.protected }));
  const latest = new Map((await history.current()).map((r) => [`${r.app}\0${r.env}`, r]));
  const cells: Record<string, Record<string, BoardCell>> = {};
  for (const app of loaded.apps) {
    cells[app] = {};
    for (const { name: env } of envs) {
      const last = latest.get(`${app}\0${env}`);
      const running = !last || last.status === 'succeeded' ? last : (await history.list({ app, env, status: 'succeeded', limit: 1 }))[0];
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
