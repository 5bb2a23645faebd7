// docker-compose: `docker compose -f FILE... -p PROJECT up -d --remove-orphans --wait --build`, with
// env_vars and DEPLOY_VERSION in the environment so the compose file can use `image:
// app:${DEPLOY_VERSION}`. Falls back to the `docker-compose` binary (v1) when the compose plugin is
// missing. Without compose_file, compose's own discovery: the first of compose.yaml, compose.yml,
// docker-compose.yaml, docker-compose.yml in path, with its override file (compose.override.yaml...)
// when there is one. compose_file may be a list (-f a -f b), env_file a list (--env-file), profiles a
// list (--profile).
//
// The project is read as compose resolves it (`config --format json`: include, extends, several
// files, profiles, env files) before anything changes. A service with a build section and no image is
// tagged with the version by deployctl (image `<project>-<service>:<version>`, through an override
// file), so that a rollback runs the image it built then instead of rebuilding from today's code. What a
// rollback cannot restore (bind-mounted source, images without a version) is said at deploy time.
// The image of each service is kept in the record; a rollback pins those images on top of the compose
// files (an override file, written for each command and removed after it) and builds nothing.
// The content of the env files is kept in the record too, and a rollback (and a destroy) runs with that
// content, not today's files (as terraform's var files): a value that looks like a secret (a word of its
// name is a token, secret, password, key...: looksSecret) is kept as *** and taken from today's env file
// when it is re-applied.
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from '../vendor/yaml.js';
import type { AppConfig } from '../config/types.js';
import { looksSecret } from '../config/secret-env.js';
import { ConfigError, ToolMissingError } from '../errors.js';
import { COMPOSE_DEFAULT_FILES } from './compose-files.js';
import { failureReason, type Command, type Executor, type PlanInput, type PrepareResult, type Runner } from './types.js';

const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

const listOf = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/**
 * The compose files, as compose itself would take them: compose_file (one or a list), else the first
 * of its default names in path and its override file. Empty when there is none (compose will say so).
 */
export function composeFiles(config: AppConfig): string[] {
  const named = listOf(config.compose_file);
  if (named.length) return named.map((f) => resolve(config.path, f));
  const found = COMPOSE_DEFAULT_FILES.map((f) => join(config.path, f)).find((f) => existsSync(f));
  if (!found) return [];
  const override = OVERRIDE_FILES.map((f) => join(config.path, f)).find((f) => existsSync(f));
  return override ? [found, override] : [found];
}

/** What deployctl knows of one service, as compose resolved it. */
interface ResolvedService {
  image?: string;
  build: boolean;
  /** Bind mounts: host paths a rollback does not restore. */
  binds: string[];
}
type ResolvedProject = Record<string, ResolvedService>;

interface ComposeCli {
  file: string;
  /** Everything before the subcommand: `compose -f FILE... [-f OVERRIDE] -p PROJECT --env-file... --profile...`. */
  prefix: string[];
  v1: boolean;
  /** The override (pinned images, or version tags), for the runner to write while a command runs. */
  files?: Record<string, string>;
}

const isV1 = (input: PlanInput) => 'docker-compose' in input.tools && !('docker' in input.tools);
const projectOf = (input: PlanInput) => String(input.config.project ?? `${input.app}-${input.env}`);
const builds = (config: AppConfig) => config.build !== false;
const pullPolicy = (config: AppConfig) => String(config.pull ?? 'missing');
/** In a folder of its own for this run, which the runner makes before each command and removes after it. */
const overridePath = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}`, 'pinned-images.yml');
const resolvedOf = (input: PlanInput) => input.artifacts?.resolved as ResolvedProject | undefined;

/** The images a stored record ran, re-applied as they were (a rollback, or a promotion carrying the source's images). */
function storedImages(input: PlanInput): Record<string, string> | undefined {
  const stored = input.artifacts?.images as Record<string, unknown> | undefined;
  return stored && typeof stored === 'object' ? (stored as Record<string, string>) : undefined;
}
const reappliesStored = (input: PlanInput) => storedImages(input) !== undefined;

/** On a rollback: the stored image of each service that today's project still defines. */
function pinnedImages(input: PlanInput, services = resolvedOf(input)): Record<string, string> | undefined {
  const stored = storedImages(input);
  if (!stored) return undefined;
  const pins = Object.entries(stored).filter((e): e is [string, string] => typeof e[1] === 'string' && (!services || Object.hasOwn(services, e[0])));
  return pins.length ? Object.fromEntries(pins) : undefined;
}

/** A tag that names the version (or a digest): what a rollback can find again. */
function isVersioned(image: string, version: string): boolean {
  if (image.includes('@sha256:')) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && (tag.includes(version) || /\d/.test(tag));
}

/** Built services without an image of their own: deployctl names them `<project>-<service>:<version>`. */
function versionTags(input: PlanInput, services = resolvedOf(input)): Record<string, string> | undefined {
  if (!services || reappliesStored(input) || !builds(input.config)) return undefined;
  const project = projectOf(input).toLowerCase();
  const tags = Object.entries(services)
    .filter(([, s]) => s.build && !s.image)
    .map(([name]) => [name, `${project}-${name.toLowerCase()}:${input.version}`]);
  return tags.length ? Object.fromEntries(tags) : undefined;
}

/** One env file as the record keeps it: its name as configured, and its content (secret-looking values as ***, named in `masked`). */
interface StoredEnvFile {
  path: string;
  content: string;
  masked?: string[];
}

/** `KEY=value` (or `export KEY=value`) in an env file: the key, and the value as written. */
const ENV_LINE = /^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*)(.*)$/;

/**
 * An env file's content as the record keeps it: a literal value under a name that looks like a secret is
 * kept as ***; a `${VAR}` reference stays as written (compose fills it from the environment).
 */
export function maskEnvFile(content: string): { content: string; masked: string[] } {
  const masked: string[] = [];
  const lines = content.split('\n').map((line) => {
    const m = ENV_LINE.exec(line);
    if (!m || !looksSecret(m[2]!)) return line;
    const value = m[3]!.trim().replace(/^(['"])(.*)\1$/, '$2');
    if (value === '' || value === '***' || /^\$\{[^}]+\}$|^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return line;
    masked.push(m[2]!);
    return `${m[1]}***`;
  });
  return { content: lines.join('\n'), masked };
}

/** The env files' content, read now, for the record. */
function readEnvFiles(config: AppConfig): StoredEnvFile[] {
  return listOf(config.env_file).map((configured) => {
    const file = resolve(config.path, configured);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([{ path: 'env_file', message: `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }], 'fix env_file (relative to path:)');
    }
    const { content, masked } = maskEnvFile(text);
    // As the user knows it: relative to path: when it is inside it.
    const shown = relative(config.path, file);
    return { path: shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : file, content, ...(masked.length ? { masked } : {}) };
  });
}

function storedEnvFiles(input: Pick<PlanInput, 'artifacts'>): StoredEnvFile[] | undefined {
  const stored = input.artifacts?.env_files;
  if (!Array.isArray(stored)) return undefined;
  return stored.filter((f): f is StoredEnvFile => typeof f?.path === 'string' && typeof f?.content === 'string');
}

/**
 * A stored env file's content to run with: each value kept as *** taken from today's env file of that
 * name (a secret is not part of a version), or left out (compose then reads it from the environment, or
 * its default) with a warning.
 */
function restoreEnvFile(stored: StoredEnvFile, config: AppConfig): { content: string; missing: string[] } {
  if (!stored.masked?.length) return { content: stored.content, missing: [] };
  let today: string[] = [];
  try {
    today = readFileSync(resolve(config.path, stored.path), 'utf8').split('\n');
  } catch {
    // gone since: each secret is missing
  }
  const todays = (key: string) => today.find((line) => ENV_LINE.exec(line)?.[2] === key);
  const missing: string[] = [];
  const lines = stored.content.split('\n').flatMap((line) => {
    const m = ENV_LINE.exec(line);
    if (!m || !stored.masked!.includes(m[2]!) || m[3]!.trim() !== '***') return [line];
    const found = todays(m[2]!);
    if (found === undefined) missing.push(m[2]!);
    return found === undefined ? [] : [found];
  });
  return { content: lines.join('\n'), missing };
}

/** The env files to run with: those the record stored (written for each command alone), else today's. */
function envFileArgs(input: PlanInput): { files?: Record<string, string>; args: string[] } {
  const stored = storedEnvFiles(input);
  if (!stored?.length) return { args: listOf(input.config.env_file).flatMap((f) => ['--env-file', resolve(input.config.path, f)]) };
  const files = Object.fromEntries(stored.map((f, i) => [join(dirname(overridePath(input)), `env-${i + 1}-${basename(f.path)}`), restoreEnvFile(f, input.config).content]));
  return { files, args: Object.keys(files).flatMap((f) => ['--env-file', f]) };
}

/** `pin: false`: no pinned-images or version-tag override (reading the project, down, ps after down). */
function composeCli(input: PlanInput, options: { pin?: boolean } = {}): ComposeCli {
  const v1 = isV1(input);
  const config = input.config;
  // JSON is YAML: an override that sets only the image of each service. It is a file, not stdin: v1
  // reads `-f -` only as the one file.
  const images = options.pin === false ? undefined : (pinnedImages(input) ?? versionTags(input));
  const override = images ? { [overridePath(input)]: JSON.stringify({ services: Object.fromEntries(Object.entries(images).map(([s, image]) => [s, { image }])) }) } : undefined;
  const env = envFileArgs(input);
  const written = override || env.files ? { ...override, ...env.files } : undefined;
  const files = composeFiles(config);
  const prefix = [
    ...files.flatMap((f) => ['-f', f]),
    ...(override && files.length ? ['-f', overridePath(input)] : []),
    '-p',
    projectOf(input),
    ...env.args,
    ...listOf(config.profiles).flatMap((p) => ['--profile', p]),
  ];
  return v1
    ? { file: input.tools['docker-compose'] ?? 'docker-compose', prefix, v1, files: written }
    : { file: input.tools.docker ?? 'docker', prefix: ['compose', ...prefix], v1, files: written };
}

function childEnv(input: PlanInput): Record<string, string> {
  const vars = Object.fromEntries(Object.entries((input.config.env_vars ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return { ...input.childEnv, ...vars };
}

export function planComposeDeploy(input: PlanInput): Command[] {
  const config = input.config;
  const services = resolvedOf(input);
  const cli = composeCli(input);
  const chosen = (config.services as string[] | undefined) ?? [];
  const name = cli.v1 ? 'docker-compose' : 'docker compose';
  const base = { file: cli.file, cwd: config.path, env: childEnv(input), timeoutMs: config.timeout, mutates: true, phase: 'deploy' as const, ...(cli.files ? { files: cli.files } : {}) };
  const commands: Command[] = [];
  // A dry run checks the files (read-only) the way compose reads them.
  if (input.dryRun) commands.push({ ...base, args: [...cli.prefix, 'config', '-q'], mutates: false, label: `${name} config -q` });
  const pull = pullPolicy(config);
  if (cli.v1 && pull === 'always') {
    // v1's `up` has no --pull: pull first, the services that are not built here.
    const pulled = services && Object.keys(services).filter((s) => (chosen.length === 0 || chosen.includes(s)) && !(builds(config) && services[s]?.build));
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

/**
 * `destroy`: `down --remove-orphans` with the files, project, env files (their content stored in the
 * record) and profiles of the deploy (no pinned-images override: down needs none). Volumes and images
 * are kept: a named volume holds data, and the images a rollback --to would run again.
 */
export function planComposeDestroy(input: PlanInput): Command[] {
  const cli = composeCli(input, { pin: false });
  const name = cli.v1 ? 'docker-compose' : 'docker compose';
  const base = { file: cli.file, cwd: input.config.path, env: childEnv(input), timeoutMs: input.config.timeout, phase: 'deploy' as const, ...(cli.files ? { files: cli.files } : {}) };
  return [
    // A dry run checks the files (read-only) the way compose reads them.
    ...(input.dryRun ? [{ ...base, args: [...cli.prefix, 'config', '-q'], mutates: false, label: `${name} config -q` }] : []),
    { ...base, args: [...cli.prefix, 'down', '--remove-orphans'], mutates: true, label: `${name} down` },
  ];
}

/** compose's resolved project (`config --format json`, or v1's YAML) as deployctl needs it. */
export function readResolvedProject(text: string): ResolvedProject {
  const doc = (parse(text) ?? {}) as { services?: Record<string, { image?: string; build?: unknown; volumes?: unknown[] } | null> };
  return Object.fromEntries(
    Object.entries(doc.services ?? {}).map(([name, s]) => {
      const binds = (s?.volumes ?? [])
        .map((v) => {
          if (typeof v === 'string') {
            const [source, target] = v.split(':');
            return source && target && /^[./~]/.test(source) ? `${source}:${target}` : undefined;
          }
          const volume = v as { type?: string; source?: string; target?: string };
          return volume.type === 'bind' ? `${volume.source}:${volume.target}` : undefined;
        })
        .filter((b): b is string => Boolean(b));
      return [name, { ...(s?.image ? { image: s.image } : {}), build: s?.build !== undefined && s?.build !== null, binds }];
    }),
  );
}

/** Read-only, before anything changes: the project as compose resolves it. */
async function resolveProject(input: PlanInput, runner: Runner): Promise<PrepareResult> {
  const v1 = isV1(input);
  const cli = composeCli(input, { pin: false });
  const result = await runner.run({
    ...(cli.files ? { files: cli.files } : {}),
    file: cli.file,
    args: [...cli.prefix, 'config', ...(v1 ? [] : ['--format', 'json'])],
    cwd: input.config.path,
    env: childEnv(input),
    timeoutMs: Math.min(input.config.timeout, 120_000),
    mutates: false,
    label: `${v1 ? 'docker-compose' : 'docker compose'} config`,
    phase: 'deploy',
  });
  if (result.exitCode !== 0) return { ok: false, message: `compose could not read the project, nothing was changed: ${failureReason(result)}` };
  try {
    const resolved = readResolvedProject(result.stdout);
    return { ok: true, artifacts: { resolved }, message: `compose project ${projectOf(input)}: ${Object.keys(resolved).join(', ') || 'no services'}` };
  } catch (error) {
    return { ok: false, message: `compose config printed what deployctl cannot read: ${(error as Error).message}` };
  }
}

/** What a rollback to this deploy cannot restore, said now. */
function rollbackWarnings(input: PlanInput, services: ResolvedProject, tags: Record<string, string> | undefined): string[] {
  const warnings: string[] = [];
  const chosen = (input.config.services as string[] | undefined) ?? [];
  for (const [name, s] of Object.entries(services)) {
    if (chosen.length && !chosen.includes(name)) continue;
    const image = tags?.[name] ?? s.image;
    if (image && !isVersioned(image, input.version)) {
      warnings.push(`${name}: a rollback cannot restore image ${image}: its tag has no version, so a rollback runs whatever ${image} is then (put \${DEPLOY_VERSION} in its tag)`);
    }
    if (s.binds.length) warnings.push(`${name}: a rollback cannot restore what it bind-mounts from the host (${s.binds.join(', ')}): those files stay as they are`);
  }
  return warnings;
}

interface ServiceState {
  service: string;
  running: boolean;
  state: string;
  image?: string;
}

/** What runs now, per service: `compose ps --all --format json` (v2), or `ps --services` and `config` (v1). */
async function serviceStates(input: PlanInput, runner: Runner, options: { pin?: boolean } = {}): Promise<ServiceState[] | string> {
  const cli = composeCli(input, options);
  const services = (input.config.services as string[] | undefined) ?? [];
  // The same files as `up`, the override included.
  const run = (args: string[], label: string) =>
    runner.run({ file: cli.file, args: [...cli.prefix, ...args], cwd: input.config.path, env: childEnv(input), timeoutMs: 60_000, mutates: false, label, phase: 'verify', ...(cli.files ? { files: cli.files } : {}) });
  if (!cli.v1) {
    const ps = await run(['ps', '--all', '--format', 'json', ...services], 'compose ps');
    if (ps.exitCode !== 0) return `compose ps failed: ${failureReason(ps)}`;
    const text = ps.stdout.trim();
    const rows = (text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l))) as Array<{ Service: string; State: string; ExitCode?: number; Image?: string }>;
    // A one-shot service (a migration) that exited 0 is done, not down.
    return rows.map((r) => ({ service: r.Service, running: r.State === 'running' || (r.State === 'exited' && r.ExitCode === 0), state: r.State, image: r.Image }));
  }
  const running = await run(['ps', '--services', '--filter', 'status=running', ...services], 'docker-compose ps');
  if (running.exitCode !== 0) return `docker-compose ps failed: ${failureReason(running)}`;
  const config = await run(['config'], 'docker-compose config');
  if (config.exitCode !== 0) return `docker-compose config failed: ${failureReason(config)}`;
  const up = new Set(running.stdout.split('\n').map((s) => s.trim()).filter(Boolean));
  const defined = ((parse(config.stdout) as { services?: Record<string, { image?: string }> } | null)?.services ?? {}) as Record<string, { image?: string }>;
  return Object.entries(defined)
    .filter(([service]) => services.length === 0 || services.includes(service))
    .map(([service, s]) => ({ service, running: up.has(service), state: up.has(service) ? 'running' : 'not running', image: s.image }));
}

export const dockerComposeExecutor: Executor = {
  type: 'docker-compose',
  tools(config, overrides, probe) {
    // `docker compose` (the v2 plugin) when it answers here, else docker-compose v1.
    if (probe(overrides.docker ?? 'docker', ['compose', 'version'])) return ['docker'];
    if (pullPolicy(config) === 'never') {
      throw new ToolMissingError('pull: never needs the docker compose plugin: docker-compose v1 pulls missing images itself', 'install the compose plugin (see `docker compose version`), or set pull: missing');
    }
    return ['docker-compose'];
  },
  preflight(config, artifacts) {
    const files = composeFiles(config);
    if (files.length === 0) {
      throw new ConfigError(
        [{ path: 'compose_file', message: `${config.path} has none of ${COMPOSE_DEFAULT_FILES.join(', ')}` }],
        'set compose_file: (one file or a list), or fix path:',
      );
    }
    // A rollback runs with the env files' content its record stored: today's files need not be there.
    const envFiles = storedEnvFiles({ artifacts }) ? [] : listOf(config.env_file);
    const named: Array<[string, string]> = [...files.map((file): [string, string] => ['compose_file', file]), ...envFiles.map((f): [string, string] => ['env_file', resolve(config.path, f)])];
    for (const [key, file] of named) {
      if (!existsSync(file)) throw new ConfigError([{ path: key, message: `${file} does not exist` }], 'fix the path (relative to path:)');
    }
  },
  prepare: resolveProject,
  async plan(input) {
    const services = resolvedOf(input);
    const pins = pinnedImages(input, services);
    const tags = versionTags(input, services);
    const notes: string[] = [];
    if (pins) notes.push(`pinning the images of the record: ${Object.values(pins).join(', ')}`);
    if (tags) notes.push(`built without an image name, tagged with the version: ${Object.values(tags).join(', ')}`);
    const warnings = services && !pins ? rollbackWarnings(input, services, tags) : [];
    const storedEnv = storedEnvFiles(input);
    if (storedEnv?.length) {
      notes.push(`running with the env files stored in the record: ${storedEnv.map((f) => f.path).join(', ')}`);
      for (const file of storedEnv) {
        const { missing } = restoreEnvFile(file, input.config);
        if (missing.length) {
          warnings.push(`env_file ${file.path}: ${missing.join(', ')} (kept as *** in the record, as a secret) is not in today's ${file.path}: compose takes it from the environment, or its default`);
        }
      }
    }
    const envFiles = storedEnv ?? readEnvFiles(input.config);
    const preview = services
      ? `compose services:\n${Object.entries(services)
          .map(([name, s]) => `  ${name}: ${pins?.[name] ?? tags?.[name] ?? s.image ?? `${projectOf(input)}-${name}`}${s.build && !pins ? ' (built)' : ''}`)
          .join('\n')}`
      : undefined;
    return {
      commands: planComposeDeploy(input),
      artifacts: {
        env_vars: input.config.env_vars ?? {},
        project: projectOf(input),
        ...(envFiles.length ? { env_files: envFiles } : {}),
        ...(services ? { services: Object.keys(services) } : {}),
        ...(pins ? { images: pins } : tags ? { images: { ...Object.fromEntries(Object.entries(services ?? {}).filter(([, s]) => s.image).map(([n, s]) => [n, s.image!])), ...tags } } : {}),
      },
      notes,
      ...(warnings.length ? { warnings } : {}),
      ...(input.dryRun && preview ? { preview } : {}),
    };
  },
  async planDestroy(input) {
    const project = projectOf(input);
    return {
      commands: planComposeDestroy(input),
      artifacts: { project },
      notes: [`compose project ${project}: its containers and networks go; its volumes and images are kept (remove a volume with docker volume rm)`],
    };
  },
  async verifyDestroy(input, runner: Runner) {
    const states = await serviceStates(input, runner, { pin: false });
    if (typeof states === 'string') return { ok: false, message: states };
    const left = states.filter((s) => s.running);
    return left.length ? { ok: false, message: `still running: ${left.map((s) => s.service).join(', ')}` } : { ok: true, message: `no container of project ${projectOf(input)} runs` };
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
