// Every target's head in PostgreSQL (deployctl_heads, kept by the records' triggers): right after an
// import, after the migration that made it (back-filled from a database of the previous schema with
// records in it, refused until migrated), and gone with a target's last record. On a real server.
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { openState } from '../../src/state/open.js';
import type { StateStore } from '../../src/state/port.js';
import { upsertValues } from '../../src/state/postgres/history.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/state/postgres/schema.js';
import { createPostgresState, type PostgresState } from '../../src/state/postgres/store.js';
import type { DeployRecord } from '../../src/state/types.js';
import { postgresForFile } from '../support/postgres.js';
import { record } from '../support/records.js';
import { headsFromHistory } from './contract.js';

const { skip, server } = postgresForFile();
const stores: StateStore[] = [];

async function open(url: string, options?: { migrate?: 'empty' | 'never' }): Promise<PostgresState> {
  const store = await createPostgresState(url, options);
  stores.push(store);
  return store;
}

/** The rows of deployctl_heads, as stored. */
async function storedHeads(db: string): Promise<Array<{ app: string; env: string; last: string; succeeded: string | null }>> {
  return server.query(
    `SELECT app, env, head->'last'->>'id' AS last, head->'latest'->'succeeded'->>'id' AS succeeded FROM deployctl_heads ORDER BY app, env`,
    [],
    db,
  );
}

describe.skipIf(skip)('PostgreSQL: every target\'s head in deployctl_heads', () => {
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('is right after an import (older, newer and new targets), and a second import changes nothing', async () => {
    const db = await server.createDatabase('heads_import');
    const store = await open(server.url(db));
    const old = record('web', 'prod', '0.9', { status: 'failed', error: { code: 'x', message: 'old' } });
    const v1 = record('web', 'prod', '1.0');
    const v2 = record('web', 'prod', '2.0', { status: 'rolled_back', bad: true, healthy: false });
    const api = record('api', 'dev', '7');
    const lost = record('api', 'dev', '8', { status: 'interrupted', error: { code: 'interrupted', message: 'killed' } });
    await store.history.write(v1);
    expect(await store.importRecords([old, v2, api, lost, v1])).toBe(4);
    const expected = await headsFromHistory(store.history);
    expect(await store.history.heads()).toEqual(expected);
    expect(expected.map((h) => [h.app, h.env, h.last.id, h.latest.succeeded?.id, h.latest.failed?.id])).toEqual([
      ['api', 'dev', lost.id, api.id, undefined],
      ['web', 'prod', v2.id, v1.id, old.id],
    ]);
    expect(await storedHeads(db)).toEqual([
      { app: 'api', env: 'dev', last: lost.id, succeeded: api.id },
      { app: 'web', env: 'prod', last: v2.id, succeeded: v1.id },
    ]);
    expect(await store.importRecords([old, v2, api, lost, v1])).toBe(0);
    expect(await store.history.heads()).toEqual(expected);
  });

  it('forgets a target whose records are all gone, and knows it again at its next record', async () => {
    const db = await server.createDatabase('heads_gone');
    const store = await open(server.url(db));
    const a = record('web', 'dev', '1');
    const b = record('api', 'dev', '1');
    for (const r of [a, b]) await store.history.write(r);
    await server.query(`DELETE FROM deployctl_records WHERE app = 'web'`, [], db);
    expect(await store.history.targets()).toEqual([{ app: 'api', env: 'dev' }]);
    expect((await store.history.heads()).map((h) => h.app)).toEqual(['api']);
    const c = record('web', 'dev', '2');
    await store.history.write(c);
    expect((await store.history.heads({ app: 'web' }))[0]?.last.id).toBe(c.id);
  });

  it(`migrates a database of schema version 2 with records in it: refused until \`state migrate\`, then every head back-filled`, async () => {
    expect(SCHEMA_VERSION).toBe(3);
    const db = await server.createDatabase('heads_v2');
    const url = server.url(db);
    // The schema as deployctl made it before heads had a table, and records written as it wrote them.
    for (const m of MIGRATIONS.filter((m) => m.version <= 2)) await server.query(m.sql, [], db);
    await server.query(`INSERT INTO deployctl_meta (key, value) VALUES ('schema_version', '2')`, [], db);
    const written: DeployRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const [app, env] = [['web', 'prod'], ['web', 'dev'], ['api', 'prod']][i % 3]!;
      written.push(record(app!, env!, `1.${i}`, i % 7 === 3 ? { status: 'failed', error: { code: 'x', message: `failure ${i}` } } : {}));
    }
    written.push(record('api', 'prod', '9.9', { action: 'destroy' }));
    written.push(record('web', 'dev', '2.0', { status: 'running', finishedAt: undefined, host: 'another-host', pid: 4242 }));
    for (const r of written) {
      await server.query(
        `WITH target AS (INSERT INTO deployctl_targets (app, env) VALUES ($2, $3) ON CONFLICT DO NOTHING)
         INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        upsertValues(r),
        db,
      );
    }

    // Every command refuses it, exit 2, naming the fix; nothing is changed.
    const refused = (await openState(url).catch((e) => e)) as UsageError;
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused.exitCode).toBe(2);
    expect(refused.message).toContain('has schema version 2; this deployctl needs 3');
    expect(refused.hint).toContain('deployctl state migrate');
    expect(await server.query(`SELECT to_regclass('deployctl_heads') AS t`, [], db)).toEqual([{ t: null }]);

    const store = await open(url, { migrate: 'never' });
    expect(await store.migrate()).toEqual({ from: 2, to: 3, applied: [3] });
    const expected = await headsFromHistory(store.history);
    expect(expected.map((h) => [h.app, h.env, h.last.version, h.latest.succeeded?.version, h.latest.running?.host])).toEqual([
      ['api', 'prod', '9.9', '9.9', undefined],
      ['web', 'dev', '2.0', '1.28', 'another-host'],
      ['web', 'prod', '1.27', '1.27', undefined],
    ]);
    expect(await store.history.heads()).toEqual(expected);
    expect((await storedHeads(db)).map((h) => h.last)).toEqual(expected.map((h) => h.last.id));
    // Idempotent, and the next write keeps the head.
    expect(await store.migrate()).toEqual({ from: 3, to: 3, applied: [] });
    const after = record('web', 'dev', '3.0');
    await (await open(url)).history.write(after);
    const [head] = await store.history.heads({ app: 'web', env: 'dev' });
    expect(head?.last.id).toBe(after.id);
    expect(head?.latest.running?.id).toBe(written.at(-1)!.id);
    expect(await store.history.heads()).toEqual(await headsFromHistory(store.history));
    expect((await store.info()).schemaVersion).toBe(3);
  });
});
