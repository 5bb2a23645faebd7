// HistoryStore.walk for every backend: a target's index entries newest first (one read), then each
// record the caller's pick accepts, read only when the iteration reaches it.
import type { DeployRecord, HistoryStore, IndexEntry } from './types.js';

export async function* walkEntries(
  history: Pick<HistoryStore, 'entries' | 'get'>,
  app: string,
  env: string,
  options: { pick?: (entry: IndexEntry) => boolean; limit?: number } = {},
): AsyncGenerator<DeployRecord> {
  for (const entry of await history.entries({ app, env, limit: options.limit })) {
    if (options.pick && !options.pick(entry)) continue;
    const record = await history.get(entry.id);
    if (record) yield record;
  }
}
