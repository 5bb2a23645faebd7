// HistoryStore.walk and latest for every backend, over its own entries, get and list: a target's index
// entries newest first (one read), then each record the caller's pick accepts, read only when the
// iteration reaches it; and a target's newest record.
import type { DeployRecord, HistoryStore, IndexEntry } from './types.js';

async function* walkEntries(
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

/** The same on every backend: a class takes them as `walk = sharedReads.walk; latest = sharedReads.latest;`. */
export const sharedReads = {
  walk(this: Pick<HistoryStore, 'entries' | 'get'>, app: string, env: string, options?: { pick?: (entry: IndexEntry) => boolean; limit?: number }): AsyncGenerator<DeployRecord> {
    return walkEntries(this, app, env, options);
  },
  async latest(this: Pick<HistoryStore, 'list'>, app: string, env: string): Promise<DeployRecord | undefined> {
    return (await this.list({ app, env, limit: 1 }))[0];
  },
};
