// What a no-op deploy says to PostgreSQL: every statement counted on the driver (pg's Client.query,
// the one door of every query, pool or lock session) during a real deploy run in process against a
// real server. Each statement is a round trip to the database; the count is what BENCHMARKS.md's
// "PostgreSQL deploy round trips" measured, and no guarantee of the lock is traded for fewer.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openState } from '../../src/state/open.js';
import type { PgLockManager } from '../../src/state/postgres/locks.js';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { postgresMissing, startPostgres, type PostgresServer } from '../support/postgres.js';

const skip = postgresMissing();
let server: PostgresServer;
const pg = createRequire(import.meta.url)('pg') as typeof Pg;

/** Every statement sent through pg while `body` runs, with the client that sent it (1, 2, ... in order of first use). */
async function statementsDuring(body: () => Promise<void>): Promise<Array<{ client: number; sql: string }>> {
  const seen: Array<{ client: number; sql: string }> = [];
  const clients = new Map<object, number>();
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: object, ...args: unknown[]) {
    if (!clients.has(this)) clients.set(this, clients.size + 1);
    const first = args[0] as string | { text?: string };
    seen.push({ client: clients.get(this)!, sql: (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').trim() });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await body();
  } finally {
    pg.Client.prototype.query = query;
  }
  return seen;
}

describe.skipIf(skip)('PostgreSQL round trips', () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  const closing: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    while (closing.length) await closing.pop()!.close();
  });

  it('a no-op deploy makes 13 statements: 5 on the pool, 8 on its lock session (one to set the session up, one to take the lock, one to take its row)', async () => {
    const dir = tempDir('deployctl-pg-trips-');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n');
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, DEPLOYCTL_STATE: server.url(await server.createDatabase('trips')) });
    // The first command makes the schema; the deploy measured is the second.
    expect((await runCli(['deploy', 'noop', '-e', 'dev', '-q'], { env })).code).toBe(0);
    const statements = await statementsDuring(async () => {
      const run = await runCli(['deploy', 'noop', '-e', 'dev', '-q'], { env });
      expect(run.code, run.stderr).toBe(0);
    });
    // The heartbeat (every 2 s) is a timer's, not the deploy's: on a loaded machine a deploy may outlast one.
    const counted = statements.filter((s) => !s.sql.startsWith('UPDATE deployctl_locks SET refreshed_at'));
    const kinds = (client: number) =>
      counted
        .filter((s) => s.client === client)
        .map((s) => s.sql.split(' ').slice(0, 3).join(' '))
        .sort();
    // The pool opens first (the schema version); the lock session second.
    expect(kinds(1)).toEqual([
      'INSERT INTO deployctl_audit', // the audit log
      'SELECT entry FROM', // what runs there now
      'SELECT record FROM', // records left in flight, settled under the lock
      'SELECT value FROM', // the schema version
      'WITH target AS', // the record, as running
    ]);
    expect(kinds(2)).toEqual([
      'DELETE FROM deployctl_locks', // release: the holder row first,
      'SELECT pg_advisory_unlock($1, deployctl_lock_key($2,', // then the lock
      'SELECT pg_backend_pid() AS', // the session's settings and pid (the pooler check)
      'SELECT pg_try_advisory_lock($1, deployctl_lock_key($2,', // the lock
      'UPDATE deployctl_locks SET', // the command's process group, recorded
      'UPDATE deployctl_locks SET', // and forgotten
      'WITH held AS', // how it ended, written only while the lock is held
      'WITH old AS', // the holder row: the one left behind read, and replaced
    ]);
    expect(counted).toHaveLength(13);
  }, 60_000);

  it('the lock session gets its settings from that one statement: the server ends it when silent, TCP notices a dead peer', async () => {
    const store = await openState(server.url(await server.createDatabase('settings')));
    closing.push(store);
    const held = await store.locks.acquire('web', 'dev', { command: 'x', user: 'ana' });
    const session = (store.locks as PgLockManager).sessionOf(held)!;
    const [settings] = (await session.query<Record<string, string>>(
      `SELECT current_setting('idle_session_timeout') AS idle, current_setting('tcp_keepalives_idle') AS keepalives_idle,
         current_setting('tcp_keepalives_interval') AS keepalives_interval, current_setting('tcp_keepalives_count') AS keepalives_count,
         current_setting('tcp_user_timeout') AS user_timeout`,
      [],
    ))!;
    expect(settings).toEqual({ idle: '15s', keepalives_idle: '5', keepalives_interval: '2', keepalives_count: '3', user_timeout: '15000' });
    await held.release();
  });
});
