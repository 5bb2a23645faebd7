// The database schema of the PostgreSQL backend: numbered migrations, each run once, in a transaction,
// under an advisory lock, so two deployctl starting on an empty database at once do not both create it.
// A database with a newer schema than this deployctl knows is refused (exit 2), never changed.
import type * as Pg from 'pg';
import { UsageError } from '../../errors.js';

/** The advisory lock namespace (first key) of deployctl: 'depl'. Target locks use (NS, hash of app/env). */
export const LOCK_NAMESPACE = 0x6465706c;
/** The migration lock: a namespace of its own, so no target's hash can meet it. */
const MIGRATION_LOCK = [LOCK_NAMESPACE + 1, 0] as const;
/** The namespace of the transaction locks that order the writers of one target's head (deployctl_heads). */
const HEADS_LOCK_NAMESPACE = LOCK_NAMESPACE + 2;

export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'records, targets, audit log, lock holders, change notifications',
    sql: `
CREATE TABLE deployctl_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE deployctl_records (
  id text PRIMARY KEY,
  app text NOT NULL,
  env text NOT NULL,
  status text NOT NULL,
  started_at timestamptz NOT NULL,
  entry jsonb NOT NULL,
  record jsonb NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployctl_records_target ON deployctl_records (app, env, started_at DESC, id DESC);
CREATE INDEX deployctl_records_newest ON deployctl_records (started_at DESC, id DESC);
CREATE INDEX deployctl_records_status ON deployctl_records (status, started_at DESC, id DESC);
CREATE INDEX deployctl_records_in_flight ON deployctl_records (app, env) WHERE status IN ('pending', 'running');
CREATE TABLE deployctl_targets (app text NOT NULL, env text NOT NULL, PRIMARY KEY (app, env));
CREATE TABLE deployctl_audit (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  entry jsonb NOT NULL,
  import_key text UNIQUE
);
CREATE TABLE deployctl_locks (
  app text NOT NULL,
  env text NOT NULL,
  holder jsonb NOT NULL,
  backend_pid integer NOT NULL,
  refreshed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app, env)
);
CREATE FUNCTION deployctl_lock_key(app text, env text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT hashtext(app || '/' || env) $$;
CREATE FUNCTION deployctl_lock_pid(app text, env text) RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT l.pid FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ${LOCK_NAMESPACE}::bigint::oid
    AND l.objid = ((deployctl_lock_key(app, env)::bigint + 4294967296) % 4294967296)::oid
  LIMIT 1 $$;
CREATE FUNCTION deployctl_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('deployctl_changes', TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER deployctl_records_changed AFTER INSERT OR UPDATE OR DELETE ON deployctl_records FOR EACH STATEMENT EXECUTE FUNCTION deployctl_notify();
CREATE TRIGGER deployctl_locks_changed AFTER INSERT OR DELETE ON deployctl_locks FOR EACH STATEMENT EXECUTE FUNCTION deployctl_notify();
`,
  },
  {
    version: 2,
    name: 'approvals; each target\'s newest record of each status by index',
    sql: `
CREATE INDEX deployctl_records_target_status ON deployctl_records (app, env, status, started_at DESC, id DESC);
CREATE TABLE deployctl_approvals (
  id text PRIMARY KEY,
  request jsonb NOT NULL,
  decision jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployctl_approvals_pending ON deployctl_approvals (created_at) WHERE decision IS NULL;
CREATE TRIGGER deployctl_approvals_changed AFTER INSERT OR UPDATE ON deployctl_approvals FOR EACH STATEMENT EXECUTE FUNCTION deployctl_notify();
`,
  },
  {
    version: 3,
    name: 'every target\'s head in a row of its own, kept by the records\' triggers, back-filled',
    sql: `
CREATE TABLE deployctl_heads (
  app text NOT NULL,
  env text NOT NULL,
  -- The TargetHead as status, list and the board read it: {app, env, last, latest: {status: entry}},
  -- without latest[last.status] (which is last).
  head json NOT NULL,
  PRIMARY KEY (app, env)
);
-- One target's head from its records: one index probe for the newest, one per status; null without records.
-- The newest of the newest record's own status is that record: left out of 'latest' (heads.ts puts it
-- back), so each head holds each entry once.
CREATE FUNCTION deployctl_head(p_app text, p_env text) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('app', p_app, 'env', p_env, 'last', l.entry, 'latest', (
           SELECT coalesce(jsonb_object_agg(s.status, s.entry), '{}'::jsonb)
             FROM unnest(ARRAY['pending', 'running', 'succeeded', 'failed', 'rolled_back', 'interrupted']) AS st(status)
             CROSS JOIN LATERAL (SELECT r.status, r.entry FROM deployctl_records r WHERE r.app = p_app AND r.env = p_env AND r.status = st.status
                                  ORDER BY r.started_at DESC, r.id DESC LIMIT 1) s
            WHERE st.status IS DISTINCT FROM l.entry->>'status'))
    FROM (SELECT r.entry FROM deployctl_records r WHERE r.app = p_app AND r.env = p_env ORDER BY r.started_at DESC, r.id DESC LIMIT 1) l $$;
-- Store it again, under a transaction lock of the target (a namespace of its own) taken first: a second
-- writer of the target waits, then reads what the first committed, so no head misses a write that raced it.
CREATE FUNCTION deployctl_refresh_head(p_app text, p_env text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  fresh json;
BEGIN
  PERFORM pg_advisory_xact_lock(${HEADS_LOCK_NAMESPACE}, deployctl_lock_key(p_app, p_env));
  fresh := deployctl_head(p_app, p_env);
  IF fresh IS NULL THEN
    DELETE FROM deployctl_heads WHERE app = p_app AND env = p_env;
  ELSE
    INSERT INTO deployctl_heads (app, env, head) VALUES (p_app, p_env, fresh) ON CONFLICT (app, env) DO UPDATE SET head = EXCLUDED.head;
  END IF;
END $$;
-- After each statement that writes records, the heads of the targets it touched, in one order (app,
-- env) so two statements over several targets never wait for each other in a circle.
CREATE FUNCTION deployctl_records_heads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  t record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR t IN SELECT DISTINCT app, env FROM deployctl_new_rows ORDER BY app, env LOOP
      PERFORM deployctl_refresh_head(t.app, t.env);
    END LOOP;
  ELSIF TG_OP = 'UPDATE' THEN
    FOR t IN SELECT app, env FROM deployctl_new_rows UNION SELECT app, env FROM deployctl_old_rows ORDER BY app, env LOOP
      PERFORM deployctl_refresh_head(t.app, t.env);
    END LOOP;
  ELSE
    FOR t IN SELECT DISTINCT app, env FROM deployctl_old_rows ORDER BY app, env LOOP
      PERFORM deployctl_refresh_head(t.app, t.env);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
-- The triggers first: they lock the records table against writes until this migration commits, so the
-- back-fill below reads every record written before, and every one written after finds the triggers.
CREATE TRIGGER deployctl_records_heads_insert AFTER INSERT ON deployctl_records REFERENCING NEW TABLE AS deployctl_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployctl_records_heads();
CREATE TRIGGER deployctl_records_heads_update AFTER UPDATE ON deployctl_records REFERENCING OLD TABLE AS deployctl_old_rows NEW TABLE AS deployctl_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployctl_records_heads();
CREATE TRIGGER deployctl_records_heads_delete AFTER DELETE ON deployctl_records REFERENCING OLD TABLE AS deployctl_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deployctl_records_heads();
INSERT INTO deployctl_heads (app, env, head) SELECT t.app, t.env, deployctl_head(t.app, t.env) FROM (SELECT DISTINCT app, env FROM deployctl_records) t;
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

type Queryable = Pick<Pg.PoolClient, 'query'>;

/** The schema version of the database: 0 when deployctl has never used it. */
export async function schemaVersion(db: Queryable): Promise<number> {
  // pg_class read through a fresh snapshot: to_regclass() may answer from a stale cache, and miss the
  // table another deployctl has just created while this one waited for the migration lock.
  const exists = await db.query<{ t: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relname = 'deployctl_meta' AND n.nspname = ANY (current_schemas(false))) AS t`,
  );
  if (!exists.rows[0]?.t) return 0;
  const row = await db.query<{ value: string }>(`SELECT value FROM deployctl_meta WHERE key = 'schema_version'`);
  return Number(row.rows[0]?.value ?? 0);
}

/**
 * The schema version as a command opening the database reads it: one query when the schema is there
 * (the common case); an empty database (no deployctl_meta) is asked again the careful way.
 * Outside a transaction only (a failed query would end one).
 */
export async function openingSchemaVersion(db: Queryable): Promise<number> {
  try {
    const row = await db.query<{ value: string }>(`SELECT value FROM deployctl_meta WHERE key = 'schema_version'`);
    return Number(row.rows[0]?.value ?? 0);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return schemaVersion(db);
    throw error;
  }
}

export function newerSchema(found: number, shown: string): UsageError {
  return new UsageError(
    `the state database ${shown} has schema version ${found}, newer than this deployctl knows (${SCHEMA_VERSION})`,
    'upgrade deployctl on this machine to the version your team uses (a newer deployctl migrated the database)',
  );
}

/**
 * Bring the database to SCHEMA_VERSION: each missing migration in one transaction, under the migration
 * lock (a second deployctl waits, then finds it done). Returns the versions applied (none when current).
 */
export async function migrate(db: Queryable, shown: string): Promise<{ from: number; to: number; applied: number[] }> {
  await db.query('BEGIN');
  try {
    await db.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
    const from = await schemaVersion(db);
    if (from > SCHEMA_VERSION) throw newerSchema(from, shown);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await db.query(m.sql);
      applied.push(m.version);
    }
    if (applied.length) {
      await db.query(
        `INSERT INTO deployctl_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(SCHEMA_VERSION)],
      );
    }
    await db.query('COMMIT');
    return { from, to: Math.max(from, SCHEMA_VERSION), applied };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
