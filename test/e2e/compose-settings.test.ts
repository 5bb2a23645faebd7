// docker compose settings on the real Docker engine the tests start (issue 14): what a user sees of
// profiles (a service only in a profile starts only where the profile is set), env_file (a value from
// the env file reaches the container) and the deploy-time warnings about what a rollback cannot
// restore (a bind-mounted source folder, an image without a version); and the docker type's
// build.target (a multi-stage Dockerfile's stage). The compose v2 plugin; images
// built locally from the busybox image with host networking, nothing pulled. The argv of each setting
// is in test/executors/realworld-argv.test.ts.
import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { importBusyboxImage, startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { composePluginMissing, composePluginPath, toolMissing } from '../support/tools.js';

const ajv = new Ajv.default({ allErrors: true, strict: false });
/** The document, as its schema in docs/json/ describes it (warnings a list of strings). */
function expectValid(schema: string, document: unknown) {
  const text = readFileSync(join(repoRoot, 'docs/json', `${schema}.schema.json`), 'utf8');
  expect(text).toContain('"warnings"');
  const validate = ajv.compile(JSON.parse(text));
  expect(validate(document), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

const dockerMissing = toolMissing('dockerd') || toolMissing('docker') || toolMissing('busybox') || composePluginMissing();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// web serves its source folder (bind-mounted, as in development setups) and the greeting it was
// started with; debug is a toolbox that only the debug profile starts.
const COMPOSE = `services:
  web:
    build: { context: ., network: host }
    network_mode: host
    environment:
      PORT: \${PORT}
      GREETING: \${GREETING:-none}
      SECRET_WORD: \${SECRET_WORD:-none}
      MONKEY_COUNT: \${MONKEY_COUNT:-none}
    volumes:
      - ./site:/www/site
    # httpd is pid 1 and ignores SIGTERM: a new version replaces it without waiting 10s.
    stop_grace_period: 1s
  debug:
    image: deployctl-test/busybox:base
    network_mode: host
    command: ["sleep", "1000000"]
    profiles: [debug]
`;

const DOCKERFILE = `FROM deployctl-test/busybox:base
RUN mkdir -p /www
CMD ["sh", "-c", "echo \\"$GREETING\\" > /www/greeting; echo \\"$SECRET_WORD\\" > /www/secret; echo \\"$MONKEY_COUNT\\" > /www/monkeys; exec httpd -f -p 127.0.0.1:\${PORT} -h /www"]
`;

describe.skipIf(dockerMissing)('docker compose settings on a real engine', () => {
  let engine: DockerEngine;
  let env: NodeJS.ProcessEnv;
  const dir = tempDir('deployctl-compose-settings-');
  const app = join(dir, 'board');
  const ports = { dev: 0, qa: 0 };
  const get = async (env: 'dev' | 'qa', path: string) => (await (await fetch(`http://127.0.0.1:${ports[env]}/${path}`)).text()).trim();
  const services = (project: string) =>
    execFileSync('docker', ['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Label "com.docker.compose.service"}}'], { env, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort();

  beforeAll(async () => {
    engine = await startDockerEngine();
    ports.dev = await freePort();
    ports.qa = await freePort();
    const withPlugin = tempDir('deployctl-docker-config-');
    mkdirSync(join(withPlugin, 'cli-plugins'));
    symlinkSync(composePluginPath(), join(withPlugin, 'cli-plugins', 'docker-compose'));
    env = cleanEnv({ ...engine.env, DOCKER_CONFIG: withPlugin, DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, TMPDIR: tempDir() });
    importBusyboxImage(engine.env);
    mkdirSync(join(app, 'site'), { recursive: true });
    writeFileSync(join(app, 'site', 'index.html'), 'the source of today\n');
    writeFileSync(join(app, 'compose.yaml'), COMPOSE);
    writeFileSync(join(app, 'Dockerfile'), DOCKERFILE);
    mkdirSync(join(app, 'env'));
    writeFileSync(join(app, 'env', 'common'), 'GREETING=hello from the env file\n');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  qa: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  board:',
        '    type: docker-compose',
        '    path: board',
        '    env_file: [env/common]',
        '    environments:',
        `      dev: { env_vars: { PORT: "${ports.dev}" } }`,
        `      qa: { env_vars: { PORT: "${ports.qa}" }, profiles: [debug] }`,
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  it('env_file: a value from the env file reaches the container; a bind-mounted source folder is warned about at deploy time', async () => {
    const run = await runCli(['deploy', 'board', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\$ docker compose -f \S+\/board\/compose\.yaml -f \S+ -p board-dev --env-file \S+\/board\/env\/common up -d/);
    expect(await get('dev', 'greeting')).toBe('hello from the env file');
    expect(await get('dev', 'site/index.html')).toBe('the source of today');
    // Said as a warning at deploy time, as the user sees it (after the time of day).
    expect(run.stderr).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d warning: web: a rollback cannot restore what it bind-mounts from the host \\(${app}/site:/www/site\\): those files stay as they are$`, 'm'));
    // The built image is tagged with the version: nothing to warn about there.
    expect(run.stderr).not.toContain('its tag has no version');
    // No profile in dev: the debug service is not started.
    expect(services('board-dev')).toEqual(['web']);

    // A warning: shown with -q too, where the steps are not.
    const quiet = await runCli(['deploy', 'board', '-e', 'dev', '--version', '1.0.1', '-q'], { env, timeoutMs: 300_000 });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toContain(`warning: web: a rollback cannot restore what it bind-mounts from the host (${app}/site:/www/site): those files stay as they are\n`);
    expect(quiet.stderr).not.toContain('$ docker compose');
  }, 300_000);

  it("--json and the record keep the deploy-time warnings; a rollback runs with the env file's content of its version, a secret in it from today's file", async () => {
    const envFile = join(app, 'env', 'common');
    const saved = readFileSync(envFile, 'utf8');
    onTestFinished(() => writeFileSync(envFile, saved));
    writeFileSync(envFile, 'GREETING=greeting of 2.0.0\nSECRET_WORD=first-secret-word\nMONKEY_COUNT=12\n');
    const first = await runCli(['deploy', 'board', '-e', 'dev', '--version', '2.0.0', '--json'], { env, timeoutMs: 300_000 });
    expect(first.code, first.stderr).toBe(0);
    const bind = `web: a rollback cannot restore what it bind-mounts from the host (${app}/site:/www/site): those files stay as they are`;
    const doc = JSON.parse(first.stdout);
    expect(doc.record.warnings).toEqual([bind]);
    expectValid('deployment', doc);
    expect(first.stderr).toContain(`warning: ${bind}`);
    expect(await get('dev', 'greeting')).toBe('greeting of 2.0.0');
    expect(await get('dev', 'secret')).toBe('first-secret-word');
    const shown = await runCli(['history', 'show', doc.record.id, '--json'], { env });
    const record = JSON.parse(shown.stdout).record;
    expect(record.warnings).toEqual([bind]);
    expectValid('record', JSON.parse(shown.stdout));
    // The env file's content is in the record, its secret as ***.
    // MONKEY_COUNT is no secret (its words are monkey and count): kept as it is.
    expect(record.artifacts.env_files).toEqual([{ path: 'env/common', content: 'GREETING=greeting of 2.0.0\nSECRET_WORD=***\nMONKEY_COUNT=12\n', masked: ['SECRET_WORD'] }]);
    expect(shown.stdout).not.toContain('first-secret-word');
    expect((await runCli(['history', 'show', doc.record.id], { env })).stdout).toContain(`  warning: ${bind}`);

    // Today's file changes with the next version (and the secret is rotated).
    writeFileSync(envFile, 'GREETING=greeting of 2.1.0\nSECRET_WORD=rotated-secret-word\nMONKEY_COUNT=13\n');
    const second = await runCli(['deploy', 'board', '-e', 'dev', '--version', '2.1.0'], { env, timeoutMs: 300_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(await get('dev', 'greeting')).toBe('greeting of 2.1.0');
    expect(await get('dev', 'monkeys')).toBe('13');

    const back = await runCli(['rollback', 'board', '-e', 'dev', '--json'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).record).toMatchObject({ action: 'rollback', version: '2.0.0', status: 'succeeded' });
    expect(back.stderr).toContain('running with the env files stored in the record: env/common');
    // The env file of 2.0.0, from the record, not today's; the secret is today's.
    expect(await get('dev', 'greeting')).toBe('greeting of 2.0.0');
    expect(await get('dev', 'secret')).toBe('rotated-secret-word');
    expect(await get('dev', 'monkeys')).toBe('12');
    // Written for the command alone, in its private folder: nothing is left of it.
    expect(readdirSync(env.TMPDIR!).filter((f) => f.startsWith('deployctl-'))).toEqual([]);
  }, 600_000);

  it('profiles: the service of a profile starts where the profile is set, and its image without a version is warned about', async () => {
    const run = await runCli(['deploy', 'board', '-e', 'qa', '--version', '1.0.0'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\$ docker compose .* -p board-qa --env-file \S+ --profile debug up -d/);
    expect(services('board-qa')).toEqual(['debug', 'web']);
    expect(services('board-dev')).toEqual(['web']);
    expect(run.stderr).toMatch(
      /^\d\d:\d\d:\d\d warning: debug: a rollback cannot restore image deployctl-test\/busybox:base: its tag has no version, so a rollback runs whatever deployctl-test\/busybox:base is then \(put \$\{DEPLOY_VERSION\} in its tag\)$/m,
    );
    expect(await get('qa', 'greeting')).toBe('hello from the env file');
    const [record] = JSON.parse((await runCli(['history', 'board', '-e', 'qa', '--json'], { env })).stdout).records;
    expect(record.artifacts.services).toEqual(['debug', 'web']);

    // A dry run says it too, before anything is deployed.
    const dry = await runCli(['deploy', 'board', '-e', 'qa', '--version', '1.1.0', '--dry-run'], { env, timeoutMs: 300_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('warning: debug: a rollback cannot restore image deployctl-test/busybox:base');
    expect(dry.stderr).toContain('warning: web: a rollback cannot restore what it bind-mounts from the host');
    const dryJson = await runCli(['deploy', 'board', '-e', 'qa', '--version', '1.1.0', '--dry-run', '--json'], { env, timeoutMs: 300_000 });
    expect(dryJson.code, dryJson.stderr).toBe(0);
    const dryDoc = JSON.parse(dryJson.stdout);
    expect(dryDoc.warnings).toEqual([
      'debug: a rollback cannot restore image deployctl-test/busybox:base: its tag has no version, so a rollback runs whatever deployctl-test/busybox:base is then (put ${DEPLOY_VERSION} in its tag)',
      'web: a rollback cannot restore what it bind-mounts from the host (' + app + '/site:/www/site): those files stay as they are',
    ]);
    expectValid('dry-run', dryDoc);
  }, 300_000);

  it("a service that exits at start fails the deploy (exit 3), summed up by compose's line that says which container exited and how", async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'compose.yaml'), 'services:\n  job:\n    image: deployctl-test/busybox:base\n    network_mode: host\n    command: ["sh", "-c", "echo boom; exit 3"]\n');
    writeFileSync(join(dir, 'deployments.yaml'), readFileSync(join(dir, 'deployments.yaml'), 'utf8') + '  broken:\n    type: docker-compose\n    path: broken\n');
    const run = await runCli(['deploy', 'broken', '-e', 'dev', '--version', '1.0.0', '--no-rollback'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(3);
    const [record] = JSON.parse((await runCli(['history', 'broken', '-e', 'dev', '--json'], { env })).stdout).records;
    // compose's own words for it, after its progress lines; the record is failed, and status never says 1.0.0 runs.
    expect(record).toMatchObject({ version: '1.0.0', status: 'failed', error: { message: 'docker compose up: exit code 1 (last output: container broken-dev-job-1 exited (3))' } });
    expect(run.stdout).toContain('deploy of broken 1.0.0 to dev failed: docker compose up: exit code 1 (last output: container broken-dev-job-1 exited (3))');
    expect(JSON.parse((await runCli(['status', 'broken', '-e', 'dev', '--json'], { env })).stdout).targets[0].version).toBeNull();
  }, 300_000);

  it('docker build.target: the stage named is built, not the last one (the flask sample builds its builder stage, before dev-envs)', async () => {
    const port = await freePort();
    const sample = join(dir, 'sample');
    mkdirSync(sample);
    // The flask sample's shape: a builder stage that runs the app, then a dev-envs stage for development.
    writeFileSync(
      join(sample, 'Dockerfile'),
      'FROM deployctl-test/busybox:base AS builder\nRUN mkdir -p /www && echo builder > /www/stage\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:${PORT} -h /www"]\n\nFROM builder AS dev-envs\nRUN echo dev-envs > /www/stage\n',
    );
    writeFileSync(
      join(dir, 'deployments.yaml'),
      readFileSync(join(dir, 'deployments.yaml'), 'utf8') +
        ['  sample:', '    type: docker', '    path: sample', '    build: { context: ., target: builder }', '    network: host', `    env: { PORT: "${port}" }`, ''].join('\n'),
    );
    const run = await runCli(['deploy', 'sample', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\$ docker build -t sample:1\.0\.0 --target builder \S+\/sample\n/);
    expect((await (await fetch(`http://127.0.0.1:${port}/stage`)).text()).trim()).toBe('builder');
  }, 300_000);
});

describe('docker compose: a folder without a compose file', () => {
  it('validate, --dry-run and deploy refuse it the same way (exit 2, the same line), before anything runs', async () => {
    const dir = tempDir('deployctl-compose-none-');
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  web:\n    type: docker-compose\n    path: web\n');
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir });
    const line = `deployments.yaml:3:5 deployments.web.compose_file: ${join(dir, 'web', 'compose.yaml')} (or compose.yml, docker-compose.yaml, docker-compose.yml) does not exist: create it, or set compose_file:`;
    for (const args of [['validate'], ['deploy', 'web', '-e', 'dev', '--version', '1.0.0', '--dry-run'], ['deploy', 'web', '-e', 'dev', '--version', '1.0.0']]) {
      const run = await runCli(args, { env });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout + run.stderr, args.join(' ')).toContain(line);
    }
    expect(JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json'], { env })).stdout).records).toEqual([]);
  });
});
