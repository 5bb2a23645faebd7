// The contract every state backend passes (memory, file, PostgreSQL): history, locks, the audit log,
// record ids, change notifications, and what must hold when processes race or die. A backend's test
// file calls stateContract(name, create) with a factory of fresh, empty state.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { LockError, StateWriteError } from '../../src/errors.js';
import type { StateStore } from '../../src/state/port.js';
import { isPidAlive } from '../../src/state/process.js';
import type { DeployRecord, IndexEntry, LockInfo, TargetHead, Takeover } from '../../src/state/types.js';
import { record } from '../support/records.js';

/** A process (or machine) other than the test's, holding a lock with a record in flight and a command running. */
export interface ContractHolder {
  /** Its pid, as its lock and record name it. */
  pid: number;
  recordId: string;
  /** A command it started in its own process group (`sleep`), recorded in the lock. */
  commandPid: number;
  /** kill -9 of the holder: its lock and its record stay behind, its command keeps running. */
  kill(): Promise<void>;
}

export interface ContractWorld {
  /** A store over fresh, empty state. */
  store: StateStore;
  /** Another store over the same state, as another deployctl process would open it. */
  open(): Promise<StateStore>;
  /**
   * In another process: take the lock of app/env as user `holder` with the command line
   * `deployctl deploy <app> -e <env>`, write a running record of version 9.9.9, start `sleep 300` in
   * its own process group and track it in the lock; resolves once all that is done.
   */
  startHolder(app: string, env: string): Promise<ContractHolder>;
  /** Close the stores, stop what was started, remove the state. */
  dispose(): Promise<void>;
}

/** Wait for `check` to hold: no fixed sleeps, a bounded poll. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

/**
 * Every target's head as its history says it must be: its newest entry, and the newest of each status,
 * from the full list of entries (newest first), sorted by app then env (code points).
 */
export async function headsFromHistory(history: StateStore['history']): Promise<TargetHead[]> {
  const heads = new Map<string, TargetHead>();
  for (const e of await history.entries({})) {
    const key = `${e.app}\0${e.env}`;
    const head = heads.get(key) ?? { app: e.app, env: e.env, last: e, latest: {} };
    heads.set(key, head);
    head.latest[e.status] ??= e;
  }
  return [...heads.values()].sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
}

/** heads() agrees with the history, read by this store and by another instance. */
async function expectHeadsAgree(stores: StateStore[]): Promise<TargetHead[]> {
  const expected = await headsFromHistory(stores[0]!.history);
  for (const s of stores) expect(await s.history.heads()).toEqual(expected);
  return expected;
}

/** A pid that ran on this host and is gone now. */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', '0']);
  if (done.pid === undefined || isPidAlive(done.pid)) throw new Error('no dead pid to use');
  return done.pid;
}

/**
 * `skip`: why this backend cannot run here (a missing PostgreSQL), if so. `losesLocks`: the backend
 * tells a holder whose lock was taken from it (its handle's `lost` fires): every backend here does.
 */
export function stateContract(backend: string, create: () => Promise<ContractWorld>, options: { skip?: string | false; losesLocks?: boolean } = {}): void {
  describe.skipIf(Boolean(options.skip))(`the state contract: ${backend}`, () => {
    let world: ContractWorld | undefined;
    const fresh = async () => (world = await create());
    afterEach(async () => {
      await world?.dispose();
      world = undefined;
    });

    describe('history', () => {
      it('writes a record and reads it back whole, replaces it, and knows no other id', async () => {
        const { store } = await fresh();
        const r = record('web', 'prod', '1.0.0', { status: 'running', finishedAt: undefined, notes: ['a'], artifacts: { image: 'web:1.0.0' } });
        await store.history.write(r);
        expect(await store.history.get(r.id)).toEqual(r);
        const done: DeployRecord = { ...r, status: 'succeeded', finishedAt: new Date().toISOString() };
        await store.history.write(done);
        expect(await store.history.get(r.id)).toEqual(done);
        expect(await store.history.get('web_prod_20200101T000000000Z_abcdef')).toBeUndefined();
        expect(await store.history.list({})).toHaveLength(1);
      });

      it('lists newest first, by app, env, status and since, up to a limit; entries and latest agree', async () => {
        const { store } = await fresh();
        const a = record('web', 'dev', '1');
        const b = record('api', 'dev', '2', { status: 'failed', error: { code: 'deploy_failed', message: 'boom' } });
        const c = record('web', 'prod', '3');
        const d = record('web', 'dev', '4', { status: 'rolled_back', bad: true, healthy: false });
        for (const r of [a, b, c, d]) await store.history.write(r);
        const h = store.history;
        expect(ids(await h.list({}))).toEqual(ids([d, c, b, a]));
        expect(ids(await h.list({ app: 'web' }))).toEqual(ids([d, c, a]));
        expect(ids(await h.list({ env: 'dev' }))).toEqual(ids([d, b, a]));
        expect(ids(await h.list({ app: 'web', env: 'dev' }))).toEqual(ids([d, a]));
        expect(ids(await h.list({ status: 'failed' }))).toEqual(ids([b]));
        expect(ids(await h.list({ limit: 2 }))).toEqual(ids([d, c]));
        expect(ids(await h.list({ since: new Date(c.startedAt) }))).toEqual(ids([d, c]));
        expect(await h.list({ app: 'nope' })).toEqual([]);
        const entries = await h.entries({ env: 'dev' });
        expect(entries.map((e) => [e.id, e.version, e.status, e.bad ?? false, e.error?.message])).toEqual([
          [d.id, '4', 'rolled_back', true, undefined],
          [b.id, '2', 'failed', false, 'boom'],
          [a.id, '1', 'succeeded', false, undefined],
        ]);
        expect((await h.latest('web', 'dev'))?.id).toBe(d.id);
        expect(await h.latest('web', 'qa')).toBeUndefined();
      });

      it('gives every target: its newest record (current), its head, and the list of targets', async () => {
        const { store } = await fresh();
        const h = store.history;
        const v1 = record('web', 'dev', '1');
        const v2 = record('web', 'dev', '2', { status: 'failed', error: { code: 'x', message: 'it broke' } });
        const p = record('api', 'prod', '7');
        for (const r of [v1, v2, p]) await h.write(r);
        expect((await h.current()).map((r) => `${r.app}/${r.env}=${r.version}`)).toEqual(['api/prod=7', 'web/dev=2']);
        expect(await h.targets()).toEqual([
          { app: 'api', env: 'prod' },
          { app: 'web', env: 'dev' },
        ]);
        const heads = await h.heads();
        expect(heads.map((x) => [x.app, x.env, x.last.id, x.last.error?.message, x.latest.succeeded?.id, x.latest.failed?.id])).toEqual([
          ['api', 'prod', p.id, undefined, p.id, undefined],
          ['web', 'dev', v2.id, 'it broke', v1.id, v2.id],
        ]);
        expect((await h.heads({ app: 'web' })).map((x) => x.env)).toEqual(['dev']);
        expect(await h.heads({ env: 'qa' })).toEqual([]);
      });

      it('keeps every head right through a deploy, a failed deploy, its rollback, a destroy, a prune and an interrupted record', async () => {
        const w = await fresh();
        const h = w.store.history;
        const other = await w.open();
        const head = async (app: string, env: string) => {
          const found = (await h.heads({ app, env }))[0]!;
          return { last: found.last.id, ...Object.fromEntries(Object.entries(found.latest).map(([status, e]) => [status, e!.id])) };
        };
        // A deploy: pending, running, then succeeded (the same record written three times).
        const v1 = record('web', 'prod', '1.0', { status: 'pending', finishedAt: undefined, durationMs: undefined });
        await h.write(v1);
        expect(await head('web', 'prod')).toEqual({ last: v1.id, pending: v1.id });
        await h.write({ ...v1, status: 'running' });
        expect(await head('web', 'prod')).toEqual({ last: v1.id, running: v1.id });
        await h.write({ ...v1, status: 'succeeded', finishedAt: v1.startedAt, durationMs: 1000 });
        expect(await head('web', 'prod')).toEqual({ last: v1.id, succeeded: v1.id });
        await expectHeadsAgree([w.store, other]);
        // A failed deploy, rolled back automatically: the failed one marked, the rollback what runs.
        const v2 = record('web', 'prod', '2.0', { status: 'running', finishedAt: undefined });
        await h.write(v2);
        await h.write({ ...v2, status: 'failed', healthy: false, bad: true, error: { code: 'health_failed', message: 'health check failed' } });
        expect(await head('web', 'prod')).toEqual({ last: v2.id, succeeded: v1.id, failed: v2.id });
        const back = record('web', 'prod', '1.0', { action: 'rollback', rollbackOf: v1.id, triggeredBy: v2.id });
        await h.write(back);
        await h.write({ ...v2, status: 'rolled_back', healthy: false, bad: true, rolledBackBy: [back.id], error: { code: 'health_failed', message: 'health check failed' } });
        expect(await head('web', 'prod')).toEqual({ last: back.id, succeeded: back.id, rolled_back: v2.id });
        const [rolled] = await h.heads({ app: 'web', env: 'prod' });
        expect(rolled!.latest.rolled_back).toMatchObject({ version: '2.0', bad: true, error: { message: 'health check failed' } });
        expect(rolled!.last).toMatchObject({ action: 'rollback', version: '1.0', status: 'succeeded' });
        // A destroy: the newest that succeeded is the destroy (nothing runs there now).
        const gone = record('web', 'prod', '1.0', { action: 'destroy' });
        await h.write(gone);
        const [destroyed] = await h.heads({ app: 'web', env: 'prod' });
        expect(destroyed!.latest.succeeded).toMatchObject({ id: gone.id, action: 'destroy', version: '1.0' });
        expect(destroyed!.last.id).toBe(gone.id);
        // A prune that takes a target's only failed record: the head forgets it; the newest stays.
        const api = [
          record('api', 'dev', '1', { status: 'failed', error: { code: 'x', message: 'old failure' } }),
          record('api', 'dev', '2'),
          record('api', 'dev', '3'),
          record('api', 'dev', '4'),
        ];
        for (const r of api) await other.history.write(r);
        expect(await head('api', 'dev')).toEqual({ last: api[3]!.id, succeeded: api[3]!.id, failed: api[0]!.id });
        const pruned = await h.prune({ keep: 2, app: 'api', env: 'dev' });
        expect(pruned.deleted.sort()).toEqual([api[0]!.id, api[1]!.id].sort());
        expect(await head('api', 'dev')).toEqual({ last: api[3]!.id, succeeded: api[3]!.id });
        await expectHeadsAgree([w.store, other]);
        // A record left running by a process that is gone (kill -9): read as interrupted, in its head too.
        const orphan = record('api', 'dev', '5', { status: 'running', finishedAt: undefined, pid: deadPid() });
        await other.history.write(orphan);
        expect(await head('api', 'dev')).toEqual({ last: orphan.id, succeeded: api[3]!.id, interrupted: orphan.id });
        const [settled] = await h.heads({ app: 'api', env: 'dev' });
        expect(settled!.last).toMatchObject({ id: orphan.id, status: 'interrupted' });
        expect(settled!.latest.running).toBeUndefined();
        const agreed = await expectHeadsAgree([w.store, other, await w.open()]);
        expect(agreed.map((x) => `${x.app}/${x.env}`)).toEqual(['api/dev', 'web/prod']);
        expect(await h.targets()).toEqual([
          { app: 'api', env: 'dev' },
          { app: 'web', env: 'prod' },
        ]);
      });

      it('walks one target newest first, reading each record only when the walk reaches it', async () => {
        const { store } = await fresh();
        const h = store.history;
        const [a, b, c, d] = ['1', '2', '3', '4'].map((v) => record('web', 'dev', v));
        const other = record('api', 'dev', '9');
        for (const r of [a!, b!, c!, other, d!]) await h.write(r);
        const walked = async (options?: Parameters<typeof h.walk>[2]) => {
          const seen: string[] = [];
          for await (const r of h.walk('web', 'dev', options)) seen.push(r.version);
          return seen;
        };
        expect(await walked()).toEqual(['4', '3', '2', '1']);
        expect(await walked({ pick: (e) => e.version !== '3' })).toEqual(['4', '2', '1']);
        expect(await walked({ limit: 2 })).toEqual(['4', '3']);
        expect(await walked({ pick: (e) => e.version === '1', limit: 3 })).toEqual([]);
        // Lazy: a record changed after the walk started, before it got there, is read as it is then.
        const walk = h.walk('web', 'dev')[Symbol.asyncIterator]();
        expect((await walk.next()).value).toMatchObject({ version: '4' });
        await h.write({ ...b!, notes: ['changed while walking'] });
        expect((await walk.next()).value).toMatchObject({ version: '3' });
        expect((await walk.next()).value).toMatchObject({ version: '2', notes: ['changed while walking'] });
        await walk.return?.();
      });

      it('settles the records still in flight of one target as interrupted, under its lock', async () => {
        const { store } = await fresh();
        const remote = record('web', 'dev', '1', { status: 'running', host: 'another-host', pid: 4242, finishedAt: undefined });
        const pending = record('web', 'dev', '2', { status: 'pending', host: 'another-host', pid: 4243, finishedAt: undefined });
        const other = record('web', 'prod', '3', { status: 'running', host: 'another-host', pid: 4244, finishedAt: undefined });
        const done = record('web', 'dev', '4');
        for (const r of [remote, pending, other, done]) await store.history.write(r);
        const settled = await store.history.interruptInFlight('web', 'dev', (r) => `lost ${r.pid}`);
        expect(ids(settled).sort()).toEqual([remote.id, pending.id].sort());
        expect(await store.history.get(remote.id)).toMatchObject({ status: 'interrupted', error: { code: 'interrupted', message: 'lost 4242' } });
        expect((await store.history.get(remote.id))?.finishedAt).toBeDefined();
        expect((await store.history.get(other.id))?.status).toBe('running');
        expect((await store.history.get(done.id))?.status).toBe('succeeded');
      });

      it('prunes to the newest N per target, never the newest, the one that runs, one in flight or one the policy protects', async () => {
        const { store } = await fresh();
        const h = store.history;
        const good = record('web', 'dev', '1');
        const running = record('web', 'dev', '2');
        const flying = record('web', 'dev', '2.5', { status: 'running', host: 'another-host', pid: 4242, finishedAt: undefined });
        const f1 = record('web', 'dev', '3', { status: 'failed', bad: true, healthy: false });
        const f2 = record('web', 'dev', '4', { status: 'failed', bad: true, healthy: false });
        const newest = record('web', 'dev', '5', { status: 'failed', bad: true, healthy: false });
        const otherTarget = [record('api', 'dev', '1'), record('api', 'dev', '2'), record('api', 'dev', '3')];
        for (const r of [good, running, flying, f1, f2, newest, ...otherTarget]) await h.write(r);
        const seen: string[][] = [];
        const protect = (entries: readonly IndexEntry[]) => {
          seen.push(ids([...entries]));
          return entries[0]?.app === 'web' ? [good.id] : [];
        };
        const { deleted } = await h.prune({ keep: 0, app: 'web', env: 'dev', protect });
        expect(deleted.sort()).toEqual([f1.id, f2.id].sort());
        expect(seen).toEqual([ids([newest, f2, f1, flying, running, good])]);
        expect(ids(await h.list({ app: 'web', env: 'dev' }))).toEqual(ids([newest, flying, running, good]));
        expect(await h.get(f1.id)).toBeUndefined();
        // The other target was not asked about.
        expect(await h.list({ app: 'api' })).toHaveLength(3);
        // keep N, of every environment of an app, only what is older than a date
        const { deleted: old } = await h.prune({ keep: 1, app: 'api', olderThan: new Date(otherTarget[1]!.startedAt) });
        expect(old).toEqual([otherTarget[0]!.id]);
        expect(ids(await h.list({ app: 'api' }))).toEqual(ids([otherTarget[2]!, otherTarget[1]!]));
        expect(await h.prune({ keep: 1, app: 'api', olderThan: new Date(otherTarget[1]!.startedAt) })).toEqual({ deleted: [] });
      });
    });

    describe('locks', () => {
      it('lets one holder in, names it to the next (user, pid, command), and frees it on release', async () => {
        const w = await fresh();
        const other = await w.open();
        const held = await w.store.locks.acquire('web', 'prod', { command: 'deployctl deploy web -e prod', user: 'ana' });
        expect(held.info).toMatchObject({ app: 'web', env: 'prod', user: 'ana', command: 'deployctl deploy web -e prod' });
        const error = (await other.locks.acquire('web', 'prod', { command: 'x', user: 'bo' }).catch((e) => e)) as LockError;
        expect(error).toBeInstanceOf(LockError);
        expect(error.exitCode).toBe(5);
        expect(error.message).toContain(`ana@${held.info.host} (pid ${held.info.pid})`);
        expect(error.message).toContain('deployctl deploy web -e prod');
        expect(error.hint).toContain('deployctl unlock web -e prod');
        // Other targets are free.
        await (await other.locks.acquire('web', 'dev', { command: 'y', user: 'bo' })).release();
        expect(await other.locks.inspect('web', 'prod')).toMatchObject({ state: 'alive', holder: { user: 'ana', token: held.info.token } });
        await held.release();
        expect(await other.locks.inspect('web', 'prod')).toBeUndefined();
        await (await other.locks.acquire('web', 'prod', { command: 'y', user: 'bo' })).release();
      });

      it('queues a taker with waitMs until the holder releases', async () => {
        const w = await fresh();
        const other = await w.open();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'first', user: 'ana' });
        let got = false;
        const waiting = other.locks.acquire('web', 'dev', { command: 'second', user: 'bo', waitMs: 30_000 }).then((h) => ((got = true), h));
        await new Promise((r) => setImmediate(r));
        expect(got).toBe(false);
        await held.release();
        const second = await waiting;
        expect(second.info.command).toBe('second');
        expect((await w.store.locks.inspect('web', 'dev'))?.holder.user).toBe('bo');
        await second.release();
      });

      it('gives up after waitMs, saying it waited', async () => {
        const w = await fresh();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'first', user: 'ana' });
        const error = (await (await w.open()).locks.acquire('web', 'dev', { command: 'x', waitMs: 100 }).catch((e) => e)) as LockError;
        expect(error).toBeInstanceOf(LockError);
        expect(error.message).toContain('after waiting');
        await held.release();
      });

      it('removes a lock by hand only with the token it was shown', async () => {
        const w = await fresh();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'x', user: 'ana' });
        const other = await w.open();
        expect(await other.locks.remove('web', 'dev', 'not-the-token')).toBeUndefined();
        expect((await other.locks.inspect('web', 'dev'))?.holder.token).toBe(held.info.token);
        expect((await other.locks.remove('web', 'dev', held.info.token))?.command).toBe('x');
        expect(await other.locks.inspect('web', 'dev')).toBeUndefined();
        // The old holder's release does not remove a lock taken since.
        const next = await other.locks.acquire('web', 'dev', { command: 'y', user: 'bo' });
        await held.release();
        expect((await w.store.locks.inspect('web', 'dev'))?.holder.token).toBe(next.info.token);
        await next.release();
      });

      it(options.losesLocks ? 'tells a holder that its lock was removed by hand (unlock --force): its lost signal fires, saying why' : 'never tells a holder it lost its lock (no lost signal fires)', async () => {
        const w = await fresh();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'x', user: 'ana' });
        expect(held.lost?.aborted ?? false).toBe(false);
        expect((await (await w.open()).locks.remove('web', 'dev'))?.command).toBe('x');
        if (options.losesLocks) {
          await until(() => held.lost?.aborted === true, 'the lost signal');
          // A clause the engine puts after "lost the lock of web in dev: ".
          expect((held.lost!.reason as Error).message).toMatch(/^its .*unlock --force/);
        } else {
          expect(held.lost?.aborted ?? false).toBe(false);
        }
        await held.release();
        const next = await (await w.open()).locks.acquire('web', 'dev', { command: 'y', user: 'bo' });
        await next.release();
      });

      it('writes a record under the lock only while it is held: once the lock is removed by hand, the write is refused (LOCK_LOST), the record is not stored as given, and the holder is told', async () => {
        const w = await fresh();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'x', user: 'ana' });
        expect(await held.stillHeld!()).toBe(true);
        const first = record('web', 'dev', '1.0.0', { status: 'running', finishedAt: undefined });
        await w.store.history.write(first, { heldBy: held });
        await w.store.history.write({ ...first, status: 'succeeded', finishedAt: new Date().toISOString() }, { heldBy: held });
        expect((await w.store.history.get(first.id))?.status).toBe('succeeded');
        const second = record('web', 'dev', '1.0.1', { status: 'running', finishedAt: undefined });
        await w.store.history.write(second, { heldBy: held });
        // Removed by another process; the write comes at once, whether or not the holder has noticed yet.
        expect((await (await w.open()).locks.remove('web', 'dev'))?.command).toBe('x');
        const refused = (await w.store.history.write({ ...second, status: 'succeeded', finishedAt: new Date().toISOString() }, { heldBy: held }).catch((e) => e)) as StateWriteError;
        expect(refused).toBeInstanceOf(StateWriteError);
        expect(refused.errno).toBe('LOCK_LOST');
        expect(refused.message).toMatch(/^lost the lock of web in dev: its .*unlock --force.*; deployctl cannot vouch for how deploy 1\.0\.1 of web in dev ended$/);
        expect(held.lost?.aborted).toBe(true);
        expect((held.lost!.reason as Error).message).toMatch(/^its .*unlock --force/);
        expect(await held.stillHeld!()).toBe(false);
        // Left in flight (the PostgreSQL store marks it interrupted, lock_lost, at once): never a success.
        const stored = await (await w.open()).history.get(second.id);
        expect(['running', 'interrupted']).toContain(stored?.status);
        // Written without the lock (how the engine records the loss), it is stored.
        await w.store.history.write({ ...second, status: 'interrupted', error: { code: 'lock_lost', message: refused.message } });
        expect((await w.store.history.get(second.id))?.error?.code).toBe('lock_lost');
        await held.release();
        expect(await held.stillHeld!()).toBe(false);
      });

      it('records the commands a holder runs, and forgets those that ended', async () => {
        const w = await fresh();
        const held = await w.store.locks.acquire('web', 'dev', { command: 'x', user: 'ana' });
        expect(held.track).toBeTypeOf('function');
        await held.track!(process.pid, 'node');
        expect((await (await w.open()).locks.inspect('web', 'dev'))?.holder.processes).toEqual([expect.objectContaining({ pid: process.pid, command: 'node' })]);
        await held.untrack!(process.pid);
        expect((await (await w.open()).locks.inspect('web', 'dev'))?.holder.processes ?? []).toEqual([]);
        await held.release();
      });
    });

    describe('the audit log, record ids, notifications', () => {
      it('appends entries and reads the newest first, up to a limit', async () => {
        const w = await fresh();
        const other = await w.open();
        for (const n of [1, 2, 3]) await (n === 2 ? other : w.store).audit.append({ at: `2026-11-24T10:0${n}:00Z`, action: 'deploy', app: 'web', env: 'dev', version: String(n), result: 'succeeded', user: 'ana', host: 'h' });
        expect((await w.store.audit.read({ limit: 2 })).map((e) => e.version)).toEqual(['3', '2']);
        expect((await other.audit.read({ limit: 10 })).map((e) => e.version)).toEqual(['3', '2', '1']);
      });

      it('makes record ids unique, and sorted by time within a target', async () => {
        const { store } = await fresh();
        const at = new Date('2026-11-24T10:00:00Z');
        const same = Array.from({ length: 200 }, () => store.newRecordId('web', 'prod', at));
        expect(new Set(same).size).toBe(200);
        const times = Array.from({ length: 20 }, (_, i) => store.newRecordId('web', 'prod', new Date(at.getTime() + i * 1001)));
        expect([...times].sort()).toEqual(times);
        for (const id of [...same, ...times]) expect(id).toMatch(/^[A-Za-z0-9._-]+$/);
      });

      it('tells a watcher when another instance writes a record or takes a lock', async () => {
        const w = await fresh();
        const other = await w.open();
        let calls = 0;
        const stop = w.store.watch(() => calls++);
        try {
          await other.history.write(record('web', 'dev', '1'));
          await until(() => calls > 0, 'a change after a write');
          const before = calls;
          const held = await other.locks.acquire('web', 'dev', { command: 'x', user: 'bo' });
          await until(() => calls > before, 'a change after a lock');
          await held.release();
        } finally {
          stop();
        }
      });
    });

    describe('lock holders', () => {
      it('lists every lock held, to another instance, and none once released', async () => {
        const w = await fresh();
        const other = await w.open();
        expect(await other.locks.holders()).toEqual([]);
        const a = await w.store.locks.acquire('web', 'prod', { command: 'deployctl deploy web -e prod', user: 'ana' });
        const b = await w.store.locks.acquire('api', 'dev', { command: 'deployctl deploy api -e dev', user: 'bo' });
        const held = await other.locks.holders();
        expect(held.map((h) => `${h.holder.app}/${h.holder.env} ${h.holder.user} ${h.state}`).sort()).toEqual(['api/dev bo alive', 'web/prod ana alive']);
        expect(held.every((h) => h.description.includes(h.holder.user))).toBe(true);
        await a.release();
        await b.release();
        expect(await other.locks.holders()).toEqual([]);
      });
    });

    describe('approvals', () => {
      it('keeps a request, shows it pending to another instance, and takes the first decision only', async () => {
        const w = await fresh();
        const other = await w.open();
        const request = {
          action: 'deploy' as const,
          app: 'web',
          env: 'prod',
          version: '1.0.0',
          origin: 'cli' as const,
          requestedBy: { name: 'ci-bot' },
          requestedAt: '2026-11-24T10:00:00.000Z',
          expiresAt: '2026-11-24T10:30:00.000Z',
        };
        const created = await w.store.approvals.create(request);
        expect(created).toMatchObject({ ...request, status: 'pending' });
        expect((await other.approvals.pending()).map((a) => a.id)).toEqual([created.id]);
        await w.store.approvals.update({ ...request, id: created.id, message: { channel: 'C1', ts: '1.2' } });
        expect(await other.approvals.get(created.id)).toMatchObject({ message: { channel: 'C1', ts: '1.2' }, status: 'pending' });
        // Two deciders at once, on two instances: one wins, and both see its decision.
        const [a, b] = await Promise.all([
          w.store.approvals.decide(created.id, { status: 'approved', at: '2026-11-24T10:01:00.000Z', by: { name: 'carol', slackId: 'U3' } }),
          other.approvals.decide(created.id, { status: 'rejected', at: '2026-11-24T10:01:00.000Z', by: { name: 'dan', slackId: 'U4' } }),
        ]);
        expect([a.won, b.won].sort()).toEqual([false, true]);
        const winner = a.won ? 'approved' : 'rejected';
        expect(a.approval.status).toBe(winner);
        expect(b.approval.status).toBe(winner);
        expect((await w.store.approvals.decide(created.id, { status: 'expired', at: '2026-11-24T10:31:00.000Z' })).won).toBe(false);
        expect(await other.approvals.get(created.id)).toMatchObject({ status: winner });
        expect(await other.approvals.pending()).toEqual([]);
        expect(await w.store.approvals.get('apr_0000000000000000')).toBeUndefined();
      });

      it('a decider that loses the race always reads the whole winning decision, never none (25 races)', async () => {
        const w = await fresh();
        const other = await w.open();
        for (let round = 0; round < 25; round++) {
          const created = await w.store.approvals.create({
            action: 'deploy',
            app: 'web',
            env: 'prod',
            version: `1.0.${round}`,
            origin: 'cli',
            requestedBy: { name: 'ci-bot' },
            requestedAt: '2026-11-24T10:00:00.000Z',
            expiresAt: '2026-11-24T10:30:00.000Z',
          });
          const [a, b] = await Promise.all([
            w.store.approvals.decide(created.id, { status: 'approved', at: '2026-11-24T10:01:00.000Z', by: { name: 'carol' } }),
            other.approvals.decide(created.id, { status: 'rejected', at: '2026-11-24T10:01:00.000Z', by: { name: 'dan' } }),
          ]);
          const winner = a.won ? 'approved' : 'rejected';
          expect([a.won, b.won].sort()).toEqual([false, true]);
          expect([a.approval.status, b.approval.status]).toEqual([winner, winner]);
        }
      });
    });

    describe('races and crashes', () => {
      it('20 concurrent takers of one target on two instances: exactly one holds at a time, each gets it once', async () => {
        const w = await fresh();
        const stores = [w.store, await w.open()];
        let holding = 0;
        let most = 0;
        const order: number[] = [];
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const handle = await stores[i % 2]!.locks.acquire('web', 'prod', { command: `taker ${i}`, user: `u${i}`, waitMs: 60_000 });
            holding++;
            most = Math.max(most, holding);
            order.push(i);
            await new Promise((r) => setImmediate(r));
            const seen = await stores[(i + 1) % 2]!.locks.inspect('web', 'prod');
            expect(seen?.holder.token).toBe(handle.info.token);
            holding--;
            await handle.release();
          }),
        );
        expect(most).toBe(1);
        expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }, 60_000);

      it('20 concurrent takers without waiting: one gets it, 19 are refused', async () => {
        const w = await fresh();
        const stores = [w.store, await w.open()];
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.locks.acquire('web', 'dev', { command: String(i), user: `u${i}` })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LockError)).toHaveLength(19);
      });

      it('concurrent writes from two instances lose no record and no index entry', async () => {
        const w = await fresh();
        const stores = [w.store, await w.open()];
        const targets = [['web', 'dev'], ['web', 'prod'], ['api', 'dev']] as const;
        const written = Array.from({ length: 60 }, (_, i) => record(targets[i % 3]![0], targets[i % 3]![1], `1.0.${i}`, { status: 'running', finishedAt: undefined }));
        await Promise.all(
          written.map(async (r, i) => {
            const s = stores[i % 2]!;
            await s.history.write(r);
            await s.history.write({ ...r, status: i % 5 === 0 ? 'failed' : 'succeeded', finishedAt: r.startedAt });
          }),
        );
        const reader = await w.open();
        expect(ids(await reader.history.list({})).sort()).toEqual(ids(written).sort());
        for (const [app, env] of targets) {
          const mine = written.filter((r) => r.app === app && r.env === env);
          const entries = await reader.history.entries({ app, env });
          expect(ids(entries)).toEqual(ids(mine).reverse());
          expect(entries.every((e) => e.status !== 'running')).toBe(true);
          const [head] = await reader.history.heads({ app, env });
          expect(head?.last.id).toBe(mine.at(-1)!.id);
          expect(head?.latest.running).toBeUndefined();
        }
        await expectHeadsAgree([reader, ...stores]);
      }, 60_000);

      it('a prune racing deployments loses no index entry: what it did not delete is listed', async () => {
        const w = await fresh();
        const deployer = await w.open();
        const written: DeployRecord[] = [];
        const deleted = new Set<string>();
        let deploying = true;
        const deploys = (async () => {
          for (let i = 0; i < 30; i++) {
            const r = record('web', 'prod', `2.0.${i}`, { status: 'running', finishedAt: undefined });
            written.push(r);
            await deployer.history.write(r);
            await deployer.history.write({ ...r, status: 'succeeded', finishedAt: r.startedAt });
          }
          deploying = false;
        })();
        const prunes = (async () => {
          while (deploying) {
            for (const id of (await w.store.history.prune({ keep: 2 })).deleted) deleted.add(id);
            await new Promise((r) => setImmediate(r));
          }
        })();
        await Promise.all([deploys, prunes]);
        const reader = await w.open();
        const kept = written.filter((r) => !deleted.has(r.id));
        expect(ids(await reader.history.entries({ app: 'web', env: 'prod' }))).toEqual(ids(kept).reverse());
        expect(ids(await reader.history.list({ app: 'web', env: 'prod' }))).toEqual(ids(kept).reverse());
        expect((await reader.history.heads())[0]?.last.id).toBe(written.at(-1)!.id);
        expect((await reader.history.latest('web', 'prod'))?.version).toBe('2.0.29');
        await expectHeadsAgree([reader, w.store, deployer]);
      }, 60_000);

      it('kill -9 of a holder: the next taker stops its command, takes over, and its record reads as interrupted', async () => {
        const w = await fresh();
        const holder = await w.startHolder('web', 'prod');
        expect(isPidAlive(holder.commandPid)).toBe(true);
        const before = await w.store.locks.inspect('web', 'prod');
        expect(before?.state).toBe('alive');
        expect(before?.holder.processes?.map((p) => p.pid)).toEqual([holder.commandPid]);
        await holder.kill();
        // The command it started keeps running on its own after the kill.
        expect(isPidAlive(holder.commandPid)).toBe(true);
        // The server ends the killed holder's session when it sees the connection close: a moment later.
        await until(async () => (await w.store.locks.inspect('web', 'prod'))?.state === 'stale', 'the killed holder\'s lock to read as stale');
        const stale: Array<{ old: LockInfo; takeover: Takeover }> = [];
        const next = await w.store.locks.acquire('web', 'prod', { command: 'deployctl deploy web -e prod', user: 'bo', onStale: (old, takeover) => stale.push({ old, takeover }) });
        expect(stale).toHaveLength(1);
        expect(stale[0]!.old).toMatchObject({ pid: holder.pid, user: 'holder', command: 'deployctl deploy web -e prod' });
        expect(stale[0]!.takeover.stopped.map((p) => p.pid)).toEqual([holder.commandPid]);
        expect(stale[0]!.takeover.leftRunning).toEqual([]);
        expect(isPidAlive(holder.commandPid)).toBe(false);
        expect(next.info.user).toBe('bo');
        // Its record: read as interrupted by anyone, and settled under the lock with the words given.
        expect((await (await w.open()).history.get(holder.recordId))?.status).toBe('interrupted');
        const [head] = await w.store.history.heads({ app: 'web', env: 'prod' });
        expect(head?.last).toMatchObject({ id: holder.recordId, status: 'interrupted', host: hostname() });
        expect(head?.latest.interrupted?.id).toBe(holder.recordId);
        expect(head?.latest.running).toBeUndefined();
        await expectHeadsAgree([w.store, await w.open()]);
        await next.release();
      }, 30_000);
    });
  });
}
