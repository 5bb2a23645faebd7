// The shared connection pool of one store, and the two ways a query fails: a read the database cannot
// answer is a StateUnavailableError (exit 2), a write it cannot take a StateWriteError (a deployment
// then says what ran and what the history lacks).
import type * as Pg from 'pg';
import { StateWriteError } from '../../errors.js';
import { lockLostWrite } from '../held-locks.js';
import type { DeployRecord } from '../types.js';
import { connectionConfig, loadPg, maskUrl, unavailable, writeRefused } from './connection.js';

/** How long a write waits once a lock of this process was lost (see Database.hurried). */
const HURRIED_WRITE_MS = 5_000;

export class Database {
  readonly pool: Pg.Pool;
  readonly shown: string;

  constructor(readonly url: string) {
    const pg = loadPg();
    this.shown = maskUrl(url);
    // Few connections per process (a deployment holds one more for its lock): 20 deployctl at once
    // stay far below max_connections. Idle ones do not keep the process alive.
    this.pool = new pg.Pool({ ...connectionConfig(url), max: 2, idleTimeoutMillis: 5_000, allowExitOnIdle: true, query_timeout: 30_000 });
    this.pool.on('error', () => undefined);
  }

  async read<T extends Pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, values)).rows;
    } catch (error) {
      throw unavailable(error, this.url);
    }
  }

  /**
   * Set while a lock of this process is lost (the database stopped answering, or ended its session):
   * the writes that follow (the interrupted record, the audit log) give up after HURRIED_WRITE_MS
   * instead of the driver's 20 s per connection, so a cut-off deployment says so soon.
   */
  hurried = false;

  async write<T extends Pg.QueryResultRow>(action: string, sql: string, values: unknown[] = []): Promise<T[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const query = this.pool.query<T>(sql, values);
      if (!this.hurried) return (await query).rows;
      query.catch(() => undefined);
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout: no answer in ${HURRIED_WRITE_MS / 1000} s`)), HURRIED_WRITE_MS);
      });
      return (await Promise.race([query, late])).rows;
    } catch (error) {
      throw writeRefused(error, this.url, action);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The refusal of a write by a deployment that lost its lock. */
  lockLost(reason: string, record: DeployRecord): StateWriteError {
    return lockLostWrite(reason, record, this.shown);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
