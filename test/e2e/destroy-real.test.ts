// `deployctl destroy` with the real tools: terraform (offline, terraform_data only) and ansible-playbook
// against localhost, through the CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

function project(deployments: string) {
  const dir = tempDir('deployctl-destroy-real-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const tmp = tempDir();
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, CHECKPOINT_DISABLE: '1', TMPDIR: tmp, ANSIBLE_LOCAL_TEMP: join(tmp, '.ansible') });
  const history = async (app: string) =>
    JSON.parse((await runCli(['history', app, '-e', 'dev', '--json'], { env })).stdout).records as Array<{ action: string; version: string; status: string; error?: { message: string }; steps: Array<{ label: string; command: string[] }> }>;
  return { dir, env, history };
}

describe.skipIf(toolMissing('terraform'))('terraform destroy, for real', () => {
  const { dir, env, history } = project(
    ['deployments:', '  infra:', '    type: terraform', '    path: tf', '    workspace: ${env}', '    var_files: [sizes.tfvars]', '    vars: { owner: ops }', ''].join('\n'),
  );
  const folder = join(dir, 'tf');
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'main.tf'),
    [
      'variable "app_version" { type = string }',
      'variable "size" { type = number }',
      'variable "owner" { type = string }',
      'resource "terraform_data" "release" {',
      '  input = { version = var.app_version, size = var.size, owner = var.owner }',
      '}',
      'output "release" { value = terraform_data.release.output }',
      '',
    ].join('\n'),
  );
  const tf = (...args: string[]) => execFileSync('terraform', args, { cwd: folder, env, encoding: 'utf8' }).trim();

  it('asks for approval like an apply, the dry run plans the destroy and changes nothing, then it destroys with the stored var file', async () => {
    writeFileSync(join(folder, 'sizes.tfvars'), 'size = 3\n');
    const deployed = await runCli(['deploy', 'infra', '-e', 'dev', '--version', '1.0.0', '--yes'], { env, timeoutMs: 180_000 });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(tf('state', 'list')).toBe('terraform_data.release');
    // Today's var file would not even parse: the destroy plans from the content the record kept.
    writeFileSync(join(folder, 'sizes.tfvars'), 'size = \n');

    const refused = await runCli(['destroy', 'infra', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('terraform destroy for infra in dev needs approval');
    expect(tf('state', 'list')).toBe('terraform_data.release');

    const dry = await runCli(['destroy', 'infra', '-e', 'dev', '--dry-run'], { env, timeoutMs: 180_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('terraform_data.release will be destroyed');
    expect(dry.stderr).toMatch(/would run terraform destroy -auto-approve -input=false -no-color -var-file=\S+1-sizes\.tfvars\n/);
    expect(tf('state', 'list')).toBe('terraform_data.release');

    const gone = await runCli(['destroy', 'infra', '-e', 'dev', '--yes'], { env, timeoutMs: 180_000 });
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stderr).toContain('terraform tracks no resource');
    expect(tf('state', 'list')).toBe('');
    expect(tf('workspace', 'show')).toBe('dev');
    // The state file is kept (empty), as terraform leaves it.
    expect(existsSync(join(folder, 'terraform.tfstate.d', 'dev', 'terraform.tfstate'))).toBe(true);
    const [destroyed] = await history('infra');
    expect(destroyed).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
    expect(destroyed!.steps.map((s) => s.label)).toEqual(['terraform init', 'terraform workspace', 'terraform plan -destroy', 'terraform destroy']);
    // Values through TF_VAR_ only.
    expect(destroyed!.steps.flatMap((s) => s.command).filter((a) => a.includes('ops') || a.startsWith('-var='))).toEqual([]);
    // No var file written for a command outlives it.
    expect(execFileSync('find', [env.TMPDIR!, '-name', '*.tfvars'], { encoding: 'utf8' })).toBe('');
  }, 600_000);
});

describe.skipIf(toolMissing('ansible-playbook'))('ansible destroy_playbook, for real against localhost', () => {
  const release = tempDir('deployctl-release-');
  const { dir, env, history } = project(
    [
      'deployments:',
      '  site:',
      '    type: ansible',
      '    path: play',
      '    playbook: site.yml',
      '    destroy_playbook: teardown.yml',
      '    inventory: "localhost,"',
      `    extra_vars: { release_dir: "${release}", ansible_python_interpreter: auto_silent }`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'play'));
  const play = (tasks: string[], hosts = 'all') => ['- hosts: ' + hosts, '  connection: local', '  gather_facts: false', '  tasks:', ...tasks, ''].join('\n');
  writeFileSync(join(dir, 'play', 'site.yml'), play(['    - copy: { content: "{{ version }}\\n", dest: "{{ release_dir }}/VERSION" }']));
  writeFileSync(
    join(dir, 'play', 'teardown.yml'),
    play(['    - file: { path: "{{ release_dir }}/VERSION", state: absent }', '    - copy: { content: "{{ version }}\\n", dest: "{{ release_dir }}/DESTROYED" }']),
  );

  it('runs the destroy playbook with the running version; its dry run is --check --diff and changes nothing', async () => {
    for (const version of ['1.0.0', '2.0.0']) expect((await runCli(['deploy', 'site', '-e', 'dev', '--version', version], { env, timeoutMs: 180_000 })).code).toBe(0);
    expect(readFileSync(join(release, 'VERSION'), 'utf8')).toBe('2.0.0\n');
    const dry = await runCli(['destroy', 'site', '-e', 'dev', '--dry-run'], { env, timeoutMs: 180_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/\$ ansible-playbook -i localhost, \S+\/play\/teardown\.yml -e version=2\.0\.0 -e @\S+ --check --diff\n/);
    expect(existsSync(join(release, 'VERSION'))).toBe(true);
    expect(existsSync(join(release, 'DESTROYED'))).toBe(false);

    const gone = await runCli(['destroy', 'site', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(gone.code, gone.stderr).toBe(0);
    expect(existsSync(join(release, 'VERSION'))).toBe(false);
    expect(readFileSync(join(release, 'DESTROYED'), 'utf8')).toBe('2.0.0\n');
    expect((await history('site'))[0]).toMatchObject({ action: 'destroy', version: '2.0.0', status: 'succeeded' });
  }, 600_000);

  it('a destroy playbook that matched no host is a failed destroy (exit 3), and the version still runs', async () => {
    expect((await runCli(['deploy', 'site', '-e', 'dev', '--version', '3.0.0'], { env, timeoutMs: 180_000 })).code).toBe(0);
    writeFileSync(join(dir, 'play', 'teardown.yml'), play(['    - file: { path: "{{ release_dir }}/VERSION", state: absent }'], 'webservers'));
    const run = await runCli(['destroy', 'site', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(run.code).toBe(3);
    const [failed] = await history('site');
    expect(failed).toMatchObject({ action: 'destroy', version: '3.0.0', status: 'failed' });
    expect(failed!.error!.message).toMatch(/^verify: the playbook ran on no host/);
    expect(readFileSync(join(release, 'VERSION'), 'utf8')).toBe('3.0.0\n');
    expect(JSON.parse((await runCli(['status', 'site', '-e', 'dev', '--json'], { env })).stdout).targets[0]).toMatchObject({ version: '3.0.0' });
  }, 600_000);
});
