// What runs in a target now: the one definition (rollback-policy.ts runningRecord over the target's
// newest index entries), for status, list, the board, diff, health, promote and rollback alike.
import type { DeployRecord, HistoryStore, IndexEntry } from '../state/types.js';
import { RECENT_RECORDS, runningRecord } from './rollback-policy.js';

/** The newest index entries of one target, newest first: enough to tell what runs and where a rollback goes. */
export function recentEntries(history: HistoryStore, app: string, env: string): Promise<IndexEntry[]> {
  return history.entries({ app, env, limit: RECENT_RECORDS });
}

/** The index entry of what runs in the target now, if anything does. */
export async function runningEntry(history: HistoryStore, app: string, env: string): Promise<IndexEntry | undefined> {
  return runningRecord(await recentEntries(history, app, env));
}

/** The record of what runs in the target now (read in full), if anything does and it can be read. */
export async function runningNow(history: HistoryStore, app: string, env: string): Promise<DeployRecord | undefined> {
  const entry = await runningEntry(history, app, env);
  return entry && history.get(entry.id);
}
