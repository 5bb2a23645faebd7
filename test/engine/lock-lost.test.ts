// The lock lost in the middle of a deployment (the memory backend's stand-in for a database session
// ended by `unlock --force` or a cut network): the engine stops the running command's whole process
// tree, records the deployment interrupted with the code lock_lost, says it lost the lock and what to
// do, and exits 130. The command blocks on a fifo nobody ever writes: only the engine can end it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types.js';
import { deployTarget, type DeployRequest } from '../../src/engine/deploy.js';
import type { DeployEvent } from '../../src/engine/events.js';
import { createRunner } from '../../src/engine/runner.js';
import type { Executor, PlanInput } from '../../src/executors/types.js';
import { outcomeText } from '../../src/cli/run-deployment.js';
import { createMemoryData, createMemoryState, loseLock } from '../../src/state/memory-store.js';
import { isPidAlive } from '../../src/state/process.js';
import { tempDir } from '../support/cli.js';
import { deployRequestOf, fakeWorld } from '../support/fakes.js';


/** One shell command: a child (`cat` of a fifo nobody writes) whose pid it writes down, then waits for it. */
function blockingExecutor(dir: string): Executor {
  return {
    type: 'shell',
    tools: () => [],
    async plan(input: PlanInput) {
      return {
        commands: [
          {
            file: 'sh',
            args: ['-c', 'cat "$FIFO" & echo $! > "$PIDS.tmp" && mv "$PIDS.tmp" "$PIDS"; wait'],
            cwd: dir,
            env: { ...input.childEnv, FIFO: join(dir, 'fifo'), PIDS: join(dir, 'pids') },
            timeoutMs: 0,
            mutates: true,
            label: 'wait for the fifo',
            phase: 'deploy',
          },
        ],
        artifacts: {},
        notes: [],
      };
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function world(dir: string) {
  const data = createMemoryData();
  const state = createMemoryState(data, process.pid);
  const events: DeployEvent[] = [];
  const fake = fakeWorld({
    history: state.history,
    locks: state.locks,
    createRunner: (options) => createRunner({ ...options, killGraceMs: 500 }),
    getExecutor: async () => blockingExecutor(dir),
    planHooks: () => [],
    emit: (event) => events.push(event),
    now: () => new Date(),
    newRecordId: (app, env, at) => state.newRecordId(app, env, at),
  });
  const request: DeployRequest = deployRequestOf({ type: 'shell', path: dir, variables: {}, secrets: [], timeout: 0, hooks: {}, rollback: { auto: true, max_attempts: 3 } } as AppConfig, '2.0.0');
  return { data, state, events, deps: fake.deps, request };
}

describe('the lock lost in the middle of a deployment', () => {
  for (const how of ['the network to the database is cut', 'another machine runs unlock --force'] as const) {
    it(`${how}: the command's process tree is stopped, the record says interrupted (lock_lost), exit 130, never a success`, async () => {
      const dir = tempDir('deployctl-lock-lost-');
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      const { data, state, events, deps, request } = world(dir);
      const running = deployTarget(request, deps);
      await until(() => existsSync(join(dir, 'pids')), 'the command to start');
      const child = Number(readFileSync(join(dir, 'pids'), 'utf8'));
      expect(isPidAlive(child)).toBe(true);

      if (how === 'the network to the database is cut') loseLock(data, 'web', 'dev', 'the database did not answer its heartbeat in 5 s (test)');
      else await createMemoryState(data).locks.remove('web', 'dev');
      const outcome = await running;

      expect(outcome.exitCode).toBe(130);
      expect(outcome.rollbacks).toEqual([]);
      await until(() => !isPidAlive(child), 'the grandchild to be stopped');
      const why = how === 'the network to the database is cut' ? 'the database did not answer its heartbeat in 5 s (test)' : 'its lock was removed (`deployctl unlock --force`)';
      const message = `lost the lock of web in dev: ${why}; its commands were stopped (interrupted during wait for the fifo), and deployctl cannot vouch for how deploy 2.0.0 of web in dev ended`;
      const saved = await state.history.get(outcome.record.id);
      expect(saved).toMatchObject({ status: 'interrupted', error: { code: 'lock_lost', message } });
      expect(saved?.healthy).toBeUndefined();
      expect(saved?.steps[0]).toMatchObject({ label: 'wait for the fifo', interrupted: true });
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'error', message }));
      const text = outcomeText(outcome);
      expect(text).toContain(`deploy of web 2.0.0 to dev was interrupted: ${message}`);
      expect(text).toContain('check what runs in dev and who holds its lock now (deployctl status web -e dev)');
      expect(text).not.toMatch(/succeeded|deployed web/);
      // The lock is free for the next deployment, which finds nothing left in flight.
      expect(await state.locks.inspect('web', 'dev')).toBeUndefined();
    }, 30_000);
  }

  it('a lock held to the end changes nothing: the same command, let go, succeeds', async () => {
    const dir = tempDir('deployctl-lock-kept-');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const { deps, request } = world(dir);
    const running = deployTarget(request, deps);
    await until(() => existsSync(join(dir, 'pids')), 'the command to start');
    // Opening the fifo for writing and closing it ends `cat`, and so the command.
    execFileSync('sh', ['-c', ': > "$0"', join(dir, 'fifo')]);
    const outcome = await running;
    expect(outcome.exitCode).toBe(0);
    expect(outcome.record.status).toBe('succeeded');
  }, 30_000);
});
