// The lock lost in the middle of a deployment (the memory backend's stand-in for a database session
// ended by `unlock --force` or a cut network): the engine stops the running command's whole process
// tree, records the deployment interrupted with the code lock_lost, says it lost the lock and what to
// do, and exits 130. The command blocks on a fifo nobody ever writes: only the engine can end it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types.js';
import { deployTarget, goodRecords, rollbackTarget, type DeployRequest } from '../../src/engine/deploy.js';
import { InterruptedError } from '../../src/errors.js';
import type { HistoryStore } from '../../src/state/types.js';
import type { DeployEvent } from '../../src/engine/events.js';
import { createRunner } from '../../src/engine/runner.js';
import type { Executor, PlanInput } from '../../src/executors/types.js';
import { outcomeText } from '../../src/cli/run-deployment.js';
import { createMemoryData, createMemoryState, loseLock } from '../../src/state/memory-store.js';
import { isPidAlive } from '../../src/state/process.js';
import { tempDir } from '../support/cli.js';
import { deployRequestOf, devEnvironment, echoExecutor, fakeWorld } from '../support/fakes.js';


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

/** A deploy of web in dev, rolled back automatically on failure. */
function deployRequest(version: string, path: string, timeout: number): DeployRequest {
  return deployRequestOf({ type: 'shell', path, variables: {}, secrets: [], timeout, hooks: {}, rollback: { auto: true, max_attempts: 3 } } as AppConfig, version);
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
  const request = deployRequest('2.0.0', dir, 0);
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

describe('the lock lost before a rollback could start', () => {
  const why = 'the database did not answer its heartbeat in 5 s (test)';

  /** A memory state whose history calls `lose` after each write; the fake runner, where `broken` versions fail. */
  function rollbackWorld(lose: (history: HistoryStore, data: ReturnType<typeof createMemoryData>) => void) {
    const data = createMemoryData();
    const state = createMemoryState(data, process.pid);
    const history = Object.create(state.history) as HistoryStore;
    lose(history, data);
    const fake = fakeWorld({ history, locks: state.locks, getExecutor: async () => echoExecutor, newRecordId: (app, env, at) => state.newRecordId(app, env, at) });
    const request = (version: string) => deployRequest(version, '/srv/web', 60_000);
    return { data, state, fake, request };
  }

  it('after a failed deploy: the automatic rollback says it did not start because the lock was lost, and what to do; never "no earlier good version"', async () => {
    const { state, fake, request } = rollbackWorld((history, data) => {
      const write = history.write.bind(history);
      history.write = async (record) => {
        await write(record);
        // The failure is stored, then the lock goes: before the rollback's first attempt.
        if (record.version === '2.0.0' && record.status === 'failed') loseLock(data, 'web', 'dev', why);
      };
    });
    expect((await deployTarget(request('1.0.0'), fake.deps)).exitCode).toBe(0);
    fake.broken.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0'), fake.deps);

    expect(outcome.exitCode).toBe(3);
    expect(outcome.rollbacks).toEqual([]);
    const stopped =
      `automatic rollback of web in dev did not start: lost the lock of web in dev: ${why}; nothing was rolled back. ` +
      'check what runs in dev and who holds its lock now (deployctl status web -e dev); if a colleague forced the lock (deployctl unlock --force, shown by deployctl audit), agree with them before deploying again; ' +
      'if the state could not be reached (a PostgreSQL state behind a cut network), check the way to it; then deploy again if needed; or roll back by hand with `deployctl rollback web -e dev` once nobody else deploys there';
    expect(outcome.stopped).toBe(stopped);
    expect(fake.events).toContainEqual(expect.objectContaining({ type: 'log', level: 'error', message: stopped }));
    expect(fake.events.some((e) => e.type === 'log' && /no earlier good version/.test(e.message))).toBe(false);
    expect(outcomeText(outcome)).toContain(stopped);
    // The failed record says it too, and nothing ran after the failure.
    const saved = await state.history.get(outcome.record.id);
    expect(saved).toMatchObject({ status: 'failed', notes: [stopped] });
    expect((await state.history.list({ app: 'web', env: 'dev' })).map((r) => `${r.version} ${r.status}`)).toEqual(['2.0.0 failed', '1.0.0 succeeded']);
    expect(await state.locks.inspect('web', 'dev')).toBeUndefined();
  });

  it('a manual rollback: lost after the lock was taken, before its first attempt: exit 130 naming the lost lock and what to do, nothing run', async () => {
    let armed = false;
    const { state, fake, request } = rollbackWorld((history, data) => {
      const settle = history.interruptInFlight.bind(history);
      // Under the lock, records in flight are settled first: once armed, the lock goes right then.
      history.interruptInFlight = async (app, env, message) => {
        const settled = await settle(app, env, message);
        if (armed) loseLock(data, app, env, why);
        return settled;
      };
    });
    for (const version of ['1.0.0', '2.0.0']) expect((await deployTarget(request(version), fake.deps)).exitCode).toBe(0);
    armed = true;
    const before = (await state.history.list({})).length;
    const candidates = await goodRecords(state.history, 'web', 'dev', new Set(['2.0.0']));
    const error = await rollbackTarget(candidates, { ...request('x'), app: 'web', env: 'dev', environment: devEnvironment }, fake.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    expect((error as InterruptedError).message).toBe(`lost the lock of web in dev: ${why}; rollback of web 1.0.0 to dev did not start: nothing was run`);
    expect((error as InterruptedError).hint).toMatch(/^check what runs in dev and who holds its lock now \(deployctl status web -e dev\)/);
    expect((await state.history.list({})).length).toBe(before);
    expect(await state.locks.inspect('web', 'dev')).toBeUndefined();
  });
});

describe('the lock removed in the last moment, before its holder could notice', () => {
  /**
   * The lock of web in dev taken from the holder right after its deploy command, without a word to the
   * holder (as `unlock --force` does a moment before its watcher or heartbeat sees it): only the check
   * the record phase makes as it writes can find it.
   */
  function silentWorld() {
    const data = createMemoryData();
    const state = createMemoryState(data, process.pid);
    const events: DeployEvent[] = [];
    const fake = fakeWorld({
      history: state.history,
      locks: state.locks,
      newRecordId: (app, env, at) => state.newRecordId(app, env, at),
      emit: (event) => {
        events.push(event);
        if (event.type === 'phase' && event.phase === 'deploy' && event.status !== 'start') data.locks.delete('web_dev');
      },
    });
    return { state, events, fake, request: (version: string) => deployRequest(version, '/srv/web', 60_000) };
  }

  it('a deploy that succeeded is recorded interrupted (lock_lost), exits 130, and never says it succeeded', async () => {
    const { state, events, fake, request } = silentWorld();
    const outcome = await deployTarget(request('2.0.0'), fake.deps);

    expect(outcome.exitCode).toBe(130);
    const message =
      'lost the lock of web in dev: its lock was removed (`deployctl unlock --force`); its commands had run, and deployctl cannot vouch for how deploy 2.0.0 of web in dev ended';
    const saved = await state.history.get(outcome.record.id);
    expect(saved).toMatchObject({ status: 'interrupted', error: { code: 'lock_lost', message } });
    expect(saved?.healthy).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'error', message }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'record', status: 'done', message: `saved ${saved!.id} (interrupted)` }));
    expect(events.some((e) => e.type === 'phase' && e.phase === 'record' && /succeeded/.test(e.message ?? ''))).toBe(false);
    const text = outcomeText(outcome);
    expect(text).toContain(`deploy of web 2.0.0 to dev was interrupted: ${message}`);
    expect(text).toContain('check what runs in dev and who holds its lock now (deployctl status web -e dev)');
    expect(text).not.toMatch(/succeeded|deployed web/);
  });

  it('a deploy that failed is recorded as a lost lock too: not marked bad, not rolled back (another may deploy there now), exit 130', async () => {
    const { state, fake, request } = silentWorld();
    fake.broken.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0'), fake.deps);

    expect(outcome.exitCode).toBe(130);
    expect(outcome.rollbacks).toEqual([]);
    const saved = await state.history.get(outcome.record.id);
    expect(saved).toMatchObject({ status: 'interrupted', error: { code: 'lock_lost' } });
    expect(saved?.error?.message).toContain('it had failed before (');
    expect(saved?.bad).toBeUndefined();
    expect((await state.history.list({})).map((r) => r.status)).toEqual(['interrupted']);
  });
});
