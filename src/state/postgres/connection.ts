// Connecting to PostgreSQL: the driver (pg, loaded on first use so the file backend and --help pay
// nothing), the URL checked and shown without its password, and every way a connection fails said
// in one sentence naming the fix.
import { createRequire } from 'node:module';
import type * as Pg from 'pg';
import { StateWriteError, UsageError } from '../../errors.js';

type PgModule = typeof Pg;

let driver: PgModule | undefined;

/** node-postgres, required on first use: its bundle (dist/vendor/pg.cjs) when built, else the package. */
export function loadPg(): PgModule {
  if (!driver) {
    const load = createRequire(import.meta.url);
    const require = (name: 'pg'): PgModule => {
      try {
        return (load('../../vendor/pg.cjs') as { default: PgModule }).default;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
        return load(name) as PgModule;
      }
    };
    // pg asks at load whether it runs in a Cloudflare Worker: without a global navigator (Node 20) it
    // builds a fetch Response to find out, which loads Node's whole fetch implementation (about 20 ms).
    // A navigator that says Node answers at once; it is gone again right after.
    const lent = !('navigator' in globalThis);
    if (lent) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.version}` }, configurable: true, writable: true });
    try {
      driver = require('pg') as PgModule;
    } finally {
      if (lent) delete (globalThis as { navigator?: unknown }).navigator;
    }
    // bigint counts as numbers: deployctl's counts stay far below 2^53.
    driver.types.setTypeParser(20, (v: string) => Number(v));
  }
  return driver;
}

/** The state unreachable or unusable (refused, bad password, no such database): exit 2, nothing ran. */
class StateUnavailableError extends UsageError {
  override readonly code = 'state_unavailable';
}

/** The URL fit to print: `postgres://ana:***@db/deploys`; a `password=` parameter masked too. */
export function maskUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/?#]*:)[^@/?#]*@/i, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Check a postgres:// URL before connecting: a malformed one is a usage error, shown without its password. */
export function checkUrl(url: string): void {
  const shown = maskUrl(url);
  let parsed: URL;
  try {
    // An empty host (a unix socket through ?host=, or libpq's default) is fine: URL() wants one.
    parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)(?=[/?#]|$)/i, '$1localhost'));
  } catch {
    throw new UsageError(
      `the state URL ${shown} is not a valid PostgreSQL URL`,
      'write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or postgresql://...; ?host=/socket/dir for a unix socket; a password is better in PGPASSWORD or ~/.pgpass)',
    );
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode && !['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify', 'allow'].includes(sslmode)) {
    throw new UsageError(`the state URL ${shown} has an unknown sslmode "${sslmode}"`, 'use sslmode=disable, prefer, require, verify-ca or verify-full');
  }
}

/** Where it connects to, for messages: `db.example:5432`, or the socket folder. */
function target(config: Pg.ClientConfig): string {
  const host = config.host ?? process.env.PGHOST ?? 'localhost';
  const port = config.port ?? process.env.PGPORT ?? 5432;
  return host.startsWith('/') ? `the unix socket in ${host} (port ${port})` : `${host}:${port}`;
}

export function connectionConfig(url: string, extra: Pg.ClientConfig = {}): Pg.ClientConfig {
  return { connectionString: url, application_name: 'deployctl', connectionTimeoutMillis: 20_000, keepAlive: true, keepAliveInitialDelayMillis: 5_000, ...extra };
}

/** The parsed pieces (user, host, port, database), for messages. */
function urlParts(url: string): { user?: string; host?: string; port?: string; database?: string } {
  try {
    const require = createRequire(import.meta.url);
    const { parse } = require('pg-connection-string') as { parse: (s: string) => Record<string, string | null | undefined> };
    const p = parse(url);
    return {
      user: p.user || process.env.PGUSER || undefined,
      host: p.host || process.env.PGHOST || undefined,
      port: p.port || process.env.PGPORT || undefined,
      database: p.database || process.env.PGDATABASE || undefined,
    };
  } catch {
    return {};
  }
}

/** True for errors that mean the server is out of reach or the session was lost (not a bad query). */
function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (!e) return false;
  if (e.code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOENT|57P0[1-3]|08\w{3})$/.test(e.code)) return true;
  return /Connection terminated|timeout|Client has encountered a connection error|not queryable|Connection ended/i.test(e.message ?? '');
}

/** One sentence for a failure to reach or use the database, and its fix. */
function explain(error: unknown, url: string): { message: string; hint: string; code: string } {
  const e = error as { code?: string; message?: string };
  const shown = maskUrl(url);
  const parts = urlParts(url);
  const where = target({ host: parts.host, port: parts.port ? Number(parts.port) : undefined });
  const code = e?.code ?? 'EPG';
  const raw = (e?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      return { code, message: `cannot connect to PostgreSQL at ${shown}: nothing accepts connections at ${where} (connection refused)`, hint: 'start the server, or fix the host and port in the state URL (--state, DEPLOYCTL_STATE or state.url in deployments.yaml)' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code, message: `cannot connect to PostgreSQL at ${shown}: the host ${parts.host ?? ''} is not known`, hint: 'fix the host name in the state URL' };
    case '28P01':
      return { code, message: `cannot connect to PostgreSQL at ${shown}: password authentication failed for user "${parts.user ?? ''}"`, hint: 'check the password (in the URL, PGPASSWORD or ~/.pgpass) and the user name' };
    case '28000':
      return { code, message: `cannot connect to PostgreSQL at ${shown}: the server refuses this user or host (${raw})`, hint: 'ask the database administrator for access (pg_hba.conf), or fix the user in the state URL' };
    case '3D000':
      return { code, message: `cannot connect to PostgreSQL at ${shown}: the database "${parts.database ?? ''}" does not exist`, hint: `create it (createdb ${parts.database ?? 'NAME'}, or CREATE DATABASE ${parts.database ?? 'NAME'}), or fix the database name in the state URL` };
    case '57P03':
    case '57P01':
    case '57P02':
      return { code, message: `PostgreSQL at ${shown} is shutting down or starting up (${raw})`, hint: 'try again once the server is up' };
    case '53300':
      return { code, message: `PostgreSQL at ${shown} has no connection slot left (${raw})`, hint: 'raise max_connections, or use a session-mode connection pool' };
    default:
      if (/timeout/i.test(raw)) {
        return { code: 'ETIMEDOUT', message: `cannot reach PostgreSQL at ${shown}: no answer from ${where} in time`, hint: 'check the network path to the server (firewall, VPN) and the host and port in the state URL' };
      }
      if (/SSL|certificate/i.test(raw)) {
        return { code, message: `cannot connect to PostgreSQL at ${shown}: ${raw}`, hint: 'fix sslmode in the state URL (sslmode=require, verify-full with PGSSLROOTCERT, or disable on a trusted network)' };
      }
      if (isConnectionError(error)) {
        return { code, message: `lost the connection to PostgreSQL at ${shown}: ${raw}`, hint: 'check that the server is up and reachable, then run the command again' };
      }
      return { code, message: `PostgreSQL at ${shown} refused a request: ${raw}`, hint: 'check the role\'s rights on the database (deployctl needs to create tables in it once, then to read and write them)' };
  }
}

/** A failure to reach or use the database as a usage error (exit 2: nothing ran). */
export function unavailable(error: unknown, url: string): UsageError {
  if (error instanceof UsageError) return error;
  const { message, hint } = explain(error, url);
  const failure = new StateUnavailableError(message, hint);
  failure.cause = error;
  return failure;
}

/** A write the database refused or could not take: a StateWriteError, so a deployment says what it ran. */
export function writeRefused(error: unknown, url: string, action: string): StateWriteError {
  if (error instanceof StateWriteError) return error;
  const { message, hint, code } = explain(error, url);
  const failure = new StateWriteError(`cannot ${action}: ${message}`, hint, { path: maskUrl(url), errno: code });
  failure.cause = error;
  return failure;
}
