// Each executor type owns its settings: a key of another type is an error at its line, and the files
// and folders a type names are resolved and checked when the app is resolved, by every command.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveApp, validateConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { EXECUTOR_SETTINGS } from '../../src/executors/settings/index.js';
import { tempDir } from '../support/cli.js';

function configDir(deployments: string, files: Record<string, string> = {}): string {
  const dir = tempDir('deployctl-settings-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith('/')) mkdirSync(join(dir, name), { recursive: true });
    else {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  }
  return dir;
}

async function problemsOf(dir: string): Promise<string[]> {
  const { problems } = await validateConfig(dir, {});
  return problems.map((p) => formatProblem({ ...p, file: p.file?.replace(/^.*\//, '') }));
}

describe('the app schema is discriminated by type', () => {
  it('refuses a shell app with playbook: and image: at their lines, naming the type and its keys', async () => {
    const dir = configDir('deployments:\n  web:\n    type: shell\n    commands: [[echo, hi]]\n    playbook: site.yml\n    image: nginx\n');
    expect(await problemsOf(dir)).toEqual([
      'deployments.yaml:5:5 deployments.web.playbook: "playbook" is a setting of ansible apps, not of a shell app: a shell app takes commands, destroy_commands, besides the settings every app has (path, variables, hooks, health_check, ...)',
      'deployments.yaml:6:5 deployments.web.image: "image" is a setting of docker apps, not of a shell app: a shell app takes commands, destroy_commands, besides the settings every app has (path, variables, hooks, health_check, ...)',
    ]);
  });

  it('checks an app\'s per-environment override against its type too', async () => {
    const dir = configDir('deployments:\n  web:\n    type: terraform\n    environments:\n      dev:\n        namespace: x\n        workspace: dev\n');
    expect(await problemsOf(dir)).toEqual([
      'deployments.yaml:6:9 deployments.web.environments.dev.namespace: "namespace" is a setting of kubernetes apps, not of a terraform app: a terraform app takes var_file, var_files, vars, version_var, targets, backend_config, lock_timeout, auto_approve, workspace, besides the settings every app has (path, variables, hooks, health_check, ...)',
    ]);
  });

  it('takes any type\'s key in defaults:, which every app starts from', async () => {
    const dir = configDir('defaults:\n  namespace: shared\ndeployments:\n  web:\n    type: shell\n    commands: [[echo]]\n');
    expect(await problemsOf(dir)).toEqual([]);
  });

  it('builds the shipped schema from each type\'s own fragment', async () => {
    const { schemas } = (await import('../../scripts/write-schemas.mjs')) as unknown as { schemas: { deployments: { definitions: Record<string, { properties: Record<string, unknown> }> } } };
    for (const [type, settings] of Object.entries(EXECUTOR_SETTINGS)) {
      const props = schemas.deployments.definitions[`app.${type}`]!.properties;
      for (const key of Object.keys(settings.schema)) expect(props[key]).toEqual({ $ref: `#/definitions/${type}.${key}` });
    }
  });
});

describe('each type resolves and checks its own paths', () => {
  it.each([
    ['a path: that is missing', 'type: shell\n    path: nowhere\n    commands: [[echo]]', {}, 'deployments.yaml:4:11 deployments.web.path: DIR/nowhere does not exist: fix path: (relative to deployments.yaml)'],
    ['a path: that is a file', 'type: shell\n    path: app.txt\n    commands: [[echo]]', { 'app.txt': 'x' }, 'deployments.yaml:4:11 deployments.web.path: DIR/app.txt is a file, not a folder: fix path: (relative to deployments.yaml)'],
    ['missing manifests', 'type: kubernetes\n    manifests: k8s', {}, 'deployments.yaml:4:16 deployments.web.manifests: DIR/k8s does not exist: fix manifests: (relative to deployments.yaml)'],
    ['a kustomize: that is a file', 'type: kubernetes\n    kustomize: k.yaml', { 'k.yaml': 'x' }, 'deployments.yaml:4:16 deployments.web.kustomize: DIR/k.yaml is a file, not a folder: fix kustomize: (relative to deployments.yaml)'],
    ['a missing var file', 'type: terraform\n    path: infra\n    var_file: prod.tfvars', { 'infra/': '' }, "deployments.yaml:5:15 deployments.web.var_file: DIR/infra/prod.tfvars does not exist: fix var_file: (relative to the app's path:)"],
    ['a missing playbook', 'type: ansible\n    playbook: site.yml', {}, "deployments.yaml:4:15 deployments.web.playbook: DIR/site.yml does not exist: fix playbook: (relative to the app's path:)"],
    ['a playbook that is a folder', 'type: ansible\n    playbook: site', { 'site/': '' }, "deployments.yaml:4:15 deployments.web.playbook: DIR/site is a folder, not a file: fix playbook: (relative to the app's path:)"],
    ['a missing inventory', 'type: ansible\n    playbook: site.yml\n    inventory: hosts', { 'site.yml': '[]' }, 'deployments.yaml:5:16 deployments.web.inventory: DIR/hosts does not exist: fix inventory:'],
    ['a missing compose file', 'type: docker-compose\n    compose_file: compose.yaml', {}, "deployments.yaml:4:19 deployments.web.compose_file: DIR/compose.yaml does not exist: fix compose_file: (relative to the app's path:)"],
    ['no docker-compose.yml in path', 'type: docker-compose', {}, 'deployments.yaml:3:5 deployments.web.compose_file: DIR/compose.yaml (or compose.yml, docker-compose.yaml, docker-compose.yml) does not exist: create it, or set compose_file:'],
    ['a missing build context', 'type: docker\n    build: { context: ctx }', {}, 'deployments.yaml:4:23 deployments.web.build.context: DIR/ctx does not exist: fix build.context:'],
  ])('refuses %s, at its line', async (_what, app, files, expected) => {
    const dir = configDir(`deployments:\n  web:\n    ${app}\n`, files);
    expect((await problemsOf(dir)).map((p) => p.replaceAll(dir, 'DIR'))).toEqual([expected]);
  });

  it('takes an inventory that is a host list, and checks paths in resolveApp, which every command calls', async () => {
    const dir = configDir('deployments:\n  web:\n    type: ansible\n    playbook: site.yml\n    inventory: "localhost,"\n  api:\n    type: shell\n    path: gone\n    commands: [[echo]]\n', { 'site.yml': '[]' });
    const loaded = await loadConfig({ configDir: dir, env: {} });
    expect((await resolveApp(loaded, 'web', 'dev', { version: '1' })).config).toMatchObject({ inventory: 'localhost,', playbook: join(dir, 'site.yml') });
    await expect(resolveApp(loaded, 'api', 'dev', { version: '1' })).rejects.toThrow(ConfigError);
    await expect(resolveApp(loaded, 'api', 'dev', { version: '1' })).rejects.toThrow(/deployments\.yaml:8:11 deployments\.api\.path: .*gone does not exist/);
  });
});

describe('YAML as compose users write it, and version:', () => {
  it('supports anchors, merge keys and x- keys for them', async () => {
    const dir = configDir('x-base: &base\n  type: shell\n  timeout: 5m\n  commands: [[echo, base]]\ndeployments:\n  web:\n    <<: *base\n    commands: [[echo, web]]\n');
    expect(await problemsOf(dir)).toEqual([]);
    const { config } = await resolveApp(await loadConfig({ configDir: dir, env: {} }), 'web', 'dev', { version: '1' });
    expect(config).toMatchObject({ type: 'shell', timeout: 300_000, commands: [['echo', 'web']] });
    expect(config).not.toHaveProperty('<<');
  });

  it('finds a duplicate key in a map of 40,000 keys, at its line', async () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `      V${i}: x`);
    const dir = configDir(`deployments:\n  web:\n    type: shell\n    commands: [[echo]]\n    variables:\n${keys.join('\n')}\n      V9: y\n`);
    await expect(loadConfig({ configDir: dir, env: {} })).rejects.toThrow(`deployments.yaml:${40_006}:7 deployments.web.variables.V9: invalid YAML: Map keys must be unique`);
  });

  it('checks version: at its line, also when --version is given', async () => {
    const bad = configDir('deployments:\n  web:\n    type: shell\n    version: "1.0; rm -rf /"\n    commands: [[echo]]\n');
    await expect(resolveApp(await loadConfig({ configDir: bad, env: {} }), 'web', 'dev', { version: '1', processEnv: {} })).rejects.toThrow(/deployments\.yaml:4:14 deployments\.web\.version: "1\.0; rm -rf \/" is not a version/);
    const fromCi = configDir('deployments:\n  web:\n    type: shell\n    version: "${CI_TAG:-dev}"\n    commands: [[echo]]\n');
    const loaded = await loadConfig({ configDir: fromCi, env: {} });
    expect((await resolveApp(loaded, 'web', 'dev', { version: '2.0.0', processEnv: {} })).version).toBe('2.0.0');
    expect((await resolveApp(loaded, 'web', 'dev', { processEnv: { CI_TAG: 'v3' } })).version).toBe('v3');
  });
});
