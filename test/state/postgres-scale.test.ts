// status, list and history --limit cost the same with 100 or 1,000,000 records: every query they make
// on a large history (50,000 records over 1,000 targets, made in SQL) reads through an index, never a
// scan of the records table, and every target's head is read from deployctl_heads (one row per target),
// not from the records at all. Checked with EXPLAIN on the very queries the store sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Pg from 'pg';
import type { PostgresState } from '../../src/state/postgres/store.js';
import { postgresForFile, postgresStoreFactory } from '../support/postgres.js';

const { skip, server } = postgresForFile();
let store: PostgresState;
let dispose: () => Promise<void>;

describe.skipIf(skip)('a large history in PostgreSQL', () => {
  beforeAll(async () => {
    const made = await postgresStoreFactory(() => server)();
    store = made.store as PostgresState;
    dispose = made.dispose;
    const db = new URL(made.url).pathname.slice(1);
    await server.query(
      `WITH gen AS (
         SELECT i, 'app' || (i % 100) AS app, 'env' || ((i / 100) % 10) AS env,
                timestamptz '2026-01-01' + make_interval(secs => i) AS at, CASE WHEN i % 10 = 3 THEN 'failed' ELSE 'succeeded' END AS status
         FROM generate_series(1, 50000) AS i),
       rows AS (
         SELECT app || '_' || env || '_' || to_char(at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"000Z"') || '_' || lpad(to_hex(i), 6, '0') AS id, * FROM gen)
       INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record)
       SELECT id, app, env, status, at,
              jsonb_build_object('id', id, 'app', app, 'env', env, 'version', '1.0.' || i, 'action', 'deploy', 'status', status, 'startedAt', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"'), 'user', 'bench', 'host', 'h', 'pid', 1),
              jsonb_build_object('schemaVersion', 1, 'id', id, 'app', app, 'env', env, 'version', '1.0.' || i, 'action', 'deploy', 'status', status, 'startedAt', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"'), 'user', 'bench', 'host', 'h', 'pid', 1, 'command', 'x', 'config', '{}'::jsonb, 'artifacts', '{}'::jsonb, 'steps', '[]'::jsonb)
       FROM rows`,
      [],
      db,
    );
    await server.query(`INSERT INTO deployctl_targets SELECT DISTINCT app, env FROM deployctl_records`, [], db);
    await server.query('ANALYZE', [], db);
  }, 120_000);
  afterAll(async () => {
    await dispose?.();
  });

  it('status, list and history --limit read through indexes only', async () => {
    const sent: Array<{ text: string; values: unknown[] }> = [];
    const pool = store.db.pool as Pg.Pool & { query: (...args: unknown[]) => unknown };
    const query = pool.query.bind(pool);
    pool.query = ((text: string, values?: unknown[]) => {
      if (typeof text === 'string' && /^\s*(WITH|SELECT)/i.test(text) && /deployctl_(records|heads)/.test(text)) sent.push({ text, values: values ?? [] });
      return query(text, values);
    }) as typeof pool.query;
    const heads = await store.history.heads(); // status, list, the board
    expect(heads).toHaveLength(1000);
    expect(heads[0]).toMatchObject({ app: 'app0', env: 'env0' });
    expect((await store.history.heads({ app: 'app7', env: 'env7' })).map((h) => h.last.id)).toHaveLength(1);
    expect(await store.history.targets()).toHaveLength(1000);
    const current = await store.history.current();
    expect(current).toHaveLength(1000);
    const newest = await store.history.list({ app: 'app7', env: 'env7', limit: 20 }); // history app -e env --limit 20
    expect(newest).toHaveLength(20);
    expect(await store.history.list({ limit: 20 })).toHaveLength(20); // history --limit 20
    expect(await store.history.entries({ status: 'failed', limit: 20 })).toHaveLength(20);
    expect((await store.history.latest('app7', 'env7'))?.id).toBe(newest[0]!.id);
    pool.query = query as typeof pool.query;
    expect(sent.length).toBeGreaterThan(4);
    const db = new URL(store.db.url).pathname.slice(1);
    let headReads = 0;
    for (const { text, values } of sent) {
      const [{ 'QUERY PLAN': plan }] = await server.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, values, db);
      const scans: string[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (!node || typeof node !== 'object') return;
        const n = node as Record<string, unknown>;
        if (n['Relation Name'] === 'deployctl_records') scans.push(String(n['Node Type']));
        for (const value of Object.values(n)) walk(value);
      };
      walk(plan);
      if (/FROM deployctl_heads/.test(text) && !/JOIN deployctl_records/.test(text)) {
        // A head is never computed from the records when read.
        expect(scans, text).toEqual([]);
        headReads++;
        continue;
      }
      expect(scans.length, text).toBeGreaterThan(0);
      expect(scans.filter((t) => t === 'Seq Scan'), `${text}\n${JSON.stringify(plan)}`).toEqual([]);
    }
    expect(headReads).toBe(3);
  });
});
