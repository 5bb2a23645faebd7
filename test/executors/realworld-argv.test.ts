// What deployctl plans for projects written by others (issue 14): the settings their authors use,
// as argv tables, and the values that must never reach a command line or change a manifest's shape.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { AppConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import type { PlanInput, RunResult } from '../../src/executors/types.js';
import { outputEnv, planTerraformDeploy, terraformExecutor } from '../../src/executors/terraform.js';
import { ansibleExecutor, planAnsibleDeploy } from '../../src/executors/ansible.js';
import { fillManifest, kubernetesExecutor, renderManifests } from '../../src/executors/kubernetes.js';
import { composeFiles, dockerComposeExecutor, maskEnvFile, planComposeDeploy, planComposeDestroy, readResolvedProject } from '../../src/executors/docker-compose.js';
import { planDockerDeploy } from '../../src/executors/docker.js';
import { tempDir } from '../support/cli.js';
import { planInputOf } from '../support/fakes.js';

const input = planInputOf;
const result = (output: string, exitCode = 0): RunResult => ({ exitCode, output, stdout: output, durationMs: 1, timedOut: false, interrupted: false });

describe('terraform', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.tf'), 'variable "app_version" {}\nvariable "tags" {}\n');
  writeFileSync(join(dir, 'common.tfvars'), 'tags = { team = "ops" }\n');
  writeFileSync(join(dir, 'prod.tfvars'), 'replicas = 3\n');
  const bare = tempDir();
  writeFileSync(join(bare, 'main.tf'), 'variable "name" {}\n');
  const tf = (config: Partial<AppConfig>, extra: Partial<PlanInput> = {}) => input({ type: 'terraform', path: dir, ...config }, extra);
  const planOf = (i: PlanInput) => planTerraformDeploy(i).find((c) => c.label === 'terraform plan')!;

  it.each([
    ['declared app_version: the version goes to it', dir, {}, { TF_VAR_app_version: '1.4.2' }],
    ['none declared: no version variable', bare, {}, {}],
    ['version_var: false: none', dir, { version_var: false }, {}],
    ['version_var names another', bare, { version_var: 'release' }, { TF_VAR_release: '1.4.2' }],
  ])('%s', (_name, path, config, expected) => {
    const env = planOf(tf({ path, ...config })).env;
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('TF_VAR_')))).toEqual(expected);
  });

  it.each([[''], [true], ['app version']])('refuses version_var: %j before anything runs (terraform and ansible)', (setting) => {
    expect(() => terraformExecutor.preflight!(tf({ version_var: setting }).config)).toThrow(ConfigError);
    expect(() => terraformExecutor.preflight!(tf({ version_var: setting }).config)).toThrow(
      `version_var: version_var ${JSON.stringify(setting)} is not a variable name: name the terraform variable that receives the version, or write version_var: false for none`,
    );
    expect(() => ansibleExecutor.preflight!(input({ type: 'ansible', playbook: 'site.yml', version_var: setting }).config)).toThrow(/name the ansible variable/);
  });

  it('vars: strings, numbers, lists and maps as TF_VAR_, never on the command line; var files in order', () => {
    const i = tf({ vars: { name: 'shop', replicas: 3, zones: ['a', 'b'], tags: { team: 'ops', 'cost center': 'x"y' } }, var_file: 'common.tfvars', var_files: ['prod.tfvars'] });
    const plan = planOf(i);
    expect(plan.env).toMatchObject({ TF_VAR_name: 'shop', TF_VAR_replicas: '3', TF_VAR_zones: '["a","b"]', TF_VAR_tags: '{"team":"ops","cost center":"x\\"y"}' });
    expect(plan.args.filter((a) => !a.startsWith('-out='))).toEqual(['plan', '-input=false', '-no-color', `-var-file=${dir}/common.tfvars`, `-var-file=${dir}/prod.tfvars`]);
    expect(planTerraformDeploy(i).flatMap((c) => c.args).some((a) => a.includes('shop') || a.startsWith('-var='))).toBe(false);
  });

  it('targets on plan (a deploy only), backend_config on init, lock_timeout on plan and apply', () => {
    const commands = planTerraformDeploy(tf({ targets: ['terraform_data.web', 'module.db'], backend_config: { path: 'state/prod.tfstate' }, lock_timeout: '5m' }));
    const byLabel = Object.fromEntries(commands.map((c) => [c.label, c.args.filter((a) => !a.includes('deploy.tfplan'))]));
    expect(byLabel['terraform init']).toEqual(['init', '-input=false', '-no-color', '-reconfigure', '-backend-config=path=state/prod.tfstate']);
    expect(byLabel['terraform plan']).toEqual(['plan', '-input=false', '-no-color', '-lock-timeout=300s', '-target=terraform_data.web', '-target=module.db']);
    expect(byLabel['terraform apply']).toEqual(['apply', '-input=false', '-no-color', '-lock-timeout=300s']);
    const files = planTerraformDeploy(tf({ backend_config: ['backend.hcl', 'key=prod'] }))[0]!.args;
    expect(files.slice(3)).toEqual(['-reconfigure', `-backend-config=${dir}/backend.hcl`, '-backend-config=key=prod']);
  });

  it('a rollback plans the whole configuration: targets narrowed one run', async () => {
    const plan = await terraformExecutor.plan(tf({ targets: ['terraform_data.web'] }, { action: 'rollback', artifacts: { var_files: [] } }));
    expect(plan.commands.find((c) => c.label === 'terraform plan')!.args.some((a) => a.startsWith('-target'))).toBe(false);
    expect(plan.notes).toContain('targets (terraform_data.web) narrowed the deploy; this rollback plans the whole configuration');
  });

  it('keeps the var files\' content in the record, and a rollback plans from that content, not today\'s files', async () => {
    const deployed = await terraformExecutor.plan(tf({ var_files: ['common.tfvars', 'prod.tfvars'] }));
    expect(deployed.artifacts.var_files).toEqual([
      { name: 'common.tfvars', content: 'tags = { team = "ops" }\n' },
      { name: 'prod.tfvars', content: 'replicas = 3\n' },
    ]);
    const rollback = await terraformExecutor.plan(tf({ var_files: ['common.tfvars', 'prod.tfvars'] }, { action: 'rollback', artifacts: deployed.artifacts }));
    const plan = rollback.commands.find((c) => c.label === 'terraform plan')!;
    const written = Object.entries(plan.files!);
    expect(written.map(([, content]) => content)).toEqual(['tags = { team = "ops" }\n', 'replicas = 3\n']);
    expect(plan.args.filter((a) => a.startsWith('-var-file='))).toEqual(written.map(([path]) => `-var-file=${path}`));
    expect(written.every(([path]) => !path.startsWith(dir))).toBe(true);
    await terraformExecutor.cleanup!(tf({}));
  });

  it('the plan file is in a private folder of its own, removed at the end', async () => {
    const i = tf({}, { recordId: 'web_prod_cleanup' });
    const planFile = planOf(i).args.find((a) => a.startsWith('-out='))!.slice(5);
    const folder = join(planFile, '..');
    expect(existsSync(folder)).toBe(true);
    await terraformExecutor.cleanup!(i);
    expect(existsSync(folder)).toBe(false);
  });

  it('a dry run on a workspace that is not there yet is not verified', async () => {
    const plan = await terraformExecutor.plan(tf({ workspace: 'qa' }, { dryRun: true, artifacts: { workspace_exists: false } }));
    expect(plan.unverified).toBe('could not plan: workspace qa does not exist yet');
    expect(plan.notes[0]).toMatch(/^dry run: could not plan: workspace qa does not exist yet/);
  });

  it('outputs for post_deploy hooks: TF_OUTPUT_<name>, JSON for lists and maps, sensitive ones left out', () => {
    expect(outputEnv({ url: { value: 'http://x' }, ports: { value: [80, 443] }, password: { value: 's3cr3t', sensitive: true } })).toEqual({ TF_OUTPUT_url: 'http://x', TF_OUTPUT_ports: '[80,443]' });
  });
});

describe('ansible', () => {
  const an = (config: Partial<AppConfig>, extra: Partial<PlanInput> = {}) => input({ type: 'ansible', playbook: '/srv/app/site.yml', ...config }, extra);
  const args = (i: PlanInput) => planAnsibleDeploy(i)[0]!.args;

  it.each([
    ['an inline inventory, as written', { inventory: 'web1,web2,' }, ['-i', 'web1,web2,', '/srv/app/site.yml', '-e', 'version=1.4.2']],
    ['a list of inventories, paths relative to path', { inventory: ['hosts.yml', 'localhost,'] }, ['-i', '/srv/app/hosts.yml', '-i', 'localhost,', '/srv/app/site.yml', '-e', 'version=1.4.2']],
    ['the version variable named', { version_var: 'dotfiles_repo_version' }, ['/srv/app/site.yml', '-e', 'dotfiles_repo_version=1.4.2']],
    ['no version variable', { version_var: false }, ['/srv/app/site.yml']],
    ['extra vars files', { extra_vars: ['vars/common.yml', '/etc/app.yml'] }, ['/srv/app/site.yml', '-e', 'version=1.4.2', '-e', '@/srv/app/vars/common.yml', '-e', '@/etc/app.yml']],
    [
      'limit, tags and skip_tags as lists, become, verbosity, diff',
      { limit: ['web1', 'web2'], tags: ['deploy'], skip_tags: 'slow', become: true, become_user: 'app', verbosity: 2, diff: true },
      ['/srv/app/site.yml', '-e', 'version=1.4.2', '--limit', 'web1,web2', '--tags', 'deploy', '--skip-tags', 'slow', '--become', '--become-user', 'app', '-vv', '--diff'],
    ],
  ])('%s', (_name, config, expected) => {
    expect(args(an(config))).toEqual(expected);
  });

  it('extra_vars as a map go through a private file, never the command line', () => {
    const [command] = planAnsibleDeploy(an({ extra_vars: { db_password: 's3cr3t', ports: [80] } }));
    const [path, content] = Object.entries(command!.files!)[0]!;
    expect(command!.args.slice(-2)).toEqual(['-e', `@${path}`]);
    expect(JSON.parse(content)).toEqual({ db_password: 's3cr3t', ports: [80] });
    expect(command!.args.join(' ')).not.toContain('s3cr3t');
  });

  it('a rollback runs the whole playbook: limit, tags and skip_tags narrowed one run', async () => {
    const plan = await ansibleExecutor.plan(an({ limit: 'web1', tags: 'deploy', skip_tags: 'slow', become: true }, { action: 'rollback' }));
    expect(plan.commands[0]!.args).toEqual(['/srv/app/site.yml', '-e', 'version=1.4.2', '--become']);
    expect(plan.notes).toEqual(['limit, tags, skip_tags narrowed the deploy; this rollback runs the whole playbook']);
  });

  it('check: true is a check run, not a deploy', async () => {
    expect(ansibleExecutor.checkOnly!(an({ check: true }).config)).toBe(true);
    expect(ansibleExecutor.checkOnly!(an({}).config)).toBe(false);
    expect(args(an({ check: true }, { dryRun: true })).slice(-2)).toEqual(['--check', '--diff']);
  });

  it.each([
    ['a play that matched no host fails', '[WARNING]: Could not match supplied host pattern, ignoring: webservers\n\nPLAY [webservers] ***\nskipping: no hosts matched\n\nPLAY RECAP *********************************************************************\n\n', false, 'the playbook ran on no host (Could not match supplied host pattern, ignoring: webservers): check inventory and limit, and the hosts: of its plays'],
    ['an empty inventory fails', '[WARNING]: provided hosts list is empty, only localhost is available\n\nPLAY RECAP ***\n', false, 'the playbook ran on no host (provided hosts list is empty, only localhost is available): check inventory and limit, and the hosts: of its plays'],
    ['hosts that ran pass', 'PLAY RECAP ***\nlocalhost : ok=3 changed=1 unreachable=0 failed=0\n', true, '1 host(s) ok'],
  ])('%s', async (_name, output, ok, message) => {
    expect(await ansibleExecutor.verify!(an({}), { run: async () => result(''), stopAll: async () => {} }, [result(output)])).toEqual({ ok, message });
  });
});

describe('kubernetes', () => {
  const values = { app: 'guestbook', env: 'prod', version: '1.4.2', replicas: '3' };

  it.each([
    ['deployctl\'s names filled in', 'image: gb-frontend:${version}\nname: ${app}-${env}\n', 'image: gb-frontend:1.4.2\nname: guestbook-prod\n'],
    ['a whole ${replicas} stays a number', 'replicas: ${replicas}\n', 'replicas: 3\n'],
    ['a shell default that is not one of its names left as written', 'command: ["sh", "-c", "echo ${POD_NAME:-unknown}"]\nhost: ${HOSTNAME}\n', 'command: ["sh", "-c", "echo ${POD_NAME:-unknown}"]\nhost: ${HOSTNAME}\n'],
    ['$${x} is a literal ${x}', 'a: $${version}\n', 'a: "${version}"\n'],
    ['comments are left as they are', '# built from ${version}\na: 1\n', '# built from ${version}\na: 1\n'],
    ['double-quoted strings stay strings', 'a: "v${version}"\n', 'a: "v1.4.2"\n'],
  ])('%s', (_name, text, expected) => {
    expect(fillManifest(text, values, 'x.yaml')).toBe(expected);
  });

  it.each([
    ['a line break', 'x\nevil: true'],
    ['": " and "#"', 'x: y # z'],
    ['a flow mapping', '{evil: true}'],
    ['a leading quote', '"x'],
  ])('a value with %s cannot change the YAML structure', (_name, value) => {
    const text = 'metadata:\n  name: web\n  labels:\n    release: ${release}\n    other: v-${release}\n';
    const out = fillManifest(text, { release: value }, 'x.yaml');
    expect(parse(out)).toEqual({ metadata: { name: 'web', labels: { release: value, other: `v-${value}` } } });
  });

  it('refuses a line break in a value filled into a block scalar', () => {
    expect(() => fillManifest('script: |\n  echo ${release}\n', { release: 'a\nb' }, 'x.yaml')).toThrow(/has a line break/);
    expect(fillManifest('script: |\n  echo ${release}\n', { release: 'a b' }, 'x.yaml')).toBe('script: |\n  echo a b\n');
  });

  it('interpolate: false applies the manifests as written, and notes what it left as written otherwise', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'web.yaml'), 'kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: "${version}"\n  pod: "${POD_NAME:-unknown}"\n');
    expect(renderManifests(input({ type: 'kubernetes', manifests: dir, interpolate: false }))).toBe('kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: "${version}"\n  pod: "${POD_NAME:-unknown}"\n');
    const plan = await kubernetesExecutor.plan(input({ type: 'kubernetes', manifests: dir }));
    expect(plan.artifacts.manifests).toContain('v: "1.4.2"');
    expect(plan.notes).toEqual(["left as written (not deployctl's names: app, env, version, namespace, variables): ${POD_NAME:-unknown}"]);
  });

  it('a dry run shows the rendered manifests, and diffs them against the cluster first (read-only, its exit code informational)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'web.yaml'), 'kind: Deployment\nmetadata:\n  name: web\nspec:\n  image: web:${version}\n');
    const plan = await kubernetesExecutor.plan(input({ type: 'kubernetes', manifests: dir, namespace: 'shop' }, { dryRun: true }));
    expect(plan.preview).toBe('rendered manifests:\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  image: web:1.4.2\n');
    expect(plan.commands[0]).toMatchObject({ args: ['-n', 'shop', 'diff', '-f', '-'], mutates: false, informational: true, input: plan.artifacts.manifests });
    expect((await kubernetesExecutor.plan(input({ type: 'kubernetes', manifests: dir }))).commands.map((c) => c.args[0])).toEqual(['apply', 'rollout']);
  });

  it('a missing manifests path is a config error before anything runs; a rollback of stored manifests needs none', () => {
    const config = input({ type: 'kubernetes', manifests: '/nonexistent/k8s' }).config;
    expect(() => kubernetesExecutor.preflight!(config)).toThrow(ConfigError);
    expect(() => kubernetesExecutor.preflight!(config)).toThrow('manifests: /nonexistent/k8s does not exist');
    expect(() => kubernetesExecutor.preflight!(config, { manifests: 'kind: x\n' })).not.toThrow();
  });

  it('the guestbook: every document still parses, with the frontend image at the version', () => {
    const rendered = renderManifests(input({ type: 'kubernetes', manifests: join(__dirname, '../fixtures/realworld/guestbook') }));
    const docs = parseAllDocuments(rendered).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Deployment', 'Deployment', 'Service', 'Service', 'Service']);
    expect(rendered).toContain('image: gcr.io/google-samples/gb-frontend:1.4.2');
  });
});

describe('docker', () => {
  it('build.target builds that stage of a multi-stage Dockerfile (--target), as compose\'s build.target does', () => {
    const [build] = planDockerDeploy(input({ type: 'docker', build: { context: '/srv/app/app', dockerfile: '/srv/app/app/Dockerfile', target: 'builder' } }, { artifacts: { container_exists: false } }));
    expect(build!.args).toEqual(['build', '-t', 'web:1.4.2', '-f', '/srv/app/app/Dockerfile', '--target', 'builder', '/srv/app/app']);
  });
});

describe('docker compose', () => {
  const plugin = { docker: 'docker' };

  it.each([
    ['compose.yaml first', ['compose.yaml', 'docker-compose.yml'], ['compose.yaml']],
    ['compose.yml', ['compose.yml', 'docker-compose.yaml'], ['compose.yml']],
    ['docker-compose.yaml before docker-compose.yml', ['docker-compose.yaml', 'docker-compose.yml'], ['docker-compose.yaml']],
    ['with its override file', ['compose.yaml', 'compose.override.yaml'], ['compose.yaml', 'compose.override.yaml']],
    ['none', [], []],
  ])('finds the compose file as compose does: %s', (_name, present, expected) => {
    const dir = tempDir();
    for (const f of present) writeFileSync(join(dir, f), 'services: {}\n');
    expect(composeFiles(input({ type: 'docker-compose', path: dir }).config)).toEqual(expected.map((f) => join(dir, f)));
  });

  it('compose_file a list, env_file a list, profiles', () => {
    const [up] = planComposeDeploy(input({ type: 'docker-compose', compose_file: ['compose.yaml', 'ci/override.yaml'], env_file: ['.env', 'prod.env'], profiles: ['web', 'debug'] }, { tools: plugin }));
    expect(up!.args).toEqual([
      'compose', '-f', '/srv/app/compose.yaml', '-f', '/srv/app/ci/override.yaml', '-p', 'web-prod',
      '--env-file', '/srv/app/.env', '--env-file', '/srv/app/prod.env', '--profile', 'web', '--profile', 'debug',
      'up', '-d', '--remove-orphans', '--wait', '--build',
    ]);
  });

  it('a missing env file is named as env_file, whatever its name (env/common, not only *.env)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    const config = input({ type: 'docker-compose', path: dir, env_file: ['env/common'] }).config;
    let thrown: unknown;
    try {
      dockerComposeExecutor.preflight!(config);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([{ path: 'env_file', message: `${join(dir, 'env/common')} does not exist` }]);
  });

  it('prepare reads the project as compose resolves it (config --format json), read-only', async () => {
    const calls: string[][] = [];
    const runner = { run: async (c: { args: string[]; mutates: boolean }) => (calls.push([...c.args, String(c.mutates)]), result('{"services":{"web":{"build":{"context":"/srv/app/app"},"volumes":[{"type":"bind","source":"/srv/app/app","target":"/app"}]}}}')), stopAll: async () => {} };
    const prepared = await dockerComposeExecutor.prepare!(input({ type: 'docker-compose', compose_file: 'compose.yaml' }, { tools: plugin }), runner as never);
    expect(calls).toEqual([['compose', '-f', '/srv/app/compose.yaml', '-p', 'web-prod', 'config', '--format', 'json', 'false']]);
    expect(prepared).toEqual({ ok: true, artifacts: { resolved: { web: { build: true, binds: ['/srv/app/app:/app'] } } }, message: 'compose project web-prod: web' });
  });

  it('a built service without an image is tagged <project>-<service>:<version> through an override, and the record keeps that image', async () => {
    const resolved = readResolvedProject('{"services":{"web":{"build":{"context":"."}},"redis":{"image":"redis:7"}}}');
    const plan = await dockerComposeExecutor.plan(input({ type: 'docker-compose', compose_file: 'compose.yaml' }, { tools: plugin, artifacts: { resolved } }));
    const [up] = plan.commands;
    const [path, content] = Object.entries(up!.files!)[0]!;
    expect(up!.args.slice(0, 7)).toEqual(['compose', '-f', '/srv/app/compose.yaml', '-f', path, '-p', 'web-prod']);
    expect(JSON.parse(content)).toEqual({ services: { web: { image: 'web-prod-web:1.4.2' } } });
    expect(plan.artifacts.images).toEqual({ web: 'web-prod-web:1.4.2', redis: 'redis:7' });
    expect(plan.notes).toEqual(['built without an image name, tagged with the version: web-prod-web:1.4.2']);
  });

  it('warns at deploy time what a rollback cannot restore: bind-mounted source, images without a version', async () => {
    const resolved = readResolvedProject('services:\n  web:\n    image: shop:latest\n    volumes: ["./app:/app", "data:/data"]\n  proxy:\n    image: nginx\n  db:\n    image: postgres:16\n');
    const plan = await dockerComposeExecutor.plan(input({ type: 'docker-compose', compose_file: 'compose.yaml' }, { tools: plugin, artifacts: { resolved } }));
    expect(plan.notes).toEqual([]);
    expect(plan.warnings).toEqual([
      'web: a rollback cannot restore image shop:latest: its tag has no version, so a rollback runs whatever shop:latest is then (put ${DEPLOY_VERSION} in its tag)',
      'web: a rollback cannot restore what it bind-mounts from the host (./app:/app): those files stay as they are',
      'proxy: a rollback cannot restore image nginx: its tag has no version, so a rollback runs whatever nginx is then (put ${DEPLOY_VERSION} in its tag)',
    ]);
    // A rollback pins the stored images: nothing to warn about.
    const back = await dockerComposeExecutor.plan(input({ type: 'docker-compose', compose_file: 'compose.yaml' }, { tools: plugin, action: 'rollback', artifacts: { resolved, images: { web: 'shop:latest' } } }));
    expect(back.warnings).toBeUndefined();
  });

  it('a dry run checks the files with config -q (read-only) and shows the services and images', async () => {
    const resolved = readResolvedProject('{"services":{"web":{"build":{"context":"."}},"redis":{"image":"redis:7"}}}');
    const plan = await dockerComposeExecutor.plan(input({ type: 'docker-compose', compose_file: 'compose.yaml' }, { tools: plugin, dryRun: true, artifacts: { resolved } }));
    expect(plan.commands.map((c) => [c.args.slice(-2).join(' '), c.mutates])).toEqual([['config -q', false], ['--wait --build', true]]);
    expect(plan.preview).toBe('compose services:\n  web: web-prod-web:1.4.2 (built)\n  redis: redis:7');
  });

  it("keeps the env files' content in the record, and a rollback runs with that content (written for each command alone), not today's files", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'env'));
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    writeFileSync(join(dir, 'env', 'common'), 'A=1\n');
    writeFileSync(join(dir, '.env'), 'B=2\n');
    const config = { type: 'docker-compose' as const, path: dir, env_file: ['env/common', '.env'] };
    const resolved = readResolvedProject('{"services":{"web":{"image":"shop:1"}}}');
    const deployed = await dockerComposeExecutor.plan(input(config, { tools: plugin, artifacts: { resolved } }));
    expect(deployed.artifacts.env_files).toEqual([{ path: 'env/common', content: 'A=1\n' }, { path: '.env', content: 'B=2\n' }]);
    expect(deployed.commands[0]!.args).toContain(join(dir, 'env/common'));

    writeFileSync(join(dir, 'env', 'common'), 'A=2\n');
    const stored = { env_files: deployed.artifacts.env_files, images: deployed.artifacts.images, resolved };
    const back = await dockerComposeExecutor.plan(input(config, { tools: plugin, action: 'rollback', recordId: 'web_prod_2', artifacts: stored }));
    const [up] = back.commands;
    const envArgs = up!.args.flatMap((a, i) => (up!.args[i - 1] === '--env-file' ? [a] : []));
    expect(envArgs.map((f) => f.replace(/^.*\//, ''))).toEqual(['env-1-common', 'env-2-.env']);
    expect(envArgs.map((f) => up!.files![f])).toEqual(['A=1\n', 'B=2\n']);
    // Each file in the private folder of the run (made by the runner, removed after the command), never in the project.
    expect(envArgs.every((f) => f.startsWith(join(tmpdir(), 'deployctl-web_prod_2-')))).toBe(true);
    expect(back.notes).toContain('running with the env files stored in the record: env/common, .env');
    expect(back.artifacts.env_files).toEqual(deployed.artifacts.env_files);
    // A rollback does not need today's env files; a destroy downs with the stored ones too.
    rmSync(join(dir, 'env'), { recursive: true });
    expect(() => dockerComposeExecutor.preflight!(config as never, stored)).not.toThrow();
    expect(() => dockerComposeExecutor.preflight!(config as never)).toThrow(`${join(dir, 'env/common')} does not exist`);
    const [down] = planComposeDestroy(input(config, { tools: plugin, action: 'destroy', artifacts: stored }));
    expect(down!.args.slice(-2)).toEqual(['down', '--remove-orphans']);
    expect(Object.values(down!.files!)).toEqual(['A=1\n', 'B=2\n']);
  });

  it('a record from before env files were kept: its rollback reads today\'s env files, as it did', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), 'A=today\n');
    const resolved = readResolvedProject('{"services":{"web":{"image":"shop:1"}}}');
    const back = await dockerComposeExecutor.plan(input({ type: 'docker-compose', path: dir, compose_file: 'compose.yaml', env_file: '.env' }, { tools: plugin, action: 'rollback', artifacts: { resolved, images: { web: 'shop:1' } } }));
    const [up] = back.commands;
    expect(up!.args.slice(up!.args.indexOf('--env-file'), up!.args.indexOf('--env-file') + 2)).toEqual(['--env-file', join(dir, '.env')]);
    expect(Object.keys(up!.files!).every((f) => f.endsWith('pinned-images.yml'))).toBe(true);
    // The rollback's own record keeps what it ran with.
    expect(back.artifacts.env_files).toEqual([{ path: '.env', content: 'A=today\n' }]);
  });

  it.each([
    ['a literal secret', 'DB_PASSWORD=hunter22\n', 'DB_PASSWORD=***\n', ['DB_PASSWORD']],
    ['quoted, with export', 'export API_TOKEN="abc def"\n', 'export API_TOKEN=***\n', ['API_TOKEN']],
    ['a reference stays as written', 'DB_PASSWORD=${PROD_DB_PASSWORD}\nSECRET_KEY=$OTHER\n', 'DB_PASSWORD=${PROD_DB_PASSWORD}\nSECRET_KEY=$OTHER\n', []],
    ['other names and comments as they are', '# PASSWORD=x\nPORT=8080\nEMPTY_TOKEN=\n', '# PASSWORD=x\nPORT=8080\nEMPTY_TOKEN=\n', []],
    [
      'a name is a secret by its words, not by the letters in them',
      'MONKEY_COUNT=12\nKEYBOARD_LAYOUT=dvorak\nTOKENIZER_MODEL=bpe-large\napiKey=k-123456\nSTRIPE_SECRET=sk-1\n',
      'MONKEY_COUNT=12\nKEYBOARD_LAYOUT=dvorak\nTOKENIZER_MODEL=bpe-large\napiKey=***\nSTRIPE_SECRET=***\n',
      ['apiKey', 'STRIPE_SECRET'],
    ],
  ])('an env file as the record keeps it: %s', (_name, text, content, masked) => {
    expect(maskEnvFile(text)).toEqual({ content, masked });
  });

  it("a secret kept as *** is taken from today's env file on a rollback; one no longer there is left to the environment, with a warning", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    writeFileSync(join(dir, 'app.env'), 'VERSION_NOTE=old\nMONKEY_COUNT=12\nDB_PASSWORD=first-pass\nAPI_TOKEN=tok-123456\n');
    const config = { type: 'docker-compose' as const, path: dir, env_file: 'app.env' };
    const resolved = readResolvedProject('{"services":{"web":{"image":"shop:1"}}}');
    const deployed = await dockerComposeExecutor.plan(input(config, { tools: plugin, artifacts: { resolved } }));
    expect(deployed.artifacts.env_files).toEqual([{ path: 'app.env', content: 'VERSION_NOTE=old\nMONKEY_COUNT=12\nDB_PASSWORD=***\nAPI_TOKEN=***\n', masked: ['DB_PASSWORD', 'API_TOKEN'] }]);
    writeFileSync(join(dir, 'app.env'), 'VERSION_NOTE=new\nMONKEY_COUNT=13\nDB_PASSWORD=rotated-pass\n');
    const back = await dockerComposeExecutor.plan(input(config, { tools: plugin, action: 'rollback', artifacts: { resolved, images: { web: 'shop:1' }, env_files: deployed.artifacts.env_files } }));
    // MONKEY_COUNT is no secret (its words are monkey and count): the rollback runs with its own value.
    expect(Object.values(back.commands[0]!.files!).filter((c) => c.includes('VERSION_NOTE'))).toEqual(['VERSION_NOTE=old\nMONKEY_COUNT=12\nDB_PASSWORD=rotated-pass\n']);
    expect(back.warnings).toEqual(["env_file app.env: API_TOKEN (kept as *** in the record, as a secret) is not in today's app.env: compose takes it from the environment, or its default"]);
  });

  it('no compose file in path is a config error before anything runs', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'app'));
    expect(() => dockerComposeExecutor.preflight!(input({ type: 'docker-compose', path: dir }).config)).toThrow(
      `${dir} has none of compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml`,
    );
  });
});
