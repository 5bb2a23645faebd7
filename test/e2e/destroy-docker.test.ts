// `deployctl destroy` of a docker app on a real Docker engine started by the test: the container the
// deploy ran goes, its image and named volume stay; a container already gone is nothing to remove.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusyboxImage, startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const missing = toolMissing('dockerd') || toolMissing('docker') || toolMissing('busybox');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(missing)('docker destroy on a real engine', () => {
  let engine: DockerEngine;
  let env: NodeJS.ProcessEnv;
  let port: number;
  const dir = tempDir('deployctl-destroy-docker-');
  const docker = (...args: string[]) => execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
  const containers = () => docker('ps', '--all', '--quiet', '--filter', 'name=^shop-dev$');

  beforeAll(async () => {
    engine = await startDockerEngine();
    port = await freePort();
    env = cleanEnv({ ...engine.env, DOCKER_CONFIG: tempDir(), DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, TMPDIR: tempDir() });
    importBusyboxImage(engine.env);
    mkdirSync(join(dir, 'shop'));
    writeFileSync(
      join(dir, 'shop', 'Dockerfile'),
      ['FROM deployctl-test/busybox:base', 'ARG VERSION=none', 'RUN mkdir -p /www && echo "$VERSION" > /www/version', 'CMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:${PORT} -h /www"]', ''].join('\n'),
    );
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  shop:',
        '    type: docker',
        '    path: shop',
        '    image: deployctl-test/shop',
        '    build: { dockerfile: Dockerfile, args: { VERSION: "${version}" } }',
        '    network: host',
        `    env: { PORT: "${port}" }`,
        '    volumes: ["shop-data:/data"]',
        `    health_check: { url: "http://127.0.0.1:${port}/version", body_contains: "\${version}", retries: 20 }`,
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  it('removes the container of the running version (docker rm -f), keeps its image and volume; again, already destroyed', async () => {
    const deployed = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 180_000 });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(containers()).not.toBe('');
    const gone = await runCli(['destroy', 'shop', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stderr).toContain('$ docker rm -f shop-dev\n');
    expect(containers()).toBe('');
    await expect(fetch(`http://127.0.0.1:${port}/version`)).rejects.toThrow();
    expect(docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}')).toContain('deployctl-test/shop:1.0.0');
    expect(docker('volume', 'ls', '--format', '{{.Name}}').split('\n')).toContain('shop-data');
    const again = await runCli(['destroy', 'shop', '-e', 'dev'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('shop in dev is already destroyed: 1.0.0 was torn down by');

    // rollback --to brings it back from its stored image; nothing is built.
    const back = await runCli(['rollback', 'shop', '-e', 'dev', '--to', '1.0.0'], { env, timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('docker build');
    expect(await (await fetch(`http://127.0.0.1:${port}/version`)).text()).toBe('1.0.0\n');
  }, 600_000);

  it('a container removed by hand is nothing to remove: the destroy is recorded, and no docker rm runs', async () => {
    expect(containers()).not.toBe('');
    docker('rm', '-f', 'shop-dev');
    const gone = await runCli(['destroy', 'shop', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stderr).toContain('no container shop-dev: nothing to remove');
    expect(gone.stderr).not.toContain('$ docker rm');
    const [record] = JSON.parse((await runCli(['history', 'shop', '-e', 'dev', '--json'], { env })).stdout).records;
    expect(record).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
  }, 300_000);
});
