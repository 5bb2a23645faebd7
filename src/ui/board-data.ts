// Apps × environments with what runs in each: shared by `list` and the `ui` board.
import type { LoadedConfig } from '../config/types.js';
import type { HistoryStore } from '../state/types.js';
import type { BoardCell, BoardData } from './board.js';

export async function loadBoardData(loaded: LoadedConfig, history: HistoryStore): Promise<BoardData> {
  const envs = loaded.environments.map((e) => ({ name: e.name, protected: e.protected }));
  // One read of every target's head: no record is read, whatever the size of the history.
  const heads = new Map((await history.heads()).map((h) => [`${h.app}\0${h.env}`, h]));
  const cells: Record<string, Record<string, BoardCell>> = {};
  for (const app of loaded.apps) {
    cells[app] = {};
    for (const { name: env } of envs) {
      const head = heads.get(`${app}\0${env}`);
      const last = head?.last;
      const running = head?.latest.succeeded;
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
