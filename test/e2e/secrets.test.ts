// Secrets never reach the state folder: not in the config a record keeps, nor in its artifacts
// (terraform variables and outputs, rendered kubernetes manifests), nor in the lock file. A rollback
// still re-applies the real values, read from the environment again. (docker compose's env_vars: see
// docker.test.ts, which has the Docker engine.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, filesHolding, repoRoot, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const SECRET = 's3cretpw-4711';

function project(deployments: string) {
  const dir = tempDir('deployctl-secrets-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const home = tempDir('deployctl-home-');
  return { dir, home };
}

interface Rec {
  id: string;
  action: string;
  version: string;
  status: string;
  config: Record<string, any>;
  artifacts: Record<string, any>;
}

async function records(env: NodeJS.ProcessEnv, app: string): Promise<Rec[]> {
  const run = await runCli(['history', app, '-e', 'dev', '--json'], { env });
  expect(run.code, run.stderr).toBe(0);
  const list = JSON.parse(run.stdout).records as Rec[];
  return Promise.all(list.map(async (r) => JSON.parse((await runCli(['history', 'show', r.id, '--json'], { env })).stdout).record as Rec));
}

describe.skipIf(toolMissing('terraform'))('terraform vars holding a secret', () => {
  it('are *** in the records (variables and outputs), and a rollback applies the real value', async () => {
    const { dir, home } = project(
      [
        'secrets: [DB_PASSWORD]',
        'deployments:',
        '  vault:',
        '    type: terraform',
        '    path: tf',
        '    auto_approve: true',
        '    vars: { db_password: "${DB_PASSWORD}" }',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'tf'));
    writeFileSync(
      join(dir, 'tf', 'main.tf'),
      [
        'variable "app_version" { type = string }',
        'variable "db_password" { type = string }',
        'resource "terraform_data" "release" {',
        '  input = { version = var.app_version, password = var.db_password }',
        '}',
        'output "version" { value = terraform_data.release.output.version }',
        '# not marked sensitive: what terraform prints and outputs is masked by deployctl',
        'output "password" { value = terraform_data.release.output.password }',
        '',
      ].join('\n'),
    );
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, DB_PASSWORD: SECRET, CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: '', TMPDIR: tempDir() });
    for (const version of ['1.0.0', '1.1.0']) {
      const run = await runCli(['deploy', 'vault', '-e', 'dev', '--version', version], { env, timeoutMs: 120_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr + run.stdout).not.toContain(SECRET);
    }
    const back = await runCli(['rollback', 'vault', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);

    const terraform = (name: string) => execFileSync('terraform', ['output', '-raw', name], { cwd: join(dir, 'tf'), env, encoding: 'utf8' });
    expect([terraform('version'), terraform('password')]).toEqual(['1.0.0', SECRET]);
    const history = await records(env, 'vault');
    expect(history.map((r) => [r.action, r.version, r.config.vars, r.artifacts.variables, r.artifacts.outputs])).toEqual([
      ['rollback', '1.0.0', { db_password: '***' }, { app_version: '1.0.0', db_password: '***' }, { version: '1.0.0', password: '***' }],
      ['deploy', '1.1.0', { db_password: '***' }, { app_version: '1.1.0', db_password: '***' }, { version: '1.1.0', password: '***' }],
      ['deploy', '1.0.0', { db_password: '***' }, { app_version: '1.0.0', db_password: '***' }, { version: '1.0.0', password: '***' }],
    ]);
    expect(JSON.stringify(history)).not.toContain(SECRET);
    expect(filesHolding(home, SECRET)).toEqual([]);
  });
});

describe('a kubernetes Secret rendered from a secret (a fake kubectl first on PATH)', () => {
  it('is stored with *** in the rendered manifests, plain and kustomized, and a rollback applies the real text', async () => {
    const { dir, home } = project(
      ['secrets: [DB_PASSWORD]', 'deployments:', '  shop:', '    type: kubernetes', '    manifests: k8s', '  catalog:', '    type: kubernetes', '    kustomize: kz', ''].join('\n'),
    );
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${DB_PASSWORD}"\n';
    const workload = (name: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n        - { name: ${name}, image: "registry.example/${name}:\${version}" }\n`;
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s', 'deployment.yaml'), workload('shop'));
    writeFileSync(join(dir, 'k8s', 'secret.yaml'), secret);
    mkdirSync(join(dir, 'kz'));
    writeFileSync(join(dir, 'kz', 'kustomization.yaml'), 'namespace: catalog\nresources: [all.yaml]\n');
    writeFileSync(join(dir, 'kz', 'all.yaml'), `${workload('catalog')}---\n${secret}`);
    const log = join(tempDir(), 'kubectl.jsonl');
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, DB_PASSWORD: SECRET, FAKE_KUBECTL_LOG: log, PATH: `${join(repoRoot, 'test/fixtures/bin')}${delimiter}${process.env.PATH}` });
    const applied = () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { args: string[]; stdin: string })
        .filter((c) => c.args.includes('apply'))
        .map((c) => c.stdin);

    for (const app of ['shop', 'catalog']) {
      const before = existsSync(log) ? applied().length : 0;
      for (const version of ['1.0.0', '1.1.0']) {
        const run = await runCli(['deploy', app, '-e', 'dev', '--version', version], { env });
        expect(run.code, run.stderr).toBe(0);
      }
      const back = await runCli(['rollback', app, '-e', 'dev', '--json'], { env });
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).not.toContain(SECRET);
      const [first, , rollback] = applied().slice(before);
      expect(first).toContain(SECRET);
      expect(rollback).toBe(first);

      const history = await records(env, app);
      expect(history.map((r) => [r.action, r.version])).toEqual([
        ['rollback', '1.0.0'],
        ['deploy', '1.1.0'],
        ['deploy', '1.0.0'],
      ]);
      for (const r of history) expect(r.artifacts.manifests).toMatch(/password: "?\*\*\*"?\n/);
      expect(JSON.stringify(history)).not.toContain(SECRET);
    }
    expect(filesHolding(home, SECRET)).toEqual([]);
  });
});


describe('a secret on the command line (--set)', () => {
  it('is *** in the lock file others read while the deployment runs, as in the record', async () => {
    const { dir, home } = project(
      [
        'secrets: [API_TOKEN]',
        'deployments:',
        '  svc:',
        '    type: shell',
        // The command reads the lock of its own deployment, as `deployctl unlock` or a waiting deploy would.
        '    commands: [[sh, -c, \'cat "$DEPLOYCTL_HOME"/locks/*.lock > "$OUT"\']]',
        '',
      ].join('\n'),
    );
    const out = join(tempDir(), 'lock.json');
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, API_TOKEN: SECRET, OUT: out });
    const run = await runCli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0', '--set', `variables.AUTH=${SECRET}`], { env });
    expect(run.code, run.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(out, 'utf8')) as { command: string };
    expect(lock.command).toMatch(/deploy svc -e dev --version 1\.0\.0 --set variables\.AUTH=\*\*\*$/);
    expect(filesHolding(home, SECRET)).toEqual([]);
  });
});

describe('a secret by the words of its name, not by the letters in them', () => {
  it('the environment\'s API_KEY and githubToken are *** in the output and the record; MONKEY_COUNT, KEYBOARD_LAYOUT and TOKENIZER_MODEL are shown as they are', async () => {
    const { dir, home } = project(
      ['deployments:', '  svc:', '    type: shell', '    commands:', '      - \'echo "monkeys=$MONKEY_COUNT layout=$KEYBOARD_LAYOUT model=$TOKENIZER_MODEL key=$API_KEY gh=$githubToken"\'', ''].join('\n'),
    );
    const env = cleanEnv({
      DEPLOYCTL_HOME: home,
      DEPLOYCTL_CONFIG_DIR: dir,
      MONKEY_COUNT: '12345678',
      KEYBOARD_LAYOUT: 'dvorak-intl',
      TOKENIZER_MODEL: 'bpe-large-v2',
      API_KEY: 'k-live-998877',
      githubToken: 'ghp_5544332211',
    });
    const run = await runCli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('monkeys=12345678 layout=dvorak-intl model=bpe-large-v2 key=*** gh=***');
    const [record] = await records(env, 'svc');
    expect(JSON.stringify(record)).toContain('monkeys=12345678 layout=dvorak-intl model=bpe-large-v2 key=*** gh=***');
    expect(filesHolding(home, 'k-live-998877')).toEqual([]);
    expect(filesHolding(home, 'ghp_5544332211')).toEqual([]);
    expect(run.stdout + run.stderr).not.toMatch(/k-live-998877|ghp_5544332211/);
  });
});

describe('the secret canary: one secret everywhere a value can go, found nowhere deployctl writes', () => {
  const CANARY = 'cAnArY-7f3e91-s3cr3t';
  // A name in `secrets:`, and a name only the environment rule (*TOKEN*, *SECRET*, ...) makes a secret.
  it.each([
    ['named in secrets:', 'SVC_PHRASE', 'secrets: [SVC_PHRASE]'],
    ['named like a secret in the environment', 'CI_DEPLOY_TOKEN', ''],
  ])('%s', async (_kind, NAME, secretsLine) => {
    const { createServer } = await import('node:http');
    const { freePort } = await import('../support/net.js');
    const port = await freePort();
    const received: string[] = [];
    const seenTokens: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/hook') {
          received.push(body);
          seenTokens.push(String(req.headers.authorization));
          res.end('ok');
        } else {
          seenTokens.push(url.searchParams.get('token') ?? '');
          res.statusCode = url.searchParams.get('token') === CANARY ? 200 : 401;
          res.end(`health for ${url.searchParams.get('token')}`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const { dir, home } = project(
        [
          secretsLine,
          'notifications:',
          '  webhooks:',
          `    - url: http://127.0.0.1:${port}/hook`,
          `      headers: { Authorization: "Bearer \${${NAME}}" }`,
          'deployments:',
          '  web:',
          '    type: shell',
          '    variables:',
          `      FROM_ENV: "\${${NAME}}"`,
          `      LABEL: "label-\${${NAME}}"`,
          '    commands:',
          `      - [echo, token, "\${${NAME}}"]`,
          '      - \'echo "string $FROM_ENV $LABEL"; echo "$FROM_ENV" > used.txt\'',
          `      - [sh, -c, 'echo "stderr $${NAME}" >&2']`,
          '    hooks:',
          `      pre_deploy: [[echo, "pre \${${NAME}}"]]`,
          `      post_deploy: ['echo "post $${NAME}"']`,
          '    health_check:',
          `      url: http://127.0.0.1:${port}/health?token=\${${NAME}}`,
          '      retries: 2',
          '      interval: 10ms',
          '    environments:',
          '      qa:',
          `        commands: [[sh, -c, 'echo "failing with $${NAME}" >&2; exit 3']]`,
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  qa: {}\n');
      const summary = join(tempDir(), 'summary.md');
      const outputs = join(tempDir(), 'outputs.txt');
      const env = cleanEnv({
        DEPLOYCTL_HOME: home,
        DEPLOYCTL_CONFIG_DIR: dir,
        [NAME]: CANARY,
        GITHUB_ACTIONS: 'true',
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_OUTPUT: outputs,
      });
      const runs = [
        ['deploy', 'web', '-e', 'dev', '--version', '1.0.0'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.1.0', '--json'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.2.0', '--log-format', 'json', '-v'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.3.0', '--dry-run', '--json'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.3.0', '--dry-run'],
        ['deploy', 'web', '-e', 'qa', '--version', '1.0.0'],
        ['deploy', 'web', '-e', 'qa', '--version', '1.1.0', '--json'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.4.0', '--set', `timeout=${CANARY}`],
        ['deploy', 'web', '-e', 'dev', '--version', '1.4.0', '--set', `timeout=${CANARY}`, '--json'],
        ['deploy', 'web', '-e', 'dev', '--version', '1.4.0', '--set', `health_check.interval=${CANARY}`],
        ['deploy', 'web', '-e', 'dev', '--version', '1.4.0', '--set', `variables.${NAME}=${CANARY}`],
        ['deploy', 'web', '-e', 'dev', '--version', '1.4.0', '--set', `variables.LABEL=x${CANARY}x`],
        ['rollback', 'web', '-e', 'dev'],
        ['rollback', 'web', '-e', 'dev', '--dry-run', '--json'],
        ['health', 'web', '-e', 'dev'],
        ['status', '--json'],
        ['status'],
        ['history', 'web', '-e', 'dev', '--json'],
        ['config', 'web', '-e', 'dev'],
        ['config', 'web', '-e', 'dev', '--json'],
        ['validate'],
        ['audit'],
      ];
      const shown: string[] = [];
      for (const args of runs) {
        const run = await runCli(args, { env, timeoutMs: 60_000 });
        shown.push(`$ ${args.join(' ').replaceAll(CANARY, '<canary>')} (exit ${run.code})\n${run.stdout}\n${run.stderr}`);
      }
      const history = JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json'], { env })).stdout).records as Array<{ id: string }>;
      for (const record of history) {
        const run = await runCli(['history', 'show', record.id], { env });
        shown.push(run.stdout + run.stderr);
        const ids = history.map((r) => r.id);
        if (ids.length > 1) shown.push((await runCli(['diff', ids[0]!, ids[ids.length - 1]!], { env })).stdout);
      }
      const all = shown.join('\n');
      // The secret was used: the commands, the health check and the webhook got it.
      expect(readFileSync(join(dir, 'used.txt'), 'utf8')).toBe(`${CANARY}\n`);
      expect(seenTokens).toContain(CANARY);
      expect(seenTokens).toContain(`Bearer ${CANARY}`);
      expect(received.length).toBeGreaterThan(0);
      expect(all).toContain('token ***');
      expect(all).toContain('1.1.0');
      // ...and it is nowhere.
      expect(all.includes(CANARY) ? all.split('\n').filter((l) => l.includes(CANARY)) : []).toEqual([]);
      expect(filesHolding(home, CANARY)).toEqual([]);
      expect(readFileSync(summary, 'utf8')).not.toContain(CANARY);
      expect(readFileSync(outputs, 'utf8')).not.toContain(CANARY);
      expect(received.filter((body) => body.includes(CANARY))).toEqual([]);
      // Each run did what it should: the refusals are exit 2 and say why.
      expect(all).toMatch(/--set "variables\.\w+=\.\.\.": would put the secret/);
      expect(all).toMatch(/--set "timeout=\*\*\*": must be a duration/);
    } finally {
      server.close();
    }
  });
});
