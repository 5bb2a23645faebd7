// The argv each executor plans for `deployctl destroy`, as tables: what it would run, exactly, from the
// running version's stored config and artifacts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types.js';
import type { PlanInput, RunResult } from '../../src/executors/types.js';
import { kubernetesExecutor } from '../../src/executors/kubernetes.js';
import { terraformExecutor } from '../../src/executors/terraform.js';
import { ansibleExecutor } from '../../src/executors/ansible.js';
import { dockerExecutor } from '../../src/executors/docker.js';
import { dockerComposeExecutor } from '../../src/executors/docker-compose.js';
import { shellExecutor } from '../../src/executors/shell.js';
import { EXECUTOR_SETTINGS } from '../../src/executors/settings/index.js';
import { tempDir } from '../support/cli.js';
import { planInputOf } from '../support/fakes.js';

const input = (config: Partial<AppConfig>, extra: Partial<PlanInput> = {}) => planInputOf(config, { recordId: 'web_prod_9', action: 'destroy', ...extra });
const argv = (commands: Array<{ file: string; args: string[] }>) => commands.map((c) => [c.file, ...c.args]);

describe('docker compose destroy', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
  writeFileSync(join(dir, 'override.yaml'), 'services: {}\n');
  const config = { type: 'docker-compose' as const, path: dir, compose_file: [join(dir, 'compose.yaml'), join(dir, 'override.yaml')], env_file: ['.env'], profiles: ['web'], env_vars: { PORT: 8080 } };
  // What the running version's record keeps: images pinned by a rollback are no part of down.
  const stored = { images: { web: 'web-prod-web:1.4.2' }, project: 'web-prod' };

  it.each([
    ['the compose plugin', { docker: '/usr/bin/docker' }, ['/usr/bin/docker', 'compose']],
    ['docker-compose v1', { 'docker-compose': '/usr/bin/docker-compose' }, ['/usr/bin/docker-compose']],
  ])('%s: down --remove-orphans with the files, project, env files and profiles of the deploy; volumes kept', async (_name, tools, head) => {
    const plan = await dockerComposeExecutor.planDestroy!(input(config, { tools, artifacts: stored }));
    expect(argv(plan.commands)).toEqual([
      [...head, '-f', join(dir, 'compose.yaml'), '-f', join(dir, 'override.yaml'), '-p', 'web-prod', '--env-file', join(dir, '.env'), '--profile', 'web', 'down', '--remove-orphans'],
    ]);
    expect(plan.commands[0]).toMatchObject({ mutates: true, env: { PORT: '8080', DEPLOY_VERSION: '1.4.2' } });
    expect(plan.commands[0]!.args).not.toContain('--volumes');
    expect(plan.commands[0]!.args).not.toContain('-v');
    expect(plan.commands[0]!.files).toBeUndefined();
    expect(plan.notes.join('\n')).toContain('its volumes and images are kept');
  });

  it('a dry run checks the files first (config -q, read-only), and a project: setting names the project', async () => {
    const plan = await dockerComposeExecutor.planDestroy!(input({ ...config, project: 'shop' }, { tools: { docker: 'docker' }, dryRun: true }));
    expect(plan.commands.map((c) => [c.args.slice(-2).join(' '), c.mutates])).toEqual([
      ['config -q', false],
      ['down --remove-orphans', true],
    ]);
    expect(plan.commands[1]!.args).toContain('shop');
  });
});

describe('docker destroy', () => {
  it.each([
    ['the container of the deploy', {}, undefined, [['docker', 'rm', '-f', 'web-prod']]],
    ['container_name', { container_name: 'shop' }, true, [['docker', 'rm', '-f', 'shop']]],
    ['a container already gone', {}, false, []],
  ])('%s', async (_name, settings, exists, expected) => {
    const plan = await dockerExecutor.planDestroy!(input({ type: 'docker', image: 'registry/web', ...settings }, { artifacts: { image: 'registry/web:1.4.2', ...(exists === undefined ? {} : { container_exists: exists }) } }));
    expect(argv(plan.commands)).toEqual(expected);
    expect(plan.notes.join('\n')).toMatch(exists === false ? /no container web-prod: nothing to remove/ : /its image registry\/web:1\.4\.2 and named volumes are kept/);
  });
});

describe('kubernetes destroy', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'app.yaml'), 'kind: Deployment\nmetadata:\n  name: shop\nspec:\n  image: shop:${version}-today\n');
  const stored = 'kind: Deployment\nmetadata:\n  name: shop\nspec:\n  image: shop:1.4.2\n';

  it.each([
    ['context and namespace', { context: 'kind-prod', namespace: 'shop' }, ['kubectl', '--context', 'kind-prod', '-n', 'shop', 'delete', '--ignore-not-found', '-f', '-']],
    ['neither', {}, ['kubectl', 'delete', '--ignore-not-found', '-f', '-']],
  ])('deletes the manifests stored in the record, not today\'s files: %s', async (_name, settings, expected) => {
    const plan = await kubernetesExecutor.planDestroy!(input({ type: 'kubernetes', manifests: join(dir, 'app.yaml'), ...settings }, { artifacts: { manifests: stored } }));
    expect(argv(plan.commands)).toEqual([expected]);
    expect(plan.commands[0]!.input).toBe(stored);
    expect(plan.notes).toContain("deleting the manifests stored in the running version's record");
  });

  it('a record without them: today\'s manifests rendered for the running version, said so; a dry run previews them', async () => {
    const plan = await kubernetesExecutor.planDestroy!(input({ type: 'kubernetes', manifests: join(dir, 'app.yaml') }, { dryRun: true }));
    expect(plan.commands[0]!.input).toContain('image: shop:1.4.2-today');
    expect(plan.notes[0]).toContain("the record keeps no rendered manifests: deleting today's");
    expect(plan.preview).toContain('manifests to delete:');
  });
});

describe('terraform destroy', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.tf'), 'variable "app_version" {}\n');
  const config = {
    type: 'terraform' as const,
    path: dir,
    var_files: [join(dir, 'today.tfvars')],
    vars: { region: 'eu', tags: { team: 'ops' } },
    backend_config: { bucket: 'state' },
    workspace: 'prod',
    lock_timeout: '30s',
    targets: ['null_resource.one'],
  };
  const stored = [{ name: 'prod.tfvars', content: 'size = 3\n' }];

  it('init with backend_config, the workspace selected (never created), plan -destroy, then destroy -auto-approve with the stored var files', async () => {
    const plan = await terraformExecutor.planDestroy!(input(config, { artifacts: { var_files: stored } }));
    const varFile = plan.commands[2]!.args.find((a) => a.startsWith('-var-file='))!;
    expect(argv(plan.commands)).toEqual([
      ['terraform', 'init', '-input=false', '-no-color', '-reconfigure', '-backend-config=bucket=state'],
      ['terraform', 'workspace', 'select', '-no-color', 'prod'],
      ['terraform', 'plan', '-destroy', '-input=false', '-no-color', '-lock-timeout=30s', varFile],
      ['terraform', 'destroy', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=30s', varFile],
    ]);
    // The stored content, written for the command alone; never today's file.
    expect(varFile).toMatch(/deployctl-web_prod_9-\d+-tfvars\/1-prod\.tfvars$/);
    expect(plan.commands[3]!.files).toEqual({ [varFile.slice('-var-file='.length)]: 'size = 3\n' });
    // Values through TF_VAR_, the version of the running record; targets narrow a deploy, not a destroy.
    expect(plan.commands[3]!.env).toMatchObject({ TF_VAR_app_version: '1.4.2', TF_VAR_region: 'eu', TF_VAR_tags: '{"team":"ops"}' });
    expect(plan.commands.flatMap((c) => c.args).filter((a) => a.startsWith('-target'))).toEqual([]);
    expect(plan.commands.map((c) => [c.label, c.mutates, Boolean(c.needsApproval)])).toEqual([
      ['terraform init', false, false],
      ['terraform workspace', true, false],
      ['terraform plan -destroy', false, false],
      ['terraform destroy', true, true],
    ]);
    expect(plan.notes.join('\n')).toContain('destroy takes down the whole configuration');
  });

  it('auto_approve: the destroy needs no approval; a dry run plans through TF_WORKSPACE without selecting it', async () => {
    const plan = await terraformExecutor.planDestroy!(input({ ...config, auto_approve: true }, { artifacts: { var_files: stored }, dryRun: true }));
    expect(plan.commands.map((c) => c.label)).toEqual(['terraform init', 'terraform plan -destroy', 'terraform destroy']);
    expect(plan.commands[1]!.env.TF_WORKSPACE).toBe('prod');
    expect(plan.commands[2]!.needsApproval).toBe(false);
  });
});

describe('ansible destroy', () => {
  const config = {
    type: 'ansible' as const,
    path: '/srv/play',
    playbook: '/srv/play/site.yml',
    destroy_playbook: '/srv/play/teardown.yml',
    inventory: ['localhost,', '/srv/play/hosts'],
    extra_vars: { db: 'main' },
    version_var: 'app_version',
    limit: 'web1',
    tags: ['config'],
    become: true,
  };

  it('runs destroy_playbook with the inventory, extra vars and version variable of the deploy; narrowing settings are not carried', async () => {
    const plan = await ansibleExecutor.planDestroy!(input(config, { tools: { 'ansible-playbook': '/usr/bin/ansible-playbook' } }));
    const [command] = plan.commands;
    const extra = command!.args[command!.args.lastIndexOf('-e') + 1]!;
    expect(argv(plan.commands)).toEqual([
      ['/usr/bin/ansible-playbook', '-i', 'localhost,', '-i', '/srv/play/hosts', '/srv/play/teardown.yml', '-e', 'app_version=1.4.2', '-e', extra, '--become'],
    ]);
    expect(extra).toMatch(/^@.*extra-vars\.json$/);
    expect(Object.values(command!.files!)).toEqual([JSON.stringify({ db: 'main' })]);
    expect(command).toMatchObject({ label: 'destroy playbook', mutates: true });
    expect(plan.notes.join('\n')).toContain('limit, tags narrowed the deploy; the destroy playbook runs whole');
  });

  it('a dry run runs it with --check --diff', async () => {
    const plan = await ansibleExecutor.planDestroy!(input(config, { dryRun: true }));
    expect(plan.commands[0]!.args.slice(-2)).toEqual(['--check', '--diff']);
    expect(plan.commands[0]).toMatchObject({ label: 'destroy playbook --check', mutates: false });
  });

  it('a destroy playbook that matched no host, or failed on one, is a failed destroy', async () => {
    const ran = (output: string): RunResult[] => [{ exitCode: 0, output, stdout: output, durationMs: 1, timedOut: false, interrupted: false }];
    const none = await ansibleExecutor.verifyDestroy!(input(config), {} as never, ran('[WARNING]: provided hosts list is empty, only localhost is available'));
    expect(none).toMatchObject({ ok: false, message: expect.stringContaining('the playbook ran on no host') });
    const failed = await ansibleExecutor.verifyDestroy!(input(config), {} as never, ran('PLAY RECAP\nweb1 : ok=1 changed=0 unreachable=0 failed=1\n'));
    expect(failed).toMatchObject({ ok: false, message: 'failed on web1' });
  });
});

describe('shell destroy', () => {
  it('runs destroy_commands: argv arrays directly, strings through the shell, as written', async () => {
    const plan = await shellExecutor.planDestroy!(input({ commands: [['./deploy.sh']], destroy_commands: [['./teardown.sh', '--all'], 'rm -rf "$DEPLOY_ENV-cache"'] }));
    expect(plan.commands.map((c) => [c.file, c.args, Boolean(c.shell), c.label])).toEqual([
      ['./teardown.sh', ['--all'], false, 'destroy command 1/2: ./teardown.sh --all'],
      ['rm -rf "$DEPLOY_ENV-cache"', [], true, 'destroy command 2/2: rm -rf "$DEPLOY_ENV-cache"'],
    ]);
  });
});

describe('what destroy needs configured', () => {
  it.each([
    ['ansible', { playbook: 'site.yml' }, 'destroy_playbook'],
    ['shell', { commands: [['true']] }, 'destroy_commands'],
    ['shell', { commands: [['true']], destroy_commands: [] }, 'destroy_commands'],
  ] as const)('%s without its setting names the key to add', (type, settings, key) => {
    const missing = EXECUTOR_SETTINGS[type].destroyMissing!({ type, path: '/srv', ...settings } as unknown as AppConfig);
    expect(missing).toMatchObject({ key, message: expect.stringContaining(`add ${key}:`) });
  });

  it.each([
    ['ansible', { playbook: 'site.yml', destroy_playbook: 'down.yml' }],
    ['shell', { commands: [['true']], destroy_commands: [['false']] }],
  ] as const)('%s with it configured: nothing missing', (type, settings) => {
    expect(EXECUTOR_SETTINGS[type].destroyMissing!({ type, path: '/srv', ...settings } as unknown as AppConfig)).toBeUndefined();
  });

  it('the other types destroy with their own tool: nothing to configure', () => {
    for (const type of ['docker-compose', 'docker', 'kubernetes', 'terraform'] as const) expect(EXECUTOR_SETTINGS[type].destroyMissing).toBeUndefined();
  });
});
