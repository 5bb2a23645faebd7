// The PostgreSQL backend against the state contract, on a real throwaway server: another process is
// another store over the same database; the holder killed with kill -9 is a real Node process.
import { isPidAlive } from '../../src/state/process.js';
import { postgresForFile, postgresStoreFactory } from '../support/postgres.js';
import { startHolderProcess } from '../support/state-holder.js';
import { stateContract } from './contract.js';

const { skip, server } = postgresForFile();

stateContract(
  'postgres',
  async () => {
    const made = await postgresStoreFactory(() => server)();
    const children: Array<{ pid: number; commandPid: number }> = [];
    return {
      store: made.store,
      open: made.second,
      startHolder: async (app, env) => {
        const holder = await startHolderProcess(made.url, app, env);
        children.push(holder);
        return holder;
      },
      dispose: async () => {
        await made.dispose();
        for (const c of children) for (const pid of [c.pid, c.commandPid]) if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
      },
    };
  },
  { skip, losesLocks: true },
);
