import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileHistoryStore, generateRecords, newRecordId } from '../../src/state/history.js';
import type { DeployRecord } from '../../src/state/types.js';
import { tempDir } from '../support/cli.js';

let clock = Date.parse('2026-11-24T10:00:00Z');
function record(app: string, env: string, version: string, extra: Partial<DeployRecord> = {}): DeployRecord {
  const at = new Date((clock += 60_000));
  return {
    schemaVersion: 1,
    id: newRecordId(app, env, at),
    app,
    env,
    version,
    action: 'deploy',
    status: 'succeeded',
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    durationMs: 1000,
    user: 'ana',
    host: hostname(),
    pid: process.pid,
    command: 'deployctl deploy',
    config: {},
    artifacts: {},
    steps: [],
    healthy: true,
    ...extra,
  };
}

describe('FileHistoryStore', () => {
  it('writes one 0600 file per record atomically, in a 0700 folder, with ids safe as file names', async () => {
    const home = tempDir();
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
    const store = new FileHistoryStore(tempDir());
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
    const home = tempDir();
    const store = new FileHistoryStore(home);
    const good = record('web', 'dev', '1');
    await store.write(good);
    writeFileSync(join(home, 'history', `.${good.id}.json.abc.tmp`), '{"half":');
    const broken = record('web', 'dev', '2');
    writeFileSync(join(home, 'history', `${broken.id}.json`), '{not json');
    rmSync(join(home, 'index'), { recursive: true });
    const fresh = new FileHistoryStore(home);
    expect((await fresh.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['1']);
    expect(fresh.warnings().join('\n')).toContain('is damaged (not JSON): skipped');
  });

  it('rebuilds a damaged index from the records', async () => {
    const home = tempDir();
    const store = new FileHistoryStore(home);
    for (const v of ['1', '2', '3']) await store.write(record('web', 'dev', v));
    writeFileSync(join(home, 'index', 'web_dev.json'), 'garbage');
    const fresh = new FileHistoryStore(home);
    expect((await fresh.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['3', '2', '1']);
    expect(fresh.warnings()).toContain('the index of web in dev was damaged: rebuilt from the records');
    expect(JSON.parse(readFileSync(join(home, 'index', 'web_dev.json'), 'utf8')).entries).toHaveLength(3);
  });

  it('reports a record left running by a process that is gone as interrupted, and rewrites it', async () => {
    const store = new FileHistoryStore(tempDir());
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout.trim());
    const r = record('web', 'dev', '1', { status: 'running', pid: deadPid, finishedAt: undefined });
    await store.write(r);
    const [latest] = await store.list({ app: 'web', env: 'dev', limit: 1 });
    expect(latest?.status).toBe('interrupted');
    expect(latest?.error?.message).toContain(`deployctl (pid ${deadPid}`);
    expect((await store.get(r.id))?.status).toBe('interrupted');
  });

  it('finds the last good record, skipping failed and bad ones', async () => {
    const store = new FileHistoryStore(tempDir());
    await store.write(record('web', 'dev', '1'));
    await store.write(record('web', 'dev', '2', { status: 'rolled_back', bad: true }));
    await store.write(record('web', 'dev', '3', { healthy: false, status: 'failed' }));
    expect((await store.lastGood('web', 'dev'))?.version).toBe('1');
  });

  it('prunes old records but never the current or the last good one', async () => {
    const store = new FileHistoryStore(tempDir());
    await store.write(record('web', 'dev', '1'));
    for (const v of ['2', '3', '4']) await store.write(record('web', 'dev', v, { status: 'failed', healthy: false }));
    const { deleted } = await store.prune({ keep: 1 });
    expect(deleted).toHaveLength(2);
    expect((await store.list({ app: 'web', env: 'dev' })).map((r) => r.version)).toEqual(['4', '1']);
  });

  it('answers narrow queries from the index when there are many records', async () => {
    const home = tempDir();
    await generateRecords(home, 2000, [['noop', 'dev']]);
    const store = new FileHistoryStore(home);
    const recent = await store.list({ app: 'noop', env: 'dev', limit: 20 });
    expect(recent.map((r) => r.version).slice(0, 2)).toEqual(['1.0.1999', '1.0.1998']);
    // older than what the index lists: found by a scan of the records
    const all = await store.list({ app: 'noop', env: 'dev', limit: 5000 });
    expect(all).toHaveLength(2000);
  });
});
