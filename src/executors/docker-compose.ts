// docker-compose: `docker compose -f FILE -p PROJECT up -d --remove-orphans --wait`, with env_vars and
// DEPLOY_VERSION in the environment so the compose file can use `image: app:${DEPLOY_VERSION}`. Falls
// back to the `docker-compose` binary (v1) when the compose plugin is missing.
import { execFileSync } from 'node:child_process';
import type { AppConfig } from '../config/types.js';
import type { Command, Executor, PlanInput, Runner } from './types.js';

/** True when `docker compose` (the v2 plugin) answers here. */
export function hasComposePlugin(docker = 'docker'): boolean {
  try {
    execFileSync(docker, ['compose', 'version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function composeArgv(input: PlanInput): { file: string; prefix: string[]; v1: boolean } {
  const v1 = 'docker-compose' in input.tools && !('docker' in input.tools);
  const c = input.config;
  const project = String(c.project ?? `${input.app}-${input.env}`);
  const files = ['-f', String(c.compose_file ?? `${c.path}/docker-compose.yml`), '-p', project];
  return v1
    ? { file: input.tools['docker-compose'] ?? 'docker-compose', prefix: files, v1 }
    : { file: input.tools.docker ?? 'docker', prefix: ['compose', ...files], v1 };
}

function childEnv(input: PlanInput): Record<string, string> {
  const vars = Object.fromEntries(Object.entries((input.config.env_vars ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return { ...input.childEnv, ...vars };
}

export function planComposeDeploy(input: PlanInput): Command[] {
  const { file, prefix, v1 } = composeArgv(input);
  const services = (input.config.services as string[] | undefined) ?? [];
  return [
    {
      file,
      args: [...prefix, 'up', '-d', '--remove-orphans', ...(v1 ? [] : ['--wait']), ...services],
      cwd: input.config.path,
      env: childEnv(input),
      timeoutMs: input.config.timeout,
      mutates: true,
      label: `${v1 ? 'docker-compose' : 'docker compose'} up`,
      phase: 'deploy',
    },
  ];
}

export const dockerComposeExecutor: Executor = {
  type: 'docker-compose',
  tools: (config: AppConfig) => {
    const docker = ((config as { tools?: Record<string, string> }).tools ?? {}).docker ?? 'docker';
    return hasComposePlugin(docker) ? ['docker'] : ['docker-compose'];
  },
  async plan(input) {
    return { commands: planComposeDeploy(input), artifacts: { env_vars: input.config.env_vars ?? {}, project: input.config.project ?? `${input.app}-${input.env}` }, notes: [] };
  },
  async verify(input, runner: Runner) {
    const { file, prefix, v1 } = composeArgv(input);
    const result = await runner.run({
      file,
      args: [...prefix, 'ps', ...(v1 ? [] : ['--format', 'json'])],
      cwd: input.config.path,
      env: childEnv(input),
      timeoutMs: 60_000,
      mutates: false,
      label: 'compose ps',
      phase: 'verify',
    });
    if (result.exitCode !== 0) return { ok: false, message: `compose ps failed: exit code ${result.exitCode}` };
    if (v1) return { ok: !/Exit|Restarting/.test(result.stdout), message: 'services listed by docker-compose ps' };
    const text = result.stdout.trim();
    const services = (text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l))) as Array<{ Service: string; State: string }>;
    const down = services.filter((s) => s.State !== 'running');
    if (services.length === 0) return { ok: false, message: 'no service is running' };
    return down.length
      ? { ok: false, message: `not running: ${down.map((s) => `${s.Service} (${s.State})`).join(', ')}` }
      : { ok: true, message: `${services.length} service(s) running`, artifacts: { services: services.map((s) => s.Service) } };
  },
};
