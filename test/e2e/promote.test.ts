// Promotion dev → qa → staging → prod with its gates, diff before and after, and list showing the
// versions moving along; on a config and a real git repo made by the test.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

describe('promote and diff', () => {
  const dir = tempDir('deployctl-promote-');
  const out = tempDir('deployctl-out-');
  const repo = tempDir('deployctl-repo-');
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCli(args, { env });
  const deployedIn = (e: string) => readFileSync(join(out, e), 'utf8');

  beforeAll(() => {
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(repo, 'app.txt'), 'one\n');
    git('add', '.');
    git('commit', '-qm', 'first feature');
    git('tag', 'v1.0.0');
    writeFileSync(join(repo, 'app.txt'), 'two\n');
    git('commit', '-qam', 'second feature');
    writeFileSync(join(repo, 'app.txt'), 'three\n');
    git('commit', '-qam', 'third feature');
    git('tag', 'v1.1.0');
    writeFileSync(
      join(dir, 'environments.yaml'),
      'environments:\n  dev: { variables: { REPLICAS: "1" } }\n  qa: { variables: { REPLICAS: "1" } }\n  staging:\n    requires: [qa]\n    variables: { REPLICAS: "2" }\n  prod:\n    protected: true\n    soak: 1s\n    variables: { REPLICAS: "3" }\n',
    );
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  svc:',
        '    type: shell',
        `    repo: ${repo}`,
        '    commands:',
        `      - [node, -e, "require('fs').writeFileSync(process.env.OUT_DIR + '/' + process.env.DEPLOY_ENV, process.env.DEPLOY_VERSION)"]`,
        '',
      ].join('\n'),
    );
    env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, OUT_DIR: out });
  });

  it('refuses to promote what never succeeded in the source (exit 2)', async () => {
    const run = await cli('promote', 'svc', '--to', 'qa');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('svc has never been deployed to dev: there is nothing to promote');
  });

  it('promotes dev → qa → staging → prod, each gate refusing with its reason', async () => {
    expect((await cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0')).code).toBe(0);
    const toQa = await cli('promote', 'svc');
    expect(toQa.code).toBe(0);
    expect(toQa.stderr).toContain('promoting svc 1.0.0 from dev to qa');
    expect(deployedIn('qa')).toBe('1.0.0');

    const again = await cli('promote', 'svc', '--to', 'qa');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('qa already runs svc 1.0.0');
    expect(again.stderr).toContain('pass --force');

    expect((await cli('deploy', 'svc', '-e', 'dev', '--version', '1.1.0')).code).toBe(0);
    const skipQa = await cli('promote', 'svc', '--from', 'dev', '--to', 'staging');
    expect(skipQa.code).toBe(2);
    expect(skipQa.stderr).toContain('staging requires svc 1.1.0 to have succeeded in qa first');

    expect((await cli('promote', 'svc', '--to', 'qa')).code).toBe(0);
    expect((await cli('promote', 'svc', '--to', 'staging')).code).toBe(0);
    expect(deployedIn('staging')).toBe('1.1.0');

    const tooSoon = await cli('promote', 'svc', '--to', 'prod', '--yes');
    if (tooSoon.code === 2) {
      expect(tooSoon.stderr).toMatch(/prod needs svc 1\.1\.0 to have run in staging for 1s/);
      await new Promise((r) => setTimeout(r, 1100));
    }
    const unapproved = await cli('promote', 'svc', '--to', 'prod');
    expect(unapproved.code).toBe(6);
    expect(unapproved.stderr).toContain('prod is protected');

    const prod = await cli('promote', 'svc', '--to', 'prod', '--yes', '--json');
    expect(prod.code).toBe(0);
    const record = JSON.parse(prod.stdout).record;
    expect(record).toMatchObject({ action: 'promote', version: '1.1.0', env: 'prod', status: 'succeeded', from: { env: 'staging' } });
    expect(deployedIn('prod')).toBe('1.1.0');
  });

  it('refuses to promote a version whose last deployment failed', async () => {
    const failing = await runCli(['deploy', 'svc', '-e', 'dev', '--version', '2.0.0', '--no-rollback', '--set', 'variables.OUT_DIR=/nonexistent/x'], { env });
    expect(failing.code).toBe(3);
    const run = await cli('promote', 'svc', '--to', 'qa');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the last deployment of svc to dev \(2\.0\.0, svc_dev_\S+\) ended failed/);
    expect((await cli('deploy', 'svc', '-e', 'dev', '--version', '1.1.0', '--force-not-a-flag')).code).toBe(2);
  });

  it('diffs two environments: versions, config, commits, and the command to run', async () => {
    expect((await cli('deploy', 'svc', '-e', 'qa', '--version', '1.0.0')).code).toBe(0);
    const before = await cli('diff', 'dev', 'qa', 'svc', '--exit-code', '--json');
    expect(before.code).toBe(2);
    expect(JSON.parse(before.stdout).apps[0]).toMatchObject({ app: 'svc', src: { version: '1.1.0', by: expect.any(String) }, dst: { version: '1.0.0' }, same: false });

    const text = await cli('diff', 'dev', 'qa', 'svc');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('svc: dev 1.1.0');
    expect(text.stdout).toMatch(/commits from 1\.0\.0 to 1\.1\.0:\n\s+\w+ third feature\n\s+\w+ second feature/);
    expect(text.stdout).toContain('to bring qa up to dev: deployctl promote svc --from dev --to qa');

    const config = await cli('diff', 'staging', 'prod', 'svc');
    expect(config.stdout).toContain('-  REPLICAS: "3"');
    expect(config.stdout).toContain('+  REPLICAS: "2"');

    expect((await cli('deploy', 'svc', '-e', 'dev', '--version', '1.1.0')).code).toBe(0);
    expect((await cli('promote', 'svc', '--from', 'dev', '--to', 'qa')).code).toBe(0);
    const after = await cli('diff', 'dev', 'qa', 'svc', '--exit-code');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('same version and config');
  });

  it('lists the versions in each environment', async () => {
    const run = await cli('list', '--json');
    expect(JSON.parse(run.stdout).apps[0].environments).toEqual({
      dev: { version: '1.1.0', status: 'succeeded', lastVersion: '1.1.0' },
      qa: { version: '1.1.0', status: 'succeeded', lastVersion: '1.1.0' },
      staging: { version: '1.1.0', status: 'succeeded', lastVersion: '1.1.0' },
      prod: { version: '1.1.0', status: 'succeeded', lastVersion: '1.1.0' },
    });
    expect((await cli('list')).stdout).toMatch(/^APP\s+DEV\s+QA\s+STAGING\s+PROD\nsvc\s+1\.1\.0\s+1\.1\.0\s+1\.1\.0\s+1\.1\.0\n$/);
  });
});
