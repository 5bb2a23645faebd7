// The file backend against the state contract. Another process is another store over the same folder;
// the holder killed with kill -9 is a real Node process running the built store (dist/: build first).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openState } from '../../src/state/open.js';
import { isPidAlive } from '../../src/state/process.js';
import { tempDir } from '../support/cli.js';
import { stateContract } from './contract.js';

const built = pathToFileURL(join(import.meta.dirname, '../../dist/state/open.js')).href;

/** A deployctl stand-in: takes the lock, writes a running record, starts `sleep 300` in its own group, tracks it, says so, and waits. */
const HOLDER = `
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
const { openState } = await import(process.env.OPEN_STATE);
const [home, app, env] = process.argv.slice(1);
const state = await openState(home);
const lock = await state.locks.acquire(app, env, { command: 'deployctl deploy ' + app + ' -e ' + env, user: 'holder' });
const now = new Date();
const id = state.newRecordId(app, env, now);
await state.history.write({ schemaVersion: 1, id, app, env, version: '9.9.9', action: 'deploy', status: 'running', startedAt: now.toISOString(), user: 'holder', host: hostname(), pid: process.pid, command: 'deployctl deploy', config: {}, artifacts: {}, steps: [] });
const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
child.unref();
await lock.track(child.pid, 'sleep 300');
console.log(JSON.stringify({ pid: process.pid, recordId: id, commandPid: child.pid }));
setInterval(() => {}, 60_000);
`;

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
      const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, home, app, env], { env: { ...process.env, OPEN_STATE: built }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      await Promise.race([
        new Promise<void>((resolve) => child.stdout!.on('data', () => out.includes('\n') && resolve())),
        once(child, 'exit').then(([code]) => {
          throw new Error(`the holder exited (${code}) before it was ready`);
        }),
      ]);
      const ready = JSON.parse(out) as { pid: number; recordId: string; commandPid: number };
      children.push(ready);
      return {
        ...ready,
        kill: async () => {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        },
      };
    },
    dispose: async () => {
      for (const store of stores) await store.close();
      for (const c of children) {
        for (const pid of [c.pid, c.commandPid]) if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
});
