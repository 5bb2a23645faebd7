// Rollback as a user meets it with the built CLI: which version a bare rollback goes back to, a manual
// rollback that needs approval, and an automatic rollback that cannot start.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

interface Rec {
  id: string;
  action: string;
  version: string;
  status: string;
  notes?: string[];
}

function project(deployments: string, environments = 'environments:\n  dev: {}\n', extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('deployctl-rollback-');
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const home = tempDir('deployctl-home-');
  const out = join(tempDir(), 'running');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: out, ...extraEnv });
  const cli = (args: string[], more: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...more }, timeoutMs: 120_000 });
  const history = async (app: string, envName = 'dev') => {
    const run = await cli(['history', app, '-e', envName, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout).records as Rec[];
  };
  const summary = async (app: string, envName = 'dev') => (await history(app, envName)).map((r) => `${r.action} ${r.version} ${r.status}`);
  /** What the app's command last wrote: the version that runs. */
  const running = () => (existsSync(out) ? readFileSync(out, 'utf8') : undefined);
  return { dir, home, env, cli, history, summary, running };
}

/** A shell app whose command writes the version it deploys to $OUT. */
const WRITES_VERSION = `[node, -e, "require('fs').writeFileSync(process.env.OUT, process.env.DEPLOY_VERSION)"]`;

describe('a bare rollback goes back from the version that runs', () => {
  it('past a deploy its pre-deploy check stopped, which changed nothing', async () => {
    const p = project(
      ['deployments:', '  svc:', '    type: shell', `    commands: [${WRITES_VERSION}]`, `    pre_check: { type: command, command: [sh, -c, 'test "$DOWN" != 1'], retries: 0 }`, ''].join('\n'),
    );
    for (const version of ['1.0.0', '1.0.1']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version])).code).toBe(0);
    const stopped = await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], { DOWN: '1' });
    expect(stopped.code).toBe(4);
    expect(stopped.stdout).toContain('pre-deploy check failed, nothing was changed');
    expect(p.running()).toBe('1.0.1');
    expect(JSON.parse((await p.cli(['status', 'svc', '--json'])).stdout).targets[0]).toMatchObject({ version: '1.0.1', last: { version: '1.0.0', status: 'failed' } });

    const back = await p.cli(['rollback', 'svc', '-e', 'dev', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).record).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'succeeded' });
    expect(p.running()).toBe('1.0.0');
    expect(await p.summary('svc')).toEqual(['rollback 1.0.0 succeeded', 'deploy 1.0.0 failed', 'deploy 1.0.1 succeeded', 'deploy 1.0.0 succeeded']);
  });
});

describe.skipIf(toolMissing('terraform'))('a manual rollback whose terraform apply needs approval', () => {
  it('without --yes in CI: refused before anything runs (exit 6), like a deploy, and no record; with --yes it goes', async () => {
    const p = project(
      ['deployments:', '  infra:', '    type: terraform', '    path: tf', '    auto_approve: false', ''].join('\n'),
      'environments:\n  staging: {}\n',
      { CI: 'true', CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: '', TMPDIR: tempDir() },
    );
    mkdirSync(join(p.dir, 'tf'));
    writeFileSync(join(p.dir, 'tf', 'main.tf'), 'variable "app_version" { type = string }\nresource "terraform_data" "release" { input = var.app_version }\n');
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      const run = await p.cli(['deploy', 'infra', '-e', 'staging', '--version', version, '--yes']);
      expect(run.code, run.stderr).toBe(0);
    }
    const before = await p.summary('infra', 'staging');

    const refused = await p.cli(['rollback', 'infra', '-e', 'staging']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('error: terraform apply for infra in staging needs approval');
    expect(refused.stderr).toContain('hint: pass --yes, or set auto_approve: true');
    expect(refused.stderr).not.toContain('$ terraform');
    expect(await p.summary('infra', 'staging')).toEqual(before);

    const approved = await p.cli(['rollback', 'infra', '-e', 'staging', '--yes', '--json']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout).record).toMatchObject({ action: 'rollback', version: '1.1.0', status: 'succeeded' });
  });
});

describe('a manual rollback that falls back to an older version', () => {
  /** The command fails for the versions listed in $BROKEN. */
  const app = [
    'deployments:',
    '  svc:',
    '    type: shell',
    `    commands: [[sh, -c, 'case ",$BROKEN," in *",$DEPLOY_VERSION,"*) echo "$DEPLOY_VERSION is broken"; exit 1;; esac; printf %s "$DEPLOY_VERSION" > "$OUT"']]`,
    '',
  ].join('\n');

  it('says it fell back, when it lands and when nothing does', async () => {
    const p = project(app);
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version])).code).toBe(0);

    const landed = await p.cli(['rollback', 'svc', '-e', 'dev'], { BROKEN: '1.1.0' });
    expect(landed.code, landed.stderr).toBe(0);
    expect(landed.stdout).toMatch(/^rolled back svc 1\.0\.0 to dev \(record svc_dev_\S+\)\nfell back to 1\.0\.0: 1\.1\.0 failed \(record svc_dev_\S+\)\n$/);
    expect(p.running()).toBe('1.0.0');

    // 1.0.0 is now the newest good version (1.1.0 failed its rollback): it is tried first, then 1.2.0.
    expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.3.0'])).code).toBe(0);
    const none = await p.cli(['rollback', 'svc', '-e', 'dev'], { BROKEN: '1.2.0,1.0.0' });
    expect(none.code).toBe(3);
    expect(none.stdout).toMatch(/^rollback of svc 1\.2\.0 to dev failed: command 1\/1: .*exit code 1 \(last output: 1\.2\.0 is broken\)\nfell back to 1\.2\.0: 1\.0\.0 failed \(record svc_dev_\S+\)\n$/);
    expect(none.stdout).not.toContain('automatic');
  });
});

describe('an automatic rollback that cannot start', () => {
  it('a secret the stored version needs is no longer set: a warning, the failure keeps its exit code (3), and the record says so', async () => {
    const withSecret = ['secrets: [OLD_TOKEN]', 'deployments:', '  svc:', '    type: shell', `    commands: [[sh, -c, 'test "$DEPLOY_VERSION" != 2.0.0 && printf %s "$DEPLOY_VERSION" > "$OUT"']]`, ''];
    const p = project(withSecret.join('\n'));
    expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], { OLD_TOKEN: 'old-t0ken' })).code).toBe(0);
    // The app stops using the secret, and it is gone from the environment.
    writeFileSync(join(p.dir, 'deployments.yaml'), withSecret.slice(1).join('\n'));
    const run = await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '2.0.0']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('warning: not rolled back to 1.0.0: secret OLD_TOKEN is not set in the environment (export OLD_TOKEN=... before re-applying a stored deployment that uses it)');
    expect(run.stdout).toMatch(/^deploy of svc 2\.0\.0 to dev failed: command 1\/1: .*exit code 1\nnot rolled back to 1\.0\.0: secret OLD_TOKEN is not set in the environment\n$/);
    const [failed] = await p.history('svc');
    expect(failed).toMatchObject({ action: 'deploy', version: '2.0.0', status: 'failed', notes: ['not rolled back to 1.0.0: secret OLD_TOKEN is not set in the environment'] });

    // With the secret back, the rollback by hand goes.
    const back = await p.cli(['rollback', 'svc', '-e', 'dev'], { OLD_TOKEN: 'old-t0ken' });
    expect(back.code, back.stderr).toBe(0);
    expect(p.running()).toBe('1.0.0');
  });
});

describe('rollbacks walk back', () => {
  it('after 1.0.0, 1.1.0, 1.2.0: to 1.1.0, then 1.0.0, then nothing older; --to goes anywhere good', async () => {
    const p = project(['deployments:', '  svc:', '    type: shell', `    commands: [${WRITES_VERSION}]`, ''].join('\n'));
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version])).code).toBe(0);

    const first = await p.cli(['rollback', 'svc', '-e', 'dev']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^rolled back svc 1\.1\.0 to dev/);
    expect(p.running()).toBe('1.1.0');

    const second = await p.cli(['rollback', 'svc', '-e', 'dev']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^rolled back svc 1\.0\.0 to dev/);
    expect(p.running()).toBe('1.0.0');

    const third = await p.cli(['rollback', 'svc', '-e', 'dev']);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain('error: no good version of svc in dev older than 1.0.0, which runs now: there is nothing older to roll back to');
    expect(third.stderr).toContain('hint: roll back to any good version with --to');
    expect(p.running()).toBe('1.0.0');

    const forward = await p.cli(['rollback', 'svc', '-e', 'dev', '--to', '1.2.0']);
    expect(forward.code, forward.stderr).toBe(0);
    expect(p.running()).toBe('1.2.0');
    expect(await p.summary('svc')).toEqual([
      'rollback 1.2.0 succeeded',
      'rollback 1.0.0 succeeded',
      'rollback 1.1.0 succeeded',
      'deploy 1.2.0 succeeded',
      'deploy 1.1.0 succeeded',
      'deploy 1.0.0 succeeded',
    ]);
    // From 1.2.0 put back by hand, the walk goes on from where 1.2.0 was deployed.
    const again = await p.cli(['rollback', 'svc', '-e', 'dev', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).record).toMatchObject({ action: 'rollback', version: '1.1.0', status: 'succeeded' });
  });
});

describe('a rollback that fails the same way the deploy failed', () => {
  /** Every version needs the vault password; without it the command fails the same way for all. */
  const app = [
    'deployments:',
    '  svc:',
    '    type: shell',
    `    commands: [[sh, -c, 'if [ -z "$VAULT_PASS" ]; then echo "ERROR! Attempting to decrypt but no vault secrets found"; exit 1; fi; printf %s "$DEPLOY_VERSION" > "$OUT"']]`,
    '',
  ].join('\n');

  it('stops there, says so, marks no older version bad, and --to works once the cause is fixed', async () => {
    const p = project(app);
    for (const version of ['1.0.0', '1.1.0']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version], { VAULT_PASS: 'x' })).code).toBe(0);

    const failed = await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.2.0']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('the rollback to 1.1.0 failed the same way as 1.2.0 did');
    expect(failed.stdout).toContain('the cause is not the version (a tool, a password, the environment), so no older version was tried and none is marked bad');
    // 1.0.0 was not tried.
    expect(await p.summary('svc')).toEqual(['rollback 1.1.0 failed', 'deploy 1.2.0 failed', 'deploy 1.1.0 succeeded', 'deploy 1.0.0 succeeded']);
    expect(p.running()).toBe('1.1.0');

    // A manual rollback without the fix fails the same way again, and stops after one attempt.
    const manual = await p.cli(['rollback', 'svc', '-e', 'dev']);
    expect(manual.code).toBe(3);
    expect(manual.stdout).toContain('the rollback to 1.1.0 failed the same way as 1.1.0 did');
    expect((await p.summary('svc'))[0]).toBe('rollback 1.1.0 failed');
    expect((await p.summary('svc')).length).toBe(5);

    // The real fix: the password is given. Neither 1.0.0 nor 1.1.0 was condemned.
    const back = await p.cli(['rollback', 'svc', '-e', 'dev', '--to', '1.0.0'], { VAULT_PASS: 'x' });
    expect(back.code, back.stderr).toBe(0);
    expect(p.running()).toBe('1.0.0');
    const bare = await p.cli(['rollback', 'svc', '-e', 'dev', '--to', '1.1.0', '--json'], { VAULT_PASS: 'x' });
    expect(bare.code, bare.stderr).toBe(0);
    expect(p.running()).toBe('1.1.0');
  });

  it('a rollback that fails another way goes on to the older versions, as before', async () => {
    const p = project(
      [
        'deployments:',
        '  svc:',
        '    type: shell',
        `    commands: [[sh, -c, 'case ",$BROKEN," in *",$DEPLOY_VERSION,"*) echo "$DEPLOY_VERSION is broken"; exit 1;; esac; printf %s "$DEPLOY_VERSION" > "$OUT"']]`,
        '',
      ].join('\n'),
    );
    for (const version of ['1.0.0', '1.1.0']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version])).code).toBe(0);
    const failed = await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.2.0'], { BROKEN: '1.2.0,1.1.0' });
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain('rolled back automatically to 1.0.0');
    expect(failed.stdout).not.toContain('the same way');
    expect(p.running()).toBe('1.0.0');
  });
});
