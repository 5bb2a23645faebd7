// A throwaway PostgreSQL for `npm run bench -- --only pg`, started the way the tests start theirs
// (test/support/postgres.ts, which plain Node cannot import): initdb into a private folder, a unix
// socket there and a free loopback port, run as the non-root user `deployctl-pg` when run as root
// (PostgreSQL refuses root), fsync off (a throwaway), stopped by stop(). And the synthetic history of
// the records figures, loaded in SQL (one INSERT ... SELECT over generate_series), in the same shape
// as bench/records.mjs writes to files.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const SYSTEM_USER = 'deployctl-pg';

/** The folder holding initdb and postgres, or undefined (the same places the tests look). */
export function postgresBinDir() {
  const dirs = ['/usr/local/bin'];
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian packages
  }
  dirs.push(...(process.env.PATH ?? '').split(':').filter(Boolean));
  return dirs.find((dir) =>
    ['initdb', 'postgres'].every((tool) => {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

function serverIdentity() {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    try {
      const id = (flag) => Number(execFileSync('id', [flag, SYSTEM_USER], { stdio: 'pipe' }).toString().trim());
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SYSTEM_USER], { stdio: 'pipe' });
  return lookup();
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Start a server; `url(db)` is postgres://postgres@127.0.0.1:PORT/DB (trusted). */
export async function startThrowawayPostgres() {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const owner = serverIdentity();
  const root = mkdtempSync(join(tmpdir(), 'deployctl-bench-pg-'));
  const data = join(root, 'data');
  const socketDir = join(root, 'socket');
  mkdirSync(socketDir);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (owner) for (const dir of [root, socketDir]) chownSync(dir, owner.uid, owner.gid);
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { stdio: 'pipe', cwd: root, ...asOwner });
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  if (owner) chownSync(join(data, 'pg_hba.conf'), owner.uid, owner.gid);
  const port = await freePort();
  const server = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_wal_size=2GB'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, ...asOwner },
  );
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const pg = require('pg');
  const url = (db) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const query = async (sql, db = 'postgres') => {
    const client = new pg.Client({ connectionString: url(db) });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  for (let attempt = 0; ; attempt++) {
    if (server.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${log}`);
    try {
      await query('SELECT 1');
      break;
    } catch (error) {
      if (attempt > 600) throw new Error(`PostgreSQL did not accept connections: ${error.message}\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    query,
    async createDatabase(name) {
      await query(`CREATE DATABASE ${name}`);
      return name;
    },
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGINT');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * `count` records over `targets` ([app, env] pairs) into a database deployctl already made its tables
 * in: record i goes to targets[i % targets.length], one a minute apart from 2026-01-01, every tenth
 * failed, as bench/records.mjs writes them to files. Then VACUUM ANALYZE, as a live database would be.
 */
export async function loadRecords(server, db, count, targets) {
  // The records table's indexes (its primary key too) are dropped for the load and built again after,
  // from their own definitions: one sort each instead of a million index insertions. Its triggers (the
  // heads of schema 3, kept per statement) are off meanwhile, and the heads filled once at the end, as
  // the migration that made them back-fills them.
  const [{ heads }] = await server.query(`SELECT to_regclass('deployctl_heads') IS NOT NULL AS heads`, db);
  if (heads) await server.query('ALTER TABLE deployctl_records DISABLE TRIGGER USER', db);
  const indexes = await server.query(
    `SELECT indexname, indexdef, (SELECT conname FROM pg_constraint WHERE conindid = (quote_ident(indexname))::regclass) AS constraint_name,
            (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conindid = (quote_ident(indexname))::regclass) AS constraint_def
     FROM pg_indexes WHERE tablename = 'deployctl_records'`,
    db,
  );
  for (const i of indexes) {
    await server.query(i.constraint_name ? `ALTER TABLE deployctl_records DROP CONSTRAINT ${i.constraint_name}` : `DROP INDEX ${i.indexname}`, db);
  }
  const apps = `ARRAY[${targets.map(([app]) => `'${app}'`).join(',')}]`;
  const envs = `ARRAY[${targets.map(([, env]) => `'${env}'`).join(',')}]`;
  await server.query(
    `WITH t AS (SELECT * FROM unnest(${apps}, ${envs}) WITH ORDINALITY AS t(app, env, n)),
     r AS (
       SELECT i, t.app, t.env, at, CASE WHEN i % 10 = 3 THEN 'failed' ELSE 'succeeded' END AS status,
              format('%s_%s_%s_%s', t.app, t.env, to_char(at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISSMS"Z"'), lpad(to_hex(i), 6, '0')) AS id
       FROM generate_series(0, ${count - 1}) AS i JOIN t ON t.n = 1 + i % ${targets.length}
       CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute' AS at) a)
     INSERT INTO deployctl_records (id, app, env, status, started_at, entry, record)
     SELECT id, app, env, status, at, entry,
            entry || jsonb_build_object('schemaVersion', 1, 'command', format('deployctl deploy %s -e %s', app, env), 'config', jsonb_build_object('type', 'shell'), 'artifacts', '{}'::jsonb, 'steps', '[]'::jsonb)
     FROM r CROSS JOIN LATERAL (
       -- OFFSET 0: built once per row, not once per use.
       SELECT jsonb_build_object(
           'id', id, 'app', app, 'env', env, 'version', '1.0.' || i, 'action', 'deploy', 'status', status,
           'startedAt', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'finishedAt', to_char((at + interval '5 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'durationMs', 5000, 'user', 'bench', 'host', 'bench-host', 'pid', 1, 'healthy', status = 'succeeded') AS entry
       OFFSET 0) e`,
    db,
  );
  for (const i of indexes) {
    const sql = i.constraint_name ? `ALTER TABLE deployctl_records ADD CONSTRAINT ${i.constraint_name} ${i.constraint_def}` : i.indexdef;
    await server.query(`SET maintenance_work_mem = '256MB'; ${sql}`, db);
  }
  await server.query(`INSERT INTO deployctl_targets (app, env) SELECT DISTINCT app, env FROM deployctl_records ON CONFLICT DO NOTHING`, db);
  if (heads) {
    await server.query('ALTER TABLE deployctl_records ENABLE TRIGGER USER', db);
    await server.query(
      `INSERT INTO deployctl_heads (app, env, head) SELECT app, env, deployctl_head(app, env) FROM deployctl_targets
       ON CONFLICT (app, env) DO UPDATE SET head = EXCLUDED.head`,
      db,
    );
    await server.query('VACUUM ANALYZE deployctl_heads', db);
  }
  await server.query('VACUUM ANALYZE deployctl_records', db);
  await server.query('VACUUM ANALYZE deployctl_targets', db);
}
