import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InterruptedError, LockError, StateWriteError } from '../../src/errors.js';
import { removeJudged } from '../../src/state/file-lock.js';
import { FileHistoryStore } from '../../src/state/history.js';
import { FileLockManager } from '../../src/state/locks.js';
import type { LockInfo, Takeover } from '../../src/state/types.js';
import { isPidAlive, processStartTime } from '../../src/state/process.js';
import { tempDir } from '../support/cli.js';
import { record, stateHome } from '../support/records.js';

const lockFile = (home: string, key = 'web_dev') => join(home, 'locks', `${key}.lock`);
const readLock = (home: string, key?: string) => JSON.parse(readFileSync(lockFile(home, key), 'utf8')) as LockInfo & { pidStart?: string };
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout);

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FileLockManager', () => {
  it('writes pid, host, user, command, start time and a token, and lets no second holder in', async () => {
    const home = await stateHome();
    const held = await new FileLockManager(home, { user: 'ana', hostname: 'ci-7' }).acquire('web', 'prod', { command: 'deployctl deploy web -e prod' });
    const lock = readLock(home, 'web_prod');
    expect(lock).toMatchObject({ app: 'web', env: 'prod', pid: process.pid, host: 'ci-7', user: 'ana', command: 'deployctl deploy web -e prod' });
    expect(lock.token).toMatch(/^[a-f0-9]{24}$/);
    expect(Date.parse(lock.startedAt)).not.toBeNaN();
    expect(lock.refreshedAt).toBe(lock.startedAt);
    const attempt = new FileLockManager(home, { user: 'bo', hostname: 'ci-7' }).acquire('web', 'prod', { command: 'x' });
    const error = (await attempt.catch((e) => e)) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(new RegExp(`^Lock held by ana@ci-7 \\(pid ${process.pid}\\) since \\d\\d:\\d\\d: deployctl deploy web -e prod\\.$`));
    // The holder is alive here: `unlock` would need --force.
    expect(error.hint).toBe('Wait with --wait-lock 5m, or run `deployctl unlock web -e prod --force` if that run is gone.');
    await held.release();
    expect(existsSync(lockFile(home, 'web_prod'))).toBe(false);
  });

  it('takes over a lock whose process is gone, with a warning naming the old holder', async () => {
    const home = await stateHome();
    const pid = deadPid();
    await new FileLockManager(home, { pid, user: 'old' }).acquire('web', 'dev', { command: 'deployctl deploy web -e dev' });
    const stale: LockInfo[] = [];
    const handle = await new FileLockManager(home).acquire('web', 'dev', { command: 'x', onStale: (old) => stale.push(old) });
    expect(stale.map((s) => [s.user, s.pid, s.command])).toEqual([['old', pid, 'deployctl deploy web -e dev']]);
    expect(readLock(home)).toMatchObject({ pid: process.pid, command: 'x', token: handle.info.token });
    await handle.release();
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async () => {
    const home = await stateHome();
    await new FileLockManager(home, { user: 'old' }).acquire('web', 'dev', { command: 'first' });
    // Same pid as a live process (this one), but the process that took the lock started at another time.
    const lock = readLock(home);
    expect(lock.pidStart).toMatch(/^\d+$/);
    writeFileSync(lockFile(home), JSON.stringify({ ...lock, pidStart: String(Number(lock.pidStart) + 1) }));
    const stale: LockInfo[] = [];
    const handle = await new FileLockManager(home).acquire('web', 'dev', { command: 'second', onStale: (old) => stale.push(old) });
    expect(stale.map((s) => s.command)).toEqual(['first']);
    await handle.release();
  });

  it('never assumes a lock from another host is dead: shows how long ago it was refreshed', async () => {
    const home = await stateHome();
    await new FileLockManager(home, { hostname: 'other-host', pid: 999999, user: 'ana' }).acquire('web', 'dev', { command: 'x' });
    const fresh = (await new FileLockManager(home).acquire('web', 'dev', { command: 'y' }).catch((e) => e)) as LockError;
    expect(fresh.message).toMatch(/^Lock held by ana@other-host \(pid 999999\) since .*, last refreshed just now: x\.$/);
    expect(fresh.hint).toContain('`deployctl unlock web -e dev --force`');
    // Not refreshed for ten minutes: still not taken over, but `unlock` needs no --force.
    const quiet = new Date(Date.now() - 600_000).toISOString();
    writeFileSync(lockFile(home), JSON.stringify({ ...readLock(home), refreshedAt: quiet }));
    const silent = (await new FileLockManager(home).acquire('web', 'dev', { command: 'y' }).catch((e) => e)) as LockError;
    expect(silent).toBeInstanceOf(LockError);
    expect(silent.message).toContain('last refreshed 10m ago');
    expect(silent.hint).toBe('Wait with --wait-lock 5m, or run `deployctl unlock web -e dev` if that run is gone.');
    expect(await new FileLockManager(home).inspect('web', 'dev')).toMatchObject({ state: 'silent', holder: { host: 'other-host' } });
  });

  it('refreshes a held lock while it runs, and stops when released', async () => {
    const home = await stateHome();
    const handle = await new FileLockManager(home, { refreshMs: 20 }).acquire('web', 'dev', { command: 'x' });
    const first = readLock(home).refreshedAt;
    await until(() => readLock(home).refreshedAt !== first);
    expect(readLock(home).token).toBe(handle.info.token);
    await handle.release();
    expect(existsSync(lockFile(home))).toBe(false);
  });

  it('waits for the holder with --wait-lock', async () => {
    const home = await stateHome();
    const held = await new FileLockManager(home).acquire('web', 'dev', { command: 'x' });
    setTimeout(() => void held.release(), 300);
    const waited = await new FileLockManager(home).acquire('web', 'dev', { command: 'y', waitMs: 5000 });
    expect(waited.info.command).toBe('y');
    await waited.release();
  });

  it('gives up after --wait-lock, saying how long it waited', async () => {
    const home = await stateHome();
    const held = await new FileLockManager(home).acquire('web', 'dev', { command: 'x' });
    const error = (await new FileLockManager(home).acquire('web', 'dev', { command: 'y', waitMs: 200 }).catch((e) => e)) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.message).toMatch(/ after waiting 200ms\.$/);
    await held.release();
  });

  it('stops waiting when interrupted (Ctrl-C): exit 130, not 5', async () => {
    const home = await stateHome();
    const held = await new FileLockManager(home).acquire('web', 'dev', { command: 'x' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const error = await new FileLockManager(home).acquire('web', 'dev', { command: 'y', waitMs: 60_000, signal: abort.signal }).catch((e) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error.exitCode).toBe(130);
    await held.release();
  });

  it('lets exactly one of many concurrent takers in', async () => {
    const home = await stateHome();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => new FileLockManager(home, { user: `u${i}` }).acquire('web', 'dev', { command: String(i) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LockError)).toHaveLength(19);
  });

  it('removes by hand only the lock it was shown (by token)', async () => {
    const home = await stateHome();
    const manager = new FileLockManager(home);
    const held = await manager.acquire('web', 'dev', { command: 'x' });
    expect(await manager.remove('web', 'dev', 'not-the-token')).toBeUndefined();
    expect(existsSync(lockFile(home))).toBe(true);
    expect((await manager.remove('web', 'dev', held.info.token))?.command).toBe('x');
    expect(existsSync(lockFile(home))).toBe(false);
  });

  it('treats a damaged lock file as held until it is old', async () => {
    const home = await stateHome();
    const manager = new FileLockManager(home);
    await (await manager.acquire('web', 'dev', { command: 'x' })).release();
    writeFileSync(lockFile(home), '');
    await expect(manager.acquire('web', 'dev', { command: 'y' })).rejects.toThrow(/damaged lock file/);
  });

  it('keeps its lock through its own rewrites (refresh, the commands it runs): no lost signal', async () => {
    const home = await stateHome();
    const handle = await new FileLockManager(home, { refreshMs: 10, lossCheckMs: 10 }).acquire('web', 'dev', { command: 'x' });
    for (let i = 0; i < 20; i++) {
      await handle.track!(process.pid, `step ${i}`);
      await handle.untrack!(process.pid);
    }
    const first = readLock(home).refreshedAt;
    await until(() => readLock(home).refreshedAt !== first);
    expect(handle.lost?.aborted).toBe(false);
    await handle.release();
    expect(handle.lost?.aborted).toBe(false);
  });

  it('tells a holder whose lock file was removed by hand, or removed and taken by another, that it lost the lock; it then leaves the new lock alone', async () => {
    const home = await stateHome();
    const manager = new FileLockManager(home, { user: 'ana' });
    const removed = await manager.acquire('web', 'dev', { command: 'x' });
    rmSync(lockFile(home));
    await until(() => removed.lost?.aborted === true);
    expect((removed.lost!.reason as Error).message).toBe(`its lock file was removed (\`deployctl unlock --force\`, or by hand): ${lockFile(home)}`);
    await removed.release();

    // Taken by another at once (its lock file replaced whole): the holder finds another token there, and names its holder.
    const taken = await new FileLockManager(home, { user: 'ana', lossCheckMs: 20 }).acquire('web', 'dev', { command: 'x' });
    const other = { ...readLock(home), user: 'bo', host: 'ci-7', pid: 4242, command: 'deployctl deploy web -e dev', token: 'another-token' };
    writeFileSync(`${lockFile(home)}.new`, JSON.stringify(other));
    renameSync(`${lockFile(home)}.new`, lockFile(home));
    await until(() => taken.lost?.aborted === true);
    expect((taken.lost!.reason as Error).message).toMatch(
      /^its lock file was removed \(`deployctl unlock --force`, or by hand\), and the lock is held now by bo@ci-7 \(pid 4242\) since \d\d:\d\d, last refreshed .*: deployctl deploy web -e dev$/,
    );
    await taken.release();
    // Its release leaves the other's lock alone.
    expect(readLock(home).token).toBe('another-token');
  });

  it('a record written under the lock reads the lock file again first: removed the moment before (no watcher or poll has run yet), the write is refused, nothing is written, and the holder is told', async () => {
    const home = await stateHome();
    const manager = new FileLockManager(home, { user: 'ana', lossCheckMs: 60_000 });
    const held = await manager.acquire('web', 'dev', { command: 'x' });
    const history = new FileHistoryStore(home);
    const r = record('web', 'dev', '1.0.0', { status: 'running', finishedAt: undefined });
    await history.write(r, { heldBy: held });
    // Removed, and the write asked for in the same turn of the event loop: only its own read can see it.
    rmSync(lockFile(home));
    const refused = (await history.write({ ...r, status: 'succeeded' }, { heldBy: held }).catch((e) => e)) as StateWriteError;
    expect(refused).toBeInstanceOf(StateWriteError);
    expect(refused.errno).toBe('LOCK_LOST');
    expect(refused.message).toBe(
      `lost the lock of web in dev: its lock file was removed (\`deployctl unlock --force\`, or by hand): ${lockFile(home)}; deployctl cannot vouch for how deploy 1.0.0 of web in dev ended`,
    );
    expect(held.lost?.aborted).toBe(true);
    expect((await history.get(r.id))?.status).toBe('running');
    await held.release();
  });
});

describe('judging a lock that may be stale never makes a live holder think it lost its lock', () => {
  it('a waiter that judged a lock a moment ago, now replaced by a live one, does not touch the live one', async () => {
    const home = await stateHome();
    const file = lockFile(home);
    const live = await new FileLockManager(home).acquire('web', 'dev', { command: 'x' });
    const events: string[] = [];
    const watcher = watch(join(home, 'locks'), (_event, name) => events.push(String(name)));
    try {
      // The waiter judged the previous holder's lock (another token) stale: nothing is moved or removed.
      expect(await removeJudged(file, (content) => (JSON.parse(content) as LockInfo).token === 'the-previous-holder')).toBe(false);
      // A file written after it: its event comes after any event of the lock's (one watcher sees them in order).
      writeFileSync(join(home, 'locks', 'sentinel'), '');
      await until(() => events.includes('sentinel'));
      expect(events.slice(0, events.indexOf('sentinel')).filter((n) => n.startsWith('web_dev.lock'))).toEqual([]);
    } finally {
      watcher.close();
    }
    await live.release();
    expect(live.lost?.aborted).toBe(false);
  });

  it('a holder whose lock file is moved aside while another process judges it waits for it to come back', async () => {
    const home = await stateHome();
    const file = lockFile(home);
    const handle = await new FileLockManager(home, { lossCheckMs: 10 }).acquire('web', 'dev', { command: 'x' });
    const content = readFileSync(file, 'utf8');
    // Moved aside by a judge; the aside copy is a pipe, so the test knows when the holder reads it.
    const aside = `${file}.0123456789ab.stale`;
    expect(spawnSync('mkfifo', [aside]).status).toBe(0);
    rmSync(file);
    const tracked = handle.track!(process.pid, 'step');
    const pipe = await open(aside, 'w'); // opens once the holder reads the aside copy
    await pipe.writeFile(content);
    await pipe.close();
    // The judge finds it alive and puts it back.
    writeFileSync(file, content);
    rmSync(aside);
    await tracked;
    expect(handle.lost?.aborted).toBe(false);
    expect(readLock(home).processes?.map((p) => p.command)).toEqual(['step']);
    // Removed for good, it is lost.
    rmSync(file);
    await until(() => handle.lost?.aborted === true);
    await handle.release();
  });
});

describe('taking over a stale lock stops what its holder left running', () => {
  /** A stale lock of a dead pid on this host, recording the given process groups. */
  const staleLockWith = async (home: string, processes: Array<{ pid: number; start?: string; command?: string }>) => {
    const pid = deadPid();
    await new FileLockManager(home, { pid, user: 'old' }).acquire('web', 'dev', { command: 'deployctl deploy web -e dev' });
    writeFileSync(lockFile(home), JSON.stringify({ ...readLock(home), processes }));
  };
  /** `sleep 300` in a process group of its own, as the runner starts commands. */
  const group = async () => {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    await once(child, 'spawn');
    child.unref();
    return child.pid!;
  };

  it('never signals a pid that another process has now (its start time differs)', async () => {
    const home = await stateHome();
    const other = await group();
    try {
      await staleLockWith(home, [{ pid: other, start: String(Number(processStartTime(other)) - 1), command: 'old command' }]);
      const seen: Takeover[] = [];
      const handle = await new FileLockManager(home).acquire('web', 'dev', { command: 'x', onStale: (_old, t) => seen.push(t) });
      expect(seen).toEqual([{ stopped: [], leftRunning: [] }]);
      expect(isPidAlive(other)).toBe(true);
      await handle.release();
    } finally {
      process.kill(-other, 'SIGKILL');
    }
  });

  it('stops a group whose leader is gone but whose members still run', async () => {
    const home = await stateHome();
    const pidFile = join(tempDir(), 'pid');
    // The leader (sh) starts sleep in its group, writes its pid, and exits.
    const leader = spawn('sh', ['-c', `sleep 300 & echo $! > "${pidFile}"`], { detached: true, stdio: 'ignore' });
    await once(leader, 'spawn');
    const start = processStartTime(leader.pid!);
    await once(leader, 'exit');
    const member = Number(readFileSync(pidFile, 'utf8'));
    expect(isPidAlive(member)).toBe(true);
    await staleLockWith(home, [{ pid: leader.pid!, start, command: 'sh -c ...' }]);
    const seen: Takeover[] = [];
    const handle = await new FileLockManager(home).acquire('web', 'dev', { command: 'x', onStale: (_old, t) => seen.push(t) });
    expect(seen.map((t) => t.stopped.map((p) => p.pid))).toEqual([[leader.pid]]);
    expect(isPidAlive(member)).toBe(false);
    await handle.release();
  });
});
