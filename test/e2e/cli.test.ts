// The command line as people meet it: config mistakes, failing and hanging commands, where the version
// comes from, and the global flags (-q, -v, --log-format json, usage errors), with the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, repoRoot, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/config', name);

function project(deployments: string, environments = 'environments:\n  dev: {}\n') {
  const dir = tempDir('deployctl-cli-');
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const home = tempDir('deployctl-home-');
  return { dir, home, env: cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir }) };
}

const records = (home: string) =>
  (existsSync(join(home, 'history')) ? readdirSync(join(home, 'history')) : [])
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(home, 'history', f), 'utf8')) as { status: string; version: string; error?: { message: string } });
const locks = (home: string) => (existsSync(join(home, 'locks')) ? readdirSync(join(home, 'locks')) : []).filter((f) => f.endsWith('.lock'));

describe('a configuration mistake: one clear message, exit 2, nothing run, no history', () => {
  it.each([
    ['malformed', ['deployments.yaml:4:15 deployments.web.commands: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['wrong-type', ['deployments.yaml:8:16 deployments.web.health_check.retries: must be integer', 'deployments.yaml:11:13 deployments.web.rollback.auto: must be boolean']],
    ['unknown-key', ['deployments.yaml:4:5 deployments.web.comands: unknown key "comands"']],
    ['bad-names', ['deployments.yaml:2:3 deployments.../x: invalid app name "../x"']],
  ])('%s', async (name, messages) => {
    const home = tempDir('deployctl-home-');
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0', '--config-dir', fixture(name)], { env: cleanEnv({ DEPLOYCTL_HOME: home }) });
    expect(run.code).toBe(2);
    for (const message of messages) expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('hint: fix the lines above');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(home, 'history'))).toBe(false);
    const json = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0', '--config-dir', fixture(name), '--json'], { env: cleanEnv({ DEPLOYCTL_HOME: home }) });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'config', exitCode: 2, problems: expect.arrayContaining([expect.objectContaining({ line: expect.any(Number), column: expect.any(Number), path: expect.any(String) })]) });
  });

  it('an undefined ${name} names its line; ${name:-fallback} fills in', async () => {
    const marker = join(tempDir(), 'ran');
    const { home, env } = project(
      `deployments:\n  web:\n    type: shell\n    variables:\n      GREETING: "\${WHO:-world}"\n      URL: "http://\${HOST}/"\n    commands: [[node, -e, "require('fs').writeFileSync('${marker}', process.env.GREETING)"]]\n`,
    );
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/deployments\.yaml:6:12 deployments\.web\.variables\.URL: \$\{HOST\} is not defined/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(home, 'history'))).toBe(false);
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1'], { env: { ...env, HOST: 'example' } })).code).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('world');
  });

  it('a manifest whose ${version} cannot be filled in safely, found while planning: exit 2 and no record, with --yes or without', async () => {
    const { dir, home, env } = project('deployments:\n  shop:\n    type: kubernetes\n    manifests: k8s.yaml\n');
    // Not valid YAML as written (the } of ${version} closes the flow mapping): no value can be placed safely.
    writeFileSync(join(dir, 'k8s.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: shop }\ndata: { level: ${version} }\n');
    const kubectl = { ...env, PATH: `${join(repoRoot, 'test/fixtures/bin')}${delimiter}${process.env.PATH}`, FAKE_KUBECTL_LOG: join(tempDir(), 'kubectl.jsonl') };
    for (const flags of [['--yes'], []]) {
      const run = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0', ...flags], { env: kubectl });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('k8s.yaml: not valid YAML, so its ${...} cannot be filled in safely');
      expect(existsSync(kubectl.FAKE_KUBECTL_LOG)).toBe(false);
      expect(records(home)).toEqual([]);
      expect(locks(home)).toEqual([]);
    }
    const status = await runCli(['status', 'shop'], { env });
    expect(status.stdout).toBe('nothing deployed of shop yet: try deployctl deploy shop -e <env>\n');
  });
});

describe('notifications.timeout is checked like every other duration', () => {
  const app = 'deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n';
  const hook = '  webhooks: [{ url: "http://127.0.0.1:9/hook" }]\n';
  it.each([
    ['at the top of deployments.yaml', `notifications:\n  timeout: -5\n${hook}${app}`, undefined, 'deployments.yaml:2:12 notifications.timeout: "-5" is not a duration'],
    ['in an environment', `notifications:\n${hook}${app}`, 'environments:\n  dev:\n    notifications:\n      timeout: -1\n', 'environments.yaml:4:16 environments.dev.notifications.timeout: "-1" is not a duration'],
    ['in an app', `${app}    notifications: { timeout: -2 }\n`, undefined, 'deployments.yaml:5:31 deployments.web.notifications.timeout: "-2" is not a duration'],
  ])('%s: a config error with its line and column, and nothing runs', async (_where, deployments, environments, message) => {
    const { dir, home, env } = project(deployments, environments);
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${dir}/${message}: write it like 10s or 1m\n`);
    expect(existsSync(join(home, 'history'))).toBe(false);
    const validate = await runCli(['validate'], { env });
    expect(validate.code).toBe(2);
    expect(validate.stdout + validate.stderr).toContain(message);
  });
});

describe('a command that fails or hangs', () => {
  it('fails: exit 3, record failed with the reason, lock released', async () => {
    const { home, env } = project(`deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "console.error('disk full'); process.exit(7)"]]\n`);
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("deploy of web 1.0.0 to dev failed: command 1/1: node -e 'console.error('\\''disk full'\\''); process.exit(7)': exit code 7 (last output: disk full)");
    expect(records(home)).toMatchObject([{ status: 'failed', version: '1.0.0' }]);
    expect(locks(home)).toEqual([]);
  });

  it('hangs: stopped at --timeout, exit 3, record failed, lock released', async () => {
    const { home, env } = project(`deployments:\n  web:\n    type: shell\n    commands: [[sleep, "30"]]\n`);
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0', '--timeout', '1s'], { env });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('command 1/1: sleep 30: timed out after 1s');
    expect(records(home)).toMatchObject([{ status: 'failed', error: { message: 'command 1/1: sleep 30: timed out after 1s' } }]);
    expect(locks(home)).toEqual([]);
  });
});

describe('where the version comes from', () => {
  const app = 'deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n';

  it('without --version or version:, outside a git checkout: a usage error asking for --version', async () => {
    const { home, env } = project(app);
    const run = await runCli(['deploy', 'web', '-e', 'dev'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: no version for web: it is not set and \S+ is not in a git checkout\nhint: pass --version V, or set version: in deployments\.yaml/);
    expect(existsSync(join(home, 'history'))).toBe(false);
  });

  it('version: from the config, else the short commit of the checkout, -dirty when it has changes', async () => {
    const withVersion = project(app.replace('type: shell', 'type: shell\n    version: "2.${BUILD:-0}"'));
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--json'], { env: { ...withVersion.env, BUILD: '7' } });
    expect(JSON.parse(run.stdout).record.version).toBe('2.7');

    const { dir, env } = project(app);
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'first');
    const sha = git('rev-parse', '--short', 'HEAD');
    expect(JSON.parse((await runCli(['deploy', 'web', '-e', 'dev', '--json'], { env })).stdout).record.version).toBe(sha);
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: { variables: { CHANGED: "1" } }\n');
    expect(JSON.parse((await runCli(['deploy', 'web', '-e', 'dev', '--json'], { env })).stdout).record.version).toBe(`${sha}-dirty`);
  });
});

describe('global flags', () => {
  const app = `deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "console.log('step output')"]]\n`;

  it('-q prints the result and errors only', async () => {
    const { env } = project(app);
    const ok = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1', '-q'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^deployed web 1 to dev \(record web_dev_\S+\)\n$/);
    const bad = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1;x', '-q'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: invalid version "1;x"');
  });

  it('without a terminal: plain timestamped lines on stderr, no control codes', async () => {
    const { env } = project(app);
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1'], { env: { ...env, NO_COLOR: undefined } });
    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.every((l) => /^\d\d:\d\d:\d\d /.test(l))).toBe(true);
    expect(run.stderr).toContain('│ step output');
    expect(run.stderr).toContain('✓ lock done: web in dev');
    expect(run.stderr).not.toContain('\u001B');
  });

  it('-v adds debug lines, and a stack trace to an error; without -v there is none', async () => {
    const { env } = project(app);
    const verbose = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1', '-v'], { env });
    expect(verbose.stderr).toMatch(/debug: in \S+, time limit 10m, environment adds DEPLOY_APP DEPLOY_ENV DEPLOY_RECORD_ID DEPLOY_VERSION/);
    const quiet = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1'], { env });
    expect(quiet.stderr).not.toContain('debug:');
    const withTrace = await runCli(['deploy', 'nope', '-e', 'dev', '--version', '1', '-v'], { env });
    expect(withTrace.code).toBe(2);
    expect(withTrace.stderr).toMatch(/UsageError: unknown app "nope"\n\s+at /);
    const without = await runCli(['deploy', 'nope', '-e', 'dev', '--version', '1'], { env });
    expect(without.stderr).toBe('error: unknown app "nope"\nhint: deployments.yaml defines: web\n');
  });

  it.each([
    [['--log-format', 'json', 'deploy', 'web', '-e', 'dev', '--version', '1']],
    [['deploy', 'web', '-e', 'dev', '--version', '1', '--log-format', 'json']],
  ])('--log-format json makes stderr JSON lines, before or after the command: %j', async (args) => {
    const { env } = project(app);
    const run = await runCli(args, { env });
    expect(run.code).toBe(0);
    const events = run.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { time: string; level: string; event: string; line?: string });
    expect(events.every((e) => typeof e.time === 'string' && typeof e.level === 'string' && typeof e.event === 'string')).toBe(true);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['started', 'phase', 'step-start', 'output', 'step-end', 'finished']));
    expect(events.find((e) => e.event === 'output')?.line).toBe('step output');
    const failed = await runCli(args.map((a) => (a === 'web' ? 'nope' : a)), { env });
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stderr)).toMatchObject({ level: 'error', event: 'error', code: 'usage', exitCode: 2, message: 'unknown app "nope"' });
  });

  it('--log-format json holds for every command that writes to stderr: promote, health, validate, usage errors', async () => {
    const { dir, env } = project(
      'deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n    health_check: { type: command, command: [node, -e, "0"] }\n',
      'environments:\n  dev: {}\n  qa: {}\n',
    );
    const jsonLines = (stderr: string) => stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { time: string; level: string; event: string; message?: string });
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1', '-q'], { env })).code).toBe(0);
    const promote = await runCli(['promote', 'web', '--log-format', 'json'], { env });
    expect(promote.code).toBe(0);
    expect(jsonLines(promote.stderr)[0]).toMatchObject({ level: 'info', event: 'promotion', message: 'promoting web 1 from dev to qa', from: 'dev', to: 'qa' });
    const health = await runCli(['health', 'web', '-e', 'qa', '--log-format', 'json'], { env });
    expect(health.code).toBe(0);
    expect(jsonLines(health.stderr)).toEqual([expect.objectContaining({ event: 'health-attempt', attempt: expect.objectContaining({ attempt: 1, ok: true }) })]);
    writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  web:\n    type: shell\n    comands: []\n');
    const validate = await runCli(['validate', '--log-format', 'json'], { env });
    expect(validate.code).toBe(2);
    expect(jsonLines(validate.stderr)).toEqual([expect.objectContaining({ event: 'validate', message: '1 problem in the configuration:' })]);
    const usage = await runCli(['deploy', 'web', '--log-format', 'json'], { env });
    expect(jsonLines(usage.stderr)).toEqual([expect.objectContaining({ level: 'error', event: 'error', code: 'usage', exitCode: 2 })]);
  });

  it('usage errors from the command line: exit 2, a hint, and JSON with --json', async () => {
    const { env } = project(app);
    const missing = await runCli(['deploy', 'web', '--version', '1'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("error: required option '-e, --env <env>' not specified\nhint: see: deployctl deploy --help\n");
    const unknown = await runCli(['deploy', 'web', '-e', 'dev', '--versoin', '1', '--json'], { env });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({
      schemaVersion: 1,
      error: { code: 'usage', exitCode: 2, message: "unknown option '--versoin'\n(Did you mean --version?)", hint: 'see: deployctl deploy --help' },
    });
    const command = await runCli(['deplyo'], { env });
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("error: unknown command 'deplyo'");
  });

  describe('a --home that cannot be a folder (under a regular file): every command says so, exit 2, no stack trace', () => {
    const { env } = project(app, 'environments:\n  dev: {}\n  qa: {}\n');
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    const home = join(file, 'home');
    it.each([
      ['deploy', 'web', '-e', 'dev', '--version', '1'],
      ['rollback', 'web', '-e', 'dev'],
      ['promote', 'web'],
      ['status'],
      ['list'],
      ['history'],
      ['history', 'show', 'web_dev_20260101T000000000Z_abcdef'],
      ['history', 'prune', '--keep', '1'],
      ['unlock', 'web', '-e', 'dev'],
      ['health', 'web', '-e', 'dev', '--version', '1'],
      ['diff', 'dev', 'qa'],
      ['audit'],
    ].map((args) => [args.join(' '), args]))('%s', async (_command, args) => {
      const run = await runCli([...args, '--home', home], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `error: cannot use ${home} as the state folder: ${file} is a file, not a folder\nhint: pass --home DIR (or set DEPLOYCTL_HOME) to a folder you can write to\n`,
      );
      expect(run.stdout).toBe('');
    });

    it.skipIf(toolMissing('script'))('in a terminal: the error is all there is (no live view is started, so none wipes it)', () => {
      const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      // script(1) gives the command a terminal of unknown size, as some CI runners and `docker run -t` do.
      const command = [process.execPath, cliPath, 'deploy', 'web', '-e', 'dev', '--version', '1', '--home', home].map(quoted).join(' ');
      const run = spawnSync('script', ['-qec', command, '/dev/null'], { env: { ...env, TERM: 'xterm-256color' }, input: '', encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stdout.replace(/\r/g, '')).toBe(
        `error: cannot use ${home} as the state folder: ${file} is a file, not a folder\nhint: pass --home DIR (or set DEPLOYCTL_HOME) to a folder you can write to\n`,
      );
    });
  });

  it.skipIf(!existsSync('/proc/self'))('a --home under /proc (where a folder exists but refuses children) is exit 2 naming it, not a hang', async () => {
    const home = `/proc/deployctl-test-${process.pid}/state`;
    const run = await runCli(['status', '--home', home], { env: cleanEnv(), spawn: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: cannot (use|create) .*/proc/deployctl-test-${process.pid}`));
    expect(run.stderr).toContain('hint: ');
  }, 20_000);
});

describe('validate', () => {
  it('counts in words that agree with the numbers: "1 app", "6 apps"', async () => {
    const one = tempDir('deployctl-config-');
    writeFileSync(join(one, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(one, 'deployments.yaml'), 'deployments:\n  a:\n    type: shell\n    commands: [[echo, hi]]\n');
    const single = await runCli(['validate', '--config-dir', one], { env: cleanEnv() });
    expect(single.code).toBe(0);
    expect(single.stdout).toContain('config OK: 1 app, 1 environment (dev)');
    const demo = await runCli(['validate', '--config-dir', repoRoot], { env: cleanEnv() });
    expect(demo.stdout).toContain('config OK: 6 apps, 4 environments (dev → qa → staging → prod)');
  });
});
