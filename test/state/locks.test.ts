import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockError } from '../../src/errors.js';
import { FileLockManager } from '../../src/state/locks.js';
import type { LockInfo } from '../../src/state/types.js';
import { tempDir } from '../support/cli.js';

describe('FileLockManager', () => {
  it('lets one holder in and tells the next who holds it and both ways out', async () => {
    const home = tempDir();
    const first = new FileLockManager(home, { user: 'ana', hostname: 'ci-7' });
    const second = new FileLockManager(home, { user: 'bo', hostname: 'ci-7' });
    const held = await first.acquire('web', 'prod', { command: 'deployctl deploy web -e prod' });
    const attempt = second.acquire('web', 'prod', { command: 'x' });
    await expect(attempt).rejects.toThrow(LockError);
    const error = (await attempt.catch((e) => e)) as LockError;
    expect(error.message).toMatch(new RegExp(`^Lock held by ana@ci-7 \\(pid ${process.pid}\\) since \\d\\d:\\d\\d: deployctl deploy web -e prod\\.$`));
    expect(error.hint).toBe('Wait with --wait-lock 5m, or run `deployctl unlock web -e prod` if that run is gone.');
    expect(error.exitCode).toBe(5);
    await held.release();
    expect(existsSync(join(home, 'locks', 'web_prod.lock'))).toBe(false);
    await (await second.acquire('web', 'prod', { command: 'x' })).release();
  });

  it('takes over a lock whose process is gone, with a warning naming the old holder', async () => {
    const home = tempDir();
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout);
    const gone = new FileLockManager(home, { pid: deadPid, user: 'old' });
    await gone.acquire('web', 'dev', { command: 'deployctl deploy web -e dev' });
    const stale: LockInfo[] = [];
    const handle = await new FileLockManager(home).acquire('web', 'dev', { command: 'x', onStale: (old) => stale.push(old) });
    expect(stale.map((s) => [s.user, s.pid])).toEqual([['old', deadPid]]);
    expect(handle.info.pid).toBe(process.pid);
    await handle.release();
  });

  it('never assumes a lock from another host is dead', async () => {
    const home = tempDir();
    await new FileLockManager(home, { hostname: 'other-host', pid: 999999, user: 'ana' }).acquire('web', 'dev', { command: 'x' });
    await expect(new FileLockManager(home).acquire('web', 'dev', { command: 'y' })).rejects.toThrow(/Lock held by ana@other-host \(pid 999999\) since .*, last refreshed \d+s ago/);
  });

  it('waits for the holder with --wait-lock', async () => {
    const home = tempDir();
    const held = await new FileLockManager(home).acquire('web', 'dev', { command: 'x' });
    setTimeout(() => void held.release(), 300);
    const waited = await new FileLockManager(home).acquire('web', 'dev', { command: 'y', waitMs: 5000 });
    expect(waited.info.command).toBe('y');
    await waited.release();
  });

  it('lets exactly one of many concurrent takers in', async () => {
    const home = tempDir();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => new FileLockManager(home, { user: `u${i}` }).acquire('web', 'dev', { command: String(i) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LockError)).toHaveLength(19);
  });

  it('treats a damaged lock file as held until it is old', async () => {
    const home = tempDir();
    const manager = new FileLockManager(home);
    await (await manager.acquire('web', 'dev', { command: 'x' })).release();
    writeFileSync(join(home, 'locks', 'web_dev.lock'), '');
    await expect(manager.acquire('web', 'dev', { command: 'y' })).rejects.toThrow(/damaged lock file/);
  });
});
