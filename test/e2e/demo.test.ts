// The README's promise, for real: the demo app deployed, health-checked, rolled back automatically
// and by hand, with the history to show for it. Real processes, a real HTTP server on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { freePort } from '../support/net.js';


async function healthOf(port: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return response.json();
}

describe('the demo app, end to end', () => {
  const home = tempDir('deployctl-home-');
  const runDir = tempDir('deployctl-hello-');
  let port = 0;
  let env: NodeJS.ProcessEnv;
  const deploy = (...args: string[]) => runCli([...args, '--set', `variables.PORT=${port}`], { env });

  beforeAll(async () => {
    port = await freePort();
    env = cleanEnv({ DEPLOYCTL_HOME: home, HELLO_RUN_DIR: runDir });
  });

  afterAll(() => {
    execFileSync(process.execPath, ['examples/hello/ctl.mjs', 'stop'], { cwd: repoRoot, env: { ...env, PORT: String(port), DEPLOY_ENV: 'dev' } });
  });

  it('deploys 1.0.0, serves it, and records a succeeded deployment', async () => {
    const run = await deploy('deploy', 'hello', '-e', 'dev', '--version', '1.0.0');
    expect(run.stderr).toContain('attempt 1: status 200');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^deployed hello 1\.0\.0 to dev \(record hello_dev_/);
    expect(await healthOf(port)).toEqual({ status: 'ok', version: '1.0.0' });
    const files = readdirSync(join(home, 'history')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'history', files[0]!)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(home, 'history', files[0]!), 'utf8'))).toMatchObject({ status: 'succeeded', version: '1.0.0' });
  });

  it('rolls back automatically when the new version fails its health check (exit 4)', async () => {
    const run = await deploy('deploy', 'hello', '-e', 'dev', '--version', '1.1.0', '--set', 'variables.FAIL_HEALTH=1', '--set', 'health_check.retries=1');
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('deploy of hello 1.1.0 to dev failed: health check failed');
    expect(run.stdout).toContain('rolled back automatically to 1.0.0');
    expect(await healthOf(port)).toEqual({ status: 'ok', version: '1.0.0' });
  });

  it('lists the three records, newest first, with --json', async () => {
    const run = await runCli(['history', 'hello', '-e', 'dev', '--json'], { env });
    expect(run.code).toBe(0);
    const records = JSON.parse(run.stdout).records as Array<{ version: string; action: string; status: string }>;
    expect(records.map((r) => [r.action, r.version, r.status])).toEqual([
      ['rollback', '1.0.0', 'succeeded'],
      ['deploy', '1.1.0', 'rolled_back'],
      ['deploy', '1.0.0', 'succeeded'],
    ]);
  });

  it('rolls back by hand to the previous good version', async () => {
    expect((await deploy('deploy', 'hello', '-e', 'dev', '--version', '1.2.0')).code).toBe(0);
    expect(await healthOf(port)).toMatchObject({ version: '1.2.0' });
    const run = await runCli(['rollback', 'hello', '-e', 'dev', '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, record: { action: 'rollback', version: '1.0.0', status: 'succeeded' } });
    expect(await healthOf(port)).toMatchObject({ version: '1.0.0' });
  });

  it('shows a dry run without running anything', async () => {
    const run = await deploy('deploy', 'hello', '-e', 'dev', '--version', '9.9.9', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('would run node ctl.mjs start');
    expect(await healthOf(port)).toMatchObject({ version: '1.0.0' });
  });

  it('rolls back to the record or version named by --to, and refuses one that did not succeed', async () => {
    const byVersion = await runCli(['rollback', 'hello', '-e', 'dev', '--to', '1.2.0', '--json'], { env });
    expect(byVersion.code).toBe(0);
    expect(JSON.parse(byVersion.stdout).record).toMatchObject({ action: 'rollback', version: '1.2.0', status: 'succeeded' });
    expect(await healthOf(port)).toMatchObject({ version: '1.2.0' });
    const records = JSON.parse((await runCli(['history', 'hello', '-e', 'dev', '--json', '--limit', '50'], { env })).stdout).records as Array<{ id: string; action: string; version: string }>;
    const first = records.at(-1)!;
    const byId = await runCli(['rollback', 'hello', '-e', 'dev', '--to', first.id, '--json'], { env });
    expect(JSON.parse(byId.stdout).record).toMatchObject({ action: 'rollback', version: '1.0.0', rollbackOf: first.id });
    expect(await healthOf(port)).toMatchObject({ version: '1.0.0' });
    const bad = await runCli(['rollback', 'hello', '-e', 'dev', '--to', records.find((r) => r.version === '1.1.0')!.id], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: record hello_dev_\S+ \(1\.1\.0\) ended rolled_back \(health check failed: .*\): only a deployment that succeeded can be re-applied/);
    const none = await runCli(['rollback', 'hello', '-e', 'dev', '--to', '9.9.9'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no deployment of hello in dev has the id or version "9.9.9"');
  });

  it.each([
    [['deploy', 'hello', '-e', 'dev', '--version', '1.0;rm -rf /'], 'invalid version "1.0;rm -rf /"'],
    [['deploy', '../x', '-e', 'dev', '--version', '1.0.0'], 'invalid app name "../x"'],
    [['deploy', 'nope', '-e', 'dev', '--version', '1.0.0'], 'unknown app "nope"'],
    [['deploy', 'hello', '-e', 'moon', '--version', '1.0.0'], 'unknown environment "moon"'],
  ])('refuses %j with exit 2, running nothing and writing no history', async (args, message) => {
    const before = readdirSync(join(home, 'history')).length;
    const run = await runCli(args, { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(join(home, 'history')).length).toBe(before);
  });

  it('needs --yes for the protected prod environment when there is no terminal (exit 6)', async () => {
    const run = await runCli(['deploy', 'hello', '-e', 'prod', '--version', '1.0.0'], { env });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('prod is protected');
    expect(run.stderr).toContain('--yes');
  });

  it('destroy stops the demo server (destroy_commands), status says destroyed, a second destroy has nothing to do', async () => {
    expect(await healthOf(port)).toMatchObject({ status: 'ok' });
    const run = await runCli(['destroy', 'hello', '-e', 'dev'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('node ctl.mjs stop');
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    const status = JSON.parse((await runCli(['status', 'hello', '-e', 'dev', '--json'], { env })).stdout);
    expect(JSON.stringify(status)).toContain('"destroyed"');
    const again = await runCli(['destroy', 'hello', '-e', 'dev'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toContain('hello in dev is already destroyed');
  });
});

describe('rollback that falls through to an older good version', () => {
  it('v2 fails its health check, v1 is unhealthy now too, so the rollback lands on v0 and says so', async () => {
    const home = tempDir('deployctl-home-');
    const runDir = tempDir('deployctl-hello-');
    const port = await freePort();
    const env = cleanEnv({ DEPLOYCTL_HOME: home, HELLO_RUN_DIR: runDir });
    const deploy = (version: string, extra: NodeJS.ProcessEnv = {}) =>
      runCli(['deploy', 'hello', '-e', 'dev', '--version', version, '--set', `variables.PORT=${port}`, '--set', 'health_check.retries=1'], { env: { ...env, ...extra } });
    try {
      expect((await deploy('0.9.0')).code).toBe(0);
      expect((await deploy('1.0.0')).code).toBe(0);
      const run = await deploy('2.0.0', { BROKEN_VERSIONS: '2.0.0,1.0.0' });
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('rolling back to 1.0.0');
      expect(run.stderr).toContain('rolling back to 0.9.0');
      expect(run.stdout).toContain('rolled back automatically to 0.9.0');
      expect(await healthOf(port)).toEqual({ status: 'ok', version: '0.9.0' });
      const records = JSON.parse((await runCli(['history', 'hello', '-e', 'dev', '--json'], { env })).stdout).records;
      expect(records.map((r: { action: string; version: string; status: string }) => [r.action, r.version, r.status])).toEqual([
        ['rollback', '0.9.0', 'succeeded'],
        ['rollback', '1.0.0', 'failed'],
        ['deploy', '2.0.0', 'rolled_back'],
        ['deploy', '1.0.0', 'succeeded'],
        ['deploy', '0.9.0', 'succeeded'],
      ]);
    } finally {
      execFileSync(process.execPath, ['examples/hello/ctl.mjs', 'stop'], { cwd: repoRoot, env: { ...env, PORT: String(port), DEPLOY_ENV: 'dev' } });
    }
  });
});

describe('rollback choices on the demo app', () => {
  const home = tempDir('deployctl-home-');
  const runDir = tempDir('deployctl-hello-');
  let port = 0;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCli(args, { env });
  const deploy = (version: string, ...extra: string[]) =>
    cli('deploy', 'hello', '-e', 'dev', '--version', version, '--set', `variables.PORT=${port}`, '--set', 'health_check.retries=1', ...extra);
  const failing = ['--set', 'variables.FAIL_HEALTH=1'];
  const records = async () =>
    (JSON.parse((await cli('history', 'hello', '-e', 'dev', '--json', '--limit', '50')).stdout).records as Array<{ id: string; action: string; version: string; status: string; error?: { message: string } }>);
  const summary = async () => (await records()).map((r) => `${r.action} ${r.version} ${r.status}`);

  beforeAll(async () => {
    port = await freePort();
    env = cleanEnv({ DEPLOYCTL_HOME: home, HELLO_RUN_DIR: runDir });
  });

  afterAll(() => {
    execFileSync(process.execPath, ['examples/hello/ctl.mjs', 'stop'], { cwd: repoRoot, env: { ...env, PORT: String(port), DEPLOY_ENV: 'dev' } });
  });

  it('rollback: { auto: false } and --no-rollback leave the failure in place and say so', async () => {
    expect((await deploy('1.0.0')).code).toBe(0);
    expect((await deploy('1.1.0')).code).toBe(0);
    const off = await deploy('1.2.0', ...failing, '--set', 'rollback.auto=false');
    expect(off.code).toBe(4);
    expect(off.stderr).toContain('automatic rollback is off (--no-rollback or rollback.auto: false)');
    expect(off.stdout).toMatch(/^deploy of hello 1\.2\.0 to dev failed: health check failed: unhealthy after 2 attempts over \S+: status 503 \(expected 200\)\n$/);
    const flag = await deploy('1.3.0', ...failing, '--no-rollback');
    expect(flag.code).toBe(4);
    expect(flag.stderr).toContain('automatic rollback is off');
    expect(await healthOf(port)).toEqual({ status: 'failing', version: '1.3.0' });
    expect(await summary()).toEqual(['deploy 1.3.0 failed', 'deploy 1.2.0 failed', 'deploy 1.1.0 succeeded', 'deploy 1.0.0 succeeded']);
  });

  it('health: runs the check now, the first attempt of each result on stderr and then their counts; exit 4 and --json while it fails', async () => {
    const run = await cli('health', 'hello', '-e', 'dev', '--version', '1.3.0', '--set', `variables.PORT=${port}`, '--set', 'health_check.retries=1');
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^✗ attempt 1: status 503 \(expected 200\) \(\d+ms\)\n✗ health: status 503 \(expected 200\) ×2\nerror: hello in dev is unhealthy: unhealthy after 2 attempts over \S+: status 503 \(expected 200\)\n/);
    const json = await cli('health', 'hello', '-e', 'dev', '--version', '1.3.0', '--set', `variables.PORT=${port}`, '--set', 'health_check.retries=0', '--json');
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, version: '1.3.0', attempts: [{ attempt: 1, ok: false, message: 'status 503 (expected 200)' }] });
  });

  it('a dry run of a rollback shows the commands, runs none and records nothing', async () => {
    const before = await records();
    const run = await cli('rollback', 'hello', '-e', 'dev', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('dry run: rollback hello 1.1.0 to dev would run 3 commands, and ran none that change anything\n');
    expect(run.stderr).toContain('would run node ctl.mjs start');
    expect(await records()).toEqual(before);
    expect(await healthOf(port)).toMatchObject({ version: '1.3.0' });
  });

  it('a bare rollback goes to the newest good version, past the failed ones', async () => {
    // the stored config, with its port, is re-applied as it was
    const back = await cli('rollback', 'hello', '-e', 'dev');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^rolled back hello 1\.1\.0 to dev \(record hello_dev_\S+\)\n$/);
    expect(await healthOf(port)).toEqual({ status: 'ok', version: '1.1.0' });
  });

  it('--to a version or a record id goes there; --to a version that failed, was marked bad, or is unknown is refused (exit 2)', async () => {
    const toVersion = await cli('rollback', 'hello', '-e', 'dev', '--to', '1.0.0');
    expect(toVersion.code, toVersion.stderr).toBe(0);
    expect(await healthOf(port)).toMatchObject({ version: '1.0.0' });
    const v11 = (await records()).find((r) => r.action === 'deploy' && r.version === '1.1.0')!;
    const toId = await cli('rollback', 'hello', '-e', 'dev', '--to', v11.id, '--json');
    expect(toId.code).toBe(0);
    expect(JSON.parse(toId.stdout).record).toMatchObject({ action: 'rollback', version: '1.1.0', status: 'succeeded', rollbackOf: v11.id });

    const failed = (await records()).find((r) => r.version === '1.2.0')!;
    const neverGood = await cli('rollback', 'hello', '-e', 'dev', '--to', '1.2.0');
    expect(neverGood.code).toBe(2);
    expect(neverGood.stderr).toContain(`error: 1.2.0 never succeeded in dev: record ${failed.id} (1.2.0) ended failed (health check failed: unhealthy after 2 attempts`);
    const byId = await cli('rollback', 'hello', '-e', 'dev', '--to', failed.id);
    expect(byId.code).toBe(2);
    expect(byId.stderr).toContain(`error: record ${failed.id} (1.2.0) ended failed (health check failed:`);
    expect(byId.stderr).toContain(': only a deployment that succeeded can be re-applied');

    // 1.0.0 succeeded once, then failed: it is bad now, for --to as for a bare rollback.
    expect((await deploy('1.0.0', ...failing, '--no-rollback')).code).toBe(4);
    const bad = await cli('rollback', 'hello', '-e', 'dev', '--to', '1.0.0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: 1\.0\.0 is marked bad in dev: record hello_dev_\S+ \(1\.0\.0\) ended failed \(health check failed: .*\), so deployctl will not roll back to it/);
    expect(bad.stderr).toContain('hint: to put it back anyway, deploy it: deployctl deploy hello -e dev --version 1.0.0');
    const bare = await cli('rollback', 'hello', '-e', 'dev', '--json');
    expect(JSON.parse(bare.stdout).record).toMatchObject({ version: '1.1.0', status: 'succeeded' });
    const unknown = await cli('rollback', 'hello', '-e', 'dev', '--to', '7.7.7');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: no deployment of hello in dev has the id or version "7.7.7"');
    expect(await healthOf(port)).toEqual({ status: 'ok', version: '1.1.0' });
  });
});

describe('the demo app promoted dev → qa → staging → prod', () => {
  it('moves 1.0.0 along with its gates, each server answering it, list and diff following', async () => {
    const home = tempDir('deployctl-home-');
    const runDir = tempDir('deployctl-hello-');
    const env = cleanEnv({ DEPLOYCTL_HOME: home, HELLO_RUN_DIR: runDir });
    const envs = ['dev', 'qa', 'staging', 'prod'] as const;
    const ports: Record<string, number> = {};
    for (const e of envs) ports[e] = await freePort();
    const cli = (...args: string[]) => runCli(args, { env });
    const row = async () => (await cli('list')).stdout.split('\n').find((l) => l.startsWith('hello'))!.trim().split(/\s+/);
    try {
      expect((await cli('deploy', 'hello', '-e', 'dev', '--version', '1.0.0', '--set', `variables.PORT=${ports.dev}`)).code).toBe(0);
      expect(await row()).toEqual(['hello', '1.0.0', '-', '-', '-']);

      const before = await cli('diff', 'dev', 'qa', 'hello', '--exit-code');
      expect(before.code).toBe(2);
      expect(before.stdout).toContain('hello: dev 1.0.0');
      expect(before.stdout).toContain('qa (not deployed)');
      expect(before.stdout).toContain('to bring qa up to dev: deployctl promote hello --from dev --to qa');

      const skipping = await cli('promote', 'hello', '--from', 'dev', '--to', 'staging', '--set', `variables.PORT=${ports.staging}`);
      expect(skipping.code).toBe(2);
      expect(skipping.stderr).toContain('staging requires hello 1.0.0 to have succeeded in qa first, and it has not');

      expect((await cli('promote', 'hello', '--set', `variables.PORT=${ports.qa}`)).code).toBe(0);
      expect(await healthOf(ports.qa!)).toEqual({ status: 'ok', version: '1.0.0' });
      expect(await row()).toEqual(['hello', '1.0.0', '1.0.0', '-', '-']);
      const after = await cli('diff', 'dev', 'qa', 'hello', '--exit-code');
      expect(after.code).toBe(0);
      expect(after.stdout).toContain('same version (1.0.0); the config of the two environments differs:');

      expect((await cli('promote', 'hello', '--to', 'staging', '--set', `variables.PORT=${ports.staging}`)).code).toBe(0);
      expect(await row()).toEqual(['hello', '1.0.0', '1.0.0', '1.0.0', '-']);

      const unapproved = await cli('promote', 'hello', '--to', 'prod', '--set', `variables.PORT=${ports.prod}`);
      expect(unapproved.code).toBe(6);
      expect(unapproved.stderr).toContain('prod is protected: promote hello 1.0.0 from staging to prod needs approval');
      const prod = await cli('promote', 'hello', '--to', 'prod', '--yes', '--set', `variables.PORT=${ports.prod}`, '--json');
      expect(prod.code).toBe(0);
      expect(JSON.parse(prod.stdout).record).toMatchObject({ action: 'promote', env: 'prod', version: '1.0.0', from: { env: 'staging' } });
      expect(await healthOf(ports.prod!)).toEqual({ status: 'ok', version: '1.0.0' });
      expect(await row()).toEqual(['hello', '1.0.0', '1.0.0', '1.0.0', '1.0.0']);

      const nothing = await cli('promote', 'hello');
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('nothing to promote: hello runs the same version everywhere it is deployed');
    } finally {
      for (const e of envs) {
        execFileSync(process.execPath, ['examples/hello/ctl.mjs', 'stop'], { cwd: repoRoot, env: { ...env, PORT: String(ports[e]), DEPLOY_ENV: e } });
      }
    }
  });
});
