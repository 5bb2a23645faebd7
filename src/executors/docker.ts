// docker: build (or pull) image:version, then replace the container by name. The old container is
// removed only once the new image is there. Environment values reach the container through the
// environment (`-e KEY`), never on the command line. A rollback runs the stored image reference.
import type { Command, Executor, PlanInput } from './types.js';

export function imageReference(image: string, version: string): string {
  return version.includes('@sha256:') ? `${image}${version.slice(version.indexOf('@'))}` : `${image}:${version}`;
}

export function planDockerDeploy(input: PlanInput): Command[] {
  const c = input.config;
  const docker = input.tools.docker ?? 'docker';
  const stored = typeof input.artifacts?.image === 'string' ? input.artifacts.image : undefined;
  const image = stored ?? imageReference(String(c.image), input.version);
  const name = String(c.container_name ?? `${input.app}-${input.env}`);
  const containerEnv = Object.fromEntries(Object.entries((c.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const buildArgs = Object.fromEntries(Object.entries(((c.build as { args?: Record<string, unknown> } | undefined)?.args ?? {})).map(([k, v]) => [k, String(v)]));
  const env = { ...input.childEnv, ...containerEnv, ...buildArgs };
  const base = { cwd: c.path, env, timeoutMs: c.timeout, mutates: true, phase: 'deploy' as const };
  const commands: Command[] = [];
  const build = c.build as { dockerfile?: string; context?: string } | undefined;
  if (!stored && build) {
    commands.push({
      ...base,
      file: docker,
      args: ['build', '-t', image, ...(build.dockerfile ? ['-f', build.dockerfile] : []), ...Object.keys(buildArgs).flatMap((k) => ['--build-arg', k]), build.context ?? c.path],
      label: `docker build ${image}`,
    });
  } else if (!stored) {
    commands.push({ ...base, file: docker, args: ['pull', image], label: `docker pull ${image}` });
  }
  commands.push(
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
        ...((c.ports as string[] | undefined) ?? []).flatMap((p) => ['-p', p]),
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

export const dockerExecutor: Executor = {
  type: 'docker',
  tools: () => ['docker'],
  async plan(input) {
    const image = typeof input.artifacts?.image === 'string' ? input.artifacts.image : imageReference(String(input.config.image), input.version);
    return { commands: planDockerDeploy(input), artifacts: { image }, notes: [] };
  },
  async verify(input, runner) {
    const name = String(input.config.container_name ?? `${input.app}-${input.env}`);
    const result = await runner.run({
      file: input.tools.docker ?? 'docker',
      args: ['inspect', '--format', '{{json .State}}', name],
      cwd: input.config.path,
      env: input.childEnv,
      timeoutMs: 30_000,
      mutates: false,
      label: 'docker inspect',
      phase: 'verify',
    });
    try {
      const state = JSON.parse(result.stdout) as { Running?: boolean; Status?: string };
      return state.Running ? { ok: true, message: `container ${name} is running` } : { ok: false, message: `container ${name} is ${state.Status ?? 'not running'}` };
    } catch {
      return { ok: false, message: `container ${name} not found` };
    }
  },
};
