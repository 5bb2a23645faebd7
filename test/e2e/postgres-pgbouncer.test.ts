// deployctl through a real PgBouncer: in transaction mode a deployment is refused before anything runs
// (exit 2, saying a direct or session-pooled connection is needed) while the commands that take no lock
// work; in session mode everything works as on a direct connection.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { rows, start, team, until } from '../support/postgres-team.js';
import { openState } from '../../src/state/open.js';
import { record } from '../support/records.js';
import { postgresForFile } from '../support/postgres.js';
import { pgbouncerMissing, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

const { skip, server } = postgresForFile({ alsoNeeds: pgbouncerMissing });
const bouncers: PgBouncer[] = [];

afterAll(async () => {
  for (const b of bouncers) await b.stop();
});

describe.skipIf(skip)('PgBouncer between deployctl and the database', () => {
  it('in transaction mode: deploy is refused with exit 2 and nothing run; status and history still work', async () => {
    const bouncer = await startPgBouncer(server, 'transaction');
    bouncers.push(bouncer);
    const { db, gate, machine } = await team(server, ['node', '-e', 'require("fs").writeFileSync(process.env.GATE, "ran")']);
    const pooled = machine('machine-a', bouncer.url(db));
    const refused = await start(pooled, ['deploy', 'svc', '-e', 'dev']).done;
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(
      `error: the state database postgres://postgres@127.0.0.1:${bouncer.port}/${db} is reached through a connection pooler in transaction mode (PgBouncer with pool_mode = transaction): the database session that would hold the lock of svc in dev is handed to other clients between statements, so two deployments could both hold it`,
    );
    expect(refused.stderr).toContain('hint: connect deployctl directly to PostgreSQL, or through a pool in session mode (pool_mode = session); nothing was run');
    expect(existsSync(gate)).toBe(false);
    expect(await rows(server, db)).toEqual([]);
    const status = await start(pooled, ['status', '--json']).done;
    expect(status.code, status.stderr).toBe(0);
    const history = await start(pooled, ['history', '--json']).done;
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout).records).toEqual([]);
  }, 60_000);

  it('in transaction mode: a watcher (the board) still hears of a change made elsewhere', async () => {
    const bouncer = await startPgBouncer(server, 'transaction');
    bouncers.push(bouncer);
    const db = await server.createDatabase('watch');
    const direct = await openState(server.url(db));
    const pooled = await openState(bouncer.url(db));
    try {
      let calls = 0;
      const stop = pooled.watch(() => (calls += 1));
      await until(() => calls > 0);
      const seen = calls;
      await direct.history.write(record('web', 'dev', '1.0.0'));
      await until(() => calls > seen);
      expect((await pooled.history.list({})).map((r) => r.version)).toEqual(['1.0.0']);
      stop();
    } finally {
      await direct.close();
      await pooled.close();
    }
  }, 60_000);

  it('in session mode: deploy works as on a direct connection', async () => {
    const bouncer = await startPgBouncer(server, 'session');
    bouncers.push(bouncer);
    const { db, machine } = await team(server, ['node', '-e', '0']);
    const deployed = await start(machine('machine-a', bouncer.url(db)), ['deploy', 'svc', '-e', 'dev']).done;
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await rows(server, db)).map((r) => r.status)).toEqual(['succeeded']);
  }, 60_000);
});
