// The PostgreSQL backend against a real server started for this file: history, audit log, locks,
// migrations, and each way of failing to reach the database.
import { afterAll, describe, expect, it } from 'vitest';
import { pruneProtects } from '../../src/core/rollback-policy.js';
import { LockError, StateWriteError, UsageError } from '../../src/errors.js';
import { openState } from '../../src/state/open.js';
import type { StateStore } from '../../src/state/port.js';
import type { PgLockHandle } from '../../src/state/postgres/locks.js';
import { SCHEMA_VERSION } from '../../src/state/postgres/schema.js';
import type { PostgresState } from '../../src/state/postgres/store.js';
import type { LockInfo } from '../../src/state/types.js';
import { freePort } from '../support/net.js';
import { PASSWORD_ROLE, postgresForFile, postgresStoreFactory } from '../support/postgres.js';
import { record } from '../support/records.js';

const { skip, server } = postgresForFile();
const stores: StateStore[] = [];

async function fresh(): Promise<{ store: PostgresState; url: string; second: () => Promise<StateStore> }> {
  const made = await postgresStoreFactory(() => server)();
  stores.push(made.store);
  const second = async () => {
    const s = await made.second();
    stores.push(s);
    return s;
  };
  return { store: made.store as PostgresState, url: made.url, second };
}

async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skip)('PostgreSQL state backend', () => {
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('creates its schema in an empty database on first use, once, and names it', async () => {
    const { store, url } = await fresh();
    expect(store.backend).toBe('postgres');
    expect((await store.info()).schemaVersion).toBe(SCHEMA_VERSION);
    // Two more openings at once find it made.
    const again = await Promise.all([openState(url), openState(url)]);
    stores.push(...again);
    // Twenty first uses of another empty database at once: one creates the schema, the others wait and find it.
    const empty = server.url(await server.createDatabase('race'));
    const racing = await Promise.all(Array.from({ length: 20 }, () => openState(empty)));
    stores.push(...racing);
    expect(await Promise.all(racing.map(async (s) => (await (s as PostgresState).info()).schemaVersion))).toEqual(Array(20).fill(SCHEMA_VERSION));
    expect(await store.migrate()).toMatchObject({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
  });

  it('refuses a database with a newer schema, naming the version (exit 2)', async () => {
    const { url } = await fresh();
    const db = new URL(url).pathname.slice(1);
    await server.query(`UPDATE deployctl_meta SET value = '99' WHERE key = 'schema_version'`, [], db);
    const error = (await openState(url).catch((e) => e)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`has schema version 99, newer than this deployctl knows (${SCHEMA_VERSION})`);
  });

  it('keeps records as rows: newest first, filters, the current record per target, targets', async () => {
    const { store } = await fresh();
    const a1 = record('web', 'prod', '1.0');
    const a2 = record('web', 'prod', '1.1', { status: 'failed', healthy: false, bad: true });
    const b1 = record('api', 'dev', '2.0');
    for (const r of [a1, a2, b1]) await store.history.write(r);
    expect(await store.history.get(a1.id)).toEqual(a1);
    expect((await store.history.list({})).map((r) => r.id)).toEqual([b1.id, a2.id, a1.id]);
    expect((await store.history.list({ app: 'web', env: 'prod', limit: 1 })).map((r) => r.version)).toEqual(['1.1']);
    expect((await store.history.entries({ status: 'succeeded' })).map((e) => e.version)).toEqual(['2.0', '1.0']);
    expect((await store.history.entries({ app: 'web', env: 'prod' }))[0]).toEqual({
      id: a2.id, app: 'web', env: 'prod', version: '1.1', action: 'deploy', status: 'failed', startedAt: a2.startedAt,
      finishedAt: a2.finishedAt, durationMs: 1000, user: 'ana', host: a2.host, pid: a2.pid, healthy: false, bad: true,
    });
    expect((await store.history.current()).map((r) => r.id)).toEqual([b1.id, a2.id]);
    expect(await store.history.targets()).toEqual([{ app: 'api', env: 'dev' }, { app: 'web', env: 'prod' }]);
    expect((await store.history.latest('web', 'prod'))?.id).toBe(a2.id);
    // A rewrite replaces the row.
    await store.history.write({ ...a1, notes: ['changed'] });
    expect((await store.history.get(a1.id))?.notes).toEqual(['changed']);
    expect((await store.history.list({})).length).toBe(3);
  });

  it('prunes in SQL, keeping the newest N, what runs and the way back', async () => {
    const { store } = await fresh();
    const older = [record('web', 'prod', '0.1'), record('web', 'prod', '0.2')];
    const good = record('web', 'prod', '1.0');
    const runs = record('web', 'prod', '1.1');
    const failed = record('web', 'prod', '1.2', { status: 'failed', bad: true });
    for (const r of [...older, good, runs, failed]) await store.history.write(r);
    // The store keeps the newest N, the newest and what runs (1.1); the way back (1.0) is the rollback
    // policy's to name, as every caller of prune passes it.
    const { deleted } = await store.history.prune({ keep: 1, protect: pruneProtects });
    expect(deleted.sort()).toEqual(older.map((r) => r.id).sort());
    expect((await store.history.list({})).map((r) => r.version)).toEqual(['1.2', '1.1', '1.0']);
  });

  it('keeps the audit log, newest first', async () => {
    const { store, second } = await fresh();
    const other = await second();
    await store.audit.append({ at: '2026-11-24T10:00:00.000Z', action: 'deploy', app: 'web', env: 'prod', result: 'succeeded', user: 'ana', host: 'a' });
    await other.audit.append({ at: '2026-11-24T10:01:00.000Z', action: 'unlock', app: 'web', env: 'prod', result: 'removed', user: 'bo', host: 'b' });
    expect((await store.audit.read({ limit: 10 })).map((e) => e.user)).toEqual(['bo', 'ana']);
    expect((await store.audit.read({ limit: 1 })).map((e) => e.user)).toEqual(['bo']);
  });

  it('lets one holder in per target across stores, names it in the refusal, queues with a wait, and frees it on release', async () => {
    const { store, second } = await fresh();
    const other = await second();
    const held = await store.locks.acquire('web', 'prod', { command: 'deployctl deploy web -e prod --version 1.0' });
    expect(held.info).toMatchObject({ app: 'web', env: 'prod', pid: process.pid, command: 'deployctl deploy web -e prod --version 1.0' });
    const refused = (await other.locks.acquire('web', 'prod', { command: 'x' }).catch((e) => e)) as LockError;
    expect(refused).toBeInstanceOf(LockError);
    expect(refused.exitCode).toBe(5);
    expect(refused.message).toMatch(/^Lock held by .+@.+ \(pid \d+\) since \d\d:\d\d: deployctl deploy web -e prod --version 1\.0, database session \d+\.$/);
    expect(refused.hint).toContain('--wait-lock');
    // Another target is free.
    await (await other.locks.acquire('web', 'dev', { command: 'y' })).release();
    const seen = await other.locks.inspect('web', 'prod');
    expect(seen).toMatchObject({ state: 'alive', holder: { token: held.info.token } });
    // A waiter queues and gets it when the holder lets go.
    const waiting = other.locks.acquire('web', 'prod', { command: 'z', waitMs: 30_000 });
    await held.release();
    const next = await waiting;
    expect(next.info.command).toBe('z');
    await next.release();
    expect(await store.locks.inspect('web', 'prod')).toBeUndefined();
  });

  it('a lock taken without a user names the one identity (DEPLOYCTL_USER), as the record and the audit log do', async () => {
    const { store, second } = await fresh();
    const saved = process.env.DEPLOYCTL_USER;
    process.env.DEPLOYCTL_USER = 'ana-ci';
    try {
      const held = await store.locks.acquire('web', 'prod', { command: 'deployctl deploy web -e prod' });
      expect(held.info.user).toBe('ana-ci');
      expect((await (await second()).locks.inspect('web', 'prod'))?.holder.user).toBe('ana-ci');
      await held.release();
    } finally {
      if (saved === undefined) delete process.env.DEPLOYCTL_USER;
      else process.env.DEPLOYCTL_USER = saved;
    }
  });

  it('a waiter gives up after --wait-lock, naming the holder', async () => {
    const { store, second } = await fresh();
    const other = await second();
    const held = await store.locks.acquire('web', 'prod', { command: 'first' });
    const refused = (await other.locks.acquire('web', 'prod', { command: 'x', waitMs: 300 }).catch((e) => e)) as LockError;
    expect(refused).toBeInstanceOf(LockError);
    expect(refused.message).toMatch(/: first, database session \d+ after waiting/);
    await held.release();
  });

  it('a holder whose session ends is stale: the next one takes over with onStale, and settles its running record as interrupted under the lock', async () => {
    const { store, second } = await fresh();
    const other = await second();
    const held = (await store.locks.acquire('web', 'prod', { command: 'dies' })) as PgLockHandle;
    const running = record('web', 'prod', '1.0', { status: 'running', finishedAt: undefined, durationMs: undefined, host: 'laptop-a', pid: 4242 });
    await store.history.write(running);
    expect((await other.history.get(running.id))?.status).toBe('running');
    // The session ends as if the process was killed: the server frees the advisory lock.
    await server.query('SELECT pg_terminate_backend($1)', [held.backendPid]);
    await until(() => held.lost.aborted);
    expect((await other.locks.inspect('web', 'prod'))?.state).toBe('stale');
    // Another host's record: a reader cannot tell it is gone (as with the file store); the next taker can.
    expect((await other.history.get(running.id))?.status).toBe('running');
    const stale: LockInfo[] = [];
    const next = await other.locks.acquire('web', 'prod', { command: 'next', onStale: (old) => stale.push(old) });
    expect(stale.map((s) => s.command)).toEqual(['dies']);
    const settled = await other.history.interruptInFlight('web', 'prod', (r) => `deployctl (pid ${r.pid} on ${r.host}) stopped`);
    expect(settled.map((r) => r.id)).toEqual([running.id]);
    const after = await store.history.get(running.id);
    expect(after?.status).toBe('interrupted');
    expect(after?.error?.message).toContain('pid 4242 on laptop-a');
    await next.release();
  });

  it('a holder that lost its lock says so and does not record success', async () => {
    const { store } = await fresh();
    const held = (await store.locks.acquire('web', 'prod', { command: 'deploy' })) as PgLockHandle;
    const r = record('web', 'prod', '1.0', { status: 'running', finishedAt: undefined });
    await store.history.write(r);
    await server.query('SELECT pg_terminate_backend($1)', [held.backendPid]);
    await until(() => held.lost.aborted);
    expect(String((held.lost.reason as Error).message)).toBe('its database session was ended (`deployctl unlock --force` from another machine, pg_terminate_backend, or the server shutting down)');
    const error = (await store.history.write({ ...r, status: 'succeeded' }).catch((e) => e)) as StateWriteError;
    expect(error).toBeInstanceOf(StateWriteError);
    expect(error.message).toMatch(/^lost the lock of web in prod: .*cannot vouch for how deploy 1\.0 of web in prod ended/);
    const saved = await store.history.get(r.id);
    expect(saved?.status).toBe('interrupted');
    expect(saved?.error?.code).toBe('lock_lost');
    await held.release();
    // Taking the lock again, the process may record that target again.
    const again = await store.locks.acquire('web', 'prod', { command: 'deploy' });
    const next = record('web', 'prod', '1.1');
    await store.history.write(next);
    expect((await store.history.get(next.id))?.status).toBe('succeeded');
    await again.release();
  });

  it('a record written under the lock checks it in the same statement: with the holder row gone (the session still alive, the heartbeat not due yet), nothing is written and the lock is lost', async () => {
    const { store } = await fresh();
    const held = (await store.locks.acquire('web', 'prod', { command: 'deploy' })) as PgLockHandle;
    const r = record('web', 'prod', '2.0', { status: 'running', finishedAt: undefined });
    await store.history.write(r, { heldBy: held });
    await store.db.pool.query(`DELETE FROM deployctl_locks WHERE app = 'web' AND env = 'prod'`);
    expect(held.lost.aborted).toBe(false);
    const error = (await store.history.write({ ...r, status: 'succeeded' }, { heldBy: held }).catch((e) => e)) as StateWriteError;
    expect(error).toBeInstanceOf(StateWriteError);
    expect(error.errno).toBe('LOCK_LOST');
    expect(error.message).toBe('lost the lock of web in prod: its holder row was removed (`deployctl unlock --force`, or by hand); deployctl cannot vouch for how deploy 2.0 of web in prod ended');
    expect(held.lost.aborted).toBe(true);
    expect((await store.history.get(r.id))?.status).toBe('running');
    // The process no longer writes that target as a success without the lock either.
    expect(await store.history.write({ ...r, status: 'succeeded' }).catch((e) => e)).toBeInstanceOf(StateWriteError);
    await held.release();
  });

  it('unlock ends the holder session (pg_terminate_backend) and removes its row', async () => {
    const { store, second } = await fresh();
    const other = await second();
    const held = (await store.locks.acquire('web', 'prod', { command: 'stuck' })) as PgLockHandle;
    const removed = await other.locks.remove('web', 'prod', held.info.token);
    expect(removed?.command).toBe('stuck');
    await until(() => held.lost.aborted);
    expect(await other.locks.inspect('web', 'prod')).toBeUndefined();
    await (await other.locks.acquire('web', 'prod', { command: 'next' })).release();
  });

  it('unlock by a role that may not end the session says who can', async () => {
    const { store, url } = await fresh();
    const db = new URL(url).pathname.slice(1);
    const held = (await store.locks.acquire('web', 'prod', { command: 'stuck' })) as PgLockHandle;
    // The holder is the superuser; the password role may use the tables but not end its session.
    await server.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${PASSWORD_ROLE.user}`, [], db);
    const limited = await openState(`postgres://${PASSWORD_ROLE.user}:${PASSWORD_ROLE.password}@${server.host}:${server.port}/${db}`);
    stores.push(limited);
    const error = (await limited.locks.remove('web', 'prod').catch((e) => e)) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.message).toContain(`cannot end the database session ${held.backendPid}`);
    expect(error.hint).toContain(`SELECT pg_terminate_backend(${held.backendPid})`);
    expect(held.lost.aborted).toBe(false);
    await held.release();
  });

  it('tells LISTEN/NOTIFY news to watchers in other stores', async () => {
    const { store, second } = await fresh();
    const other = await second();
    let calls = 0;
    const stop = other.watch(() => calls++);
    // The listener connects in the background: write until it hears.
    await until(async () => {
      await store.history.write(record('web', 'prod', '1.0'));
      return calls > 0;
    });
    stop();
  });

  describe('URLs and faults: one clear message, exit 2, no password shown', () => {
    it('a malformed URL', async () => {
      const error = (await openState('postgres://ana:s3cret@db:notaport/x').catch((e) => e)) as UsageError;
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe('the state URL postgres://ana:***@db:notaport/x is not a valid PostgreSQL URL');
    });

    it('a refused connection', async () => {
      const port = await freePort();
      const error = (await openState(`postgresql://ana:s3cret@127.0.0.1:${port}/x`).catch((e) => e)) as UsageError;
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(`cannot connect to PostgreSQL at postgresql://ana:***@127.0.0.1:${port}/x: nothing accepts connections at 127.0.0.1:${port} (connection refused)`);
      expect(`${error.message}${error.hint}`).not.toContain('s3cret');
    });

    it('a bad password', async () => {
      const url = `postgres://${PASSWORD_ROLE.user}:wrong-pw@${server.host}:${server.port}/postgres`;
      const error = (await openState(url).catch((e) => e)) as UsageError;
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(`cannot connect to PostgreSQL at postgres://${PASSWORD_ROLE.user}:***@${server.host}:${server.port}/postgres: password authentication failed for user "${PASSWORD_ROLE.user}"`);
      expect(error.hint).toContain('PGPASSWORD');
    });

    it('a missing database', async () => {
      const error = (await openState(`${server.url('nope')}`).catch((e) => e)) as UsageError;
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain('the database "nope" does not exist');
      expect(error.hint).toContain('createdb nope');
    });

    it('the password from PGPASSWORD, and a unix socket through ?host=', async () => {
      const db = await server.createDatabase();
      const before = process.env.PGPASSWORD;
      process.env.PGPASSWORD = PASSWORD_ROLE.password;
      try {
        const store = await openState(`postgres://${PASSWORD_ROLE.user}@/${db}?host=${encodeURIComponent(server.socketDir)}&port=${server.port}`);
        stores.push(store);
        expect(store.location).toBe(`postgres://${PASSWORD_ROLE.user}@/${db}?host=${encodeURIComponent(server.socketDir)}&port=${server.port}`);
        await store.history.write(record('web', 'prod', '1.0'));
        expect((await store.history.targets()).length).toBe(1);
      } finally {
        if (before === undefined) delete process.env.PGPASSWORD;
        else process.env.PGPASSWORD = before;
      }
    });

    it('a database that goes away: a read is a usage error, a write a StateWriteError', async () => {
      const { store, url } = await fresh();
      const db = new URL(url).pathname.slice(1);
      await server.query(`DROP DATABASE ${db} WITH (FORCE)`);
      const read = (await store.history.list({}).catch((e) => e)) as UsageError;
      expect(read).toBeInstanceOf(UsageError);
      expect(read.message).toContain(`does not exist`);
      const write = (await store.history.write(record('web', 'prod', '1.0')).catch((e) => e)) as StateWriteError;
      expect(write).toBeInstanceOf(StateWriteError);
      expect(write.message).toMatch(/^cannot write the record web_prod_\w+: /);
    });
  });
});
