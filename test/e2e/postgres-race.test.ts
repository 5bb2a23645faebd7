// Team state on a real PostgreSQL: two "machines" (processes with their own --home and hostname, one
// database) racing for a target, queueing with --wait-lock, and a holder killed with SIGKILL.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cliPath, runCli } from '../support/cli.js';
import { isPidAlive } from '../../src/state/process.js';
import { canRename, lockRows, rows, start, team, until, within, type Machine } from '../support/postgres-team.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();

describe.skipIf(skip)('two machines, one database', () => {
  it('20 concurrent deploys of one target: 1 runs, 19 exit 5 naming the holder; no record lost or doubled', async () => {
    const { a, b, db, gate } = await team(server);
    const runs = Array.from({ length: 20 }, (_, i) => start(i % 2 ? b : a, ['deploy', 'svc', '-e', 'dev']));
    const results: Array<{ code: number | null; stderr: string }> = [];
    for (const run of runs) void run.done.then((r) => results.push(r));
    await until(() => results.length === 19, 90_000);
    writeFileSync(gate, '');
    await Promise.all(runs.map((r) => r.done));
    const odd = results.filter((r) => r.code !== 0 && r.code !== 5).map((r) => r.stderr);
    expect(results.map((r) => r.code).sort(), odd.join('\n')).toEqual([0, ...Array(19).fill(5)]);
    const host = canRename ? '(machine-a|machine-b)' : '\\S+';
    for (const r of results.filter((r) => r.code === 5)) {
      expect(r.stderr).toMatch(new RegExp(`Lock held by (ana|bo)@${host} \\\(pid \\d+\\) since \\d\\d:\\d\\d(, last refreshed [^:]+)?: deployctl deploy svc -e dev, database session \\d+\\.`));
    }
    expect((await rows(server, db)).map((r) => r.status)).toEqual(['succeeded']);
    expect(await lockRows(server, db)).toEqual([]);
  }, 120_000);

  it('with --wait-lock: all 20 run one at a time, every record there once', async () => {
    const { a, b, db, gate } = await team(server, ['node', '-e', '0']);
    writeFileSync(gate, '');
    const runs = Array.from({ length: 20 }, (_, i) => start(i % 2 ? b : a, ['deploy', 'svc', '-e', 'dev', '--wait-lock', '3m', '-q']));
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results.map((r) => r.code), results.map((r) => r.stderr).join('\n')).toEqual(Array(20).fill(0));
    const records = await rows(server, db);
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.id)).size).toBe(20);
    expect(records.every((r) => r.status === 'succeeded')).toBe(true);
    if (canRename) expect(new Set(records.map((r) => r.host))).toEqual(new Set(['machine-a', 'machine-b']));
    // One at a time: each record started after the one before it finished.
    const full = await server.query<{ s: string; f: string }>(`SELECT record->>'startedAt' AS s, record->>'finishedAt' AS f FROM deployctl_records ORDER BY started_at`, [], db);
    for (let i = 1; i < full.length; i++) expect(full[i]!.s >= full[i - 1]!.f).toBe(true);
    const history = JSON.parse((await runCli(['history', 'svc', '-e', 'dev', '--limit', '50', '--json'], { env: a.env })).stdout);
    expect(history.records).toHaveLength(20);
    expect(await lockRows(server, db)).toEqual([]);
  }, 180_000);

  it('kill -9 of the holder: the other machine, queued, gets the lock within 1 s; the killed record reads interrupted', async () => {
    const { a, b, db, gate } = await team(server);
    const holder = start(a, ['deploy', 'svc', '-e', 'dev']);
    await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
    const waiter = start(b, ['deploy', 'svc', '-e', 'dev', '--wait-lock', '1m', '--log-format', 'json']);
    // The waiter is queued in PostgreSQL (its lock connection waits on the advisory lock).
    await until(async () => (await server.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND application_name = 'deployctl lock svc/dev'`, [db])).length === 1);
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    await holder.done;
    writeFileSync(gate, '');
    const next = await waiter.done;
    expect(next.code, next.stderr).toBe(0);
    const locked = next.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { time: string; event: string; message: string; phase?: string; status?: string })
      .find((l) => l.phase === 'lock' && l.status === 'done');
    expect(locked, next.stderr).toBeDefined();
    expect(Date.parse(locked!.time) - killedAt).toBeLessThan(1000);
    expect(next.stderr).toMatch(/took over a stale lock of ana@\S+ \(pid \d+, since .*\): that process is gone/);
    const records = await rows(server, db);
    expect(records.map((r) => r.status)).toEqual(['interrupted', 'succeeded']);
    expect(records[0]!.error).toContain('stopped before this deployment finished');
  }, 90_000);

  it('who holds the lock: the holder row, the record and the audit row all name DEPLOYCTL_USER, not the login', async () => {
    const { a, db, gate } = await team(server);
    const env = { ...a.env, DEPLOYCTL_USER: 'ana-ci (pipeline 81)' };
    const holder = start({ ...a, env }, ['deploy', 'svc', '-e', 'dev']);
    await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
    let held: Array<{ user: string }> = [];
    await until(async () => (held = await server.query<{ user: string }>(`SELECT holder->>'user' AS user FROM deployctl_locks`, [], db)).length === 1);
    expect(held).toEqual([{ user: 'ana-ci (pipeline 81)' }]);
    writeFileSync(gate, '');
    const done = await holder.done;
    expect(done.code, done.stderr).toBe(0);
    const records = await server.query<{ user: string }>(`SELECT record->>'user' AS user FROM deployctl_records`, [], db);
    expect(records).toEqual([{ user: 'ana-ci (pipeline 81)' }]);
    const audit = await server.query<{ action: string; user: string }>(`SELECT entry->>'action' AS action, entry->>'user' AS user FROM deployctl_audit`, [], db);
    expect(audit).toEqual([{ action: 'deploy', user: 'ana-ci (pipeline 81)' }]);
  }, 90_000);

  it('unlock from the other machine: refused while the holder lives; --force ends its session, and the holder stops its commands, records interrupted (lock_lost) and exits 130', async () => {
    const { a, b, db, gate } = await team(server);
    const holder = start(a, ['deploy', 'svc', '-e', 'dev']);
    await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
    // The command it runs (which waits for a gate the test never opens), as its lock row names it.
    let command = 0;
    await until(async () => {
      const [row] = await server.query<{ pid: number | null }>(`SELECT (holder->'processes'->0->>'pid')::int AS pid FROM deployctl_locks`, [], db);
      command = row?.pid ?? 0;
      return command > 0;
    });
    expect(isPidAlive(command)).toBe(true);
    const refused = await runCli(['unlock', 'svc', '-e', 'dev'], { env: b.env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/error: the lock of svc in dev is held by a deployment that looks alive: ana@\S+ \(pid \d+\) since \d\d:\d\d.*: deployctl deploy svc -e dev, database session \d+/);
    const forced = await runCli(['unlock', 'svc', '-e', 'dev', '--force', '--json'], { env: b.env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).removed).toMatchObject({ user: 'ana', command: 'deployctl deploy svc -e dev' });
    // The gate stays shut: only the lost lock can end the holder, and it does, stopping its command.
    const ended = await within(holder.done, 30_000, 'the holder stopping once its session was ended');
    expect(ended.code, ended.stderr).toBe(130);
    expect(isPidAlive(command)).toBe(false);
    expect(ended.stderr).toMatch(
      /error: lost the lock of svc in dev: its database session was ended \(`deployctl unlock --force` from another machine, pg_terminate_backend, or the server shutting down\); its commands were stopped \(interrupted during .*\), and deployctl cannot vouch for how deploy 1\.0\.0 of svc in dev ended/,
    );
    expect(ended.stdout).toContain('deploy of svc 1.0.0 to dev was interrupted: lost the lock of svc in dev');
    expect(ended.stdout).toContain('check what runs in dev and who holds its lock now (deployctl status svc -e dev)');
    expect(ended.stdout + ended.stderr).not.toMatch(/deployed svc|succeeded/);
    const [saved] = await server.query<{ status: string; code: string }>(`SELECT status, record->'error'->>'code' AS code FROM deployctl_records`, [], db);
    expect(saved).toEqual({ status: 'interrupted', code: 'lock_lost' });
    expect(await lockRows(server, db)).toEqual([]);
    // The next deployment gets the lock at once, and finds nothing left in flight.
    writeFileSync(gate, '');
    const next = await start(b, ['deploy', 'svc', '-e', 'dev']).done;
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('never finished');
    const audit = JSON.parse((await runCli(['audit', '--json'], { env: b.env })).stdout);
    expect(audit.entries.map((e: { action: string; user: string }) => `${e.action} ${e.user}`)).toContain('unlock bo');
  }, 90_000);
});

describe.skipIf(skip)('the lock lost the moment before the record is written', () => {
  /** svc, whose post_deploy hook is `hook`: it runs after the deploy, right before the record is written. */
  async function withHook(hook: string[]) {
    const t = await team(server, ['node', '-e', '0']);
    writeFileSync(
      join(t.dir, 'deployments.yaml'),
      `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["node", "-e", "0"]\n    hooks:\n      post_deploy:\n        - ${JSON.stringify(hook)}\n`,
    );
    return t;
  }

  async function expectLockLost(run: { code: number | null; stdout: string; stderr: string }, db: string, why: RegExp, next: Machine) {
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(new RegExp(`error: lost the lock of svc in dev: ${why.source}; its commands .*, and deployctl cannot vouch for how deploy 1\\.0\\.0 of svc in dev ended`));
    expect(run.stdout).toContain('deploy of svc 1.0.0 to dev was interrupted: lost the lock of svc in dev');
    expect(run.stdout + run.stderr).not.toMatch(/deployed svc|succeeded/);
    const saved = await server.query<{ status: string; code: string }>(`SELECT status, record->'error'->>'code' AS code FROM deployctl_records`, [], db);
    expect(saved).toEqual([{ status: 'interrupted', code: 'lock_lost' }]);
    // The lock is free: the next deployment takes it at once (the hook may have been stopped before it
    // removed the row left by the ended session: a row without a session is taken over).
    const again = await start(next, ['deploy', 'svc', '-e', 'dev', '--set', 'hooks.post_deploy=[]']).done;
    expect(again.code, again.stderr).toBe(0);
  }

  it('`deployctl unlock --force` from its own post_deploy hook: the record says interrupted (lock_lost), exit 130', async () => {
    const { a, b, db } = await withHook(['node', cliPath, 'unlock', 'svc', '-e', 'dev', '--force']);
    const run = await start(a, ['deploy', 'svc', '-e', 'dev']).done;
    await expectLockLost(run, db, /its database session was ended \(`deployctl unlock --force` from another machine, pg_terminate_backend, or the server shutting down\)/, b);
  }, 90_000);

  it('its holder row deleted by its own post_deploy hook (the session alive, its heartbeat not due for up to 2 s): the record write, made on the lock\'s session in one statement with the check, finds it; interrupted (lock_lost), exit 130', async () => {
    const pgModule = createRequire(import.meta.url).resolve('pg');
    const script = `const pg = require(${JSON.stringify(pgModule)}); const c = new pg.Client({ connectionString: process.env.DEPLOYCTL_STATE }); c.connect().then(() => c.query('DELETE FROM deployctl_locks')).then((r) => { console.log('deleted ' + r.rowCount); return c.end(); })`;
    const { a, b, db } = await withHook(['node', '-e', script]);
    const run = await start(a, ['deploy', 'svc', '-e', 'dev']).done;
    await expectLockLost(run, db, /its holder row was removed \(`deployctl unlock --force`, or by hand\)/, b);
    expect(run.stderr).toContain('deleted 1');
  }, 90_000);
});
