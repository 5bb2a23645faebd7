// The one place that picks the state backend: files under the state folder today. Commands and the
// engine use the HistoryStore and LockManager interfaces only, so another backend (PostgreSQL for
// teams) plugs in here. Opening a store makes the state folder first (once per home), so a folder that
// cannot be used is reported the same way by every command, before anything is read.
import { ensureHome } from './paths.js';
import type { HistoryStore, LockManager } from './types.js';

export async function openHistory(home: string): Promise<HistoryStore> {
  const [{ FileHistoryStore }] = await Promise.all([import('./history.js'), ensureHome(home)]);
  return new FileHistoryStore(home);
}

export async function openLocks(home: string): Promise<LockManager> {
  const [{ FileLockManager }] = await Promise.all([import('./locks.js'), ensureHome(home)]);
  return new FileLockManager(home);
}
