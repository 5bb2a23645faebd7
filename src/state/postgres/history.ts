// The history in PostgreSQL: one row per record (the full record as jsonb, its index entry as a small
// jsonb beside it, app, env, status and started_at as indexed columns), and one row per target. Every
// query a command makes reads a bounded number of rows through an index, whatever the history's size:
// every target's head (its newest record and the newest of each status) is a row of deployctl_heads,
// which the records' triggers keep in the same transaction as each write (heads.ts).
import { hostname } from 'node:os';
import { isPidAlive } from '../process.js';
import { requireHeld } from '../held-locks.js';
import type { DeployRecord, HistoryQuery, HistoryStore, IndexEntry, LockHandle, TargetHead } from '../types.js';
import { writeRefused } from './connection.js';
import { HOLDER_ROW_GONE, type HeldSession } from './locks.js';
import { readHeads } from './heads.js';
import type { Database } from './database.js';
import { entryOf, settle } from '../record-files.js';
import { sharedReads } from '../walk.js';

const UPSERT = `
WITH target AS (INSERT INTO deployctl_targets (app, env) VALUES ($2, $3) ON CONFLICT DO NOTHING)
INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at, entry = EXCLUDED.entry,
  record = EXCLUDED.record, written_at = now()`;

/**
 * UPSERT guarded by the lock ($8 the holder's token): run on the lock's own session, it writes only
 * while the holder row names that session, in the same statement (RETURNING nothing when it does not).
 */
const HELD_UPSERT = `
WITH held AS (
  SELECT 1 FROM deployctl_locks WHERE app = $2 AND env = $3 AND holder->>'token' = $8 AND backend_pid = pg_backend_pid() FOR UPDATE),
target AS (INSERT INTO deployctl_targets (app, env) SELECT $2, $3 FROM held ON CONFLICT DO NOTHING)
INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record)
SELECT $1, $2, $3, $4, $5::timestamptz, $6::jsonb, $7::jsonb FROM held
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at, entry = EXCLUDED.entry,
  record = EXCLUDED.record, written_at = now()
RETURNING id`;

export function upsertValues(record: DeployRecord): unknown[] {
  return [record.id, record.app, record.env, record.status, record.startedAt, JSON.stringify(entryOf(record)), JSON.stringify(record)];
}

/** How many of a target's newest records the rollback policy sees when pruning. */
const PROTECT_WINDOW = 500;

export class PgHistoryStore implements HistoryStore {
  private readonly host = hostname();

  constructor(
    private readonly db: Database,
    /** Why this process may no longer write a target's records (its lock was lost), if so. */
    private readonly lost: (app: string, env: string) => string | undefined,
    /** The database sessions of the locks this process holds (PgLockManager). */
    private readonly sessions: { sessionOf(handle: LockHandle): HeldSession | undefined; heldSession(app: string, env: string): HeldSession | undefined } = {
      sessionOf: () => undefined,
      heldSession: () => undefined,
    },
  ) {}

  /** Locks of this process under which interruptInFlight settled the target's records in flight. */
  private readonly settledUnder = new WeakSet<HeldSession>();

  warnings(): string[] {
    return [];
  }

  async heads(filter?: { app?: string; env?: string }): Promise<TargetHead[]> {
    await this.settleAbandoned();
    return readHeads(this.db, filter);
  }

  async write(record: DeployRecord, options: { heldBy?: LockHandle } = {}): Promise<void> {
    const reason = record.status !== 'interrupted' ? this.lost(record.app, record.env) : undefined;
    if (reason) {
      // Another deployment may run there now: this one cannot say how the target ended. Its record says
      // it lost the lock (when the database takes it), and the write fails, so no success is reported.
      const marked = settle(structuredClone(record), reason, 'lock_lost');
      await this.db.write('write the record', UPSERT + ` WHERE deployctl_records.status IN ('pending', 'running')`, upsertValues(marked)).catch(() => undefined);
      throw this.db.lockLost(reason, record);
    }
    const session = options.heldBy && this.sessions.sessionOf(options.heldBy);
    if (session) return this.writeHeld(record, session);
    await requireHeld(options.heldBy, record, this.db.shown);
    await this.db.write(`write the record ${record.id}`, UPSERT, upsertValues(record));
  }

  /**
   * On the lock's own session, in one statement with the check that the lock is still held there: a
   * lock found lost (the holder row gone, or the session) writes nothing and throws (errno LOCK_LOST).
   */
  private async writeHeld(record: DeployRecord, session: HeldSession): Promise<void> {
    let rows: Array<{ id: string }> | undefined;
    try {
      rows = await session.query<{ id: string }>(HELD_UPSERT, [...upsertValues(record), session.token]);
    } catch (error) {
      if (!session.lostReason()) throw writeRefused(error, this.db.url, `write the record ${record.id}`);
    }
    if (rows?.length === 0) session.lose(HOLDER_ROW_GONE);
    if (!rows?.length) throw this.db.lockLost(session.lostReason() ?? `lost the lock of ${record.app} in ${record.env}: it was released`, record);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    await this.settleAbandoned();
    const rows = await this.db.read<{ record: DeployRecord }>('SELECT record FROM deployctl_records WHERE id = $1', [id]);
    return rows[0]?.record;
  }

  private where(query: HistoryQuery): { sql: string; values: unknown[] } {
    const clauses: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      clauses.push(sql.replace('?', `$${values.length}`));
    };
    if (query.app) add('app = ?', query.app);
    if (query.env) add('env = ?', query.env);
    if (query.status) add('status = ?', query.status);
    if (query.since) add('started_at >= ?', query.since.toISOString());
    const limit = query.limit !== undefined && Number.isFinite(query.limit) ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    return { sql: `${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC${limit}`, values };
  }

  async list(query: HistoryQuery): Promise<DeployRecord[]> {
    await this.settleAbandoned(query);
    const { sql, values } = this.where(query);
    return (await this.db.read<{ record: DeployRecord }>(`SELECT record FROM deployctl_records ${sql}`, values)).map((r) => r.record);
  }

  async entries(query: HistoryQuery): Promise<IndexEntry[]> {
    await this.settleAbandoned(query);
    const { sql, values } = this.where(query);
    return (await this.db.read<{ entry: IndexEntry }>(`SELECT entry FROM deployctl_records ${sql}`, values)).map((r) => r.entry);
  }

  walk = sharedReads.walk;
  latest = sharedReads.latest;

  async current(): Promise<DeployRecord[]> {
    await this.settleAbandoned();
    // Each target's newest record, by the id its head names: one primary-key probe per target.
    const rows = await this.db.read<{ record: DeployRecord }>(
      `SELECT r.record FROM deployctl_heads h JOIN deployctl_records r ON r.id = h.head->'last'->>'id'
       ORDER BY h.app COLLATE "C", h.env COLLATE "C"`,
    );
    return rows.map((r) => r.record);
  }

  async targets(): Promise<Array<{ app: string; env: string }>> {
    // A target has a head exactly while it has records (the triggers delete the head of one emptied).
    return this.db.read<{ app: string; env: string }>(`SELECT app, env FROM deployctl_heads ORDER BY app COLLATE "C", env COLLATE "C"`);
  }

  async interruptInFlight(app: string, env: string, message: (record: DeployRecord) => string): Promise<DeployRecord[]> {
    const rows = await this.db.read<{ record: DeployRecord }>(
      `SELECT record FROM deployctl_records WHERE app = $1 AND env = $2 AND status IN ('pending', 'running') ORDER BY started_at, id`,
      [app, env],
    );
    const settled: DeployRecord[] = [];
    for (const { record } of rows) {
      settle(record, message(record));
      await this.db.write(`write the record ${record.id}`, UPSERT, upsertValues(record));
      settled.push(record);
    }
    const held = this.sessions.heldSession(app, env);
    if (held) this.settledUnder.add(held);
    return settled;
  }

  /**
   * Records left pending or running by a deployctl that is gone from this host (its pid no longer
   * runs): read as interrupted, and saved so, as the file store does. A record in flight of another
   * host, or of a process still running here, is left as it is: only the next taker of the target's
   * lock settles it (interruptInFlight, under the lock), since a reader cannot tell a remote holder
   * whose session died from one that has not taken its lock yet. One probe of a partial index when
   * nothing is in flight.
   */
  private async settleAbandoned(filter: { app?: string; env?: string } = {}): Promise<void> {
    // Under this process's lock of the target, once interruptInFlight settled it, nothing is left in
    // flight there but this process's own record: no need to look again.
    const held = filter.app && filter.env ? this.sessions.heldSession(filter.app, filter.env) : undefined;
    if (held && this.settledUnder.has(held)) return;
    const values: unknown[] = [this.host];
    let narrow = '';
    if (filter.app) narrow += ` AND app = $${values.push(filter.app)}`;
    if (filter.env) narrow += ` AND env = $${values.push(filter.env)}`;
    const rows = await this.db.read<{ record: DeployRecord }>(
      `SELECT record FROM deployctl_records WHERE status IN ('pending', 'running')${narrow} AND entry->>'host' = $1`,
      values,
    );
    for (const { record } of rows) {
      if (record.pid === process.pid || isPidAlive(record.pid)) continue;
      settle(
        record,
        `deployctl (pid ${record.pid} on ${record.host}) stopped before this deployment finished, or could not save how it ended: it was killed, the machine restarted, or the disk was full`,
      );
      // Only if it is still in flight: a reader never overwrites how a deployment ended.
      await this.db
        .write(
          `write the record ${record.id}`,
          `UPDATE deployctl_records SET status = $2, entry = $3, record = $4, written_at = now()
           WHERE id = $1 AND status IN ('pending', 'running')`,
          [record.id, record.status, JSON.stringify(entryOf(record)), JSON.stringify(record)],
        )
        .catch(() => undefined);
    }
  }

  /**
   * Old records of each target go, keeping the newest `keep`, and never: the newest record, the one
   * running now (the newest that succeeded), one in flight, or one `protect` names (the rollback
   * policy: the last good one). The newest and the newest that succeeded are chosen by the DELETE
   * itself, so a deployment racing the prune loses nothing. One DELETE per target.
   */
  async prune(options: { keep: number; olderThan?: Date; app?: string; env?: string; protect?: (newestFirst: readonly IndexEntry[]) => Iterable<string> }): Promise<{ deleted: string[] }> {
    const targets = (await this.targets()).filter((t) => (!options.app || t.app === options.app) && (!options.env || t.env === options.env));
    const deleted: string[] = [];
    for (const { app, env } of targets) {
      const recent = await this.entries({ app, env, limit: PROTECT_WINDOW });
      // The store keeps the newest; the caller's rollback policy names what else a rollback needs.
      const protect = [...new Set([...(recent[0] ? [recent[0].id] : []), ...(options.protect?.(recent) ?? [])])];
      const rows = await this.db.write<{ id: string }>(
        'prune the history',
        `DELETE FROM deployctl_records d
         WHERE d.app = $1 AND d.env = $2 AND d.status NOT IN ('pending', 'running') AND NOT (d.id = ANY($3))
           AND ($5::timestamptz IS NULL OR d.started_at < $5)
           AND d.id NOT IN (SELECT id FROM deployctl_records WHERE app = $1 AND env = $2 ORDER BY started_at DESC, id DESC LIMIT greatest($4, 1))
           AND d.id IS DISTINCT FROM (SELECT id FROM deployctl_records WHERE app = $1 AND env = $2 AND status = 'succeeded' ORDER BY started_at DESC, id DESC LIMIT 1)
         RETURNING d.id`,
        [app, env, protect, Math.max(0, options.keep), options.olderThan?.toISOString() ?? null],
      );
      deleted.push(...rows.map((r) => r.id));
    }
    return { deleted };
  }
}
