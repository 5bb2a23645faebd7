// docker-compose: `docker compose -f FILE -p PROJECT up -d --remove-orphans --wait --build`, with
// env_vars and DEPLOY_VERSION in the environment so the compose file can use `image:
// app:${DEPLOY_VERSION}`. Falls back to the `docker-compose` binary (v1) when the compose plugin is
// missing. Services with a build section are built for each deploy (`build: false` leaves it to
// compose), and `pull:` is compose's pull policy. The image of each service is kept in the record; a
// rollback pins those images on top of the compose file (an override file, written for each command
// and removed after it) and builds nothing, so it runs the same images even when the compose file changed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../vendor/yaml.js';
import type { AppConfig } from '../config/types.js';
import { ToolMissingError } from '../errors.js';
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

interface ComposeCli {
  file: string;
  /** Everything before the subcommand: `compose -f FILE [-f PINS] -p PROJECT`. */
  prefix: string[];
  v1: boolean;
  /** The override pinning the stored images, for the runner to write while a command runs. */
  files?: Record<string, string>;
}

/** The services of the compose file as written; undefined when it cannot be read (compose will say why). */
type ComposeServices = Record<string, { build?: unknown } | null> | undefined;

function composeFile(config: AppConfig): string {
  return String(config.compose_file ?? `${config.path}/docker-compose.yml`);
}

function readServices(config: AppConfig): ComposeServices {
  try {
    return ((parse(readFileSync(composeFile(config), 'utf8')) as { services?: ComposeServices } | null)?.services ?? {}) as ComposeServices;
  } catch {
    return undefined;
  }
}

/** On a rollback: the stored image of each service that today's compose file still defines. */
export function pinnedImages(input: PlanInput, services = readServices(input.config)): Record<string, string> | undefined {
  const stored = input.artifacts?.images as Record<string, unknown> | undefined;
  if (!stored || typeof stored !== 'object') return undefined;
  const pins = Object.entries(stored).filter((e): e is [string, string] => typeof e[1] === 'string' && (!services || Object.hasOwn(services, e[0])));
  return pins.length ? Object.fromEntries(pins) : undefined;
}

const isV1 = (input: PlanInput) => 'docker-compose' in input.tools && !('docker' in input.tools);
/**
 * compose has no prepare step: artifacts in its plan input are those of a stored record, re-applied as
 * they were (a rollback, or a promotion carrying the source's images), so nothing is built.
 */
const reappliesStored = (input: PlanInput) => input.artifacts !== undefined;
const builds = (config: AppConfig) => config.build !== false;
const pullPolicy = (config: AppConfig) => String(config.pull ?? 'missing');
/** In a folder of its own for this run, which the runner makes before each command and removes after it. */
const overridePath = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}`, 'pinned-images.yml');

function composeCli(input: PlanInput, services = readServices(input.config)): ComposeCli {
  const v1 = isV1(input);
  const project = String(input.config.project ?? `${input.app}-${input.env}`);
  // JSON is YAML: an override that sets only the image of each pinned service. It is a file, not
  // stdin: v1 reads `-f -` only as the one file.
  const pins = pinnedImages(input, services);
  const override = pins ? { [overridePath(input)]: JSON.stringify({ services: Object.fromEntries(Object.entries(pins).map(([s, image]) => [s, { image }])) }) } : undefined;
  const files = ['-f', composeFile(input.config), ...(override ? ['-f', overridePath(input)] : []), '-p', project];
  return v1
    ? { file: input.tools['docker-compose'] ?? 'docker-compose', prefix: files, v1, files: override }
    : { file: input.tools.docker ?? 'docker', prefix: ['compose', ...files], v1, files: override };
}

function childEnv(input: PlanInput): Record<string, string> {
  const vars = Object.fromEntries(Object.entries((input.config.env_vars ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return { ...input.childEnv, ...vars };
}

export function planComposeDeploy(input: PlanInput, services = readServices(input.config)): Command[] {
  const config = input.config;
  const cli = composeCli(input, services);
  const chosen = (config.services as string[] | undefined) ?? [];
  const name = cli.v1 ? 'docker-compose' : 'docker compose';
  const base = { file: cli.file, cwd: config.path, env: childEnv(input), timeoutMs: config.timeout, mutates: true, phase: 'deploy' as const, ...(cli.files ? { files: cli.files } : {}) };
  const commands: Command[] = [];
  const pull = pullPolicy(config);
  if (cli.v1 && pull === 'always') {
    // v1's `up` has no --pull: pull first, the services that are not built here.
    const pulled = services && Object.keys(services).filter((s) => (chosen.length === 0 || chosen.includes(s)) && !(builds(config) && services[s]?.build !== undefined));
    if (!pulled || pulled.length) commands.push({ ...base, args: [...cli.prefix, 'pull', ...(pulled ?? chosen)], label: `${name} pull` });
  }
  const build = reappliesStored(input) ? ['--no-build'] : builds(config) ? ['--build'] : [];
  commands.push({
    ...base,
    args: [...cli.prefix, 'up', '-d', '--remove-orphans', ...(cli.v1 ? [] : ['--wait']), ...build, ...(cli.v1 || pull === 'missing' ? [] : ['--pull', pull]), ...chosen],
    label: `${name} up`,
  });
  return commands;
}

interface ServiceState {
  service: string;
  running: boolean;
  state: string;
  image?: string;
}

/** What runs now, per service: `compose ps --all --format json` (v2), or `ps --services` and `config` (v1). */
async function serviceStates(input: PlanInput, runner: Runner): Promise<ServiceState[] | string> {
  const cli = composeCli(input);
  const services = (input.config.services as string[] | undefined) ?? [];
  // The same files as `up`, the pinned images included.
  const run = (args: string[], label: string) =>
    runner.run({ file: cli.file, args: [...cli.prefix, ...args], cwd: input.config.path, env: childEnv(input), timeoutMs: 60_000, mutates: false, label, phase: 'verify', ...(cli.files ? { files: cli.files } : {}) });
  if (!cli.v1) {
    const ps = await run(['ps', '--all', '--format', 'json', ...services], 'compose ps');
    if (ps.exitCode !== 0) return `compose ps failed: exit code ${ps.exitCode}`;
    const text = ps.stdout.trim();
    const rows = (text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l))) as Array<{ Service: string; State: string; ExitCode?: number; Image?: string }>;
    // A one-shot service (a migration) that exited 0 is done, not down.
    return rows.map((r) => ({ service: r.Service, running: r.State === 'running' || (r.State === 'exited' && r.ExitCode === 0), state: r.State, image: r.Image }));
  }
  const running = await run(['ps', '--services', '--filter', 'status=running', ...services], 'docker-compose ps');
  if (running.exitCode !== 0) return `docker-compose ps failed: exit code ${running.exitCode}`;
  const config = await run(['config'], 'docker-compose config');
  if (config.exitCode !== 0) return `docker-compose config failed: exit code ${config.exitCode}`;
  const up = new Set(running.stdout.split('\n').map((s) => s.trim()).filter(Boolean));
  const defined = ((parse(config.stdout) as { services?: Record<string, { image?: string }> } | null)?.services ?? {}) as Record<string, { image?: string }>;
  return Object.entries(defined)
    .filter(([service]) => services.length === 0 || services.includes(service))
    .map(([service, s]) => ({ service, running: up.has(service), state: up.has(service) ? 'running' : 'not running', image: s.image }));
}

export const dockerComposeExecutor: Executor = {
  type: 'docker-compose',
  tools(config, overrides) {
    if (hasComposePlugin(overrides.docker ?? 'docker')) return ['docker'];
    if (pullPolicy(config) === 'never') {
      throw new ToolMissingError('pull: never needs the docker compose plugin: docker-compose v1 pulls missing images itself', 'install the compose plugin (see `docker compose version`), or set pull: missing');
    }
    return ['docker-compose'];
  },
  async plan(input) {
    // The compose file, read once: which stored images still have a service, and what is built.
    const services = readServices(input.config);
    const pins = pinnedImages(input, services);
    return {
      commands: planComposeDeploy(input, services),
      artifacts: { env_vars: input.config.env_vars ?? {}, project: input.config.project ?? `${input.app}-${input.env}`, ...(pins ? { images: pins } : {}) },
      notes: pins ? [`pinning the images of the record: ${Object.values(pins).join(', ')}`] : [],
    };
  },
  async verify(input, runner: Runner) {
    const states = await serviceStates(input, runner);
    if (typeof states === 'string') return { ok: false, message: states };
    if (states.length === 0) return { ok: false, message: 'no service is running' };
    const images = Object.fromEntries(states.filter((s) => s.image).map((s) => [s.service, s.image!]));
    const artifacts = { services: [...new Set(states.map((s) => s.service))], ...(Object.keys(images).length ? { images } : {}) };
    const down = states.filter((s) => !s.running);
    return down.length
      ? { ok: false, message: `not running: ${down.map((s) => `${s.service} (${s.state})`).join(', ')}`, artifacts }
      : { ok: true, message: `${states.length} service(s) running`, artifacts };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { dockerComposeSettings, type DockerComposeSettings } from './settings/docker-compose.js';
