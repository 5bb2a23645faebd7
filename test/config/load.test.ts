import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveApp, validateConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem, UsageError } from '../../src/errors.js';
import { repoRoot, tempDir } from '../support/cli.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/config', name);

async function problemsOf(dir: string): Promise<string[]> {
  try {
    await loadConfig({ configDir: dir });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => formatProblem({ ...p, file: p.file?.replace(/^.*\//, '') }));
    throw error;
  }
  return [];
}

function configDir(environments: string, deployments: string): string {
  const dir = tempDir('deployctl-config-');
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  return dir;
}

describe('loadConfig: every problem, with file, line, column and key path', () => {
  it('reads a valid config with environments in order', async () => {
    const loaded = await loadConfig({ configDir: fixture('valid') });
    expect(loaded.apps).toEqual(['web']);
    expect(loaded.environments.map((e) => [e.name, e.protected])).toEqual([
      ['dev', false],
      ['prod', true],
    ]);
  });

  it('reports malformed YAML at the bracket left open, with the key path around it', async () => {
    expect(await problemsOf(fixture('malformed'))).toEqual([
      'deployments.yaml:4:15 deployments.web.commands: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it.each([
    ['an unclosed quote', 'deployments:\n  web:\n    type: shell\n    health_check:\n      url: "http://x\n      retries: 2\n', 'deployments.yaml:5:12 deployments.web.health_check.url: invalid YAML: Missing closing "quote'],
    ['a misindented key', 'deployments:\n  web:\n    type: shell\n    health_check:\n      url: x\n     retries: 2\n', 'deployments.yaml:6:1 deployments.web.health_check.retries: invalid YAML: All mapping items must start at the same column'],
    ['a duplicate key', 'deployments:\n  web:\n    type: shell\n    type: docker\n', 'deployments.yaml:4:5 deployments.web.type: invalid YAML: Map keys must be unique'],
  ])('reports %s with its line, column and key path', async (_what, deployments, message) => {
    expect(await problemsOf(configDir('environments:\n  dev: {}\n', deployments))).toEqual([message]);
  });

  it('says a syntax error the parser reports twice at one place once: an unclosed quote inside a flow sequence', async () => {
    expect(await problemsOf(configDir('environments:\n  dev: {}\n', 'deployments:\n  a:\n    type: shell\n    commands: [[echo, "hi]]\n'))).toEqual([
      'deployments.yaml:4:23 deployments.a.commands: invalid YAML: Missing closing "quote',
      'deployments.yaml:4:23 deployments.a.commands: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('a deployments.yaml that is a folder is named as one, with the fix', async () => {
    const dir = tempDir('deployctl-config-');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    mkdirSync(join(dir, 'deployments.yaml'));
    expect(await problemsOf(dir)).toEqual([
      'deployments.yaml: is a folder, not a file: put the YAML file in its place, or pass --config-dir DIR naming the folder that holds it',
    ]);
  });

  it('reports wrong types and bad durations', async () => {
    expect(await problemsOf(fixture('wrong-type'))).toEqual([
      'deployments.yaml:8:16 deployments.web.health_check.retries: must be integer',
      'deployments.yaml:9:17 deployments.web.health_check.interval: must be a duration like 250ms, 5s, 1m30s or a number of seconds',
      'deployments.yaml:11:13 deployments.web.rollback.auto: must be boolean',
    ]);
  });

  it('reports unknown keys at the key, and unknown types', async () => {
    expect(await problemsOf(fixture('unknown-key'))).toEqual([
      'deployments.yaml:4:5 deployments.web.comands: unknown key "comands" for a shell app (did you mean "commands"?)',
      'deployments.yaml:6:5 deployments.web.helth_check: unknown key "helth_check" for a shell app (did you mean "health_check"?)',
      'deployments.yaml:8:11 deployments.api.type: must be one of: docker-compose, docker, kubernetes, terraform, ansible, shell',
    ]);
  });

  it('reports bad names and references to unknown environments', async () => {
    expect(await problemsOf(fixture('bad-names'))).toEqual([
      'environments.yaml:2:3 environments.Dev: invalid environment name "Dev": use lower-case letters, digits, ".", "_" and "-"',
      'environments.yaml:4:16 environments.prod.requires[0]: unknown environment "staging"',
      'environments.yaml:5:19 promotion[1]: unknown environment "qa"',
      'deployments.yaml:2:3 deployments.../x: invalid app name "../x": use lower-case letters, digits, ".", "_" and "-"',
      'deployments.yaml:9:7 deployments.web.environments.moon: unknown environment "moon" (environments.yaml defines: Dev, prod)',
    ]);
  });

  it('refuses two apps whose state files would share a name ("a_b" in "c" and "a" in "b_c")', async () => {
    expect(await problemsOf(fixture('clashing-names'))).toEqual([
      'deployments.yaml:5:3 deployments.a_b: app "a_b" in "c" and app "a" share the state file name "a_b_c": rename one of them so that "_" does not join them the same way',
    ]);
  });

  it('names the missing file and the way to point at the right folder', async () => {
    const problems = await problemsOf(tempDir());
    expect(problems[0]).toMatch(/environments\.yaml: file not found: .*--config-dir DIR/);
    expect(problems).toHaveLength(2);
  });
});

describe('resolveApp: merge, interpolation, secrets, versions', () => {
  it('merges defaults < environment < app < override < --set, maps deeply, lists replaced', async () => {
    const loaded = await loadConfig({ configDir: fixture('merge') });
    const { config, version } = await resolveApp(loaded, 'shop', 'dev', { version: '2.0.0', set: ['variables.EXTRA=cli', 'health_check.retries=9'], processEnv: {} });
    expect(version).toBe('2.0.0');
    expect(config.variables).toEqual({
      LAYER: 'override',
      ENV_ONLY: 'from-env',
      DEFAULT_ONLY: 'from-defaults',
      PORT: '8080',
      URL: 'http://127.0.0.1:8080/shop/dev/2.0.0',
      EXTRA: 'cli',
    });
    expect(config).toMatchObject({ context: 'kind-dev', namespace: 'ns-app', timeout: 60_000, rollout_timeout: 90_000 });
    expect(config.manifests).toBe(join(fixture('merge'), 'k8s'));
    expect(config.health_check).toEqual({ type: 'http', url: 'http://127.0.0.1:8080/shop/dev/2.0.0', expected_status: [200, 204], retries: 9, interval: 1000 });
    const prod = await resolveApp(loaded, 'shop', 'prod', { version: '2.0.0', processEnv: { PORT: '1' } });
    expect(prod.config).toMatchObject({ context: 'prod', namespace: 'ns-app', variables: { LAYER: 'app' } });
    expect(prod.config.health_check?.retries).toBe(3);
  });

  it('interpolates argv items but leaves shell strings to the shell', async () => {
    const loaded = await loadConfig({ configDir: fixture('valid') });
    const { config } = await resolveApp(loaded, 'web', 'dev', { processEnv: {} });
    expect(config.commands).toEqual([['echo', 'web dev 1.0.0 8080'], 'echo ${DEPLOY_VERSION} | tee out.txt']);
  });

  it('gives fallbacks, literal $${}, and names an undefined variable with its position', async () => {
    const dir = configDir(
      'environments:\n  dev: {}\n',
      'deployments:\n  web:\n    type: shell\n    version: "1"\n    variables:\n      A: "${MISSING:-dflt}"\n      B: "$${LITERAL}"\n      C: "${NOPE}"\n    commands: [[echo]]\n',
    );
    const loaded = await loadConfig({ configDir: dir });
    const attempt = resolveApp(loaded, 'web', 'dev', { processEnv: {} });
    await expect(attempt).rejects.toThrow(ConfigError);
    const error = (await attempt.catch((e) => e)) as ConfigError;
    expect(error.problems.map((p) => formatProblem({ ...p, file: 'deployments.yaml' }))).toEqual([
      'deployments.yaml:8:10 deployments.web.variables.C: ${NOPE} is not defined: set it in variables (or in the environment), or give a fallback like ${NOPE:-value}',
    ]);
    const ok = await resolveApp(loaded, 'web', 'dev', { processEnv: { NOPE: 'x' } });
    expect(ok.config.variables).toMatchObject({ A: 'dflt', B: '${LITERAL}', C: 'x' });
  });

  it('reads secrets from the environment only, and says which one is missing', async () => {
    const dir = configDir('environments:\n  dev: {}\n', 'secrets: [API_TOKEN]\ndeployments:\n  web:\n    type: shell\n    version: "1"\n    commands: [[echo]]\n');
    const loaded = await loadConfig({ configDir: dir });
    await expect(resolveApp(loaded, 'web', 'dev', { processEnv: {} })).rejects.toThrow('secret API_TOKEN is not set: export API_TOKEN=...');
    const ok = await resolveApp(loaded, 'web', 'dev', { processEnv: { API_TOKEN: 'tok-123' } });
    expect(ok.secretValues).toEqual(['tok-123']);
    expect(ok.config.variables.API_TOKEN).toBe('tok-123');
  });

  it('refuses unknown apps and environments with a suggestion, and bad versions', async () => {
    const loaded = await loadConfig({ configDir: fixture('valid') });
    await expect(resolveApp(loaded, 'wbe', 'dev')).rejects.toThrow('unknown app "wbe" (did you mean "web"?)');
    await expect(resolveApp(loaded, 'web', 'prd')).rejects.toThrow('unknown environment "prd" (did you mean "prod"?)');
    await expect(resolveApp(loaded, 'web', 'dev', { version: '1.0;rm -rf /' })).rejects.toThrow(UsageError);
    await expect(resolveApp(loaded, 'web', 'dev', { set: ['=x'] })).rejects.toThrow('write it as key.path=value');
  });

  it('takes the version from the git checkout, with -dirty when it has changes', async () => {
    const dir = configDir('environments:\n  dev: {}\n', 'deployments:\n  web:\n    type: shell\n    commands: [[echo]]\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'first');
    const sha = git('rev-parse', '--short', 'HEAD');
    const loaded = await loadConfig({ configDir: dir });
    expect((await resolveApp(loaded, 'web', 'dev')).version).toBe(sha);
    writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  web:\n    type: shell\n    commands: [[echo, changed]]\n');
    expect((await resolveApp(await loadConfig({ configDir: dir }), 'web', 'dev')).version).toBe(`${sha}-dirty`);
  });

  it('merges notifications: top level < environment < app < app in that environment; lists replaced', async () => {
    const dir = configDir(
      'environments:\n  dev: {}\n  prod:\n    notifications: { slack: { on: [failure] } }\n',
      [
        'notifications:',
        '  slack: { webhook_url: "https://hooks.slack.example/T1", channel: "#deploys" }',
        '  webhooks: [{ url: "https://a.example" }]',
        'deployments:',
        '  web:',
        '    type: shell',
        '    version: "1"',
        '    commands: [[echo]]',
        '    notifications: { slack: { channel: "#web" } }',
        '    environments:',
        '      prod: { notifications: { webhooks: [{ url: "https://b.example", on: [promote] }] } }',
        '',
      ].join('\n'),
    );
    const loaded = await loadConfig({ configDir: dir });
    expect((await resolveApp(loaded, 'web', 'dev', { processEnv: {} })).config.notifications).toEqual({
      slack: { webhook_url: 'https://hooks.slack.example/T1', channel: '#web' },
      webhooks: [{ url: 'https://a.example' }],
    });
    expect((await resolveApp(loaded, 'web', 'prod', { processEnv: {} })).config.notifications).toEqual({
      slack: { webhook_url: 'https://hooks.slack.example/T1', channel: '#web', on: ['failure'] },
      webhooks: [{ url: 'https://b.example', on: ['promote'] }],
    });
  });

  it('needs a webhook_url once the Slack settings are merged', async () => {
    const dir = configDir('environments:\n  dev: {}\n', 'deployments:\n  web:\n    type: shell\n    version: "1"\n    commands: [[echo]]\n    notifications: { slack: { channel: "#web" } }\n');
    await expect(resolveApp(await loadConfig({ configDir: dir }), 'web', 'dev', { processEnv: {} })).rejects.toThrow(
      'deployments.web.notifications.slack: slack notifications need webhook_url: (at the top of deployments.yaml, or here)',
    );
  });

  it('converts notifications.timeout to milliseconds like the other durations (a number is seconds)', async () => {
    const dir = configDir(
      'environments:\n  dev: {}\n  prod:\n    notifications: { timeout: 45 }\n',
      'notifications:\n  timeout: 1m30s\n  webhooks: [{ url: "https://a.example" }]\ndeployments:\n  web:\n    type: shell\n    version: "1"\n    commands: [[echo]]\n',
    );
    const loaded = await loadConfig({ configDir: dir });
    expect((await resolveApp(loaded, 'web', 'dev', { processEnv: {} })).config.notifications).toMatchObject({ timeout: 90_000 });
    expect((await resolveApp(loaded, 'web', 'prod', { processEnv: {} })).config.notifications).toMatchObject({ timeout: 45_000 });
    await expect(resolveApp(loaded, 'web', 'dev', { processEnv: {}, set: ['notifications.timeout=soon'] })).rejects.toThrow(
      '--set "notifications.timeout=soon": must be a duration like 250ms, 5s, 1m30s or a number of seconds',
    );
  });

  it('asks for --version when there is no version anywhere', async () => {
    const dir = configDir('environments:\n  dev: {}\n', 'deployments:\n  web:\n    type: shell\n    commands: [[echo]]\n');
    const loaded = await loadConfig({ configDir: dir });
    await expect(resolveApp(loaded, 'web', 'dev')).rejects.toThrow(/no version for web/);
  });
});

describe('validateConfig', () => {
  it('resolves every app in every environment and checks the files it names', async () => {
    const dir = configDir(
      'environments:\n  dev: {}\n  prod: {}\n',
      'deployments:\n  web:\n    type: kubernetes\n    manifests: k8s\n  api:\n    type: shell\n    commands: [[echo, "${UNSET}"]]\n',
    );
    const { problems } = await validateConfig(dir, {});
    expect(problems.map((p) => formatProblem({ ...p, file: p.file?.replace(/^.*\//, '') }))).toEqual([
      `deployments.yaml:4:16 deployments.web.manifests: ${join(dir, 'k8s')} does not exist: fix manifests: (relative to deployments.yaml)`,
      'deployments.yaml:7:23 deployments.api.commands[0][1]: ${UNSET} is not defined: set it in variables (or in the environment), or give a fallback like ${UNSET:-value}',
    ]);
    mkdirSync(join(dir, 'k8s'));
    expect((await validateConfig(dir, { UNSET: '1' })).problems).toEqual([]);
  });

  it('takes build: true/false and pull: for docker-compose, and says where a build section belongs', async () => {
    const dir = configDir(
      'environments:\n  dev: {}\n  prod:\n    docker-compose: { pull: always }\n',
      [
        'deployments:',
        '  web:',
        '    type: docker-compose',
        '    build: false',
        '  worker:',
        '    type: docker-compose',
        '    build: { context: . }',
        '    pull: sometimes',
        '  api:',
        '    type: docker',
        '    build: true',
        '',
      ].join('\n'),
    );
    expect(await problemsOf(dir)).toEqual([
      'deployments.yaml:7:12 deployments.worker.build: must be boolean',
      'deployments.yaml:8:11 deployments.worker.pull: must be one of: always, missing, never',
    ]);
    writeFileSync(join(dir, 'deployments.yaml'), readFileSync(join(dir, 'deployments.yaml'), 'utf8').replace('pull: sometimes', 'pull: never').replace('build: { context: . }', 'build: true'));
    writeFileSync(join(dir, 'docker-compose.yml'), 'services: {}\n');
    const loaded = await loadConfig({ configDir: dir, env: {} });
    expect((await resolveApp(loaded, 'web', 'prod', { version: '1.0.0' })).config).toMatchObject({ build: false, pull: 'always' });
    expect((await resolveApp(loaded, 'api', 'dev', { version: '1.0.0' })).config).toMatchObject({ build: true });
  });

  it('passes on the demo config at the repo root', async () => {
    const { problems } = await validateConfig(repoRoot, {});
    expect(problems.filter((p) => p.path?.startsWith('deployments.hello'))).toEqual([]);
  });
});
