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
  const writeEnvironments = (prodSoak: string) =>
    writeFileSync(
      join(dir, 'environments.yaml'),
      `environments:\n  dev: { variables: { REPLICAS: "1" } }\n  qa: { variables: { REPLICAS: "1" } }\n  staging:\n    requires: [qa]\n    variables: { REPLICAS: "2" }\n  prod:\n    protected: true\n    ${prodSoak}\n    variables: { REPLICAS: "3" }\n`,
    );

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
    writeEnvironments('soak: 1h');
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
    expect(toQa.stderr).toMatch(/promote svc 1\.0\.0 from dev to qa \(record svc_qa_\S+\)/);
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
    expect(tooSoon.code).toBe(2);
    expect(tooSoon.stderr).toMatch(/error: prod needs svc 1\.1\.0 to have run in staging for 1h; it has run for \S+\nhint: try again in (1h|59m\d+s)\n/);
    writeEnvironments('soak: 0s');

    const unapproved = await cli('promote', 'svc', '--to', 'prod');
    expect(unapproved.code).toBe(6);
    expect(unapproved.stderr).toContain('error: prod is protected: promote svc 1.1.0 from staging to prod needs approval');
    expect(unapproved.stderr).toContain('hint: pass --yes to approve');

    const source = JSON.parse((await cli('history', 'svc', '-e', 'staging', '--limit', '1', '--json')).stdout).records[0];
    const prod = await cli('promote', 'svc', '--to', 'prod', '--yes', '--json');
    expect(prod.code).toBe(0);
    const record = JSON.parse(prod.stdout).record;
    expect(record).toMatchObject({ action: 'promote', version: '1.1.0', env: 'prod', status: 'succeeded', from: { env: 'staging', recordId: source.id } });
    expect(deployedIn('prod')).toBe('1.1.0');

    const againProd = await cli('promote', 'svc', '--to', 'prod', '--yes');
    expect(againProd.code).toBe(2);
    expect(againProd.stderr).toContain('prod already runs svc 1.1.0');
    const forced = await cli('promote', 'svc', '--to', 'prod', '--yes', '--force', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).record).toMatchObject({ action: 'promote', version: '1.1.0', env: 'prod' });
  });

  it('refuses to promote a version that was rolled back in the source', async () => {
    const broken = await cli('deploy', 'svc', '-e', 'qa', '--version', '1.2.0', '--set', 'variables.OUT_DIR=/nonexistent/x');
    expect(broken.code).toBe(3);
    expect(broken.stdout).toContain('rolled back automatically to 1.1.0');
    const run = await cli('promote', 'svc', '--from', 'qa', '--to', 'staging');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: the last deployment of svc to qa \(1\.2\.0, svc_qa_\S+\) was rolled back: qa runs 1\.1\.0 again\nhint: deploy or promote a version to qa first/);
  });

  it('refuses to promote a version whose last deployment failed', async () => {
    const failing = await runCli(['deploy', 'svc', '-e', 'dev', '--version', '2.0.0', '--no-rollback', '--set', 'variables.OUT_DIR=/nonexistent/x'], { env });
    expect(failing.code).toBe(3);
    const run = await cli('promote', 'svc', '--to', 'qa');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the last deployment of svc to dev \(2\.0\.0, svc_dev_\S+\) ended failed/);
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

    // Against the promotion order, dst is brought up to src by a deploy of src's version.
    const backwards = await cli('diff', 'qa', 'dev', 'svc');
    expect(backwards.stdout).toContain('to bring dev up to qa: deployctl deploy svc -e dev --version 1.0.0');

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

describe('promotion order, secrets in diff, and the exact image', () => {
  const setup = (environments: string, deployments: string) => {
    const dir = tempDir('deployctl-promote-');
    writeFileSync(join(dir, 'environments.yaml'), environments);
    writeFileSync(join(dir, 'deployments.yaml'), deployments);
    return cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, TOKEN: 'tok-9f8e7d6c' });
  };

  it('follows `promotion:` rather than the order the environments are written in', async () => {
    const env = setup('environments:\n  dev: {}\n  prod: {}\n  qa: {}\npromotion: [dev, qa, prod]\n', 'deployments:\n  svc:\n    type: shell\n    commands: [[node, -e, "0"]]\n');
    expect((await runCli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], { env })).code).toBe(0);
    const run = await runCli(['promote', 'svc', '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).record).toMatchObject({ env: 'qa', version: '1.0.0', from: { env: 'dev' } });
    expect((await runCli(['promote', 'svc', '--to', 'prod', '--json'], { env })).stderr).toContain('promoting svc 1.0.0 from qa to prod');
  });

  it('diff masks secrets in the resolved config', async () => {
    const env = setup(
      'environments:\n  dev: { variables: { REGION: eu } }\n  prod: { variables: { REGION: us } }\n',
      'secrets: [TOKEN]\ndeployments:\n  svc:\n    type: shell\n    variables: { AUTH: "Bearer ${TOKEN}" }\n    commands: [[node, -e, "0"]]\n    environments:\n      prod: { variables: { AUTH: "Bearer ${TOKEN} prod" } }\n',
    );
    expect((await runCli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], { env })).code).toBe(0);
    const text = await runCli(['diff', 'dev', 'prod', 'svc'], { env });
    const json = await runCli(['diff', 'dev', 'prod', 'svc', '--json'], { env });
    expect(text.stdout).toContain('-  AUTH: Bearer *** prod');
    expect(text.stdout).toContain('+  AUTH: Bearer ***');
    expect(text.stdout).toContain('to bring prod up to dev: deployctl promote svc --from dev --to prod');
    expect(text.stdout + text.stderr + json.stdout).not.toContain('tok-9f8e7d6c');
  });

  it('diff of a target whose config cannot be resolved in one environment: exit 2 with the config error, no diff shown', async () => {
    const env = setup(
      'environments:\n  dev: {}\n  prod: {}\n',
      'deployments:\n  svc:\n    type: shell\n    commands: [[echo, "${NEEDED}"]]\n    environments:\n      dev: { variables: { NEEDED: x } }\n  api:\n    type: shell\n    commands: [[echo, hi]]\n',
    );
    const text = await runCli(['diff', 'dev', 'prod'], { env });
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain('deployments.yaml:4:23 deployments.svc.commands[0][1]: ${NEEDED} is not defined');
    expect(text.stderr).toContain('hint: the config of svc in prod cannot be resolved, so there is nothing to compare');
    const json = await runCli(['diff', 'dev', 'prod', '--json'], { env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'config', exitCode: 2, problems: [{ path: 'deployments.svc.commands[0][1]' }] });
    // Another app, whose config resolves in both, still diffs.
    expect((await runCli(['diff', 'dev', 'prod', 'api'], { env })).code).toBe(0);
  });

  it('promotes the exact image that ran in the source: no new build or pull', async () => {
    const image = `registry.example/api@sha256:${'c'.repeat(64)}`;
    const env = setup(
      'environments:\n  dev: {}\n  qa: {}\n',
      'deployments:\n  api:\n    type: docker\n    image: registry.example/api\n    build: { context: . }\n',
    );
    const { openState } = await import('../../src/state/open.js');
    const at = new Date().toISOString();
    await (await openState(env.DEPLOYCTL_HOME!)).history.write({
      schemaVersion: 1, id: 'api_dev_20261124T100000000Z_aaaaaa', app: 'api', env: 'dev', version: '1.0.0', action: 'deploy', status: 'succeeded', healthy: true,
      startedAt: at, finishedAt: at, durationMs: 1, user: 'ana', host: 'h', pid: 1, command: 'deployctl deploy api -e dev', config: {}, artifacts: { image }, steps: [],
    });
    // No docker on PATH: the dry run shows every step and runs none, not even the read-only inspect.
    const run = await runCli(['promote', 'api', '--to', 'qa', '--dry-run', '--json'], { env: { ...env, PATH: tempDir() } });
    expect(run.code, run.stderr).toBe(0);
    const argvs = (JSON.parse(run.stdout).steps as Array<{ argv: string[] }>).map((s) => s.argv.slice(1, 3).join(' '));
    // built in the source, so it is looked up (never rebuilt, never pulled) before the old container goes
    expect(argvs).toEqual(['image inspect', 'stop -t', 'rm -f', 'run -d']);
    expect(JSON.parse(run.stdout).steps[0].argv).toContain(image);
    expect(JSON.parse(run.stdout).steps[3].argv).toContain(image);
  });
});
