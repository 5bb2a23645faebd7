// A handful of runs of the built binary, `node bin/deployctl.cjs`, as a user runs it: most tests call
// main() in-process (test/support/cli.ts), so these check what only the real process shows: the exit
// code bin/ gives for each outcome, the bundles loading together, the streams it writes to.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';

function setup() {
  const dir = tempDir('deployctl-binary-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(
    join(dir, 'deployments.yaml'),
    'deployments:\n  ok:\n    type: shell\n    commands: [["true"]]\n  broken:\n    type: shell\n    commands: [[sh, -c, "echo no; exit 1"]]\n',
  );
  const home = tempDir('deployctl-home-');
  return { dir, home, env: cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir }) };
}

describe('the built binary', () => {
  it('--version prints the version of package.json, exit 0', async () => {
    const run = await runCli(['--version'], { spawn: true });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  });

  it('a deploy that succeeds: exit 0, its record in the state folder', async () => {
    const s = setup();
    const run = await runCli(['deploy', 'ok', '-e', 'dev', '--version', '1.0.0', '-q'], { env: s.env, spawn: true });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^deployed ok 1\.0\.0 to dev \(record ok_dev_\S+\)\n$/);
    expect(readdirSync(join(s.home, 'history')).filter((f) => f.startsWith('ok_dev_'))).toHaveLength(1);
  });

  it('a deploy that fails: exit 3, and the lock is released', async () => {
    const s = setup();
    const run = await runCli(['deploy', 'broken', '-e', 'dev', '--version', '1.0.0', '-q'], { env: s.env, spawn: true });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('deploy of broken 1.0.0 to dev failed');
    expect(existsSync(join(s.home, 'locks', 'broken_dev.lock'))).toBe(false);
  });

  it('a config error: exit 2, the file and line named on stderr', async () => {
    const s = setup();
    writeFileSync(join(s.dir, 'deployments.yaml'), 'deployments:\n  ok:\n    type: nope\n');
    const run = await runCli(['validate'], { env: s.env, spawn: true });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/deployments\.yaml:3/);
  });

  it('an unknown command: exit 2 with a hint, --json gives a JSON error on stdout', async () => {
    const run = await runCli(['deplyo', '--json'], { spawn: true });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { message: expect.stringContaining('deplyo') } });
  });
});
