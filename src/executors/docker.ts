// docker: build (or pull) image:version, then replace the container by name. The old container is
// stopped (SIGTERM, then SIGKILL after stop_timeout) and removed only once the new image is there: on a
// rollback, the stored image reference is pulled again, or, when it was built here, looked up, before
// anything is stopped. Environment values reach the container through the environment (`-e KEY`),
// never on the command line.
import type { AppConfig } from '../config/types.js';
import { failureReason, type Command, type Executor, type PlanInput, type PrepareResult, type Runner } from './types.js';

export function imageReference(image: string, version: string): string {
  return version.includes('@sha256:') ? `${image}${version.slice(version.indexOf('@'))}` : `${image}:${version}`;
}

/** The image to run: the one stored in the record on a rollback, else `image:version` (image defaults to the app's name). */
function imageOf(input: PlanInput): { image: string; stored: boolean } {
  const stored = input.artifacts?.image;
  if (typeof stored === 'string') return { image: stored, stored: true };
  return { image: imageReference(String(input.config.image ?? input.app), input.version), stored: false };
}

const containerName = (input: PlanInput) => String(input.config.container_name ?? `${input.app}-${input.env}`);
/** Seconds `docker stop` waits for the old container to exit before it kills it (stop_timeout, in ms once loaded). */
const stopSeconds = (config: AppConfig) => Math.ceil(Number(config.stop_timeout ?? 10_000) / 1000);

/** `ports:` as given, plus the seed's `port: 5001` shorthand for `5001:5001`. */
function portsOf(config: AppConfig): string[] {
  const ports = (config.ports as string[] | undefined) ?? [];
  return config.port === undefined ? ports : [`${String(config.port)}:${String(config.port)}`, ...ports];
}

export function planDockerDeploy(input: PlanInput): Command[] {
  const c = input.config;
  const docker = input.tools.docker ?? 'docker';
  const { image, stored } = imageOf(input);
  const name = containerName(input);
  const containerEnv = Object.fromEntries(Object.entries((c.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const buildArgs = Object.fromEntries(Object.entries(((c.build as { args?: Record<string, unknown> } | undefined)?.args ?? {})).map(([k, v]) => [k, String(v)]));
  const env = { ...input.childEnv, ...containerEnv, ...buildArgs };
  const base = { cwd: c.path, env, timeoutMs: c.timeout, mutates: true, phase: 'deploy' as const };
  const commands: Command[] = [];
  const build = c.build as { dockerfile?: string; context?: string; target?: string } | undefined;
  if (!stored && build) {
    commands.push({
      ...base,
      file: docker,
      args: ['build', '-t', image, ...(build.dockerfile ? ['-f', build.dockerfile] : []), ...(build.target ? ['--target', build.target] : []), ...Object.keys(buildArgs).flatMap((k) => ['--build-arg', k]), build.context ?? c.path],
      label: `docker build ${image}`,
    });
  } else if (stored && build) {
    // Built here, so it cannot be pulled: it must still be there, or nothing is stopped.
    commands.push({ ...base, file: docker, args: ['image', 'inspect', '--format', '{{.Id}}', image], mutates: false, label: `docker image inspect ${image}` });
  } else {
    commands.push({ ...base, file: docker, args: ['pull', image], label: `docker pull ${image}` });
  }
  // prepare looked for it; when it could not (a dry run without docker), the stop is shown in case.
  if (input.artifacts?.container_exists !== false) {
    const seconds = stopSeconds(c);
    commands.push({ ...base, file: docker, args: ['stop', '-t', String(seconds), name], timeoutMs: Math.max(c.timeout, (seconds + 30) * 1000), label: `docker stop ${name}` });
  }
  commands.push(
    // Stopped, or not stoppable: nothing of it may stay in the way of the new one.
    { ...base, file: docker, args: ['rm', '-f', name], label: `docker rm -f ${name}` },
    {
      ...base,
      file: docker,
      args: [
        'run',
        '-d',
        '--name',
        name,
        '--restart',
        String(c.restart ?? 'unless-stopped'),
        ...(c.network ? ['--network', String(c.network)] : []),
        ...portsOf(c).flatMap((p) => ['-p', p]),
        ...Object.keys(containerEnv).flatMap((k) => ['-e', k]),
        '-e',
        'DEPLOY_VERSION',
        ...((c.volumes as string[] | undefined) ?? []).flatMap((v) => ['-v', v]),
        '--label',
        `deployctl.app=${input.app}`,
        '--label',
        `deployctl.env=${input.env}`,
        image,
        ...((c.command as string[] | undefined) ?? []),
      ],
      label: `docker run ${name}`,
    },
  );
  return commands;
}

/** Whether a container of that name is there (running or not): only then is there one to stop. */
async function findContainer(input: PlanInput, runner: Runner): Promise<PrepareResult> {
  const name = containerName(input);
  const result = await runner.run({
    file: input.tools.docker ?? 'docker',
    // The name filter is a regular expression: anchored, its dots taken literally.
    args: ['ps', '--all', '--quiet', '--filter', `name=^${name.replaceAll('.', '\\.')}$`],
    cwd: input.config.path,
    env: input.childEnv,
    timeoutMs: 30_000,
    mutates: false,
    label: 'docker ps',
    phase: 'deploy',
  });
  if (result.exitCode === 0) {
    const exists = result.stdout.trim() !== '';
    const message = exists ? `container ${name} is there: it is stopped (docker stop -t ${stopSeconds(input.config)}) once the new image is ready` : `no container ${name} yet`;
    return { ok: true, artifacts: { container_exists: exists }, message };
  }
  const why = failureReason(result);
  // A dry run shows the plan anyway, the stop included; a deploy stops here, nothing changed.
  if (input.dryRun) return { ok: true, artifacts: {}, message: `could not look for container ${name}: ${why}; the plan shows its stop in case it is there` };
  return { ok: false, message: `docker ps failed, nothing was changed: ${why}` };
}

export const dockerExecutor: Executor = {
  type: 'docker',
  tools: () => ['docker'],
  prepare: findContainer,
  async plan(input) {
    return { commands: planDockerDeploy(input), artifacts: { image: imageOf(input).image }, notes: [] };
  },
  async planDestroy(input) {
    const name = containerName(input);
    const base = { file: input.tools.docker ?? 'docker', cwd: input.config.path, env: input.childEnv, timeoutMs: input.config.timeout, phase: 'deploy' as const };
    // prepare looked for it: a container already gone is nothing to remove.
    if (input.artifacts?.container_exists === false) return { commands: [], artifacts: {}, notes: [`no container ${name}: nothing to remove`] };
    return {
      commands: [{ ...base, args: ['rm', '-f', name], mutates: true, label: `docker rm -f ${name}` }],
      artifacts: {},
      notes: [`the container ${name} goes; its image ${imageOf(input).image} and named volumes are kept`],
    };
  },
  async verify(input, runner) {
    const name = containerName(input);
    const { image } = imageOf(input);
    const result = await runner.run({
      file: input.tools.docker ?? 'docker',
      args: ['inspect', '--format', '{"State":{{json .State}},"Image":{{json .Config.Image}},"ImageId":{{json .Image}}}', name],
      cwd: input.config.path,
      env: input.childEnv,
      timeoutMs: 30_000,
      mutates: false,
      label: 'docker inspect',
      phase: 'verify',
    });
    let found: { State: { Running?: boolean; Restarting?: boolean; Status?: string }; Image: string; ImageId: string };
    try {
      found = JSON.parse(result.stdout);
    } catch {
      return { ok: false, message: `container ${name} not found` };
    }
    if (found.Image !== image) return { ok: false, message: `container ${name} runs ${found.Image}, not ${image}` };
    if (!found.State.Running || found.State.Restarting) return { ok: false, message: `container ${name} is ${found.State.Status ?? 'not running'}` };
    return { ok: true, message: `container ${name} runs ${image}`, artifacts: { image_id: found.ImageId } };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { dockerSettings, type DockerSettings } from './settings/docker.js';
