// terraform's narrowing and backend settings, for real and offline (issue 14): what a user sees of
// backend_config (where the state lands), lock_timeout (a deploy waits for a lock another apply holds,
// and without it fails at once) and targets (only the targeted resource changes; a rollback re-applies
// everything). The argv of each is in test/executors/realworld-argv.test.ts.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { startCli, waitForFile } from '../support/live-cli.js';
import { toolMissing } from '../support/tools.js';

interface Rec {
  action: string;
  version: string;
  status: string;
  error?: { message: string };
  steps: Array<{ label: string; command: string[] }>;
}

function project(deployments: string) {
  const dir = tempDir('deployctl-tf-settings-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  qa: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, CHECKPOINT_DISABLE: '1' });
  const history = async (app: string, target = 'dev'): Promise<Rec[]> => JSON.parse((await runCli(['history', app, '-e', target, '--json'], { env })).stdout).records;
  const terraform = (folder: string, ...args: string[]) => execFileSync('terraform', args, { cwd: join(dir, folder), env, encoding: 'utf8' });
  return { dir, env, history, terraform };
}

describe.skipIf(toolMissing('terraform'))('terraform settings, for real', () => {
  it('backend_config: each environment\'s state lands where its -backend-config=path= says, none in the folder (cloudposse/terraform-null-label)', async () => {
    const { dir, env, history, terraform } = project(
      [
        'deployments:',
        '  label:',
        '    type: terraform',
        '    path: label',
        '    auto_approve: true',
        '    backend_config: { path: state/dev.tfstate }',
        '    vars: { namespace: eg, stage: "${env}", name: app, tags: { Version: "${version}" } }',
        '    environments:',
        '      qa: { backend_config: [path=state/qa.tfstate] }',
        '',
      ].join('\n'),
    );
    const folder = join(dir, 'label');
    cpSync(join(repoRoot, 'test/fixtures/realworld/terraform-null-label'), folder, { recursive: true });
    // A partial backend configuration, as a team adds to a module: the path comes from backend_config.
    writeFileSync(join(folder, 'backend.tf'), 'terraform {\n  backend "local" {}\n}\n');

    const dev = await runCli(['deploy', 'label', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 180_000 });
    expect(dev.code, dev.stderr).toBe(0);
    expect(dev.stderr).toContain('$ terraform init -input=false -no-color -reconfigure -backend-config=path=state/dev.tfstate');
    const devState = JSON.parse(readFileSync(join(folder, 'state/dev.tfstate'), 'utf8'));
    expect(devState.outputs.id.value).toBe('eg-dev-app');
    expect(devState.outputs.tags.value).toMatchObject({ Version: '1.0.0' });

    // qa, from the same folder, with a backend of its own: init switches to it, dev's state is untouched.
    const qa = await runCli(['deploy', 'label', '-e', 'qa', '--version', '2.0.0'], { env, timeoutMs: 180_000 });
    expect(qa.code, qa.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(folder, 'state/qa.tfstate'), 'utf8')).outputs.id.value).toBe('eg-qa-app');
    expect(JSON.parse(readFileSync(join(folder, 'state/dev.tfstate'), 'utf8')).outputs.id.value).toBe('eg-dev-app');
    expect(existsSync(join(folder, 'terraform.tfstate'))).toBe(false);

    // And back to dev: its own state again, at its new version.
    const again = await runCli(['deploy', 'label', '-e', 'dev', '--version', '3.0.0'], { env, timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(folder, 'state/dev.tfstate'), 'utf8')).outputs.tags.value).toMatchObject({ Version: '3.0.0' });
    expect(JSON.parse(readFileSync(join(folder, 'state/qa.tfstate'), 'utf8')).outputs.tags.value).toMatchObject({ Version: '2.0.0' });
    expect(JSON.parse(terraform('label', 'output', '-json', 'stage'))).toBe('dev');
    expect((await history('label')).map((r) => [r.version, r.status])).toEqual([
      ['3.0.0', 'succeeded'],
      ['1.0.0', 'succeeded'],
    ]);
  }, 600_000);

  it('targets: only the targeted resource changes; a rollback plans and applies the whole configuration', async () => {
    const { dir, env, history, terraform } = project(
      ['deployments:', '  pair:', '    type: terraform', '    path: pair', '    auto_approve: true', ''].join('\n'),
    );
    mkdirSync(join(dir, 'pair'));
    writeFileSync(
      join(dir, 'pair', 'main.tf'),
      [
        'variable "app_version" { type = string }',
        'resource "terraform_data" "web" { input = var.app_version }',
        'resource "terraform_data" "db" { input = var.app_version }',
        'output "web" { value = terraform_data.web.output }',
        'output "db" { value = terraform_data.db.output }',
        '',
      ].join('\n'),
    );
    const versions = () => JSON.parse(terraform('pair', 'output', '-json')) as Record<string, { value: string }>;

    const first = await runCli(['deploy', 'pair', '-e', 'dev', '--version', '1.0.0', '--set', 'targets=terraform_data.web'], { env, timeoutMs: 180_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Resource targeting is in effect');
    expect(terraform('pair', 'state', 'list').trim().split('\n')).toEqual(['terraform_data.web']);

    const second = await runCli(['deploy', 'pair', '-e', 'dev', '--version', '2.0.0'], { env, timeoutMs: 180_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(versions()).toMatchObject({ web: { value: '2.0.0' }, db: { value: '2.0.0' } });

    // The list form of --set, as in the file.
    const third = await runCli(['deploy', 'pair', '-e', 'dev', '--version', '3.0.0', '--set', 'targets=[terraform_data.web]'], { env, timeoutMs: 180_000 });
    expect(third.code, third.stderr).toBe(0);
    expect(resource(terraform, 'web')).toBe('3.0.0');
    expect(resource(terraform, 'db')).toBe('2.0.0');

    const back = await runCli(['rollback', 'pair', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(versions()).toMatchObject({ web: { value: '2.0.0' }, db: { value: '2.0.0' } });
    const records = await history('pair');
    const plans = records.map((r) => r.steps.find((s) => s.label === 'terraform plan')!.command.filter((a) => a.startsWith('-target=')));
    expect(plans).toEqual([[], ['-target=terraform_data.web'], [], ['-target=terraform_data.web']]);
  }, 600_000);
});

/** A terraform_data resource's value, as the state holds it (terraform show -json). */
function resource(terraform: (folder: string, ...args: string[]) => string, name: string): string {
  const shown = JSON.parse(terraform('pair', 'show', '-json'));
  return shown.values.root_module.resources.find((r: { address: string }) => r.address === `terraform_data.${name}`).values.output;
}

describe.skipIf(toolMissing('terraform'))('terraform lock_timeout, for real: a deploy waits for the state lock another apply holds', () => {
  const { dir, env, history, terraform } = project(
    ['deployments:', '  gated:', '    type: terraform', '    path: gated', '    auto_approve: true', '    lock_timeout: 5m', ''].join('\n'),
  );
  const folder = join(dir, 'gated');
  mkdirSync(folder);
  // dev and qa share the folder's one state. Each apply runs a provisioner that holds it (and so the
  // state lock) until the test creates `release`; it writes `applying` when it is there.
  writeFileSync(
    join(folder, 'main.tf'),
    [
      'variable "app_version" { type = string }',
      'resource "terraform_data" "gate" {',
      '  input            = var.app_version',
      '  triggers_replace = var.app_version',
      '  provisioner "local-exec" {',
      '    command = "touch applying; while [ ! -e release ]; do sleep 0.1; done"',
      '  }',
      '}',
      'output "version" { value = terraform_data.gate.output }',
      '',
    ].join('\n'),
  );
  const hold = () => {
    rmSync(join(folder, 'release'), { force: true });
    rmSync(join(folder, 'applying'), { force: true });
  };
  const release = () => writeFileSync(join(folder, 'release'), '');
  afterAll(release);

  it('with lock_timeout the second deploy waits ("Acquiring state lock") and succeeds once the lock is free; with 0s it fails at once, quoting terraform', async () => {
    hold();
    const holder = startCli(['deploy', 'gated', '-e', 'dev', '--version', '1.0.0'], env);
    await waitForFile(join(folder, 'applying'), holder);

    // No time to wait: terraform's own refusal, quoted, and nothing applied.
    const impatient = await runCli(['deploy', 'gated', '-e', 'qa', '--version', '1.0.0', '--set', 'lock_timeout=0s', '--no-rollback'], { env, timeoutMs: 180_000 });
    expect(impatient.code, impatient.stderr).toBe(3);
    expect(impatient.stderr).toContain('-lock-timeout=0s');
    const [refused] = await history('gated', 'qa');
    expect(refused!.error!.message).toMatch(/^terraform plan: exit code 1 \(Error: Error acquiring the state lock/);

    const patient = startCli(['deploy', 'gated', '-e', 'qa', '--version', '2.0.0'], env);
    // terraform says so once it has waited for the lock a moment.
    await patient.waitForStderr('Acquiring state lock. This may take a few moments...');
    expect(holder.running()).toBe(true);
    release();
    const [first, second] = await Promise.all([holder.done, patient.done]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/\$ terraform plan -input=false -no-color -lock-timeout=300s /);
    expect(second.stderr).toMatch(/\$ terraform apply -input=false -no-color -lock-timeout=300s /);
    expect(JSON.parse(terraform('gated', 'output', '-json', 'version'))).toBe('2.0.0');
    expect((await history('gated', 'qa')).map((r) => [r.version, r.status])).toEqual([
      ['2.0.0', 'succeeded'],
      ['1.0.0', 'failed'],
    ]);
    expect(readdirSync(folder)).not.toContain('.terraform.tfstate.lock.info');
  }, 600_000);
});

describe('version_var: "" is refused by validate and deploy alike (terraform and ansible), before anything runs', () => {
  it.each([
    ['terraform', 'tf', '    type: terraform\n    path: tf\n', 5, 'name the terraform variable that receives the version, or write version_var: false for none'],
    ['ansible', 'play', '    type: ansible\n    path: play\n    playbook: site.yml\n', 6, 'name the ansible variable'],
  ])('%s', async (_type, folder, settings, line, fix) => {
    const { dir, env, history } = project(`deployments:\n  app:\n${settings}    version_var: ""\n`);
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, folder === 'tf' ? 'main.tf' : 'site.yml'), folder === 'tf' ? 'variable "app_version" {}\n' : '- hosts: all\n  tasks: []\n');
    const where = `deployments.yaml:${line}:18 deployments.app.version_var: version_var "" is not a variable name`;
    const valid = await runCli(['validate'], { env });
    expect(valid.code).toBe(2);
    expect(valid.stdout + valid.stderr).toContain(where);
    expect(valid.stdout + valid.stderr).toContain(fix);
    for (const extra of [['--dry-run'], []]) {
      const run = await runCli(['deploy', 'app', '-e', 'dev', '--version', '1.0.1', ...extra], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(where);
      expect(run.stderr).not.toContain('-var =1.0.1');
    }
    expect(await history('app')).toEqual([]);
  });
});
