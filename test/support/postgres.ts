// A real, throwaway PostgreSQL for the tests: initdb into a private folder, a unix socket in that
// folder and a free loopback port, run as a dedicated system user (PostgreSQL refuses to run as root),
// stopped by stop(). Tests that need it skip with a reason when the binaries are missing, and fail
// when DEPLOYCTL_REQUIRE_TOOLS=1 (as CI sets), like test/support/tools.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { StateStore } from '../../src/state/port.js';
import { freePort } from './net.js';

const require = createRequire(import.meta.url);
const SYSTEM_USER = 'deployctl-pg';
/** The role with a password (scram-sha-256 over TCP); the superuser `postgres` is trusted. */
export const PASSWORD_ROLE = { user: 'deployer', password: 'pg-secret-Zq81' };

function binDirs(): string[] {
  const dirs = ['/usr/local/bin'];
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian packages
  }
  return [...dirs, ...(process.env.PATH ?? '').split(':').filter(Boolean)];
}

/** The folder holding initdb, pg_ctl and postgres, or undefined. */
export function postgresBinDir(): string | undefined {
  return binDirs().find((dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((tool) => {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** false when PostgreSQL can run here; else the reason to skip (or a throw under DEPLOYCTL_REQUIRE_TOOLS=1). */
export function postgresMissing(env: NodeJS.ProcessEnv = process.env): string | false {
  if (postgresBinDir()) return false;
  const why = 'PostgreSQL (initdb, pg_ctl, postgres) is not installed (not in /usr/local/bin, /usr/lib/postgresql/*/bin or on PATH)';
  if (env.DEPLOYCTL_REQUIRE_TOOLS === '1') throw new Error(`${why}, and DEPLOYCTL_REQUIRE_TOOLS=1: install it (scripts/install-test-tools.sh)`);
  console.warn(`skipping tests that need PostgreSQL: ${why}`);
  return why;
}

/** uid and gid to run the server as: the caller's when not root, else the dedicated user (made once). */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    try {
      return {
        uid: Number(execFileSync('id', ['-u', SYSTEM_USER], { stdio: 'pipe' }).toString().trim()),
        gid: Number(execFileSync('id', ['-g', SYSTEM_USER], { stdio: 'pipe' }).toString().trim()),
      };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SYSTEM_USER], { stdio: 'pipe' });
  } catch {
    // another test file made it at the same moment
  }
  const made = lookup();
  if (!made) throw new Error(`cannot create the system user ${SYSTEM_USER} to run PostgreSQL as (PostgreSQL refuses to run as root)`);
  return made;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** The folder of the unix socket. */
  socketDir: string;
  /** postgres://postgres@127.0.0.1:PORT/DB (trusted superuser over TCP). */
  url(database: string): string;
  /** A new empty database, its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Run SQL as the superuser, in `database` (default postgres). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Stop the server and remove its folder. */
  stop(): Promise<void>;
}

let counter = 0;

export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const owner = serverIdentity();
  const root = mkdtempSync(join(tmpdir(), 'deployctl-pg-'));
  const data = join(root, 'data');
  const socketDir = join(root, 'socket');
  mkdirSync(socketDir);
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
  }
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { stdio: 'pipe', cwd: root, ...asOwner });
  // First match wins: the password role needs its password, everyone else is trusted (a test server).
  writeFileSync(
    join(data, 'pg_hba.conf'),
    [
      `local all ${PASSWORD_ROLE.user} scram-sha-256`,
      `host all ${PASSWORD_ROLE.user} 127.0.0.1/32 scram-sha-256`,
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      '',
    ].join('\n'),
  );
  if (owner) chownSync(join(data, 'pg_hba.conf'), owner.uid, owner.gid);
  const host = '127.0.0.1';
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D', data,
      '-p', String(port),
      '-k', socketDir,
      '-c', `listen_addresses=${host}`,
      '-c', `max_connections=${options.maxConnections ?? 200}`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=16MB',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, ...asOwner },
  );
  let log = '';
  server.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const pg = require('pg') as typeof import('pg');
  const connect = async (database: string) => {
    const client = new pg.Client({ host, port, user: 'postgres', database });
    await client.connect();
    return client;
  };
  // Ready when it takes a connection.
  for (let attempt = 0; ; attempt++) {
    if (server.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${log}`);
    try {
      await (await connect('postgres')).end();
      break;
    } catch (error) {
      if (attempt > 600) throw new Error(`PostgreSQL did not accept connections: ${(error as Error).message}\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const query = async <T>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> => {
    const client = await connect(database);
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  await query(`CREATE ROLE ${PASSWORD_ROLE.user} LOGIN PASSWORD '${PASSWORD_ROLE.password}'`);
  return {
    host,
    port,
    socketDir,
    url: (database) => `postgres://postgres@${host}:${port}/${database}`,
    async createDatabase(prefix = 'state') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      await query(`CREATE DATABASE ${name} OWNER ${PASSWORD_ROLE.user}`);
      return name;
    },
    query,
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGINT'); // fast shutdown
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * One server for the test file that calls this at its top level: started before its tests, stopped
 * after them (after the file's own afterAll hooks). `skip` is false, or why the file's tests skip:
 * PostgreSQL is missing, or what `alsoNeeds` says is. `server` stands for the running server.
 */
export function postgresForFile(options: { alsoNeeds?: () => string | false } = {}): { skip: string | false; server: PostgresServer } {
  const skip = postgresMissing() || (options.alsoNeeds?.() ?? false);
  let started: PostgresServer | undefined;
  beforeAll(async () => {
    if (!skip) started = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
  const running = (): PostgresServer => {
    if (!started) throw new Error("this file's PostgreSQL server is not running: it starts in beforeAll, unless the file skips");
    return started;
  };
  const server: PostgresServer = {
    get host() {
      return running().host;
    },
    get port() {
      return running().port;
    },
    get socketDir() {
      return running().socketDir;
    },
    url: (database) => running().url(database),
    createDatabase: (prefix) => running().createDatabase(prefix),
    query: <T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string) => running().query<T>(sql, params, database),
    stop: () => running().stop(),
  };
  return { skip, server };
}

/**
 * For the state contract suite (test/state/contract.ts): start the server once per test file (in
 * beforeAll), then `factory()` gives a store over a fresh database, a second store over the same
 * data (another "machine"), and the dispose that closes both.
 */
export function postgresStoreFactory(server: () => PostgresServer) {
  return async (): Promise<{ store: StateStore; second: () => Promise<StateStore>; url: string; dispose: () => Promise<void> }> => {
    const { openState } = await import('../../src/state/open.js');
    const url = server().url(await server().createDatabase('contract'));
    const opened: StateStore[] = [];
    const open = async () => {
      const store = await openState(url);
      opened.push(store);
      return store;
    };
    const store = await open();
    return { store, second: open, url, dispose: async () => void (await Promise.all(opened.map((s) => s.close()))) };
  };
}
