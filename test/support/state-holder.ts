// A deployctl stand-in in a process of its own, over any state location (a folder or a database URL),
// for the state contract's racing and kill -9 cases. It runs the built store (dist/: build first).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ContractHolder } from '../state/contract.js';

const built = pathToFileURL(join(import.meta.dirname, '../../dist/state/open.js')).href;

/** A deployctl stand-in: takes the lock, writes a running record, starts `sleep 300` in its own group, tracks it, says so, and waits. */
const HOLDER = `
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
const { openState } = await import(process.env.OPEN_STATE);
const [location, app, env] = process.argv.slice(1);
const state = await openState(location);
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

export async function startHolderProcess(location: string, app: string, env: string): Promise<ContractHolder & { commandPid: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, location, app, env], { env: { ...process.env, OPEN_STATE: built }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await Promise.race([
    new Promise<void>((resolve) => child.stdout!.on('data', () => out.includes('\n') && resolve())),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the holder exited (${code}) before it was ready`);
    }),
  ]);
  const ready = JSON.parse(out) as { pid: number; recordId: string; commandPid: number };
  return {
    ...ready,
    kill: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
