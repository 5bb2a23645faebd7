// Two "machines" on one database, for the end-to-end tests of the PostgreSQL backend: processes with
// their own --home, user and hostname (a UTS namespace, as root), and the same DEPLOYCTL_STATE.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, cliPath, tempDir } from './cli.js';
import type { PostgresServer } from './postgres.js';

export const canRename = process.getuid?.() === 0;

export const WAIT_FOR_GATE = `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(process.env.GATE)) { clearInterval(t); } }, 20);`;

export interface Machine {
  name: string;
  env: NodeJS.ProcessEnv;
}

export async function team(server: PostgresServer, command: string[] = ['node', '-e', WAIT_FOR_GATE]) {
  const dir = tempDir('deployctl-pg-config-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ${JSON.stringify(command)}\n`);
  const db = await server.createDatabase('e2e');
  const url = server.url(db);
  const gate = join(tempDir(), 'gate');
  const machine = (name: string, stateUrl = url): Machine => ({
    name,
    env: cleanEnv({ DEPLOYCTL_HOME: tempDir(`deployctl-${name}-`), DEPLOYCTL_CONFIG_DIR: dir, DEPLOYCTL_STATE: stateUrl, GATE: gate, DEPLOYCTL_USER: name === 'machine-a' ? 'ana' : 'bo' }),
  });
  return { dir, db, url, gate, a: machine('machine-a'), b: machine('machine-b'), machine };
}

/** deployctl on a "machine": its own hostname (a UTS namespace, as root), home and user. */
export function start(m: Machine, args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const [file, argv] = canRename
    ? ['unshare', ['--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', m.name, process.execPath, cliPath, ...args]]
    : [process.execPath, [cliPath, ...args]];
  const child = spawn(file, argv as string[], { env: m.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stderr: () => stderr, done };
}

export async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The records in the database (none before the first command made the schema). */
export const rows = (server: PostgresServer, db: string) =>
  server
    .query<{ id: string; status: string; host: string; error: string | null }>(`SELECT id, status, record->>'host' AS host, record->'error'->>'message' AS error FROM deployctl_records ORDER BY started_at`, [], db)
    .catch(() => []);
export const lockRows = (server: PostgresServer, db: string) => server.query(`SELECT app, env FROM deployctl_locks`, [], db);

/** `promise`, or a failure naming `what` when it has not settled within `ms` (a generous bound, not a timing). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
