// Seed 004's five example configs, written as a user would (paths relative to the config, here under a
// folder with a space in its name), loaded by the real config pipeline, then planned: the exact argv.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveApp } from '../../src/config/load.js';
import { getExecutor } from '../../src/executors/index.js';
import type { Command } from '../../src/executors/types.js';
import { tempDir } from '../support/cli.js';

const root = join(tempDir('deployctl-seed-'), 'my projects');
const ops = join(root, 'ops');
for (const dir of ['ops', 'go-monitor', 'dashboard-netmiko', 'docker-kubernetes-demo/manifests', 'terraform-aws-demo', 'ansible_demo']) {
  mkdirSync(join(root, dir), { recursive: true });
}
writeFileSync(join(root, 'go-monitor/docker-compose.yml'), 'services:\n  monitor: { build: . }\n');
writeFileSync(join(root, 'dashboard-netmiko/Dockerfile'), 'FROM python:3.12\n');
// The files the apps name: every path is checked when an app is resolved.
for (const file of ['terraform-aws-demo/terraform.tfvars.prod', 'ansible_demo/inventories/hosts.yml', 'ansible_demo/playbooks/backup_config.yml', 'ansible_demo/vault/.prod_password']) {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), '');
}
writeFileSync(
  join(root, 'docker-kubernetes-demo/manifests/coffee.yaml'),
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: coffee\nspec:\n  template:\n    spec:\n      containers:\n        - { name: coffee, image: "coffee:${version}" }\n',
);
writeFileSync(join(ops, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
// The configs of seed 004, as written there (the docker one with its `port: 5001` and no image).
writeFileSync(
  join(ops, 'deployments.yaml'),
  `deployments:
  go-monitor:
    type: docker-compose
    path: ../go-monitor
    compose_file: docker-compose.yml
    env_vars:
      HOST: google.com
  dashboard:
    type: docker
    path: ../dashboard-netmiko
    build:
      dockerfile: Dockerfile
    port: 5001
  coffee:
    type: kubernetes
    path: ../docker-kubernetes-demo/manifests
    namespace: coffee-dev
  aws:
    type: terraform
    path: ../terraform-aws-demo
    var_file: terraform.tfvars.prod
    auto_approve: false
  backup:
    type: ansible
    path: ../ansible_demo
    inventory: inventories/hosts.yml
    playbook: playbooks/backup_config.yml
    vault_password_file: vault/.prod_password
`,
);

async function planOf(app: string, tools: Record<string, string>): Promise<Command[]> {
  const resolved = await resolveApp(await loadConfig({ configDir: ops, env: {} }), app, 'prod', { version: '1.4.2', processEnv: {} });
  const executor = await getExecutor(resolved.config.type);
  const plan = await executor.plan({
    app,
    env: 'prod',
    version: '1.4.2',
    recordId: 'r1',
    config: resolved.config,
    childEnv: { DEPLOY_VERSION: '1.4.2' },
    tools,
    dryRun: false,
  });
  return plan.commands;
}

const argv = (commands: Command[]) => commands.map((c) => [c.file, ...c.args]);

describe('seed 004 configs, loaded and planned', () => {
  it('docker-compose: the plugin, in the app folder, env_vars in the environment', async () => {
    const [up] = await planOf('go-monitor', { docker: 'docker' });
    expect([up!.file, ...up!.args]).toEqual(['docker', 'compose', '-f', join(root, 'go-monitor/docker-compose.yml'), '-p', 'go-monitor-prod', 'up', '-d', '--remove-orphans', '--wait', '--build']);
    expect(up!.cwd).toBe(join(root, 'go-monitor'));
    expect(up!.env).toMatchObject({ HOST: 'google.com', DEPLOY_VERSION: '1.4.2' });
  });

  it('docker: builds an image named after the app, publishes port 5001', async () => {
    const dir = join(root, 'dashboard-netmiko');
    expect(argv(await planOf('dashboard', {}))).toEqual([
      ['docker', 'build', '-t', 'dashboard:1.4.2', '-f', join(dir, 'Dockerfile'), dir],
      ['docker', 'stop', '-t', '10', 'dashboard-prod'],
      ['docker', 'rm', '-f', 'dashboard-prod'],
      ['docker', 'run', '-d', '--name', 'dashboard-prod', '--restart', 'unless-stopped', '-p', '5001:5001', '-e', 'DEPLOY_VERSION', '--label', 'deployctl.app=dashboard', '--label', 'deployctl.env=prod', 'dashboard:1.4.2'],
    ]);
  });

  it('kubernetes: path is the manifests folder; apply the rendered text, then wait with the default timeout', async () => {
    const commands = await planOf('coffee', {});
    expect(argv(commands)).toEqual([
      ['kubectl', '-n', 'coffee-dev', 'apply', '-f', '-'],
      ['kubectl', '-n', 'coffee-dev', 'rollout', 'status', 'deployment/coffee', '--timeout=600s'],
    ]);
    expect(commands[0]!.input).toContain('image: "coffee:1.4.2"');
  });

  it('terraform: the var file and app_version; apply of that plan needs approval', async () => {
    writeFileSync(join(root, 'terraform-aws-demo/terraform.tfvars.prod'), 'instance_type = "t3.micro"\n');
    writeFileSync(join(root, 'terraform-aws-demo/variables.tf'), 'variable "app_version" {}\nvariable "instance_type" {}\n');
    const commands = await planOf('aws', {});
    const planFile = commands[1]!.args.find((a) => a.startsWith('-out='))!.slice('-out='.length);
    expect(argv(commands)).toEqual([
      ['terraform', 'init', '-input=false', '-no-color'],
      ['terraform', 'plan', '-input=false', '-no-color', `-out=${planFile}`, `-var-file=${join(root, 'terraform-aws-demo/terraform.tfvars.prod')}`],
      ['terraform', 'show', '-no-color', planFile],
      ['terraform', 'apply', '-input=false', '-no-color', planFile],
    ]);
    expect(commands.map((c) => Boolean(c.needsApproval))).toEqual([false, false, false, true]);
    expect(commands[0]!.cwd).toBe(join(root, 'terraform-aws-demo'));
    // The version reaches terraform through the environment, as TF_VAR_app_version.
    expect(commands[1]!.env.TF_VAR_app_version).toBe('1.4.2');
  });

  it('ansible: inventory, playbook and vault password file, relative to path', async () => {
    const dir = join(root, 'ansible_demo');
    expect(argv(await planOf('backup', {}))).toEqual([
      ['ansible-playbook', '-i', join(dir, 'inventories/hosts.yml'), join(dir, 'playbooks/backup_config.yml'), '-e', 'version=1.4.2', '--vault-password-file', join(dir, 'vault/.prod_password')],
    ]);
  });

  it('kubernetes: a path holding a kustomization.yaml is rendered by kubectl kustomize', async () => {
    writeFileSync(join(root, 'docker-kubernetes-demo/manifests/kustomization.yaml'), 'resources: [coffee.yaml]\n');
    expect(argv(await planOf('coffee', {}))).toEqual([
      ['kubectl', 'kustomize', join(root, 'docker-kubernetes-demo/manifests')],
      ['kubectl', '-n', 'coffee-dev', 'apply', '-f', '-'],
    ]);
  });
});
