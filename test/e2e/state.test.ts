// State that never lies: many deployctl processes at once, a deploy killed mid-run, and Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { isPidAlive } from '../../src/state/process.js';

// The deploy command waits for a gate file, so a test decides when a deployment ends.
const WAIT_FOR_GATE = `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(process.env.GATE)) { clearInterval(t); } }, 20);`;

function setup(command: string[]) {
  const dir = tempDir('deployctl-state-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(
    join(dir, 'deployments.yaml'),
    `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ${JSON.stringify(command)}\n`,
  );
  const home = tempDir('deployctl-home-');
  const gate = join(tempDir(), 'gate');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, GATE: gate });
  return { dir, home, gate, env };
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
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
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { status: string; id: string; error?: { message: string } });
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

  it('SIGINT: exit 130, the child process tree is gone, the record says interrupted, the lock is released', async () => {
    const pidFile = join(tempDir(), 'pids');
    const { home, env } = setup(['sh', '-c', `sleep 30 & echo $! >> "${pidFile}"; echo $$ >> "${pidFile}"; wait`]);
    const run = start(['deploy', 'svc', '-e', 'dev'], env);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length === 2);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids.every(isPidAlive)).toBe(true);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stdout).toContain('was interrupted');
    await until(() => !pids.some(isPidAlive), 10_000);
    expect(recordsIn(home).map((r) => r.status)).toEqual(['interrupted']);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});
