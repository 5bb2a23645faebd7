// The docker and docker-compose executors against a real Docker engine started by the tests:
// build, run with host networking, health-check over 127.0.0.1, deploy a new version, roll back.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerEngine, importBusyboxImage, type DockerEngine } from '../support/docker-engine.js';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const missing = toolMissing('dockerd') || toolMissing('busybox');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const DOCKERFILE = [
  'FROM deployctl-test/busybox:base',
  'ARG VERSION=none',
  'RUN mkdir -p /www && echo "$VERSION" > /www/version',
  'CMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:${PORT} -h /www"]',
  '',
].join('\n');

describe.skipIf(missing)('docker executors against a real engine', () => {
  let engine: DockerEngine;
  let env: NodeJS.ProcessEnv;
  const dir = tempDir('deployctl-docker-');
  let port = 0;
  let composePort = 0;
  const docker = (...args: string[]) => execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
  const served = async (p: number) => (await (await fetch(`http://127.0.0.1:${p}/version`)).text()).trim();

  beforeAll(async () => {
    engine = await startDockerEngine();
    env = cleanEnv({ ...engine.env, DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir });
    importBusyboxImage(engine.env);
    port = await freePort();
    composePort = await freePort();
    for (const app of ['api', 'web']) {
      mkdirSync(join(dir, app));
      writeFileSync(join(dir, app, 'Dockerfile'), DOCKERFILE);
    }
    writeFileSync(
      join(dir, 'web', 'docker-compose.yml'),
      `version: "2.4"\nservices:\n  web:\n    image: deployctl-test/web:\${DEPLOY_VERSION}\n    build:\n      context: .\n      args: { VERSION: "\${DEPLOY_VERSION}" }\n    network_mode: host\n    environment: [PORT]\n`,
    );
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  api:',
        '    type: docker',
        '    path: api',
        '    image: deployctl-test/api',
        '    build: { dockerfile: Dockerfile, args: { VERSION: "${version}" } }',
        '    network: host',
        `    env: { PORT: "${port}" }`,
        `    health_check: { url: "http://127.0.0.1:${port}/version", body_contains: "\${version}", retries: 20 }`,
        '  web:',
        '    type: docker-compose',
        '    path: web',
        `    env_vars: { PORT: "${composePort}" }`,
        `    health_check: { url: "http://127.0.0.1:${composePort}/version", body_contains: "\${version}", retries: 20 }`,
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  it('docker: builds and runs 1.0.0, then 2.0.0, and a rollback runs the 1.0.0 image again', async () => {
    for (const version of ['1.0.0', '2.0.0']) {
      const run = await runCli(['deploy', 'api', '-e', 'dev', '--version', version], { env, timeoutMs: 120_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(await served(port)).toBe(version);
    }
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:2.0.0');
    const back = await runCli(['rollback', 'api', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('docker build');
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:1.0.0');
    expect(await served(port)).toBe('1.0.0');
  });

  it('docker: a version that fails its health check is rolled back to the previous image (exit 4)', async () => {
    const run = await runCli(['deploy', 'api', '-e', 'dev', '--version', '3.0.0', '--set', 'health_check.body_contains=never', '--set', 'health_check.retries=1'], { env, timeoutMs: 120_000 });
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('rolled back automatically to 1.0.0');
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:1.0.0');
    expect(await served(port)).toBe('1.0.0');
  });

  it.skipIf(toolMissing('docker-compose'))('docker-compose (the v1 binary, as the fallback when the compose plugin is missing): deploy, new version, rollback', async () => {
    for (const version of ['1.0.0', '1.1.0']) {
      const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', version], { env, timeoutMs: 180_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('docker-compose -f');
      expect(await served(composePort)).toBe(version);
    }
    const back = await runCli(['rollback', 'web', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(await served(composePort)).toBe('1.0.0');
    expect(docker('ps', '--format', '{{.Image}}', '--filter', 'label=com.docker.compose.project=web-dev')).toBe('deployctl-test/web:1.0.0');
  });
});
