// The state files on a real full disk (a small tmpfs filled up): every write either happens whole or
// fails with a StateWriteError naming the file and the cause, and leaves no temp file and no half line.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateWriteError } from '../../src/errors.js';
import { appendAudit, readAudit, type AuditEntry } from '../../src/state/audit.js';
import { writeFileAtomic } from '../../src/state/atomic.js';
import { FileHistoryStore } from '../../src/state/history.js';
import { FileLockManager } from '../../src/state/locks.js';
import type { DeployRecord } from '../../src/state/types.js';
import { record as webDev, stateHome } from '../support/records.js';
import { SmallDisk } from '../support/small-disk.js';
import { tmpfsMissing } from '../support/tools.js';

const record = (version: string, extra: Partial<DeployRecord> = {}) => webDev('web', 'dev', version, extra);

/** Every file under the state folder, relative to it. */
function files(home: string): string[] {
  return ['history', 'index', 'locks'].flatMap((dir) => (existsSync(join(home, dir)) ? readdirSync(join(home, dir)).map((f) => `${dir}/${f}`) : [])).sort();
}

describe.skipIf(tmpfsMissing())('state files on a full disk', () => {
  const disks: SmallDisk[] = [];
  const mount = () => {
    const disk = SmallDisk.mount(256);
    disks.push(disk);
    return disk;
  };
  afterEach(() => {
    while (disks.length) disks.pop()!.unmount();
  });

  it('writeFileAtomic: the old content stays, and the temp file is removed', async () => {
    const disk = mount();
    const file = join(disk.dir, 'state.json');
    writeFileSync(file, 'old');
    disk.fill();
    const failure = await writeFileAtomic(file, 'new content').catch((e: NodeJS.ErrnoException) => e);
    expect((failure as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(disk.dir).sort()).toEqual(['filler', 'state.json']);
  });

  it('a record the disk refuses: a StateWriteError naming the file, the cause and the fix, and the history as it was', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const store = new FileHistoryStore(home);
    const first = record('1.0.0');
    await store.write(first);
    const before = files(home);
    disk.fill();
    const second = record('2.0.0', { status: 'pending' });
    const failure = (await store.write(second).catch((e: unknown) => e)) as StateWriteError;
    expect(failure).toBeInstanceOf(StateWriteError);
    expect(failure.message).toBe(`cannot write the record ${join(home, 'history', `${second.id}.json`)}: no space left on device`);
    expect(failure.hint).toBe(
      `free space on the disk that holds ${join(home, 'history')} (df -h ${join(home, 'history')}; df -i ${join(home, 'history')} for inodes), or point --home (or DEPLOYCTL_HOME) at a folder on another disk`,
    );
    expect(failure).toMatchObject({ code: 'state_write_failed', exitCode: 2, errno: 'ENOSPC' });
    expect(files(home)).toEqual(before);
    expect((await new FileHistoryStore(home).list({})).map((r) => r.version)).toEqual(['1.0.0']);
  });

  it('a new record whose index the disk refuses is taken back: the history is as it was', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const store = new FileHistoryStore(home);
    await store.write(record('1.0.0'));
    const before = files(home);
    // One free page: the record takes it, its index then finds none.
    disk.fill(1);
    const failure = (await store.write(record('2.0.0', { status: 'pending' })).catch((e: unknown) => e)) as StateWriteError;
    expect(failure).toBeInstanceOf(StateWriteError);
    expect(failure.message).toBe(`cannot update the index ${join(home, 'index', 'web_dev.json')}: no space left on device`);
    expect(files(home)).toEqual(before);
    expect((await new FileHistoryStore(home).list({})).map((r) => r.version)).toEqual(['1.0.0']);
  });

  it('an updated record whose index the disk refuses is saved, and the index is rebuilt from the records on the next read', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const store = new FileHistoryStore(home);
    // An index of more than one page, so that rewriting it needs more room than the record's update leaves.
    for (let i = 0; i < 30; i++) await store.write(record(`0.${i}`));
    const running = record('1.0.0', { status: 'running' });
    await store.write(running);
    disk.fill(2);
    // Two pages for the record's new content; its old page comes back when it replaces the old file.
    await store.write({ ...running, status: 'succeeded', notes: ['x'.repeat(5000)] });
    expect(existsSync(join(home, 'index', 'web_dev.json'))).toBe(false);
    expect(files(home).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    disk.free();
    const reader = new FileHistoryStore(home);
    expect((await reader.list({ status: 'succeeded', limit: 1 })).map((r) => r.version)).toEqual(['1.0.0']);
    expect(reader.warnings()).toEqual(['the index of web in dev was missing: rebuilt from the records']);
  });

  it('reading on a full disk: a record left running by a gone process reads as interrupted, a lost index is rebuilt in memory, with warnings', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const store = new FileHistoryStore(home);
    await store.write(record('1.0.0'));
    // pid 2^22 + 1 is above Linux's pid_max: no such process.
    const orphan = record('2.0.0', { status: 'running', pid: 4_194_305, finishedAt: undefined, durationMs: undefined });
    await store.write(orphan);
    const { rmSync } = await import('node:fs');
    rmSync(join(home, 'index', 'web_dev.json'));
    disk.fill();
    const reader = new FileHistoryStore(home);
    const listed = await reader.list({});
    expect(listed.map((r) => `${r.version} ${r.status}`)).toEqual(['2.0.0 interrupted', '1.0.0 succeeded']);
    expect((await reader.current()).map((r) => `${r.version} ${r.status}`)).toEqual(['2.0.0 interrupted']);
    expect(reader.warnings()).toEqual([
      'the rebuilt index of web in dev could not be saved: no space left on device',
      `record ${orphan.id} is shown as interrupted but could not be saved so: no space left on device`,
      'the index of web in dev was missing: rebuilt from the records',
    ]);
    expect(JSON.parse(readFileSync(join(home, 'history', `${orphan.id}.json`), 'utf8')).status).toBe('running');
    expect(files(home).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('prune works on a full disk (deleting is how room is made): the index goes, and the next read rebuilds it', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const store = new FileHistoryStore(home);
    for (const v of ['1', '2', '3', '4', '5']) await store.write(record(v));
    disk.fill();
    const { deleted } = await store.prune({ keep: 2 });
    expect(deleted).toHaveLength(3);
    expect(files(home).filter((f) => f.startsWith('history/'))).toHaveLength(2);
    expect(files(home).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    const reader = new FileHistoryStore(home);
    expect((await reader.list({})).map((r) => r.version)).toEqual(['5', '4']);
  });

  it('a lock the disk refuses: a StateWriteError, and no temp file in locks/', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    disk.fill();
    const locks = new FileLockManager(home);
    const failure = (await locks.acquire('web', 'dev', { command: 'deployctl deploy web -e dev' }).catch((e: unknown) => e)) as StateWriteError;
    expect(failure).toBeInstanceOf(StateWriteError);
    expect(failure.message).toBe(`cannot create the lock ${join(home, 'locks', 'web_dev.lock')}: no space left on device`);
    expect(readdirSync(join(home, 'locks'))).toEqual([]);
  });

  it('a lock the disk will not let go (read-only): release says how it goes away', async () => {
    const disk = mount();
    const home = await stateHome(join(disk.dir, 'home'));
    const locks = new FileLockManager(home);
    const lock = await locks.acquire('web', 'dev', { command: 'deployctl deploy web -e dev' });
    disk.remount('ro');
    try {
      const failure = (await lock.release().catch((e: unknown) => e)) as StateWriteError;
      const file = join(home, 'locks', 'web_dev.lock');
      expect(failure).toBeInstanceOf(StateWriteError);
      expect(failure.message).toBe(`cannot remove the lock ${file}: read-only file system`);
      expect(failure.hint).toBe(
        `the next deploy of web in dev on this machine takes it over once this process has exited; or remove it with \`deployctl unlock web -e dev\` (or rm ${file}) when the disk allows it again`,
      );
    } finally {
      disk.remount('rw');
    }
  });

  it('the audit log: a line the disk takes only part of is cut off again, so every line stays whole', async () => {
    const disk = mount();
    const home = disk.dir;
    const entry = (i: number): AuditEntry => ({ at: new Date(Date.parse('2026-11-24T10:00:00Z') + i).toISOString(), action: 'deploy', app: 'web', env: 'dev', version: `1.0.${i}`, result: 'succeeded', user: 'ana', host: 'laptop' });
    // Lines up to 100 bytes short of a page: the next line (longer than that) fits only in part.
    while (true) {
      const size = existsSync(join(home, 'audit.log')) ? readFileSync(join(home, 'audit.log')).length : 0;
      const next = JSON.stringify(entry(0)).length + 1;
      if (size + next > disk.blockSize() - 100) break;
      await appendAudit(home, entry(size));
    }
    const before = readFileSync(join(home, 'audit.log'), 'utf8');
    expect(disk.blockSize() - before.length).toBeGreaterThan(0);
    disk.fill();
    const failure = (await appendAudit(home, { ...entry(1), details: { note: 'y'.repeat(400) } }).catch((e: unknown) => e)) as StateWriteError;
    expect(failure).toBeInstanceOf(StateWriteError);
    expect(failure.message).toBe(`cannot write the audit log ${join(home, 'audit.log')}: no space left on device`);
    expect(readFileSync(join(home, 'audit.log'), 'utf8')).toBe(before);
    disk.free();
    await appendAudit(home, entry(2));
    const lines = readFileSync(join(home, 'audit.log'), 'utf8').trimEnd().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect((await readAudit(home, { limit: 1 }))[0]?.version).toBe('1.0.2');
  });
});
