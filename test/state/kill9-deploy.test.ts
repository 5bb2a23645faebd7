// kill -9 of deployctl mid-deploy, end to end with the built CLI: the commands it started keep running
// in their own process group; the next deploy stops them (the lock recorded them) before it runs
// anything, says so, and the interrupted record says what was stopped. The lock names the same user
// as the record (DEPLOYCTL_USER).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isPidAlive } from '../../src/state/process.js';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';

// First run (no gate file): start `sleep 300` in the command's group, write both pids, wait forever.
// Next run (gate file there): exit 7 if any process of the first run is still alive, else 0.
const COMMAND = [
  "const fs = require('fs'); const cp = require('child_process');",
  'const alive = (p) => { try { return !/\\) Z/.test(fs.readFileSync("/proc/" + p + "/stat", "utf8")); } catch { return false; } };',
  'if (fs.existsSync(process.env.GATE)) {',
  '  const left = fs.readFileSync(process.env.PIDS, "utf8").trim().split("\\n").filter(alive);',
  '  if (left.length) { console.error("left over from the killed run: " + left.join(" ")); process.exit(7); }',
  '  process.exit(0);',
  '}',
  "const sleep = cp.spawn('sleep', ['300'], { stdio: 'ignore' });",
  'fs.writeFileSync(process.env.PIDS, process.pid + "\\n" + sleep.pid + "\\n");',
  'setInterval(() => {}, 60000);',
].join(' ');

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('kill -9 of a deploy: the next deploy stops the commands left running before it starts, and says so', async () => {
  const dir = tempDir('deployctl-kill9-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ${JSON.stringify(['node', '-e', COMMAND])}\n`);
  const home = tempDir('deployctl-home-');
  const pids = join(tempDir(), 'pids');
  const gate = join(tempDir(), 'gate');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, GATE: gate, PIDS: pids, DEPLOYCTL_USER: 'ana' });
  const lockFile = join(home, 'locks', 'svc_dev.lock');

  const first = spawn(process.execPath, [cliPath, 'deploy', 'svc', '-e', 'dev'], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => first.on('exit', resolve));
  // Wait until the command runs and the lock records its process group.
  await until(() => existsSync(pids) && readFileSync(pids, 'utf8').split('\n').length === 3, 'the command to start');
  const [commandPid, sleepPid] = readFileSync(pids, 'utf8').trim().split('\n').map(Number) as [number, number];
  await until(() => existsSync(lockFile) && (JSON.parse(readFileSync(lockFile, 'utf8')).processes ?? []).some((p: { pid: number }) => p.pid === commandPid), 'the lock to record the command');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
  expect(lock.user).toBe('ana');
  expect(lock.processes).toEqual([{ pid: commandPid, start: expect.stringMatching(/^\d+$/), command: expect.any(String) }]);

  first.kill('SIGKILL');
  await exited;
  // Nothing stopped them: they run on in their own process group.
  expect([commandPid, sleepPid].every(isPidAlive)).toBe(true);

  writeFileSync(gate, '');
  const next = await runCli(['deploy', 'svc', '-e', 'dev'], { env: { ...env, DEPLOYCTL_USER: 'bo' } });
  // The command of the next deploy found nothing of the first run alive (it exits 7 otherwise).
  expect(next.code).toBe(0);
  expect(next.stderr).toMatch(new RegExp(`took over a stale lock of ana@\\S+ \\(pid ${first.pid}, .*that process is gone; its commands still running were stopped \\(pid ${commandPid} `));
  expect([commandPid, sleepPid].some(isPidAlive)).toBe(false);

  const records = readdirSync(join(home, 'history')).map((f) => JSON.parse(readFileSync(join(home, 'history', f), 'utf8')));
  const interrupted = records.find((r) => r.status === 'interrupted');
  expect(interrupted).toMatchObject({ user: 'ana', pid: first.pid });
  expect(interrupted.error.message).toContain(`its commands still running were stopped (pid ${commandPid} `);
  expect(records.find((r) => r.status === 'succeeded')).toMatchObject({ user: 'bo' });
}, 90_000);
