// The PostgreSQL backend of the state port: history, locks, the audit log and change notifications
// in one database shared by a team. Opening it checks the URL, connects, creates the schema in an
// empty database and refuses one with a newer schema; nothing else happens before the first command.
import type * as Pg from 'pg';
import { UsageError } from '../../errors.js';
import type { AuditEntry } from '../audit.js';
import { newRecordId } from '../history.js';
import type { StateStore } from '../port.js';
import type { DeployRecord } from '../types.js';
import { createHash } from 'node:crypto';
import { checkUrl, connectionConfig, loadPg, unavailable } from './connection.js';
import { Database } from './database.js';
import { PgHistoryStore, upsertValues } from './history.js';
import { PgLockManager } from './locks.js';
import { PgApprovalStore } from './approvals.js';
import { migrate, newerSchema, openingSchemaVersion, schemaVersion, SCHEMA_VERSION } from './schema.js';

export interface PostgresState extends StateStore {
  readonly backend: 'postgres';
  readonly db: Database;
  /** What `state info` shows. */
  info(): Promise<{ schemaVersion: number; targets: number; records: number; auditEntries: number; locks: Array<{ app: string; env: string; holder: unknown; backendPid: number | null; alive: boolean }> }>;
  /** Records not in the database yet (by id) are added, in batches; how many were. */
  importRecords(records: DeployRecord[]): Promise<number>;
  /** Audit entries not imported before (by their content) are added, oldest first; how many were. */
  importAudit(entries: AuditEntry[]): Promise<number>;
  /** `state migrate`: bring the schema up to date; what was applied. */
  migrate(): Promise<{ from: number; to: number; applied: number[] }>;
}

export async function createPostgresState(url: string, options: { migrate?: 'empty' | 'never' } = {}): Promise<PostgresState> {
  checkUrl(url);
  const db = new Database(url);
  let version: number;
  try {
    version = await openingSchemaVersion(db.pool);
  } catch (error) {
    await db.close();
    throw unavailable(error, url);
  }
  try {
    if (version > SCHEMA_VERSION) throw newerSchema(version, db.shown);
    if (version === 0 && options.migrate !== 'never') await migrateOn(db);
    else if (version < SCHEMA_VERSION && options.migrate !== 'never') {
      throw new UsageError(
        `the state database ${db.shown} has schema version ${version}; this deployctl needs ${SCHEMA_VERSION}`,
        'run `deployctl state migrate` once (it is safe to run while others use the database)',
      );
    }
  } catch (error) {
    await db.close();
    throw error instanceof UsageError ? error : unavailable(error, url);
  }

  const lostTargets = new Map<string, string>();
  const key = (app: string, env: string) => `${app}\0${env}`;
  const history = new PgHistoryStore(db, (app, env) => lostTargets.get(key(app, env)), {
    sessionOf: (handle) => locks.sessionOf(handle),
    heldSession: (app, env) => locks.heldSession(app, env),
  });
  const locks = new PgLockManager(url, db.pool, {}, (app, env, reason) => {
    if (reason === undefined) lostTargets.delete(key(app, env));
    else lostTargets.set(key(app, env), reason);
    db.hurried = lostTargets.size > 0;
  });
  const stops = new Set<() => void>();

  const store: PostgresState = {
    backend: 'postgres',
    location: db.shown,
    db,
    history,
    locks,
    approvals: new PgApprovalStore(db),
    audit: {
      async append(entry: AuditEntry) {
        await db.write('write the audit log', 'INSERT INTO deployctl_audit (at, entry) VALUES ($1, $2)', [entry.at, JSON.stringify(entry)]);
      },
      async read({ limit }) {
        const rows = await db.read<{ entry: AuditEntry }>('SELECT entry FROM deployctl_audit ORDER BY seq DESC LIMIT $1', [Math.max(0, limit)]);
        return rows.map((r) => r.entry);
      },
    },
    newRecordId: (app, env, at) => newRecordId(app, env, at),
    watch(onChange) {
      const stop = watchChanges(url, onChange);
      stops.add(stop);
      return () => {
        stops.delete(stop);
        stop();
      };
    },
    async close() {
      for (const stop of stops) stop();
      stops.clear();
      await db.close();
    },
    async info() {
      const [row] = await db.read<{ targets: number; records: number; audit: number }>(
        `SELECT (SELECT count(*) FROM deployctl_targets) AS targets, (SELECT count(*) FROM deployctl_records) AS records, (SELECT count(*) FROM deployctl_audit) AS audit`,
      );
      const held = await db.read<{ app: string; env: string; holder: unknown; backend_pid: number | null; lock_pid: number | null }>(
        `SELECT app, env, holder, backend_pid, deployctl_lock_pid(app, env) AS lock_pid FROM deployctl_locks ORDER BY app, env`,
      );
      return {
        schemaVersion: await schemaVersion(db.pool),
        targets: row!.targets,
        records: row!.records,
        auditEntries: row!.audit,
        locks: held.map((l) => ({ app: l.app, env: l.env, holder: l.holder, backendPid: l.lock_pid ?? l.backend_pid, alive: l.lock_pid !== null })),
      };
    },
    async importRecords(records) {
      let added = 0;
      for (let at = 0; at < records.length; at += 500) {
        const batch = records.slice(at, at + 500).map(upsertValues);
        const column = (i: number) => batch.map((v) => v[i]);
        const rows = await db.write<{ id: string }>(
          'import records',
          `WITH added AS (
             INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::jsonb[])
             ON CONFLICT (id) DO NOTHING RETURNING id, app, env),
           targets AS (INSERT INTO deployctl_targets (app, env) SELECT DISTINCT app, env FROM added ON CONFLICT DO NOTHING)
           SELECT id FROM added`,
          [0, 1, 2, 3, 4, 5, 6].map(column),
        );
        added += rows.length;
      }
      return added;
    },
    async importAudit(entries) {
      let added = 0;
      for (let at = 0; at < entries.length; at += 500) {
        const batch = entries.slice(at, at + 500);
        const rows = await db.write<{ seq: number }>(
          'import the audit log',
          `INSERT INTO deployctl_audit (at, entry, import_key)
           SELECT * FROM unnest($1::timestamptz[], $2::jsonb[], $3::text[]) ON CONFLICT (import_key) DO NOTHING RETURNING seq`,
          [batch.map((e) => e.at), batch.map((e) => JSON.stringify(e)), batch.map((e) => createHash('sha256').update(JSON.stringify(e)).digest('hex'))],
        );
        added += rows.length;
      }
      return added;
    },
    async migrate() {
      try {
        return await migrateOn(db);
      } catch (error) {
        throw error instanceof UsageError ? error : unavailable(error, url);
      }
    },
  };
  return store;
}

/** Migrations run in one transaction: on one connection of the pool, held for the whole of it. */
async function migrateOn(db: Database): Promise<{ from: number; to: number; applied: number[] }> {
  const client = await db.pool.connect();
  try {
    return await migrate(client, db.shown);
  } finally {
    client.release();
  }
}

/**
 * LISTEN for the notifications the tables' triggers send, on a connection of its own; throttled. When
 * listening fails (a lost connection) it polls every 2 s instead, and behind a pooler as well.
 */
function watchChanges(url: string, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // At most one call per 100 ms, and never held back by a steady stream of changes.
  const changed = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      if (!stopped) onChange();
    }, 100);
  };
  let poll: NodeJS.Timeout | undefined;
  const fallBack = () => {
    if (!stopped && !poll) poll = setInterval(onChange, 2_000);
  };
  const pg = loadPg();
  const client: Pg.Client = new pg.Client(connectionConfig(url, { application_name: 'deployctl watch' }));
  client.on('error', fallBack);
  client.on('end', fallBack);
  client.on('notification', changed);
  client
    .connect()
    // Behind a pooler (its own backend key, not the session's pid) a notification may go to another
    // client's session (PgBouncer in transaction mode): it polls as well.
    .then(() => client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
    .then((r) => (r.rows[0]!.pid !== (client as unknown as { processID?: number }).processID ? fallBack() : undefined))
    .then(() => client.query('LISTEN deployctl_changes'))
    // A change made while it connected was not heard: once listening, the watcher is told to look once.
    .then(changed)
    .catch(fallBack);
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(poll);
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
  };
}
