// The file backend of the state port: a state folder on one disk (history/, index/, locks/, audit.log).
import { watch } from 'node:fs';
import { FileApprovalStore } from './approvals.js';
import { appendAudit, readAudit } from './audit.js';
import { FileHistoryStore, newRecordId } from './history.js';
import { FileLockManager } from './locks.js';
import { historyDir, indexDir, locksDir } from './paths.js';
import type { StateStore } from './port.js';

export function createFileState(home: string): StateStore {
  return {
    backend: 'file',
    location: home,
    history: new FileHistoryStore(home),
    locks: new FileLockManager(home),
    audit: {
      append: (entry) => appendAudit(home, entry),
      read: (options) => readAudit(home, options),
    },
    approvals: new FileApprovalStore(home),
    newRecordId: (app, env, at) => newRecordId(app, env, at),
    watch: (onChange) => watchFolders([indexDir(home), historyDir(home), locksDir(home)], onChange),
    close: async () => {},
  };
}

/** fs.watch on the folders, debounced, with a slow poll behind it (watch misses events on some file systems). */
function watchFolders(folders: string[], onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 100);
  };
  const watchers = folders.flatMap((dir) => {
    try {
      return [watch(dir, changed)];
    } catch {
      return [];
    }
  });
  const poll = setInterval(onChange, 1000);
  return () => {
    clearInterval(poll);
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
