import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileHistoryStore, INDEX_CAP } from '../../src/state/history.js';
import { goodOnes, runningRecord } from '../../src/core/rollback-policy.js';
import type { IndexEntry, TargetHead } from '../../src/state/types.js';
import { processStartTime } from '../../src/state/process.js';
import { generateRecords, INDEX_CAP as BENCH_INDEX_CAP } from '../../bench/records.mjs';
import { tempDir } from '../support/cli.js';
import { record, stateHome } from '../support/records.js';

/** Every index file gone (the folder stays: the state folder is made once per process, when a store is opened). */
const emptyIndex = (home: string) => {
  for (const name of readdirSync(join(home, 'index'))) rmSync(join(home, 'index', name));
};

describe('FileHistoryStore', () => {
  it('writes one 0600 file per record atomically, in a 0700 folder, with ids safe as file names', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    const r = record('web', 'prod', '1.0.0');
    await store.write(r);
    expect(r.id).toMatch(/^web_prod_\d{8}T\d{9}Z_[a-f0-9]{6}$/);
    const files = readdirSync(join(home, 'history'));
    expect(files).toEqual([`${r.id}.json`]);
    expect(statSync(join(home, 'history', files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'history')).mode & 0o777).toBe(0o700);
    expect(await store.get(r.id)).toEqual(r);
  });

  it('lists newest first with filters, across targets', async () => {
    const store = new FileHistoryStore(await stateHome());
    const a = record('web', 'dev', '1');
    const b = record('api', 'dev', '2', { status: 'failed' });
    const c = record('web', 'prod', '3');
    for (const r of [a, b, c]) await store.write(r);
    expect((await store.list({})).map((r) => r.version)).toEqual(['3', '2', '1']);
    expect((await store.list({ env: 'dev' })).map((r) => r.version)).toEqual(['2', '1']);
    expect((await store.list({ status: 'failed' })).map((r) => r.version)).toEqual(['2']);
    expect((await store.list({ limit: 1 })).map((r) => r.version)).toEqual(['3']);
    expect((await store.current()).map((r) => `${r.app}/${r.env}=${r.version}`)).toEqual(['api/dev=2', 'web/dev=1', 'web/prod=3']);
  });

  it('ignores half-written temp files and reports damaged records instead of failing', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    const good = record('web', 'dev', '1');
    await store.write(good);
    writeFileSync(join(home, 'history', `.${good.id}.json.abc.tmp`), '{"half":');
    const broken = record('web', 'dev', '2');
    writeFileSync(join(home, 'history', `${broken.id}.json`), '{not json');
    emptyIndex(home);
    const fresh = new FileHistoryStore(home);
    expect((await fresh.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['1']);
    expect(fresh.warnings().join('\n')).toContain('is damaged (not JSON): skipped');
  });

  it('rebuilds a damaged index from the records', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    for (const v of ['1', '2', '3']) await store.write(record('web', 'dev', v));
    writeFileSync(join(home, 'index', 'web_dev.json'), 'garbage');
    const fresh = new FileHistoryStore(home);
    expect((await fresh.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['3', '2', '1']);
    expect(fresh.warnings()).toContain('the index of web in dev was damaged: rebuilt from the records');
    expect(JSON.parse(readFileSync(join(home, 'index', 'web_dev.json'), 'utf8')).entries).toHaveLength(3);
  });

  it('reports a record left running by a process that is gone as interrupted, and rewrites it', async () => {
    const store = new FileHistoryStore(await stateHome());
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout.trim());
    const r = record('web', 'dev', '1', { status: 'running', pid: deadPid, finishedAt: undefined });
    await store.write(r);
    const [latest] = await store.list({ app: 'web', env: 'dev', limit: 1 });
    expect(latest?.status).toBe('interrupted');
    expect(latest?.error?.message).toContain(`deployctl (pid ${deadPid}`);
    expect((await store.get(r.id))?.status).toBe('interrupted');
  });

  it('prunes old records but never the newest, the current one, or the one a rollback would go back to', async () => {
    const store = new FileHistoryStore(await stateHome());
    const v1 = record('web', 'dev', '1');
    const v2 = record('web', 'dev', '2');
    await store.write(v1);
    await store.write(record('web', 'dev', '1.5', { status: 'failed', healthy: false, bad: true }));
    await store.write(v2);
    for (const v of ['3', '4']) await store.write(record('web', 'dev', v, { status: 'rolled_back', healthy: false, bad: true }));
    const newest = record('web', 'dev', '5', { status: 'failed', healthy: false, bad: true });
    await store.write(newest);
    // The rollback policy is the caller's: here, as the engine passes it, the good record a bare rollback goes to.
    const protect = (entries: readonly IndexEntry[]) => {
      const running = runningRecord(entries);
      return [goodOnes(entries)[0], goodOnes(entries, new Set(running ? [running.version] : []))[0]].flatMap((e) => (e ? [e.id] : []));
    };
    const { deleted } = await store.prune({ keep: 0, protect });
    expect(deleted).toHaveLength(3);
    // 5: the newest; 2: what runs (the newest that succeeded); 1: where a bare rollback would go
    expect((await store.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['5', '2', '1']);
    expect(await store.prune({ keep: 0, protect })).toEqual({ deleted: [] });
    // Without a policy the store keeps only its minimum: the newest and the newest that succeeded.
    expect((await store.prune({ keep: 0 })).deleted).toEqual([v1.id]);
  });

  it('prunes only records older than --older-than', async () => {
    const store = new FileHistoryStore(await stateHome());
    const old = record('web', 'dev', '1', { startedAt: '2020-01-01T00:00:00.000Z' });
    await store.write(old);
    for (const v of ['2', '3', '4']) await store.write(record('web', 'dev', v));
    const { deleted } = await store.prune({ keep: 1, olderThan: new Date('2021-01-01T00:00:00Z') });
    expect(deleted).toEqual([old.id]);
    expect((await store.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['4', '3', '2']);
  });

  it('rewrites a record of a dead process as interrupted when it is read by id', async () => {
    const store = new FileHistoryStore(await stateHome());
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
    const r = record('web', 'dev', '1', { status: 'pending', pid: deadPid, finishedAt: undefined });
    await store.write(r);
    expect((await store.get(r.id))?.status).toBe('interrupted');
    expect((await store.list({ app: 'web', env: 'dev', status: 'interrupted' })).map((x) => x.id)).toEqual([r.id]);
  });

  it('marks every record still in flight as interrupted when asked under the lock, whatever its host', async () => {
    const store = new FileHistoryStore(await stateHome());
    const remote = record('web', 'dev', '1', { status: 'running', host: 'another-host', pid: 4242, finishedAt: undefined });
    const done = record('web', 'dev', '2');
    await store.write(remote);
    await store.write(done);
    const settled = await store.interruptInFlight('web', 'dev', (r) => `lost ${r.pid}`);
    expect(settled.map((r) => r.id)).toEqual([remote.id]);
    expect(await store.get(remote.id)).toMatchObject({ status: 'interrupted', error: { code: 'interrupted', message: 'lost 4242' } });
    expect((await store.get(done.id))?.status).toBe('succeeded');
  });

  it('after a crash between writing a new record and indexing it, settles that record too (the index made again from the records)', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    const before = record('web', 'dev', '1');
    await store.write(before);
    // What a deployctl killed right after writing its record file, before its index entry, leaves.
    const orphan = record('web', 'dev', '2', { status: 'running', pid: 4242, finishedAt: undefined });
    writeFileSync(join(home, 'history', `${orphan.id}.json`), JSON.stringify(orphan));
    expect(await store.interruptInFlight('web', 'dev', () => 'lost')).toEqual([]);
    const settled = await store.interruptInFlight('web', 'dev', (r) => `lost ${r.pid}`, { afterCrash: true });
    expect(settled.map((r) => r.id)).toEqual([orphan.id]);
    expect(await store.get(orphan.id)).toMatchObject({ status: 'interrupted', error: { message: 'lost 4242' } });
    expect((await store.list({ app: 'web', env: 'dev' })).map((r) => `${r.version} ${r.status}`)).toEqual(['2 interrupted', '1 succeeded']);
    expect((await store.heads()).map((h) => h.last.id)).toEqual([orphan.id]);
  });

  it('shows the newest readable record as current when the newest file is damaged', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    await store.write(record('web', 'dev', '1'));
    const broken = record('web', 'dev', '2');
    await store.write(broken);
    writeFileSync(join(home, 'history', `${broken.id}.json`), '{"id": "half');
    const fresh = new FileHistoryStore(home);
    expect((await fresh.current()).map((r) => r.version)).toEqual(['1']);
    expect(fresh.warnings()).toEqual([`${join(home, 'history', `${broken.id}.json`)} is damaged (not JSON): skipped`]);
  });

  it('notices a missing or damaged index of one target among others, and rebuilds it', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    for (const [app, env] of [['web', 'dev'], ['api', 'dev'], ['web', 'prod']]) await store.write(record(app!, env!, '1'));
    rmSync(join(home, 'index', 'web_dev.json'));
    writeFileSync(join(home, 'index', 'api_dev.json'), '{"entries": [');
    const fresh = new FileHistoryStore(home);
    // The summary still knows every target; the indexes are read (and rebuilt) when the records are listed.
    expect((await fresh.heads()).map((r) => `${r.app}/${r.env}`)).toEqual(['api/dev', 'web/dev', 'web/prod']);
    expect(fresh.warnings()).toEqual([]);
    expect((await fresh.list({})).map((r) => `${r.app}/${r.env}`).sort()).toEqual(['api/dev', 'web/dev', 'web/prod']);
    expect(fresh.warnings().sort()).toEqual([
      'the index of api in dev was damaged: rebuilt from the records',
      'the index of web in dev was missing: rebuilt from the records',
    ]);
    expect(JSON.parse(readFileSync(join(home, 'index', 'web_dev.json'), 'utf8')).entries).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(home, 'index', 'api_dev.json'), 'utf8')).entries).toHaveLength(1);
  });

  it('rebuilds the whole index, and the summary of targets, when they are gone', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    for (const [app, env] of [['web', 'dev'], ['api', 'dev']]) await store.write(record(app!, env!, '1'));
    expect((await new FileHistoryStore(home).targets()).map((t) => `${t.app}/${t.env}`)).toEqual(['api/dev', 'web/dev']);
    rmSync(join(home, 'index', '_summary.json'));
    expect((await new FileHistoryStore(home).targets()).map((t) => `${t.app}/${t.env}`)).toEqual(['api/dev', 'web/dev']);
    emptyIndex(home);
    const fresh = new FileHistoryStore(home);
    expect((await fresh.targets()).map((t) => `${t.app}/${t.env}`)).toEqual(['api/dev', 'web/dev']);
    expect(fresh.warnings()).toEqual(['the history index was missing: rebuilt from the records']);
    const summary = JSON.parse(readFileSync(join(home, 'index', '_summary.json'), 'utf8'));
    expect(summary.targets.map((t: TargetHead) => `${t.app}/${t.env} ${t.last.version} ${t.latest.succeeded?.version}`)).toEqual(['api/dev 1 1', 'web/dev 1 1']);
  });

  it('keeps the summary in step with every write: status and list read it, and no record', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    await store.write(record('web', 'dev', '1'));
    await store.heads(); // the first read makes the summary; writes keep it from then on
    await store.write(record('web', 'dev', '2', { status: 'failed', error: { code: 'x', message: 'boom' } }));
    await store.write(record('api', 'prod', '7'));
    const heads = await new FileHistoryStore(home).heads();
    expect(heads.map((h) => [h.app, h.env, h.last.version, h.last.status, h.last.error?.message, h.latest.succeeded?.version])).toEqual([
      ['api', 'prod', '7', 'succeeded', undefined, '7'],
      ['web', 'dev', '2', 'failed', 'boom', '1'],
    ]);
  });

  it('answers narrow queries from the index when there are many records (written by bench/records.mjs)', async () => {
    expect(BENCH_INDEX_CAP).toBe(INDEX_CAP);
    const home = tempDir();
    await generateRecords(home, 2000, [['noop', 'dev']]);
    const store = new FileHistoryStore(home);
    const recent = await store.list({ app: 'noop', env: 'dev', limit: 20 });
    expect(recent.map((r) => r.version).slice(0, 2)).toEqual(['1.0.1999', '1.0.1998']);
    // older than what the index lists: found by a scan of the records
    const all = await store.list({ app: 'noop', env: 'dev', limit: 5000 });
    expect(all).toHaveLength(2000);
    expect(store.warnings()).toEqual([]);
  });
});

describe('the short lock around an index update', () => {
  /** A lock file of index/web_dev.json as its holder writes it, made to look a minute old. */
  const holdIndexLock = (home: string, holder: string) => {
    const lock = join(home, 'index', 'web_dev.json.lock');
    writeFileSync(lock, holder);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    return lock;
  };

  it('is never taken from a live holder on this machine, however old it is: the write waits for it', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    await store.write(record('web', 'dev', '1'));
    const holder = spawn('sleep', ['60']);
    await once(holder, 'spawn');
    const content = `${holder.pid}@${hostname()}@${processStartTime(holder.pid!)}`;
    const lock = holdIndexLock(home, content);
    let written = false;
    const write = store.write(record('web', 'dev', '2')).then(() => (written = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(written).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe(content);
    holder.kill();
    await once(holder, 'exit');
    await write;
    expect(existsSync(lock)).toBe(false);
    expect((await new FileHistoryStore(home).list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['2', '1']);
  });

  it('is taken over when its pid now belongs to another process (the start time differs)', async () => {
    const home = await stateHome();
    const store = new FileHistoryStore(home);
    await store.write(record('web', 'dev', '1'));
    const lock = holdIndexLock(home, JSON.stringify({ pid: process.pid, host: hostname(), pidStart: '1' }));
    utimesSync(lock, new Date(), new Date());
    await store.write(record('web', 'dev', '2'));
    expect(existsSync(lock)).toBe(false);
    expect((await new FileHistoryStore(home).list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['2', '1']);
  });
});
