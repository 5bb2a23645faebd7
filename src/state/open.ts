// The one place that picks the state backend: files under the state folder today. Commands and the
// engine use the HistoryStore and LockManager interfaces only, so another backend (PostgreSQL for
// teams) plugs in here.
import type { HistoryStore, LockManager } from './types.js';

export async function openHistory(home: string): Promise<HistoryStore> {
  const { FileHistoryStore } = await import('./history.js');
  return new FileHistoryStore(home);
}

export async function openLocks(home: string): Promise<LockManager> {
  const { FileLockManager } = await import('./locks.js');
  return new FileLockManager(home);
}
