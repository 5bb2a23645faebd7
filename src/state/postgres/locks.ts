// One deployment in flight per app and environment, across every machine: a PostgreSQL session
// advisory lock, taken on a connection of its own (never a pooled one) and held for the whole
// deployment, plus a row in deployctl_locks naming the holder for refusals and `status`.
//
// A holder that dies (kill -9, machine gone) frees the lock when its session ends. A silently cut
// network: the lock session has idle_session_timeout = LOCK_SESSION_TIMEOUT_MS, and the holder runs a
// heartbeat every HEARTBEAT_MS, so the server ends a session it has not heard from within that time
// (TCP keepalives and tcp_user_timeout catch a dead peer on top). The holder notices first: a heartbeat
// that fails or gets no answer in HEARTBEAT_TIMEOUT_MS marks the lock lost (handle.lost aborts), and
// the store refuses to record the deployment as a success.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type * as Pg from 'pg';
import { InterruptedError, LockError } from '../../errors.js';
import { currentIdentity } from '../../identity.js';
import { describeHolder, lockRefused, processTracking } from '../held-locks.js';
import { stopProcessGroups } from '../process.js';
import type { AcquireOptions, LockHandle, LockInfo, LockManager, LockState, Takeover } from '../types.js';
import { connectionConfig, loadPg, maskUrl, unavailable } from './connection.js';
import { poolerVerdict, transactionPoolerError } from './pooler.js';
import { LOCK_NAMESPACE } from './schema.js';

/** The server ends a lock session silent for this long, freeing its lock. */
export const LOCK_SESSION_TIMEOUT_MS = 15_000;
const HEARTBEAT_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** A write on the lock's session (the record of how the deployment ended) waits this long, as the pool's do. */
const SESSION_QUERY_TIMEOUT_MS = 30_000;

export interface PgLockHandle extends LockHandle {
  /** Aborted when the lock is lost (its session ended, the network cut, unlock --force): reason says why. */
  lost: AbortSignal;
  /** The PostgreSQL session (backend pid) that holds the lock. */
  backendPid: number;
}

/**
 * A held lock's own database session, for a write that must happen only while the lock is held
 * (PgHistoryStore.write with heldBy): run on the session that holds the advisory lock, and guarded in
 * the same statement by the holder row still naming it, there is no moment between check and write.
 */
export interface HeldSession {
  app: string;
  env: string;
  token: string;
  /** Runs one statement on the lock's session; a session that fails it (ended, cut off) loses the lock first. Undefined once the lock is lost or released. */
  query<T extends Pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[] | undefined>;
  /** The statement found the holder row gone: the lock is lost (the handle's `lost` fires), with `why`. */
  lose(why: string): void;
  /** Why the lock was lost ("lost the lock of web in prod: ..."), once it was. */
  lostReason(): string | undefined;
}

/** The clause a lock found gone when a write or a check asks for it. */
export const HOLDER_ROW_GONE = 'its holder row was removed (`deployctl unlock --force`, or by hand)';

/** The holder row of a lock, while it names this session and token ($1 app, $2 env, $3 token): the guard of every held write. */
const HOLDER_ROW = `SELECT 1 FROM deployctl_locks WHERE app = $1 AND env = $2 AND holder->>'token' = $3 AND backend_pid = pg_backend_pid()`;

interface LockRow {
  holder: LockInfo | null;
  backend_pid: number | null;
  lock_pid: number | null;
}

export class PgLockManager implements LockManager {
  private readonly host = hostname();
  private readonly sessions = new WeakMap<LockHandle, HeldSession>();
  private readonly heldTargets = new Map<string, HeldSession>();

  /** The session of a lock this manager handed out, for a write made while it is held. */
  sessionOf(handle: LockHandle): HeldSession | undefined {
    return this.sessions.get(handle);
  }

  /** The session of the lock of app/env this process holds now (neither released nor lost), if any. */
  heldSession(app: string, env: string): HeldSession | undefined {
    const session = this.heldTargets.get(`${app}\0${env}`);
    return session && !session.lostReason() ? session : undefined;
  }

  constructor(
    private readonly url: string,
    private readonly pool: Pg.Pool,
    private readonly identity: { user?: string; host?: string } = {},
    /**
     * Told when a held lock is lost, with why (the history then refuses that target's records), and
     * with undefined when this process takes the target's lock again.
     */
    private readonly onLost: (app: string, env: string, reason: string | undefined) => void = () => undefined,
    /** Between SIGTERM and SIGKILL when a takeover stops the commands a stale holder left running. */
    private readonly stopGraceMs?: number,
  ) {}

  private async row(app: string, env: string): Promise<LockRow> {
    try {
      const rows = await this.pool.query<LockRow>(
        `SELECT l.holder, l.backend_pid, deployctl_lock_pid($1, $2) AS lock_pid
         FROM (SELECT $1::text AS app, $2::text AS env) t LEFT JOIN deployctl_locks l USING (app, env)`,
        [app, env],
      );
      return rows.rows[0]!;
    } catch (error) {
      throw unavailable(error, this.url);
    }
  }

  /**
   * The row of the session holding the lock: one that took it a moment ago writes its row just after,
   * so a row missing or left by an earlier holder is read again for a moment before being shown.
   */
  private async holderRow(app: string, env: string): Promise<LockRow> {
    let row = await this.row(app, env);
    for (let i = 0; i < 40 && row.lock_pid && (!row.holder || row.backend_pid !== row.lock_pid); i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await this.row(app, env);
    }
    return row;
  }

  private describe(row: LockRow): { holder: LockInfo; description: string } {
    const now = new Date().toISOString();
    const holder: LockInfo =
      row.holder ?? { app: '', env: '', pid: 0, host: 'unknown', user: 'unknown', command: 'unknown (taking the lock just now)', startedAt: now, refreshedAt: now, token: 'unknown' };
    const session = row.lock_pid ? `, database session ${row.lock_pid}` : '';
    return { holder, description: `${describeHolder(holder, this.host)}${session}` };
  }

  async inspect(app: string, env: string): Promise<{ holder: LockInfo; state: LockState; local: boolean; description: string } | undefined> {
    const row = await this.holderRow(app, env);
    if (!row.holder && !row.lock_pid) return undefined;
    const { holder, description } = this.describe(row);
    const state: LockState = row.lock_pid ? 'alive' : 'stale';
    return { holder, state, local: holder.host === this.host, description };
  }

  async holders(): Promise<Array<{ holder: LockInfo; state: LockState; local: boolean; description: string }>> {
    let rows: LockRow[];
    try {
      rows = (await this.pool.query<LockRow>(`SELECT holder, backend_pid, deployctl_lock_pid(app, env) AS lock_pid FROM deployctl_locks ORDER BY app, env`)).rows;
    } catch (error) {
      throw unavailable(error, this.url);
    }
    return rows.map((row) => {
      const { holder, description } = this.describe(row);
      const state: LockState = row.lock_pid ? 'alive' : 'stale';
      return { holder, state, local: holder.host === this.host, description };
    });
  }

  async acquire(
    app: string,
    env: string,
    options: AcquireOptions,
  ): Promise<PgLockHandle> {
    const pg = loadPg();
    const client = new pg.Client(connectionConfig(this.url, { keepAliveInitialDelayMillis: 1_000, application_name: `deployctl lock ${app}/${env}` }));
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      throw unavailable(error, this.url);
    }
    const end = () => client.end().catch(() => undefined);
    try {
      await this.refuseTransactionPooler(client, await configureSession(client), app, env);
      const key = [LOCK_NAMESPACE, app, env];
      let got = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, deployctl_lock_key($2, $3)) AS ok', key)).rows[0]!.ok;
      const waitMs = options.waitMs ?? 0;
      if (!got && waitMs > 0) got = await this.queue(client, key, waitMs, options.signal);
      if (!got) {
        const found = this.describe(await this.holderRow(app, env));
        await end();
        throw lockRefused(app, env, { description: found.description, state: 'alive' }, { waitMs, signal: options.signal });
      }
      const now = new Date().toISOString();
      const info: LockInfo = {
        app,
        env,
        pid: process.pid,
        host: this.identity.host ?? this.host,
        user: options.user ?? this.identity.user ?? currentIdentity().user,
        command: options.command,
        startedAt: now,
        refreshedAt: now,
        token: randomBytes(12).toString('hex'),
      };
      // Under the advisory lock nobody else writes this row: the one left behind is read and replaced in
      // one statement (taken after the lock, so it sees every release before it). A row left behind means
      // the holder before us never released: its session ended without it (killed, machine gone).
      const taken = await client.query<{ old: LockInfo | null; backend_pid: number }>(
        `WITH old AS (SELECT holder FROM deployctl_locks WHERE app = $1 AND env = $2),
         taken AS (INSERT INTO deployctl_locks (app, env, holder, backend_pid) VALUES ($1, $2, $3, pg_backend_pid())
           ON CONFLICT (app, env) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, refreshed_at = now()
           RETURNING backend_pid)
         SELECT (SELECT holder FROM old) AS old, (SELECT backend_pid FROM taken) AS backend_pid,
           -- Replacing a row is an UPDATE, which the table's trigger does not announce: watchers are told here.
           CASE WHEN EXISTS (SELECT 1 FROM old) THEN pg_notify('deployctl_changes', 'deployctl_locks') END AS notified`,
        [app, env, JSON.stringify(info)],
      );
      const { old, backend_pid: backendPid } = taken.rows[0]!;
      if (old) {
        // What the dead holder left running on this host goes before acquire returns (checked by start
        // time, as the file store does): the next deployment must not run beside it. Another host's
        // commands cannot be reached from here.
        const takeover: Takeover = old.host === this.host ? await stopProcessGroups(old.processes ?? [], this.stopGraceMs) : { stopped: [], leftRunning: [...(old.processes ?? [])] };
        options.onStale?.(old, takeover);
      }
      this.onLost(app, env, undefined);
      return this.handle(client, info, backendPid);
    } catch (error) {
      await end();
      if (error instanceof LockError || error instanceof InterruptedError) throw error;
      throw unavailable(error, this.url);
    }
  }

  /** A pooler in transaction mode between this connection and the server cannot hold a session lock: exit 2 (pooler.ts). */
  private async refuseTransactionPooler(client: Pg.Client, sessionPid: number, app: string, env: string): Promise<void> {
    const keyPid = (client as unknown as { processID?: number }).processID;
    if (keyPid === sessionPid) return;
    const otherPid = (await this.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    if (poolerVerdict({ keyPid, sessionPid, otherPid }) === 'transaction-pooler') throw transactionPoolerError(maskUrl(this.url), app, env);
  }

  /** Wait in PostgreSQL's queue for the lock, up to waitMs; false when the time is up or on abort. */
  private async queue(client: Pg.Client, key: unknown[], waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    const abort = () => {
      // Leaving the queue: a cancel request for the waiting query (a new short connection).
      const pid = (client as unknown as { processID?: number }).processID;
      if (pid) void this.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await client.query(`SET lock_timeout = ${Math.max(1, Math.ceil(waitMs))}`);
      await client.query('SELECT pg_advisory_lock($1, deployctl_lock_key($2, $3))', key);
      await client.query('SET lock_timeout = 0');
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '55P03' || code === '57014') return false; // lock_timeout, or cancelled
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  private handle(client: Pg.Client, info: LockInfo, backendPid: number): PgLockHandle {
    const lost = new AbortController();
    let released = false;
    const targetKey = `${info.app}\0${info.env}`;
    const forget = () => {
      if (this.heldTargets.get(targetKey) === session) this.heldTargets.delete(targetKey);
    };
    /** `why` is a clause: the handle's lost signal carries it; the history's refusal says it whole. */
    const lose = (why: string) => {
      if (released || lost.signal.aborted) return;
      clearInterval(heartbeat);
      forget();
      // The history first: by the time the engine hears of it, a write of success is already refused.
      this.onLost(info.app, info.env, `lost the lock of ${info.app} in ${info.env}: ${why}; another deployment may take it now`);
      lost.abort(new Error(why));
      client.end().catch(() => undefined);
    };
    client.on('error', (error) => lose(sessionEnded(error) ?? `the connection to the database broke (${error.message})`));
    client.on('end', () => lose('the connection to the database ended'));
    let beating = false;
    const heartbeat = setInterval(async () => {
      if (beating) return;
      beating = true;
      try {
        const r = await client.query<{ pid: number }>({
          text: `UPDATE deployctl_locks SET refreshed_at = now(), holder = jsonb_set(holder, '{refreshedAt}', to_jsonb($3::text))
                 WHERE app = $1 AND env = $2 AND holder->>'token' = $4 RETURNING pg_backend_pid() AS pid`,
          values: [info.app, info.env, new Date().toISOString(), info.token],
          query_timeout: HEARTBEAT_TIMEOUT_MS,
        } as Pg.QueryConfig);
        if (r.rowCount === 0) lose(HOLDER_ROW_GONE);
        else if (r.rows[0]!.pid !== backendPid) {
          lose(`the database session changed under it (${backendPid} → ${r.rows[0]!.pid}): a pooler in transaction mode (PgBouncer) sits in between; use a direct or session-pooled connection`);
        }
      } catch (error) {
        lose(`the database did not answer its heartbeat in ${HEARTBEAT_TIMEOUT_MS / 1000} s (${(error as Error).message}): the network to it may be cut`);
      } finally {
        beating = false;
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    // The commands running (process groups) written into the holder row, one rewrite after another, and
    // only while the lock is ours; a failure is ignored (the lock's loss is seen by the heartbeat).
    let rewriting: Promise<void> = Promise.resolve();
    const rewrite = (change: () => void) =>
      (rewriting = rewriting
        .then(async () => {
          if (released || lost.signal.aborted) return;
          change();
          // Bounded as the heartbeat is: a connection that hangs must not hold up release.
          await client.query({
            text: `UPDATE deployctl_locks SET holder = CASE WHEN $3::jsonb = '[]'::jsonb THEN holder - 'processes' ELSE jsonb_set(holder, '{processes}', $3::jsonb) END
                   WHERE app = $1 AND env = $2 AND holder->>'token' = $4`,
            values: [info.app, info.env, JSON.stringify(info.processes ?? []), info.token],
            query_timeout: HEARTBEAT_TIMEOUT_MS,
          } as Pg.QueryConfig);
        })
        .catch(() => undefined));
    const session: HeldSession = {
      app: info.app,
      env: info.env,
      token: info.token,
      async query<T extends Pg.QueryResultRow>(sql: string, values: unknown[]) {
        if (released || lost.signal.aborted) return undefined;
        try {
          return (await client.query<T>({ text: sql, values, query_timeout: SESSION_QUERY_TIMEOUT_MS } as Pg.QueryConfig)).rows;
        } catch (error) {
          const broken = connectionBroken(error as Error);
          if (broken) lose(broken);
          throw error;
        }
      },
      lose,
      lostReason: () => (lost.signal.aborted ? `lost the lock of ${info.app} in ${info.env}: ${(lost.signal.reason as Error).message}` : undefined),
    };
    const handle: PgLockHandle = {
      info,
      lost: lost.signal,
      backendPid,
      ...processTracking(info, rewrite),
      stillHeld: async () => {
        const rows = await session.query(HOLDER_ROW, [info.app, info.env, info.token]).catch(() => undefined);
        if (rows?.length) return true;
        // No answer at all: the session's failure has lost the lock already (or it was released).
        if (rows) lose(HOLDER_ROW_GONE);
        else if (!released) lose('the database did not answer whether the lock is still held');
        return false;
      },
      release: async () => {
        if (released) return;
        released = true;
        forget();
        clearInterval(heartbeat);
        await rewriting;
        if (!lost.signal.aborted) {
          // The row first, then the lock; ending the session frees the lock anyway.
          await client
            .query(`DELETE FROM deployctl_locks WHERE app = $1 AND env = $2 AND holder->>'token' = $3`, [info.app, info.env, info.token])
            .catch(() => undefined);
          await client.query('SELECT pg_advisory_unlock($1, deployctl_lock_key($2, $3))', [LOCK_NAMESPACE, info.app, info.env]).catch(() => undefined);
        }
        await client.end().catch(() => undefined);
      },
    };
    this.sessions.set(handle, session);
    this.heldTargets.set(targetKey, session);
    return handle;
  }

  /**
   * Remove a lock by hand. A live holder's database session is ended (pg_terminate_backend), which is
   * what frees an advisory lock; a role not allowed to do that gets a LockError saying who can.
   */
  async remove(app: string, env: string, token?: string): Promise<LockInfo | undefined> {
    const row = await this.row(app, env);
    const { holder } = this.describe(row);
    if (!row.holder && !row.lock_pid) return undefined;
    if (token !== undefined && row.holder && row.holder.token !== token) return undefined;
    if (row.lock_pid) {
      try {
        await this.pool.query('SELECT pg_terminate_backend($1)', [row.lock_pid]);
      } catch (error) {
        if ((error as { code?: string }).code === '42501') {
          throw new LockError(
            `cannot end the database session ${row.lock_pid} that holds the lock of ${app} in ${env}: this role may not end other sessions`,
            `stop that deployctl on ${holder.host} (pid ${holder.pid}), or ask a database superuser to run SELECT pg_terminate_backend(${row.lock_pid}), or grant pg_signal_backend to this role`,
          );
        }
        throw unavailable(error, this.url);
      }
      for (let i = 0; i < 100 && (await this.row(app, env)).lock_pid === row.lock_pid; i++) await new Promise((r) => setTimeout(r, 50));
    }
    try {
      await this.pool.query(`DELETE FROM deployctl_locks WHERE app = $1 AND env = $2 AND ($3::text IS NULL OR holder->>'token' = $3)`, [app, env, row.holder?.token ?? null]);
    } catch (error) {
      throw unavailable(error, this.url);
    }
    return holder;
  }
}

/** The lock session's settings: the server ends it when silent (idle_session_timeout), TCP notices a dead peer. */
const SESSION_SETTINGS: ReadonlyArray<[string, string]> = [
  ['idle_session_timeout', String(LOCK_SESSION_TIMEOUT_MS)],
  ['tcp_keepalives_idle', '5'],
  ['tcp_keepalives_interval', '2'],
  ['tcp_keepalives_count', '3'],
  ['tcp_user_timeout', String(LOCK_SESSION_TIMEOUT_MS)],
];

/**
 * Apply SESSION_SETTINGS to the lock's session, those the server knows (idle_session_timeout is
 * PostgreSQL 14+; a unix socket takes the TCP ones and ignores them), and return the session's pid (for
 * the pooler check): one statement. Settings that cannot be applied are done without, as before.
 */
async function configureSession(client: Pg.Client): Promise<number> {
  try {
    const r = await client.query<{ pid: number }>(
      `SELECT pg_backend_pid() AS pid,
         (SELECT count(set_config(s.name, s.value, false)) FROM unnest($1::text[], $2::text[]) AS s(name, value)
          WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_settings p WHERE p.name = s.name)) AS applied`,
      [SESSION_SETTINGS.map(([name]) => name), SESSION_SETTINGS.map(([, value]) => value)],
    );
    return r.rows[0]!.pid;
  } catch {
    return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  }
}

/**
 * Why a statement on the lock's session failed, when that failure means the session is gone or cannot
 * be trusted (ended by the server, the connection broken, no answer in time); undefined for an error of
 * the statement itself on a live session.
 */
function connectionBroken(error: Error): string | undefined {
  const ended = sessionEnded(error);
  if (ended) return ended;
  const code = (error as { code?: string }).code;
  if (code && !/^(08|57P|53)/.test(code)) return undefined;
  return `the connection to the database broke (${error.message})`;
}

/** The server ended the lock's session on purpose (pg_terminate_backend, as `unlock --force` does, or a shutdown): said so. */
function sessionEnded(error: Error): string | undefined {
  const code = (error as { code?: string }).code;
  if (code === '57P01') {
    return 'its database session was ended (`deployctl unlock --force` from another machine, pg_terminate_backend, or the server shutting down)';
  }
  return undefined;
}
