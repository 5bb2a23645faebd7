// The argv each executor plans, as tables: what deployctl would run, exactly.
import { probeTool } from '../../src/engine/runner.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types.js';
import type { PlanInput } from '../../src/executors/types.js';
import { planKubernetesDeploy, renderManifests, kubernetesExecutor } from '../../src/executors/kubernetes.js';
import { planTerraformDeploy, terraformExecutor } from '../../src/executors/terraform.js';
import { planAnsibleDeploy, parseRecap } from '../../src/executors/ansible.js';
import { dockerExecutor, planDockerDeploy, imageReference } from '../../src/executors/docker.js';
import { dockerComposeExecutor, planComposeDeploy, readResolvedProject } from '../../src/executors/docker-compose.js';
import type { Command, Runner, RunResult } from '../../src/executors/types.js';
import { ToolMissingError } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';
import { planInputOf } from '../support/fakes.js';

const input = (config: Partial<AppConfig>, extra: Partial<PlanInput> = {}) => planInputOf({ path: '/srv/my app', ...config }, extra);
const argv = (commands: Array<{ file: string; args: string[] }>) => commands.map((c) => [c.file, ...c.args]);

describe('kubernetes', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'k8s'));
  writeFileSync(join(dir, 'k8s', 'a-deploy.yaml'), 'kind: Deployment\nmetadata:\n  name: shop\nspec:\n  image: shop:${version}\n');
  writeFileSync(join(dir, 'k8s', 'b-svc.yaml'), 'kind: Service\nmetadata:\n  name: shop\n');
  writeFileSync(join(dir, 'k8s', 'c-sts.yml'), 'kind: StatefulSet\nmetadata:\n  name: db\n  namespace: data\n');
  writeFileSync(join(dir, 'k8s', 'README.md'), 'not a manifest');

  it('renders the folder in name order and plans apply, then rollout status per workload', () => {
    const i = input({ type: 'kubernetes', manifests: join(dir, 'k8s'), context: 'kind-prod', namespace: 'shop', timeout: 90_000 });
    const rendered = renderManifests(i);
    expect(rendered).toContain('image: shop:1.4.2');
    expect(rendered.indexOf('Deployment')).toBeLessThan(rendered.indexOf('Service'));
    const commands = planKubernetesDeploy(i, rendered);
    expect(argv(commands)).toEqual([
      ['kubectl', '--context', 'kind-prod', '-n', 'shop', 'apply', '-f', '-'],
      ['kubectl', '--context', 'kind-prod', '-n', 'shop', 'rollout', 'status', 'deployment/shop', '--timeout=90s'],
      ['kubectl', '--context', 'kind-prod', '-n', 'data', 'rollout', 'status', 'statefulset/db', '--timeout=90s'],
    ]);
    expect(commands[0]!.input).toBe(rendered);
  });

  it('re-applies stored manifests on rollback, not the files of today', async () => {
    const stored = 'kind: Deployment\nmetadata:\n  name: shop\nspec:\n  image: shop:1.0.0\n';
    const plan = await kubernetesExecutor.plan(input({ type: 'kubernetes', manifests: join(dir, 'k8s') }, { artifacts: { manifests: stored }, tools: { kubectl: '/opt/kubectl' } }));
    expect(plan.commands[0]).toMatchObject({ file: '/opt/kubectl', args: ['apply', '-f', '-'], input: stored });
    expect(plan.artifacts.manifests).toBe(stored);
  });

  it('waits for a DaemonSet too, with rollout_timeout when it is set (the step limit follows it)', () => {
    const rendered = 'kind: DaemonSet\nmetadata:\n  name: agent\n---\nkind: ConfigMap\nmetadata:\n  name: cfg\n';
    const commands = planKubernetesDeploy(input({ type: 'kubernetes', manifests: '/k', rollout_timeout: 300_000, timeout: 60_000 }), rendered);
    expect(argv(commands)).toEqual([
      ['kubectl', 'apply', '-f', '-'],
      ['kubectl', 'rollout', 'status', 'daemonset/agent', '--timeout=300s'],
    ]);
    expect(commands.map((c) => c.timeoutMs)).toEqual([60_000, 300_000]);
  });

  it('shows where a kustomize folder is rendered when it is not yet (a dry run without kubectl)', async () => {
    const plan = await kubernetesExecutor.plan(input({ type: 'kubernetes', kustomize: '/k/overlays/my prod', namespace: 'shop' }));
    expect(argv(plan.commands)).toEqual([
      ['kubectl', 'kustomize', '/k/overlays/my prod'],
      ['kubectl', '-n', 'shop', 'apply', '-f', '-'],
    ]);
    expect(plan.commands.map((c) => c.mutates)).toEqual([false, true]);
    expect(plan.notes).toEqual(['kustomize: kubectl kustomize renders /k/overlays/my prod first; the rendered text is applied and kept in the record']);
  });

  it('leaves a ${name} that is not one of its own as written (the process environment is never read)', () => {
    const other = tempDir();
    writeFileSync(join(other, 'x.yaml'), 'image: ${IMAGE_REPO}/shop\nhost: ${HOSTNAME}\n');
    expect(renderManifests(input({ type: 'kubernetes', manifests: join(other, 'x.yaml') }))).toBe('image: ${IMAGE_REPO}/shop\nhost: ${HOSTNAME}\n');
  });
});

describe('terraform', () => {
  const tf = tempDir();
  writeFileSync(join(tf, 'variables.tf'), 'variable "app_version" {}\nvariable "replicas" {}\n');
  it.each([
    [
      'seed 004 config: var file, version variable (declared), approval needed',
      { var_file: '/tf/terraform.tfvars.prod', auto_approve: false },
      ['-var-file=/tf/terraform.tfvars.prod'],
      { TF_VAR_app_version: '1.4.2' },
      true,
    ],
    ['no var file, renamed version variable, extra vars, auto approve', { version_var: 'release', vars: { replicas: 3 }, auto_approve: true }, [], { TF_VAR_release: '1.4.2', TF_VAR_replicas: '3' }, false],
  ])('%s: values through TF_VAR_, never on the command line', (_name, config, planVars, env, approval) => {
    const commands = planTerraformDeploy(input({ type: 'terraform', path: tf, ...config }));
    const plan = commands.find((c) => c.label === 'terraform plan')!;
    expect(argv(commands).map((a) => a.slice(0, 2))).toEqual([
      ['terraform', 'init'],
      ['terraform', 'plan'],
      ['terraform', 'show'],
      ['terraform', 'apply'],
    ]);
    expect(plan.args.slice(0, 3)).toEqual(['plan', '-input=false', '-no-color']);
    // A private folder of its own (mkdtemp), not a name another user could plant first.
    expect(plan.args[3]).toMatch(/^-out=.*\/deployctl-tf-[A-Za-z0-9]{6}\/deploy\.tfplan$/);
    expect(plan.args.slice(4)).toEqual(planVars);
    expect(commands.every((c) => !c.args.some((a) => a.includes('1.4.2')))).toBe(true);
    expect(commands.map((c) => c.mutates)).toEqual([false, false, false, true]);
    expect(commands[3]!.args).toEqual(['apply', '-input=false', '-no-color', plan.args[3]!.slice(5)]);
    expect(Boolean(commands[3]!.needsApproval)).toBe(approval);
    expect(plan.env).toMatchObject({ TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...env });
    expect(plan.cwd).toBe(tf);
  });

  it('selects the workspace first, creating it when it is not there', () => {
    const commands = planTerraformDeploy(input({ type: 'terraform', workspace: 'prod' }));
    expect(argv(commands)[1]).toEqual(['terraform', 'workspace', 'select', '-no-color', '-or-create', 'prod']);
    expect(commands.map((c) => c.mutates)).toEqual([false, true, false, false, true]);
    expect(commands.map((c) => c.env.TF_WORKSPACE)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  describe('a dry run with a workspace changes none', () => {
    const dryRun = (workspace_exists: boolean | undefined) => input({ type: 'terraform', workspace: 'prod' }, { dryRun: true, ...(workspace_exists === undefined ? {} : { artifacts: { workspace_exists } }) });
    it.each([
      ['there: plan reads it through TF_WORKSPACE, and nothing selects it', true, [false, true, false, false, true], 'dry run: terraform init and plan run (they change nothing; plan reads workspace prod through TF_WORKSPACE, without selecting it); apply is skipped'],
      ['not looked for (no terraform here: nothing runs)', undefined, [false, true, false, false, true], 'dry run: terraform init and plan run (they change nothing; plan reads workspace prod through TF_WORKSPACE, without selecting it); apply is skipped'],
      [
        'not there: planning it would create it, so only init runs',
        false,
        [false, true, true, true, true],
        'dry run: could not plan: workspace prod does not exist yet, and planning it would create it; only terraform init ran. A real deploy creates it (workspace select -or-create) and plans from its empty state',
      ],
    ])('%s', async (_name, exists, mutates, note) => {
      const plan = await terraformExecutor.plan(dryRun(exists));
      expect(plan.commands.map((c) => c.label)).toEqual(['terraform init', 'terraform workspace', 'terraform plan', 'terraform show', 'terraform apply']);
      // In a dry run, what mutates is shown and skipped.
      expect(plan.commands.map((c) => c.mutates)).toEqual(mutates);
      expect(plan.commands.map((c) => c.env.TF_WORKSPACE)).toEqual([undefined, undefined, 'prod', undefined, undefined]);
      expect(plan.notes[0]).toEqual(note);
      expect(plan.unverified).toBe(exists === false ? 'could not plan: workspace prod does not exist yet' : undefined);
    });

    const answering = (answers: Array<Partial<RunResult>>): Runner & { calls: Command[] } => {
      const calls: Command[] = [];
      return {
        calls,
        run: async (command) => {
          calls.push(command);
          return { exitCode: 0, output: '', stdout: '', durationMs: 1, timedOut: false, interrupted: false, ...answers[calls.length - 1] };
        },
        stopAll: async () => {},
      };
    };
    it.each([
      ['listed', '  default\n* prod\n', { ok: true, artifacts: { workspace_exists: true }, message: 'terraform workspace list: prod exists' }],
      ['not listed (another name that starts the same is not it)', '* default\n  production\n', { ok: true, artifacts: { workspace_exists: false }, message: 'terraform workspace list: prod does not exist' }],
    ])('prepare: init, then the workspace %s', async (_name, listed, expected) => {
      const runner = answering([{}, { stdout: listed }]);
      expect(await terraformExecutor.prepare!(dryRun(undefined), runner)).toEqual(expected);
      expect(runner.calls.map((c) => [...c.args, c.mutates])).toEqual([
        ['init', '-input=false', '-no-color', false],
        ['workspace', 'list', false],
      ]);
    });

    it('prepare: says why init failed; looks for nothing outside a dry run or without a workspace', async () => {
      expect(await terraformExecutor.prepare!(dryRun(undefined), answering([{ exitCode: 1, output: 'Error: Backend initialization required\n' }]))).toEqual({
        ok: false,
        message: 'terraform init failed: exit code 1 (Error: Backend initialization required)',
      });
      const runner = answering([]);
      expect(await terraformExecutor.prepare!(input({ type: 'terraform', workspace: 'prod' }), runner)).toBeUndefined();
      expect(await terraformExecutor.prepare!(input({ type: 'terraform' }, { dryRun: true }), runner)).toBeUndefined();
      expect(runner.calls).toEqual([]);
    });
  });
});

describe('ansible', () => {
  it.each([
    [
      'seed 004 config',
      { inventory: '/a/inventories/hosts.yml', playbook: '/a/playbooks/backup_config.yml', vault_password_file: '/a/vault/.prod_password' },
      false,
      ['ansible-playbook', '-i', '/a/inventories/hosts.yml', '/a/playbooks/backup_config.yml', '-e', 'version=1.4.2', '--vault-password-file', '/a/vault/.prod_password'],
    ],
    [
      'extra vars file, limit, tags, and a dry run with --check --diff',
      { playbook: 'site.yml', extra_vars_file: '/a/vars.yml', limit: 'web*', tags: 'deploy' },
      true,
      ['ansible-playbook', '/srv/my app/site.yml', '-e', 'version=1.4.2', '-e', '@/a/vars.yml', '--limit', 'web*', '--tags', 'deploy', '--check', '--diff'],
    ],
  ])('%s', (_name, config, dryRun, expected) => {
    const [command] = planAnsibleDeploy(input({ type: 'ansible', ...config }, { dryRun }));
    expect([command!.file, ...command!.args]).toEqual(expected);
    expect(command!.mutates).toBe(!dryRun);
  });

  it('reads the PLAY RECAP', () => {
    const output = 'PLAY RECAP *********\nlocalhost                  : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0\nweb1 : ok=1 changed=0 unreachable=1 failed=0\n';
    expect(parseRecap(output)).toEqual({
      localhost: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      web1: { ok: 1, changed: 0, unreachable: 1, failed: 0 },
    });
  });
});

describe('docker', () => {
  it('builds, then replaces the container; values reach it through the environment', () => {
    const commands = planDockerDeploy(
      input(
        { type: 'docker', path: '/apps/dash board', image: 'dash', build: { dockerfile: '/apps/dash board/Dockerfile', context: '/apps/dash board', args: { NODE_ENV: 'production' } }, ports: ['5001:5001'], env: { TOKEN: 's3cret' }, volumes: ['/data:/data:ro'], network: 'host' },
        { artifacts: { container_exists: true } },
      ),
    );
    expect(argv(commands)).toEqual([
      ['docker', 'build', '-t', 'dash:1.4.2', '-f', '/apps/dash board/Dockerfile', '--build-arg', 'NODE_ENV', '/apps/dash board'],
      ['docker', 'stop', '-t', '10', 'web-prod'],
      ['docker', 'rm', '-f', 'web-prod'],
      ['docker', 'run', '-d', '--name', 'web-prod', '--restart', 'unless-stopped', '--network', 'host', '-p', '5001:5001', '-e', 'TOKEN', '-e', 'DEPLOY_VERSION', '-v', '/data:/data:ro', '--label', 'deployctl.app=web', '--label', 'deployctl.env=prod', 'dash:1.4.2'],
    ]);
    expect(commands[3]!.env).toMatchObject({ TOKEN: 's3cret', NODE_ENV: 'production' });
    expect(JSON.stringify(argv(commands))).not.toContain('s3cret');
  });

  it('pulls when there is no build section (or build: false), and uses a digest as is; build: true builds the Dockerfile in path', () => {
    expect(argv(planDockerDeploy(input({ type: 'docker', image: 'ghcr.io/acme/api' })))[0]).toEqual(['docker', 'pull', 'ghcr.io/acme/api:1.4.2']);
    expect(argv(planDockerDeploy(input({ type: 'docker', image: 'ghcr.io/acme/api', build: false })))[0]).toEqual(['docker', 'pull', 'ghcr.io/acme/api:1.4.2']);
    expect(argv(planDockerDeploy(input({ type: 'docker', build: true })))[0]).toEqual(['docker', 'build', '-t', 'web:1.4.2', '/srv/my app']);
    expect(imageReference('api', `@sha256:${'a'.repeat(64)}`)).toBe(`api@sha256:${'a'.repeat(64)}`);
  });

  it.each([
    ['no container of that name yet: nothing to stop, rm -f only', { container_exists: false }, {}, [['docker', 'pull'], ['docker', 'rm'], ['docker', 'run']]],
    ['the old container is stopped within stop_timeout, then removed', { container_exists: true }, { stop_timeout: 25_000 }, [['docker', 'pull'], ['docker', 'stop', '-t', '25', 'web-prod'], ['docker', 'rm'], ['docker', 'run']]],
    ['not looked for (a dry run without docker): the stop is shown in case', undefined, {}, [['docker', 'pull'], ['docker', 'stop', '-t', '10', 'web-prod'], ['docker', 'rm'], ['docker', 'run']]],
  ])('%s', (_name, artifacts, config, expected) => {
    const commands = planDockerDeploy(input({ type: 'docker', image: 'api', timeout: 20_000, ...config }, { artifacts }));
    expect(argv(commands).map((a, i) => a.slice(0, expected[i]!.length))).toEqual(expected);
    // docker stop may take stop_timeout and some: its step limit follows.
    const stop = commands.find((c) => c.args[0] === 'stop');
    if (stop) expect(stop.timeoutMs).toBe(Math.max(20_000, (Number(stop.args[2]) + 30) * 1000));
  });

  describe('prepare: is there a container to stop', () => {
    const answering = (result: Partial<RunResult>): Runner & { calls: Command[] } => {
      const calls: Command[] = [];
      return {
        calls,
        run: async (command) => {
          calls.push(command);
          return { exitCode: 0, output: '', stdout: '', durationMs: 1, timedOut: false, interrupted: false, ...result };
        },
        stopAll: async () => {},
      };
    };
    it.each([
      ['one is there', { stdout: '3f1c2a9b\n' }, false, { ok: true, artifacts: { container_exists: true }, message: 'container my.app is there: it is stopped (docker stop -t 10) once the new image is ready' }],
      ['none yet', { stdout: '' }, false, { ok: true, artifacts: { container_exists: false }, message: 'no container my.app yet' }],
      ['docker cannot answer: a deploy stops, nothing changed', { exitCode: 1, output: 'Cannot connect to the Docker daemon\n' }, false, { ok: false, message: 'docker ps failed, nothing was changed: exit code 1 (last output: Cannot connect to the Docker daemon)' }],
      ['docker cannot answer in a dry run: the plan is shown anyway', { exitCode: 1, output: 'Cannot connect to the Docker daemon\n' }, true, { ok: true, artifacts: {}, message: 'could not look for container my.app: exit code 1 (last output: Cannot connect to the Docker daemon); the plan shows its stop in case it is there' }],
    ])('%s', async (_name, result, dryRun, expected) => {
      const runner = answering(result);
      expect(await dockerExecutor.prepare!(input({ type: 'docker', image: 'api', container_name: 'my.app' }, { dryRun }), runner)).toEqual(expected);
      // Read-only, and the exact name: the filter is a regular expression.
      expect(runner.calls.map((c) => [c.file, ...c.args, c.mutates])).toEqual([['docker', 'ps', '--all', '--quiet', '--filter', 'name=^my\\.app$', false]]);
    });
  });

  it('on a rollback, looks up the stored image it built (no build), before removing anything', () => {
    const commands = planDockerDeploy(input({ type: 'docker', image: 'dash', build: { context: '.' } }, { artifacts: { image: 'dash:1.0.0', container_exists: true } }));
    expect(argv(commands).map((a) => a.slice(0, 3))).toEqual([
      ['docker', 'image', 'inspect'],
      ['docker', 'stop', '-t'],
      ['docker', 'rm', '-f'],
      ['docker', 'run', '-d'],
    ]);
    expect(argv(commands)[0]).toEqual(['docker', 'image', 'inspect', '--format', '{{.Id}}', 'dash:1.0.0']);
    expect(argv(commands)[3]!.at(-1)).toBe('dash:1.0.0');
  });

  it('on a rollback, pulls the stored image it pulled before removing anything', () => {
    const commands = planDockerDeploy(input({ type: 'docker', image: 'ghcr.io/acme/api' }, { artifacts: { image: 'ghcr.io/acme/api:1.0.0', container_exists: true } }));
    expect(argv(commands).map((a) => a.slice(0, 3))).toEqual([
      ['docker', 'pull', 'ghcr.io/acme/api:1.0.0'],
      ['docker', 'stop', '-t'],
      ['docker', 'rm', '-f'],
      ['docker', 'run', '-d'],
    ]);
  });

  it('names the image after the app when there is a build section and no image, and takes the port shorthand', () => {
    const commands = planDockerDeploy(input({ type: 'docker', build: { dockerfile: '/srv/my app/Dockerfile', context: '/srv/my app' }, port: 5001, restart: 'always' }, { artifacts: { container_exists: false } }));
    expect(argv(commands)[0]).toEqual(['docker', 'build', '-t', 'web:1.4.2', '-f', '/srv/my app/Dockerfile', '/srv/my app']);
    expect(argv(commands)[2]!.slice(0, 9)).toEqual(['docker', 'run', '-d', '--name', 'web-prod', '--restart', 'always', '-p', '5001:5001']);
  });

  describe('verify with docker inspect', () => {
    const inspecting = (stdout: string): Runner => ({
      run: async () => ({ exitCode: 0, output: '', stdout, durationMs: 1, timedOut: false, interrupted: false }),
      stopAll: async () => {},
    });
    const found = (image: string, state: object) => JSON.stringify({ State: state, Image: image, ImageId: 'sha256:abc' });
    it.each([
      ['running the planned image', found('dash:1.4.2', { Running: true, Status: 'running' }), { ok: true, message: 'container web-prod runs dash:1.4.2', artifacts: { image_id: 'sha256:abc' } }],
      ['running another image', found('dash:1.0.0', { Running: true, Status: 'running' }), { ok: false, message: 'container web-prod runs dash:1.0.0, not dash:1.4.2' }],
      ['restarting', found('dash:1.4.2', { Running: true, Restarting: true, Status: 'restarting' }), { ok: false, message: 'container web-prod is restarting' }],
      ['exited', found('dash:1.4.2', { Running: false, Status: 'exited' }), { ok: false, message: 'container web-prod is exited' }],
      ['missing', '', { ok: false, message: 'container web-prod not found' }],
    ])('%s', async (_name, stdout, expected) => {
      expect(await dockerExecutor.verify!(input({ type: 'docker', image: 'dash' }), inspecting(stdout), [])).toEqual(expected);
    });
  });
});

describe('docker compose', () => {
  it('uses the compose plugin with --wait, and builds the services that have a build section', () => {
    const [up] = planComposeDeploy(input({ type: 'docker-compose', path: '/srv/go monitor', compose_file: '/srv/go monitor/docker-compose.yml', env_vars: { HOST: 'google.com' } }, { tools: { docker: 'docker' } }));
    expect([up!.file, ...up!.args]).toEqual(['docker', 'compose', '-f', '/srv/go monitor/docker-compose.yml', '-p', 'web-prod', 'up', '-d', '--remove-orphans', '--wait', '--build']);
    expect(up!.env).toMatchObject({ HOST: 'google.com', DEPLOY_VERSION: '1.4.2' });
    expect(up!.cwd).toBe('/srv/go monitor');
  });

  it('falls back to docker-compose v1, which has no --wait', () => {
    const [up] = planComposeDeploy(input({ type: 'docker-compose', project: 'mon', services: ['api'] }, { tools: { 'docker-compose': '/usr/bin/docker-compose' } }));
    // No compose file in path: compose's own discovery, which says what is missing (a deploy stops before, in preflight).
    expect([up!.file, ...up!.args]).toEqual(['/usr/bin/docker-compose', '-p', 'mon', 'up', '-d', '--remove-orphans', '--build', 'api']);
  });

  describe('build: and pull:', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  web: { image: "shop:${DEPLOY_VERSION}", build: . }\n  cache: { image: "redis:7" }\n  worker:\n');
    // What `compose config` printed in prepare.
    const resolved = readResolvedProject('services:\n  web: { image: "shop:1.4.2", build: { context: . } }\n  cache: { image: "redis:7" }\n  worker: { image: "worker:2" }\n');
    const plugin = { docker: 'docker' };
    const v1 = { 'docker-compose': 'docker-compose' };
    const up = ['up', '-d', '--remove-orphans'];
    it.each([
      ['the plugin, by default: --build (the image of a build section is built, not looked for in a registry)', plugin, {}, [[...up, '--wait', '--build']]],
      ['the plugin, build: false: compose builds only the images that are missing', plugin, { build: false }, [[...up, '--wait']]],
      ['the plugin, pull: always', plugin, { pull: 'always' }, [[...up, '--wait', '--build', '--pull', 'always']]],
      ['the plugin, pull: never, build: false', plugin, { pull: 'never', build: false }, [[...up, '--wait', '--pull', 'never']]],
      ['the plugin, pull: missing (compose\'s own default)', plugin, { pull: 'missing' }, [[...up, '--wait', '--build']]],
      ['v1, pull: always: pulls first the services it does not build', v1, { pull: 'always' }, [['pull', 'cache', 'worker'], [...up, '--build']]],
      ['v1, pull: always, build: false: pulls every service', v1, { pull: 'always', build: false }, [['pull', 'web', 'cache', 'worker'], [...up]]],
      ['v1, pull: always, of chosen services', v1, { pull: 'always', services: ['web', 'cache'] }, [['pull', 'cache'], [...up, '--build', 'web', 'cache']]],
      ['v1, pull: always, of services all built here: nothing to pull', v1, { pull: 'always', services: ['web'] }, [[...up, '--build', 'web']]],
    ])('%s', (_name, tools, config, expected) => {
      const commands = planComposeDeploy(input({ type: 'docker-compose', path: dir, ...config }, { tools, artifacts: { resolved } }));
      const prefix = [...('docker' in tools ? ['compose'] : []), '-f', `${dir}/docker-compose.yml`, '-p', 'web-prod'];
      expect(commands.map((c) => c.args)).toEqual(expected.map((args) => [...prefix, ...args]));
      expect(commands.map((c) => c.label)).toEqual(expected.map((args) => `${'docker' in tools ? 'docker compose' : 'docker-compose'} ${args[0]}`));
      expect(commands.every((c) => c.mutates && c.cwd === dir)).toBe(true);
    });

    it.each([
      ['the plugin', plugin, [['compose', '-f', `${dir}/docker-compose.yml`, '-f', 'PINS', '-p', 'web-prod', ...up, '--wait', '--no-build', '--pull', 'always']]],
      ['v1', v1, [['-f', `${dir}/docker-compose.yml`, '-f', 'PINS', '-p', 'web-prod', 'pull', 'cache', 'worker'], ['-f', `${dir}/docker-compose.yml`, '-f', 'PINS', '-p', 'web-prod', ...up, '--no-build']]],
    ])('a rollback with %s builds nothing, and pulls as configured', (_name, tools, expected) => {
      const commands = planComposeDeploy(input({ type: 'docker-compose', path: dir, pull: 'always' }, { tools, artifacts: { resolved, images: { web: 'shop:1.0.0', cache: 'redis:7' } } }));
      expect(commands.map((c) => c.args.map((a) => (a.endsWith('pinned-images.yml') ? 'PINS' : a)))).toEqual(expected);
      expect(commands.every((c) => c.files !== undefined)).toBe(true);
    });

    it('pull: never needs the plugin: docker-compose v1 would pull a missing image anyway', () => {
      const config = input({ type: 'docker-compose', pull: 'never' }).config;
      expect(() => dockerComposeExecutor.tools(config, { docker: '/nonexistent/docker' }, probeTool)).toThrow(
        new ToolMissingError('pull: never needs the docker compose plugin: docker-compose v1 pulls missing images itself', 'install the compose plugin (see `docker compose version`), or set pull: missing'),
      );
      expect(dockerComposeExecutor.tools({ ...config, pull: 'missing' }, { docker: '/nonexistent/docker' }, probeTool)).toEqual(['docker-compose']);
    });
  });

  it.each([
    ['the plugin', { docker: 'docker' }, ['docker', 'compose'], ['--wait']],
    ['docker-compose v1', { 'docker-compose': 'docker-compose' }, ['docker-compose'], []],
  ])('pins the images of the record on a rollback with %s, through an override file, for the services the compose file still has', async (_name, tools, cli, wait) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  web: { image: "shop:latest" }\n  worker: { build: . }\n');
    const stored = { images: { web: 'shop:1.0.0', worker: 'web-prod-worker', gone: 'old:1' }, resolved: readResolvedProject('{"services": {"web": {"image": "shop:latest"}, "worker": {"build": {"context": "."}}}}') };
    const plan = await dockerComposeExecutor.plan(input({ type: 'docker-compose', path: dir }, { tools, artifacts: stored }));
    const [up] = plan.commands;
    const override = join(tmpdir(), `deployctl-web_prod_1-${process.pid}`, 'pinned-images.yml');
    expect([up!.file, ...up!.args]).toEqual([...cli, '-f', `${dir}/docker-compose.yml`, '-f', override, '-p', 'web-prod', 'up', '-d', '--remove-orphans', ...wait, '--no-build']);
    // The runner writes it for the command (and removes it after): nothing on stdin.
    expect(Object.keys(up!.files!)).toEqual([override]);
    expect(JSON.parse(up!.files![override]!)).toEqual({ services: { web: { image: 'shop:1.0.0' }, worker: { image: 'web-prod-worker' } } });
    expect(up!.input).toBeUndefined();
    expect(plan.notes).toEqual(['pinning the images of the record: shop:1.0.0, web-prod-worker']);
  });

  it('looks for the compose plugin with the docker of tools.docker, and falls back to docker-compose without it', () => {
    const bin = tempDir();
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\n[ "$1 $2" = "compose version" ]\n', { mode: 0o755 });
    expect(dockerComposeExecutor.tools(input({}).config, { docker: join(bin, 'docker') }, probeTool)).toEqual(['docker']);
    expect(dockerComposeExecutor.tools(input({}).config, { docker: join(bin, 'nonexistent') }, probeTool)).toEqual(['docker-compose']);
  });

  describe('verify', () => {
    function answering(stdout: Record<string, string>): Runner & { calls: string[][]; commands: Command[] } {
      const calls: string[][] = [];
      const commands: Command[] = [];
      return {
        calls,
        commands,
        async run(command: Command) {
          calls.push(command.args);
          commands.push(command);
          const key = Object.keys(stdout).find((k) => command.args.join(' ').includes(k))!;
          return { exitCode: 0, output: '', stdout: stdout[key]!, durationMs: 1, timedOut: false, interrupted: false };
        },
        async stopAll() {},
      };
    }
    const ps = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

    it('v2: every service running (a one-shot that exited 0 counts as done), and the images kept', async () => {
      const runner = answering({
        ps: ps([
          { Service: 'web', State: 'running', Image: 'shop:1.4.2' },
          { Service: 'migrate', State: 'exited', ExitCode: 0, Image: 'shop-migrate:1.4.2' },
        ]),
      });
      const result = await dockerComposeExecutor.verify!(input({ type: 'docker-compose' }, { tools: { docker: 'docker' } }), runner, []);
      expect(runner.calls).toEqual([['compose', '-p', 'web-prod', 'ps', '--all', '--format', 'json']]);
      expect(result).toEqual({ ok: true, message: '2 service(s) running', artifacts: { services: ['web', 'migrate'], images: { web: 'shop:1.4.2', migrate: 'shop-migrate:1.4.2' } } });
    });

    it('v2: a crashed or restarting service fails the deploy', async () => {
      const runner = answering({
        ps: ps([
          { Service: 'web', State: 'restarting', Image: 'shop:1.4.2' },
          { Service: 'worker', State: 'exited', ExitCode: 1, Image: 'shop:1.4.2' },
          { Service: 'cache', State: 'running', Image: 'redis:7' },
        ]),
      });
      const result = await dockerComposeExecutor.verify!(input({ type: 'docker-compose' }, { tools: { docker: 'docker' } }), runner, []);
      expect(result.ok).toBe(false);
      expect(result.message).toBe('not running: web (restarting), worker (exited)');
    });

    it('v1: the services of the config against the running ones, images from the config', async () => {
      const runner = answering({
        'ps --services': 'web\n',
        config: 'services:\n  web:\n    image: shop:1.4.2\n  worker:\n    image: shop-worker:1.4.2\n',
      });
      const result = await dockerComposeExecutor.verify!(input({ type: 'docker-compose' }, { tools: { 'docker-compose': 'docker-compose' } }), runner, []);
      expect(runner.calls.map((a) => a.slice(2))).toEqual([['ps', '--services', '--filter', 'status=running'], ['config']]);
      expect(result).toMatchObject({ ok: false, message: 'not running: worker (not running)', artifacts: { images: { web: 'shop:1.4.2', worker: 'shop-worker:1.4.2' } } });
    });

    it('v1: on a rollback, reads the services through the same override as up, and keeps the pinned images', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  web: { image: "shop:latest" }\n');
      const rollback = input({ type: 'docker-compose', path: dir }, { tools: { 'docker-compose': 'docker-compose' }, artifacts: { images: { web: 'shop:1.0.0' } } });
      const [up] = (await dockerComposeExecutor.plan(rollback)).commands;
      const runner = answering({ 'ps --services': 'web\n', config: 'services:\n  web:\n    image: shop:1.0.0\n' });
      const result = await dockerComposeExecutor.verify!(rollback, runner, []);
      expect(runner.commands.map((c) => [c.args.slice(0, 4), c.files])).toEqual([
        [up!.args.slice(0, 4), up!.files],
        [up!.args.slice(0, 4), up!.files],
      ]);
      expect(result).toMatchObject({ ok: true, artifacts: { images: { web: 'shop:1.0.0' } } });
    });
  });
});
