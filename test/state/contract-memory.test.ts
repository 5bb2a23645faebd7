// The in-memory backend against the state contract: its "other processes" are simulated ones over the
// same data, and a kill -9 marks one dead; the command it started is a real process group.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { createMemoryData, createMemoryState, killProcess, newProcess } from '../../src/state/memory-store.js';
import { isPidAlive } from '../../src/state/process.js';
import { record } from '../support/records.js';
import { stateContract } from './contract.js';

stateContract('memory', async () => {
  const data = createMemoryData();
  const commands: number[] = [];
  return {
    store: createMemoryState(data, process.pid),
    open: async () => createMemoryState(data),
    startHolder: async (app, env) => {
      const pid = newProcess(data);
      const holder = createMemoryState(data, pid);
      const lock = await holder.locks.acquire(app, env, { command: `deployctl deploy ${app} -e ${env}`, user: 'holder' });
      const r = record(app, env, '9.9.9', { status: 'running', finishedAt: undefined, pid, host: hostname() });
      await holder.history.write(r);
      const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
      await once(child, 'spawn');
      child.unref();
      commands.push(child.pid!);
      await lock.track!(child.pid!, 'sleep 300');
      return { pid, recordId: r.id, commandPid: child.pid!, kill: async () => killProcess(data, pid) };
    },
    dispose: async () => {
      for (const pid of commands) if (isPidAlive(pid)) process.kill(-pid, 'SIGKILL');
    },
  };
}, { losesLocks: true });
