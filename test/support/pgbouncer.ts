// A real PgBouncer in front of the tests' throwaway PostgreSQL (test/support/postgres.ts): a config in
// a temp folder, a free loopback port, trusted users, run as the same non-root user as the server
// (PgBouncer refuses root). Debian's `pgbouncer` package; tests skip with the reason when it is missing
// (and fail under DEPLOYCTL_REQUIRE_TOOLS=1, as CI sets: scripts/install-test-tools.sh installs it).
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from './net.js';
import type { PostgresServer } from './postgres.js';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

export function pgbouncerPath(): string | undefined {
  return CANDIDATES.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** false when PgBouncer can run here; else the reason to skip (or a throw under DEPLOYCTL_REQUIRE_TOOLS=1). */
export function pgbouncerMissing(env: NodeJS.ProcessEnv = process.env): string | false {
  if (pgbouncerPath()) return false;
  const why = `PgBouncer is not installed (not in ${CANDIDATES.join(', ')})`;
  if (env.DEPLOYCTL_REQUIRE_TOOLS === '1') throw new Error(`${why}, and DEPLOYCTL_REQUIRE_TOOLS=1: install it (scripts/install-test-tools.sh)`);
  console.warn(`skipping tests that need PgBouncer: ${why}`);
  return why;
}

function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  // The user test/support/postgres.ts made to run the server as.
  const id = (flag: string) => Number(execFileSync('id', [flag, 'deployctl-pg'], { stdio: 'pipe' }).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface PgBouncer {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/DB through the pooler. */
  url(database: string): string;
  stop(): Promise<void>;
}

export async function startPgBouncer(server: PostgresServer, poolMode: 'session' | 'transaction'): Promise<PgBouncer> {
  const file = pgbouncerPath();
  if (!file) throw new Error('PgBouncer not found');
  const dir = mkdtempSync(join(tmpdir(), 'deployctl-pgbouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.host} port=${server.port}`,
      '[pgbouncer]',
      `listen_addr = 127.0.0.1`,
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${poolMode}`,
      'default_pool_size = 4',
      'max_client_conn = 100',
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  );
  const who = owner();
  if (who) for (const f of ['', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), who.uid, who.gid);
  const child = spawn(file, [join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...(who ?? {}) });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when its port takes a connection.
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`PgBouncer did not start:\n${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (attempt > 400) throw new Error(`PgBouncer did not listen on ${port}:\n${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
