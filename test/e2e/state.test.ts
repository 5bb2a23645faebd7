// State that never lies: many deployctl processes at once, a deploy killed mid-run, and Ctrl-C.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { isPidAlive } from '../../src/state/process.js';

// The deploy command waits for a gate file, so a test decides when a deployment ends.
const WAIT_FOR_GATE = `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(process.env.GATE)) { clearInterval(t); } }, 20);`;

function setup(command: string[], extra = '') {
  const dir = tempDir('deployctl-state-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(
    join(dir, 'deployments.yaml'),
    `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ${JSON.stringify(command)}\n${extra}`,
  );
  const home = tempDir('deployctl-home-');
  const gate = join(tempDir(), 'gate');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, GATE: gate });
  return { dir, home, gate, env };
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; stderr: () => string; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stderr: () => stderr, done };
}

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function recordsIn(home: string) {
  const dir = join(home, 'history');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { status: string; id: string; user: string; host: string; error?: { message: string } });
}

/**
 * A deployment under way as `status` sees it: its record stored as running, and the summary of targets
 * (index/_summary.json, written just after the record) listing svc in dev.
 */
function deploying(home: string): boolean {
  if (!existsSync(join(home, 'history')) || !recordsIn(home).some((r) => r.status === 'running')) return false;
  try {
    const summary = JSON.parse(readFileSync(join(home, 'index', '_summary.json'), 'utf8')) as { targets: Array<{ app: string; env: string }> };
    return summary.targets.some((t) => t.app === 'svc' && t.env === 'dev');
  } catch {
    return false;
  }
}

describe('concurrent deploys of one target', () => {
  it('without --wait-lock: exactly one runs, the 19 others exit 5 naming the holder', async () => {
    const { home, gate, env } = setup(['node', '-e', WAIT_FOR_GATE]);
    const runs = Array.from({ length: 20 }, () => start(['deploy', 'svc', '-e', 'dev'], env));
    const results: Array<{ code: number | null; stderr: string }> = [];
    for (const run of runs) void run.done.then((r) => results.push(r));
    await until(() => results.length === 19, 60_000);
    writeFileSync(gate, '');
    await Promise.all(runs.map((r) => r.done));
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, ...Array(19).fill(5)]);
    for (const r of results.filter((r) => r.code === 5)) expect(r.stderr).toMatch(/Lock held by \S+@\S+ \(pid \d+\) since \d\d:\d\d: deployctl deploy svc -e dev/);
    expect(recordsIn(home).map((r) => r.status)).toEqual(['succeeded']);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('with --wait-lock: all 20 run one after another, and every record is there', async () => {
    const { home, env } = setup(['node', '-e', '0']);
    const runs = Array.from({ length: 20 }, () => start(['deploy', 'svc', '-e', 'dev', '--wait-lock', '2m', '-q'], env));
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    const records = recordsIn(home);
    expect(records).toHaveLength(20);
    expect(records.every((r) => r.status === 'succeeded')).toBe(true);
    const history = JSON.parse((await runCli(['history', 'svc', '-e', 'dev', '--limit', '50', '--json'], { env })).stdout);
    expect(history.records).toHaveLength(20);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('a deploy that dies', () => {
  it('SIGKILL mid-run: the next deploy takes the stale lock over, and the old record shows interrupted', async () => {
    const { home, gate, env } = setup(['node', '-e', WAIT_FOR_GATE]);
    const first = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => existsSync(join(home, 'history')) && recordsIn(home).some((r) => r.status === 'running'));
    first.child.kill('SIGKILL');
    await first.done;
    writeFileSync(gate, '');
    const next = await runCli(['deploy', 'svc', '-e', 'dev'], { env });
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/took over a stale lock of \S+ \(pid \d+, since .*\): that process is gone/);
    const statuses = recordsIn(home).map((r) => r.status).sort();
    expect(statuses).toEqual(['interrupted', 'succeeded']);
    expect(recordsIn(home).find((r) => r.status === 'interrupted')?.error?.message).toContain('stopped before this deployment finished');
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: exit 130, the child process tree is gone, the record says interrupted, the lock is released', async (signal) => {
    const pidFile = join(tempDir(), 'pids');
    const { home, env } = setup(['sh', '-c', `sleep 30 & echo $! >> "${pidFile}"; echo $$ >> "${pidFile}"; wait`]);
    const run = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length === 2);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids.every(isPidAlive)).toBe(true);
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`${signal}: stopping the running commands`);
    expect(result.stdout).toContain('deploy of svc 1.0.0 to dev was interrupted: interrupted during command 1/1');
    await until(() => !pids.some(isPidAlive), 10_000);
    expect(recordsIn(home).map((r) => r.status)).toEqual(['interrupted']);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('a second Ctrl-C quits at once: the tree is killed, the lock freed, the record interrupted when next read', async () => {
    const pidFile = join(tempDir(), 'pid');
    const stubborn = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    const { home, env } = setup(['node', '-e', stubborn]);
    const run = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    run.child.kill('SIGINT');
    await until(() => run.stderr().includes('SIGINT: stopping the running commands'));
    expect(isPidAlive(pid)).toBe(true); // it ignores SIGTERM: the first Ctrl-C waits for it
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    await until(() => !isPidAlive(pid), 5000);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    // It quit before writing the record's end: the next reader sees its process is gone.
    expect(recordsIn(home).map((r) => r.status)).toEqual(['running']);
    const status = JSON.parse((await runCli(['status', 'svc', '--json'], { env })).stdout);
    expect(status.targets[0].last.status).toBe('interrupted');
    expect(recordsIn(home).map((r) => r.status)).toEqual(['interrupted']);
  });
});

describe('the lock while a deployment runs', () => {
  it('is held while the hooks run, by the deploying process', async () => {
    const show = (name: string) => `[node, -e, "const l = JSON.parse(require('fs').readFileSync(process.env.DEPLOYCTL_HOME + '/locks/svc_dev.lock', 'utf8')); console.log('${name}', l.pid, l.command)"]`;
    const { env } = setup(['node', '-e', '0'], `    hooks:\n      pre_deploy: [${show('pre')}]\n      post_deploy: [${show('post')}]\n`);
    const run = await runCli(['deploy', 'svc', '-e', 'dev', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const id = JSON.parse(run.stdout).record.id;
    const record = JSON.parse((await runCli(['history', 'show', id, '--json'], { env })).stdout).record;
    const outputs = record.steps.filter((s: { phase: string }) => s.phase !== 'deploy').map((s: { output: string }) => s.output.trim());
    expect(outputs).toEqual([`pre ${record.pid} deployctl deploy svc -e dev --json`, `post ${record.pid} deployctl deploy svc -e dev --json`]);
  });
});

describe('status while a deployment runs', () => {
  it('names who holds the lock, in text and --json, and not once it is released', async () => {
    const { home, gate, env } = setup(['node', '-e', WAIT_FOR_GATE]);
    const holder = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => deploying(home));
    const text = await runCli(['status'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`svc in dev is locked by \\S+@\\S+ \\(pid ${holder.child.pid}\\) since \\d\\d:\\d\\d: deployctl deploy svc -e dev`));
    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(json.targets[0].lock).toMatchObject({ pid: holder.child.pid, command: 'deployctl deploy svc -e dev', state: 'alive' });
    writeFileSync(gate, '');
    expect((await holder.done).code).toBe(0);
    const after = await runCli(['status', '--json'], { env });
    expect(JSON.parse(after.stdout).targets[0].lock).toBeUndefined();
  });
});

describe('who holds a lock: the same user as the record (DEPLOYCTL_USER)', () => {
  it('in status (text and --json), in the refusal of another deploy, and in the record', async () => {
    const { home, gate, env } = setup(['node', '-e', WAIT_FOR_GATE]);
    const holder = start(['deploy', 'svc', '-e', 'dev'], { ...env, DEPLOYCTL_USER: 'ana-ci' });
    await until(() => deploying(home));
    const running = recordsIn(home).find((r) => r.status === 'running')!;
    expect(running.user).toBe('ana-ci');
    const text = await runCli(['status'], { env: { ...env, DEPLOYCTL_USER: 'bo' } });
    expect(text.stdout).toMatch(new RegExp(`svc in dev is locked by ana-ci@${running.host} \\(pid ${holder.child.pid}\\)`));
    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(json.targets[0].lock).toMatchObject({ user: 'ana-ci', host: running.host, pid: holder.child.pid });
    const refused = await runCli(['deploy', 'svc', '-e', 'dev'], { env: { ...env, DEPLOYCTL_USER: 'bo' } });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(new RegExp(`Lock held by ana-ci@${running.host} \\(pid ${holder.child.pid}\\)`));
    writeFileSync(gate, '');
    expect((await holder.done).code).toBe(0);
  });
});

describe('deployctl unlock', () => {
  const lockOf = (home: string, lock: Record<string, unknown>) =>
    writeFileSync(
      join(home, 'locks', 'svc_dev.lock'),
      JSON.stringify({ app: 'svc', env: 'dev', user: 'bo', command: 'deployctl deploy svc -e dev', startedAt: new Date().toISOString(), refreshedAt: new Date().toISOString(), token: 'abc', ...lock }),
    );

  it('refuses a live holder on this machine without --force (exit 5, naming it); --force removes it, and the holder stops its commands, records interrupted (lock_lost) and exits 130', async () => {
    const { home, gate, env } = setup(['node', '-e', WAIT_FOR_GATE]);
    const holder = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => existsSync(join(home, 'history')) && recordsIn(home).some((r) => r.status === 'running'));
    // The command it runs (which waits for a gate the test never opens), as its lock names it.
    let command = 0;
    await until(() => {
      try {
        command = Number(JSON.parse(readFileSync(join(home, 'locks', 'svc_dev.lock'), 'utf8')).processes?.[0]?.pid ?? 0);
      } catch {
        command = 0;
      }
      return command > 0;
    });
    expect(isPidAlive(command)).toBe(true);
    const refused = await runCli(['unlock', 'svc', '-e', 'dev'], { env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(new RegExp(`error: the lock of svc in dev is held by a deployment that looks alive: \\S+@\\S+ \\(pid ${holder.child.pid}\\) since \\d\\d:\\d\\d: deployctl deploy svc -e dev`));
    expect(refused.stderr).toContain(`hint: wait for it to finish, stop it (pid ${holder.child.pid}), or pass --force if it is stuck`);
    const forced = await runCli(['unlock', 'svc', '-e', 'dev', '--force', '--json'], { env });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).removed).toMatchObject({ pid: holder.child.pid, command: 'deployctl deploy svc -e dev' });
    // The gate stays shut: only the lost lock can end the holder, and it does, stopping its command.
    const ended = await holder.done;
    expect(ended.code, ended.stderr).toBe(130);
    expect(isPidAlive(command)).toBe(false);
    const message =
      'lost the lock of svc in dev: its lock file was removed (`deployctl unlock --force`, or by hand): ' +
      `${join(home, 'locks', 'svc_dev.lock')}; its commands were stopped (interrupted during command 1/1: node -e`;
    expect(ended.stderr).toContain(`error: ${message}`);
    expect(ended.stderr).toContain('and deployctl cannot vouch for how deploy 1.0.0 of svc in dev ended');
    expect(ended.stdout).toContain('deploy of svc 1.0.0 to dev was interrupted: lost the lock of svc in dev');
    expect(ended.stdout).toContain('check what runs in dev and who holds its lock now (deployctl status svc -e dev)');
    expect(ended.stdout + ended.stderr).not.toMatch(/deployed svc|succeeded/);
    const [saved] = recordsIn(home);
    expect(saved).toMatchObject({ status: 'interrupted', error: { code: 'lock_lost' } });
    expect(saved!.error!.message).toContain(message);
    expect(existsSync(join(home, 'locks', 'svc_dev.lock'))).toBe(false);
    // The next deployment gets the lock at once, and finds nothing left in flight.
    writeFileSync(gate, '');
    const next = await runCli(['deploy', 'svc', '-e', 'dev'], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('never finished');
    expect(recordsIn(home).map((r) => r.status).sort()).toEqual(['interrupted', 'succeeded']);
  });

  it('--force from the deployment\'s own post_deploy hook, the moment before its record is written: the record says interrupted (lock_lost), never succeeded, and it exits 130', async () => {
    const hook = JSON.stringify(['node', cliPath, 'unlock', 'svc', '-e', 'dev', '--force']);
    const { home, env } = setup(['node', '-e', '0'], `    hooks:\n      post_deploy:\n        - ${hook}\n`);
    const run = await runCli(['deploy', 'svc', '-e', 'dev'], { env });
    expect(run.code, run.stderr).toBe(130);
    const lost = `error: lost the lock of svc in dev: its lock file was removed (\`deployctl unlock --force\`, or by hand): ${join(home, 'locks', 'svc_dev.lock')}; its commands `;
    expect(run.stderr).toContain(lost);
    expect(run.stderr).toContain('and deployctl cannot vouch for how deploy 1.0.0 of svc in dev ended');
    expect(run.stdout).toContain('deploy of svc 1.0.0 to dev was interrupted: lost the lock of svc in dev');
    expect(run.stdout + run.stderr).not.toMatch(/deployed svc|succeeded/);
    const [saved] = recordsIn(home);
    expect(saved).toMatchObject({ status: 'interrupted', error: { code: 'lock_lost' } });
    expect(existsSync(join(home, 'locks', 'svc_dev.lock'))).toBe(false);
    const status = await runCli(['status', 'svc', '-e', 'dev', '--json'], { env });
    expect(JSON.parse(status.stdout).targets[0]).toMatchObject({ last: { status: 'interrupted' } });
  });

  it('removes a lock whose process is gone, and a quiet one of another host, without --force; refuses a fresh one of another host', async () => {
    const { home, env } = setup(['node', '-e', '0']);
    await runCli(['deploy', 'svc', '-e', 'dev', '-q'], { env });
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
    lockOf(home, { pid: dead, host: hostname() });
    const stale = await runCli(['unlock', 'svc', '-e', 'dev'], { env });
    expect(stale.code).toBe(0);
    expect(stale.stdout).toMatch(new RegExp(`^removed the lock of svc in dev, held by bo@\\S+ \\(pid ${dead}\\) since \\d\\d:\\d\\d: deployctl deploy svc -e dev \\(its process is gone\\)\n$`));

    lockOf(home, { pid: 4242, host: 'ci-runner-7' });
    const fresh = await runCli(['unlock', 'svc', '-e', 'dev'], { env });
    expect(fresh.code).toBe(5);
    expect(fresh.stderr).toContain('held by a deployment that looks alive: bo@ci-runner-7 (pid 4242)');
    // Refreshed a moment before the command ran: "just now", or a second or two on a loaded machine.
    expect(fresh.stderr).toMatch(/last refreshed (just now|\d+s ago)/);
    expect(fresh.stderr).toContain('hint: ci-runner-7 refreshed it lately, so that run looks alive: wait for it, or pass --force if you know it is gone');
    const blocked = await runCli(['deploy', 'svc', '-e', 'dev'], { env });
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toContain('hint: Wait with --wait-lock 5m, or run `deployctl unlock svc -e dev --force` if that run is gone.');

    lockOf(home, { pid: 4242, host: 'ci-runner-7', refreshedAt: new Date(Date.now() - 3_600_000).toISOString() });
    const quietDeploy = await runCli(['deploy', 'svc', '-e', 'dev'], { env });
    expect(quietDeploy.code).toBe(5);
    expect(quietDeploy.stderr).toContain('last refreshed 1h ago');
    expect(quietDeploy.stderr).toContain('hint: Wait with --wait-lock 5m, or run `deployctl unlock svc -e dev` if that run is gone.');
    const quiet = await runCli(['unlock', 'svc', '-e', 'dev'], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain('(not refreshed lately)');
    expect(existsSync(join(home, 'locks', 'svc_dev.lock'))).toBe(false);
    expect((await runCli(['unlock', 'svc', '-e', 'dev'], { env })).stdout).toBe('svc in dev is not locked\n');
  });
});
