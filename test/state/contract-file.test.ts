// The file backend against the state contract. Another process is another store over the same folder;
// the holder killed with kill -9 is a real Node process running the built store (dist/: build first).
import { rmSync } from 'node:fs';
import { openState } from '../../src/state/open.js';
import { isPidAlive } from '../../src/state/process.js';
import { tempDir } from '../support/cli.js';
import { startHolderProcess } from '../support/state-holder.js';
import { stateContract } from './contract.js';

stateContract('file', async () => {
  const home = tempDir();
  const stores = [await openState(home)];
  const children: Array<{ pid: number; commandPid: number }> = [];
  return {
    store: stores[0]!,
    open: async () => {
      const store = await openState(`file:${home}`);
      stores.push(store);
      return store;
    },
    startHolder: async (app, env) => {
      const holder = await startHolderProcess(home, app, env);
      children.push(holder);
      return holder;
    },
    dispose: async () => {
      for (const store of stores) await store.close();
      for (const c of children) {
        for (const pid of [c.pid, c.commandPid]) if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}, { losesLocks: true });
