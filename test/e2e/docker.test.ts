// The docker and docker-compose executors against a real Docker engine started by the tests:
// build, run with host networking, health-check over 127.0.0.1, deploy a new version, roll back.
// docker compose runs twice: with the v2 plugin (in a DOCKER_CONFIG of its own) and, with no plugin
// anywhere, through the docker-compose v1 binary it falls back to.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerEngine, importBusyboxImage, type DockerEngine } from '../support/docker-engine.js';
import { cleanEnv, filesHolding, runCli, tempDir } from '../support/cli.js';
import { composePluginMissing, composePluginPath, toolMissing } from '../support/tools.js';

const missing = toolMissing('dockerd') || toolMissing('docker') || toolMissing('busybox');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A compose app's env_vars hold it (a secret): it must never reach the state folder. */
const SECRET = 'tok-8c1f7e';

// It serves its version, the TOKEN it was started with, and the NOTE (a compose app's, from its env file).
const DOCKERFILE = [
  'FROM deployctl-test/busybox:base',
  'ARG VERSION=none',
  'RUN mkdir -p /www && echo "$VERSION" > /www/version',
  'CMD ["sh", "-c", "echo \\"$TOKEN\\" > /www/token; echo \\"$NOTE\\" > /www/note; exec httpd -f -p 127.0.0.1:${PORT} -h /www"]',
  '',
].join('\n');

// The docker app shuts down on SIGTERM and leaves a file saying so: only a graceful stop writes it.
const STOPPING_DOCKERFILE = DOCKERFILE.replace(
  /^CMD .*$/m,
  'CMD ["sh", "-c", "trap \'echo stopped > /stopped/$DEPLOY_VERSION; exit 0\' TERM; httpd -f -p 127.0.0.1:${PORT} -h /www & wait"]',
);

// BuildKit (compose v2) needs a network for RUN: the host's, as there is no bridge.
const composeFile = (app: string) =>
  `version: "2.4"\nservices:\n  web:\n    image: deployctl-test/${app}:\${DEPLOY_VERSION}\n    build:\n      context: .\n      network: host\n      args: { VERSION: "\${DEPLOY_VERSION}" }\n    network_mode: host\n    environment: [PORT, TOKEN, "NOTE=\${NOTE:-none}"]\n`;

describe.skipIf(missing)('docker executors against a real engine', () => {
  let engine: DockerEngine;
  /** No compose plugin: an empty DOCKER_CONFIG, and none installed for the machine. */
  let env: NodeJS.ProcessEnv;
  /** The compose v2 plugin in a DOCKER_CONFIG of its own. */
  let pluginEnv: NodeJS.ProcessEnv;
  const dir = tempDir('deployctl-docker-');
  /** The CLI's TMPDIR: where the override pinning a rollback's images is written, and must not stay. */
  const tmp = tempDir('deployctl-docker-tmp-');
  /** Mounted at /stopped in the docker app's containers: one file per version stopped gracefully. */
  const stopped = tempDir('deployctl-docker-stopped-');
  const ports: Record<string, number> = {};
  const docker = (...args: string[]) => execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
  const served = async (p: number, path = 'version') => (await (await fetch(`http://127.0.0.1:${p}/${path}`)).text()).trim();
  const records = async (app: string, runEnv: NodeJS.ProcessEnv) =>
    JSON.parse((await runCli(['history', app, '-e', 'dev', '--json'], { env: runEnv })).stdout).records as Array<{ action: string; version: string; artifacts: Record<string, unknown> }>;

  beforeAll(async () => {
    engine = await startDockerEngine();
    const noPlugins = tempDir('deployctl-docker-config-');
    env = cleanEnv({ ...engine.env, DOCKER_CONFIG: noPlugins, DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, TMPDIR: tmp, API_TOKEN: SECRET });
    const withPlugin = tempDir('deployctl-docker-config-');
    mkdirSync(join(withPlugin, 'cli-plugins'));
    symlinkSync(composePluginPath(), join(withPlugin, 'cli-plugins', 'docker-compose'));
    pluginEnv = { ...env, DOCKER_CONFIG: withPlugin };
    importBusyboxImage(engine.env);
    for (const app of ['api', 'legacy', 'web']) {
      ports[app] = await freePort();
      mkdirSync(join(dir, app));
      writeFileSync(join(dir, app, 'Dockerfile'), app === 'api' ? STOPPING_DOCKERFILE : DOCKERFILE);
      if (app !== 'api') writeFileSync(join(dir, app, 'docker-compose.yml'), composeFile(app));
      if (app !== 'api') writeFileSync(join(dir, app, 'app.env'), 'NOTE=none yet\n');
    }
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    const composeApp = (app: string) => [
      `  ${app}:`,
      '    type: docker-compose',
      `    path: ${app}`,
      '    secrets: [API_TOKEN]',
      '    env_file: app.env',
      `    env_vars: { PORT: "${ports[app]}", TOKEN: "\${API_TOKEN}" }`,
      `    health_check: { url: "http://127.0.0.1:${ports[app]}/version", body_contains: "\${version}", retries: 20 }`,
    ];
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
        `    env: { PORT: "${ports.api}" }`,
        `    volumes: ["api-data:/data:ro", "${stopped}:/stopped"]`,
        '    restart: on-failure',
        '    stop_timeout: 20s',
        `    health_check: { url: "http://127.0.0.1:${ports.api}/version", body_contains: "\${version}", retries: 20 }`,
        ...composeApp('legacy'),
        ...composeApp('web'),
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  it('docker: builds and runs 1.0.0, then 2.0.0, stopping the old container gracefully, and a rollback runs the 1.0.0 image again', async () => {
    // The first deploy has no container to stop, and does not fail for it.
    const first = await runCli(['deploy', 'api', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('no container api-dev yet');
    expect(first.stderr).not.toContain('docker stop');
    expect(await served(ports.api!)).toBe('1.0.0');
    // The next one stops it with SIGTERM (within stop_timeout) once the new image is built, and only then removes it.
    const second = await runCli(['deploy', 'api', '-e', 'dev', '--version', '2.0.0'], { env, timeoutMs: 120_000 });
    expect(second.code, second.stderr).toBe(0);
    const steps = ['$ docker build -t deployctl-test/api:2.0.0', '$ docker stop -t 20 api-dev\n', '$ docker rm -f api-dev\n', '$ docker run -d --name api-dev'].map((s) => second.stderr.indexOf(s));
    expect(steps.every((at, i) => at >= 0 && (i === 0 || at > steps[i - 1]!)), second.stderr).toBe(true);
    expect(readdirSync(stopped)).toEqual(['1.0.0']);
    expect(await served(ports.api!)).toBe('2.0.0');
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:2.0.0');
    const settings = JSON.parse(docker('inspect', '--format', '{"env":{{json .Config.Env}},"restart":{{json .HostConfig.RestartPolicy.Name}},"mounts":{{json .Mounts}},"network":{{json .HostConfig.NetworkMode}}}', 'api-dev'));
    expect(settings.env).toEqual(expect.arrayContaining([`PORT=${ports.api}`, 'DEPLOY_VERSION=2.0.0']));
    expect(settings).toMatchObject({ restart: 'on-failure', network: 'host' });
    // docker inspect lists mounts in no fixed order
    const mounts = [...(settings.mounts as Array<{ Destination: string }>)].sort((a, b) => a.Destination.localeCompare(b.Destination));
    expect(mounts).toMatchObject([
      { Type: 'volume', Name: 'api-data', Destination: '/data', RW: false },
      { Type: 'bind', Source: stopped, Destination: '/stopped', RW: true },
    ]);
    const back = await runCli(['rollback', 'api', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('docker build');
    expect(back.stderr).toMatch(/\$ docker image inspect --format \S+ deployctl-test\/api:1\.0\.0\n/);
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:1.0.0');
    expect(await served(ports.api!)).toBe('1.0.0');
    expect(readdirSync(stopped).sort()).toEqual(['1.0.0', '2.0.0']);
  });

  it('docker: a rollback to an image that is gone stops before the running container is touched (exit 3)', async () => {
    const running = docker('inspect', '--format', '{{.Id}}', 'api-dev');
    docker('rmi', 'deployctl-test/api:2.0.0');
    const back = await runCli(['rollback', 'api', '-e', 'dev', '--to', '2.0.0'], { env, timeoutMs: 120_000 });
    expect(back.code).toBe(3);
    expect(back.stderr).toMatch(/No such image: deployctl-test\/api:2\.0\.0/);
    expect(back.stderr).not.toMatch(/\$ docker (stop|rm)/);
    expect(docker('inspect', '--format', '{{.Id}}', 'api-dev')).toBe(running);
    expect(await served(ports.api!)).toBe('1.0.0');
  });

  it('docker: a version that fails its health check is rolled back to the previous image (exit 4)', async () => {
    const run = await runCli(['deploy', 'api', '-e', 'dev', '--version', '3.0.0', '--set', 'health_check.body_contains=never', '--set', 'health_check.retries=1'], { env, timeoutMs: 120_000 });
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('rolled back automatically to 1.0.0');
    expect(docker('inspect', '--format', '{{.Config.Image}}', 'api-dev')).toBe('deployctl-test/api:1.0.0');
    expect(await served(ports.api!)).toBe('1.0.0');
  });

  /**
   * Deploy 1.0.0 and 1.1.0, change the app and deploy 1.1.0 again: it is built again. Then change the
   * compose file to a fixed tag and roll back: the rollback runs the image stored in the 1.0.0 record
   * anyway (not rebuilt from today's files), pinned by an override file that is gone afterwards, and
   * with the env file of 1.0.0 (its content from the record, not today's file).
   */
  async function deployNewVersionRollBack(app: string, runEnv: NodeJS.ProcessEnv, up: RegExp, rollbackUp: string) {
    const deploy = async (version: string, serves: string) => {
      writeFileSync(join(dir, app, 'app.env'), `NOTE=note of ${serves}\n`);
      // The built binary: whether the compose plugin is there is probed with the process's own
      // environment (executors/docker-compose.ts hasComposePlugin), which runEnv must be.
      const run = await runCli(['deploy', app, '-e', 'dev', '--version', version], { env: runEnv, timeoutMs: 180_000, spawn: true });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(up);
      // Built from the app's files, never looked for in a registry first (the plugin does that without --build).
      expect(run.stderr).not.toMatch(/Pulling|registry-1\.docker\.io/);
      expect(await served(ports[app]!)).toBe(serves);
      expect(await served(ports[app]!, 'note')).toBe(`note of ${serves}`);
    };
    await deploy('1.0.0', '1.0.0');
    await deploy('1.1.0', '1.1.0');
    writeFileSync(join(dir, app, 'Dockerfile'), DOCKERFILE.replace('echo "$VERSION"', 'echo "$VERSION rebuilt"'));
    await deploy('1.1.0', '1.1.0 rebuilt');
    const file = join(dir, app, 'docker-compose.yml');
    const edited = readFileSync(file, 'utf8').replace(`image: deployctl-test/${app}:\${DEPLOY_VERSION}`, `image: deployctl-test/${app}:edited`);
    expect(edited).toContain(':edited');
    writeFileSync(file, edited);
    const back = await runCli(['rollback', app, '-e', 'dev'], { env: runEnv, timeoutMs: 180_000, spawn: true });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain(`pinning the images of the record: deployctl-test/${app}:1.0.0`);
    expect(back.stderr).toContain(`-f ${join(tmp, '')}`);
    expect(back.stderr).toMatch(new RegExp(`-f \\S+/pinned-images\\.yml -p ${app}-dev --env-file \\S+/env-1-app\\.env ${rollbackUp}\\n`));
    expect(readdirSync(tmp).filter((f) => f.startsWith('deployctl-'))).toEqual([]);
    expect(await served(ports[app]!)).toBe('1.0.0');
    expect(await served(ports[app]!, 'note')).toBe('note of 1.0.0');
    // The secret in env_vars is stored as ***, and the rollback started the container with its real value.
    expect(await served(ports[app]!, 'token')).toBe(SECRET);
    expect(docker('ps', '--format', '{{.Image}}', '--filter', `label=com.docker.compose.project=${app}-dev`)).toBe(`deployctl-test/${app}:1.0.0`);
    const envVars = { PORT: String(ports[app]), TOKEN: '***' };
    expect((await records(app, runEnv)).map((r) => [r.action, r.version, r.artifacts.images, r.artifacts.env_vars])).toEqual([
      ['rollback', '1.0.0', { web: `deployctl-test/${app}:1.0.0` }, envVars],
      ['deploy', '1.1.0', { web: `deployctl-test/${app}:1.1.0` }, envVars],
      ['deploy', '1.1.0', { web: `deployctl-test/${app}:1.1.0` }, envVars],
      ['deploy', '1.0.0', { web: `deployctl-test/${app}:1.0.0` }, envVars],
    ]);
    expect(filesHolding(runEnv.DEPLOYCTL_HOME!, SECRET)).toEqual([]);
  }

  it.skipIf(composePluginMissing())('docker compose (the v2 plugin): deploy with --wait, built for each deploy, new version, a rollback pins the stored images', async () => {
    expect(execFileSync('docker', ['compose', 'version'], { env: pluginEnv, encoding: 'utf8' })).toMatch(/version v?2\./);
    await deployNewVersionRollBack('web', pluginEnv, /\$ docker compose -f \S+ -p web-dev --env-file \S+\/web\/app\.env up -d --remove-orphans --wait --build\n/, 'up -d --remove-orphans --wait --no-build');
  }, 300_000);

  it.skipIf(toolMissing('docker-compose'))('docker-compose (the v1 binary, as the fallback when the compose plugin is missing): deploy, built for each deploy, new version, a rollback pins the stored images', async () => {
    let plugin = true;
    try {
      execFileSync('docker', ['compose', 'version'], { env, stdio: 'ignore' });
    } catch {
      plugin = false;
    }
    expect(plugin, 'a compose plugin is installed for the whole machine: the fallback cannot be tested here').toBe(false);
    await deployNewVersionRollBack('legacy', env, /\$ docker-compose -f \S+ -p legacy-dev --env-file \S+\/legacy\/app\.env up -d --remove-orphans --build\n/, 'up -d --remove-orphans --no-build');
    // Five runs of the python docker-compose, each reading the project first (config) on a shared machine.
  }, 300_000);
});
