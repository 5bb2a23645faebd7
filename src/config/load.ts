// The config pipeline: read both YAML files with positions, check their structure against the JSON
// Schemas, check names and references, then (per app and environment) merge the layers, interpolate,
// read secrets, convert durations and paths. Every problem is collected and reported at once.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXECUTOR_SETTINGS } from '../executors/settings/index.js';
import { ConfigError, UsageError, type ConfigProblem } from '../errors.js';
import { assertVersion, isValidName, isValidVersion } from '../names.js';
import { parseDuration, parseTimeLimit } from './duration.js';
import { gitVersion } from './git-version.js';
import { checkInlineScripts } from './inline-scripts.js';
import { environmentSecrets, maskDeep } from './secret-env.js';
import { interpolateDeep, interpolateString, type InterpolationProblem } from './interpolate.js';
import { deepMerge, type Layer } from './merge.js';
import { isReservedVariable, reservedVariableMessage, setLayer } from './set.js';
import { openParseCache } from './parse-cache.js';
import { has, locate, readYamlFile, formatKeyPath, type KeyPath, type YamlFile } from './read.js';
import { checkSchema, closestName } from './schema.js';
import { APP_TYPES, type AppConfig, type EnvironmentConfig, type HealthCheckConfig, type LoadedConfig, type ResolveOptions, type ResolvedApp } from './types.js';

interface Sources {
  environments: YamlFile;
  deployments: YamlFile;
  env: NodeJS.ProcessEnv;
}

const sources = new WeakMap<LoadedConfig, Sources>();

const BUILT_IN_DEFAULTS: Layer = {
  timeout: '10m',
  variables: {},
  secrets: [],
  hooks: {},
  rollback: { auto: true, max_attempts: 3 },
};

type Raw = Record<string, any>;

function problemAt(file: YamlFile, path: KeyPath, message: string, key = false): ConfigProblem {
  return { file: file.display, ...locate(file, path, { key }), path: formatKeyPath(path), message };
}

function semanticProblems(envFile: YamlFile, depFile: YamlFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const envs = ((envFile.data as Raw).environments ?? {}) as Raw;
  const envNames = Object.keys(envs);
  for (const name of envNames) {
    if (!isValidName(name)) {
      problems.push(problemAt(envFile, ['environments', name], `invalid environment name "${name}": use lower-case letters, digits, ".", "_" and "-"`, true));
    }
    (envs[name]?.requires ?? []).forEach((req: string, i: number) => {
      if (!envNames.includes(req)) problems.push(problemAt(envFile, ['environments', name, 'requires', i], `unknown environment "${req}"`));
    });
  }
  ((envFile.data as Raw).promotion ?? []).forEach((env: string, i: number) => {
    if (!envNames.includes(env)) problems.push(problemAt(envFile, ['promotion', i], `unknown environment "${env}"`));
  });
  const apps = ((depFile.data as Raw).deployments ?? {}) as Raw;
  for (const [app, settings] of Object.entries(apps)) {
    if (!isValidName(app)) {
      problems.push(problemAt(depFile, ['deployments', app], `invalid app name "${app}": use lower-case letters, digits, ".", "_" and "-"`, true));
    }
    for (const env of Object.keys((settings as Raw)?.environments ?? {})) {
      if (!envNames.includes(env)) {
        problems.push(problemAt(depFile, ['deployments', app, 'environments', env], `unknown environment "${env}" (environments.yaml defines: ${envNames.join(', ')})`, true));
      }
    }
  }
  // State files are named `{app}_{env}`, and both names may hold '_': two targets must not share a name.
  const owners = new Map<string, string>();
  for (const app of Object.keys(apps).filter(isValidName)) {
    for (const env of envNames.filter(isValidName)) {
      const key = `${app}_${env}`;
      const other = owners.get(key);
      if (other === undefined) owners.set(key, app);
      else if (other !== app) {
        problems.push(
          problemAt(depFile, ['deployments', app], `app "${app}" in "${env}" and app "${other}" share the state file name "${key}": rename one of them so that "_" does not join them the same way`, true),
        );
      }
    }
  }
  const secretNames = [...((depFile.data as Raw).secrets ?? [])];
  secretNames.forEach((name: string, i: number) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(problemAt(depFile, ['secrets', i], `"${name}" is not an environment variable name`));
  });
  return problems;
}

export async function loadConfig(options: { configDir: string; env?: NodeJS.ProcessEnv }): Promise<LoadedConfig> {
  const environmentsFile = join(options.configDir, 'environments.yaml');
  const deploymentsFile = join(options.configDir, 'deployments.yaml');
  const problems: ConfigProblem[] = [];
  const cache = openParseCache(options.env ?? process.env);
  const envFile = await readYamlFile(environmentsFile, problems, cache);
  const depFile = await readYamlFile(deploymentsFile, problems, cache);
  if (envFile) problems.push(...(await checkSchema('environments', envFile)));
  if (depFile) problems.push(...(await checkSchema('deployments', depFile)));
  if (problems.length || !envFile || !depFile) throw new ConfigError(problems, 'fix the lines above; `deployctl validate` lists every problem');
  problems.push(...semanticProblems(envFile, depFile));
  if (problems.length) throw new ConfigError(problems, 'fix the lines above; `deployctl validate` lists every problem');

  const envData = envFile.data as Raw;
  const depData = depFile.data as Raw;
  const declared = Object.keys(envData.environments ?? {});
  const order = [...(envData.promotion ?? []), ...declared.filter((e) => !(envData.promotion ?? []).includes(e))];
  const environments: EnvironmentConfig[] = order.map((name) => {
    const raw = (envData.environments[name] ?? {}) as Raw;
    const settings: Record<string, Record<string, unknown>> = {};
    for (const type of APP_TYPES) if (raw[type]) settings[type] = raw[type];
    return {
      name,
      protected: raw.protected === true,
      requires: raw.requires ?? [],
      soak: raw.soak !== undefined ? parseDuration(raw.soak) : undefined,
      variables: Object.fromEntries(Object.entries(raw.variables ?? {}).map(([k, v]) => [k, String(v)])),
      settings,
    };
  });
  const loaded: LoadedConfig = {
    dir: options.configDir,
    environmentsFile,
    deploymentsFile,
    environments,
    apps: Object.keys(depData.deployments ?? {}),
    // A relative tool path is relative to deployments.yaml, like every path in it; a bare name is looked up on PATH.
    tools: Object.fromEntries(Object.entries((depData.tools ?? {}) as Record<string, string>).map(([k, v]) => [k, v.includes('/') ? resolve(options.configDir, v) : v])),
    notifications: depData.notifications,
    chatops: depData.chatops,
  };
  sources.set(loaded, { environments: envFile, deployments: depFile, env: options.env ?? process.env });
  return loaded;
}

function stringifyValues(map: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((map ?? {}) as Raw).map(([k, v]) => [k, String(v)]));
}

const DURATIONS = ['timeout', 'rollout_timeout', 'stop_timeout'];
const HEALTH_DURATIONS = ['interval', 'max_interval', 'timeout', 'start_period', 'deadline'] as const;

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What makes a health check one that can never pass, in its interpolated form. */
function healthCheckProblems(check: Raw): Array<{ path: KeyPath; message: string }> {
  const out: Array<{ path: KeyPath; message: string }> = [];
  if (check.type === 'http' && typeof check.url === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(check.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      out.push({ path: ['url'], message: `${JSON.stringify(check.url)} is not an http:// or https:// URL: write it like http://127.0.0.1:8080/health` });
    }
  }
  if (check.method !== undefined && !HTTP_TOKEN.test(String(check.method))) {
    out.push({ path: ['method'], message: `${JSON.stringify(check.method)} is not an HTTP method: write it like GET, HEAD or POST` });
  }
  const status = check.expected_status;
  const isCode = (n: number) => Number.isInteger(n) && n >= 100 && n <= 599;
  const statusOk =
    status === undefined ||
    (typeof status === 'number' && isCode(status)) ||
    (Array.isArray(status) && status.length > 0 && status.every((n) => typeof n === 'number' && isCode(n))) ||
    (typeof status === 'string' &&
      (/^\s*[1-5]xx\s*$/i.test(status) ||
        (/^\s*\d{3}\s*$/.test(status) && isCode(Number(status))) ||
        ((m) => m !== null && isCode(Number(m[1])) && isCode(Number(m[2])) && Number(m[1]) <= Number(m[2]))(/^\s*(\d{3})-(\d{3})\s*$/.exec(status))));
  if (!statusOk) {
    out.push({ path: ['expected_status'], message: `${JSON.stringify(status)} can never match a status: write a code (200), a list ([200, 204]), a class (2xx) or a range (200-299), codes from 100 to 599` });
  }
  return out;
}

/** Where a merged key path was most likely written, for the line and column of a problem. */
function origin(src: Sources, app: string, env: string, type: string, path: KeyPath): ConfigProblem {
  // The layers of resolveApp's merge, the one that wins first.
  const candidates: Array<[YamlFile, KeyPath]> = [
    [src.deployments, ['deployments', app, 'environments', env, ...path]],
    [src.deployments, ['deployments', app, ...path]],
    [src.environments, ['environments', env, type, ...path]],
    [src.environments, ['environments', env, ...path]],
    [src.deployments, ['defaults', ...path]],
    [src.deployments, path],
  ];
  for (const [file, p] of candidates) {
    if (has(file.data, p)) return { file: file.display, ...locate(file, p), path: formatKeyPath(p), message: '' };
  }
  return { file: src.deployments.display, ...locate(src.deployments, ['deployments', app]), path: formatKeyPath(['deployments', app, ...path]), message: '' };
}

export async function resolveApp(loaded: LoadedConfig, app: string, env: string, options: ResolveOptions = {}): Promise<ResolvedApp> {
  const src = sources.get(loaded);
  if (!src) throw new Error('resolveApp needs a config from loadConfig');
  const processEnv = options.processEnv ?? src.env;
  if (!loaded.apps.includes(app)) {
    const near = closestName(app, loaded.apps);
    throw new UsageError(`unknown app "${app}"${near ? ` (did you mean "${near}"?)` : ''}`, `deployments.yaml defines: ${loaded.apps.join(', ') || 'no apps'}`);
  }
  const environment = loaded.environments.find((e) => e.name === env);
  if (!environment) {
    const names = loaded.environments.map((e) => e.name);
    const near = closestName(env, names);
    throw new UsageError(`unknown environment "${env}"${near ? ` (did you mean "${near}"?)` : ''}`, `environments.yaml defines: ${names.join(', ')}`);
  }

  const depData = src.deployments.data as Raw;
  const appRaw = { ...(depData.deployments[app] as Raw) };
  const overrides = (appRaw.environments ?? {})[env] as Layer | undefined;
  delete appRaw.environments;
  const type = appRaw.type as AppConfig['type'];
  const envRaw = ((src.environments.data as Raw).environments[env] ?? {}) as Raw;
  const allowEnv = [...(depData.defaults?.allow_env ?? []), ...(appRaw.allow_env ?? []), ...((overrides?.allow_env as string[] | undefined) ?? [])] as string[];
  const declaredSecrets = [...(depData.secrets ?? []), ...(depData.defaults?.secrets ?? []), ...(appRaw.secrets ?? [])] as string[];
  // A refused --set may hold a secret's value: its message is masked like every other.
  const setValues = await setLayer(options.set ?? [], type, declaredSecrets, allowEnv).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    const known = [...declaredSecrets.map((n) => processEnv[n]).filter((v): v is string => Boolean(v)), ...environmentSecrets(processEnv).values()];
    throw new ConfigError(maskDeep(error.problems, known), error.hint);
  });

  const merged = deepMerge(
    BUILT_IN_DEFAULTS,
    depData.notifications ? { notifications: depData.notifications } : undefined,
    depData.defaults,
    {
      variables: envRaw.variables ?? {},
      ...(envRaw.health_check ? { health_check: envRaw.health_check } : {}),
      ...(envRaw.notifications ? { notifications: envRaw.notifications } : {}),
      ...(envRaw[type] ?? {}),
    },
    appRaw,
    overrides,
    setValues,
  ) as Raw;
  merged.type = type;

  const problems: ConfigProblem[] = [];
  // A problem with a value that --set gave names that --set, the last one to touch it.
  const setOf = (path: KeyPath) =>
    [...(options.set ?? [])].reverse().find((assignment) => {
      const parts = assignment.slice(0, Math.max(0, assignment.indexOf('='))).split('.');
      return parts.length <= path.length && parts.every((part, i) => part === String(path[i]));
    });
  const report = (path: KeyPath, message: string) => {
    const assignment = setOf(path);
    problems.push(assignment ? { message: `--set ${JSON.stringify(assignment)}: ${message}` } : { ...origin(src, app, env, type, path), message });
  };

  // Variables that would change how every child runs: only when allow_env names them.
  for (const key of ['variables', 'env', 'env_vars']) {
    for (const name of Object.keys((merged[key] ?? {}) as Raw)) {
      if (isReservedVariable(name) && !allowEnv.includes(name)) report([key, name], reservedVariableMessage(name));
    }
  }
  checkInlineScripts(merged, report);

  // Secrets: named at the top of deployments.yaml or in the app; values only from the environment.
  const secretNames = [...new Set([...(depData.secrets ?? []), ...(merged.secrets ?? [])])] as string[];
  merged.secrets = secretNames;
  const secretValues: string[] = [];
  const variables = stringifyValues(merged.variables);
  for (const name of secretNames) {
    const value = processEnv[name];
    if (value === undefined || value === '') {
      problems.push({
        file: src.deployments.display,
        ...locate(src.deployments, has(depData, ['secrets']) ? ['secrets'] : ['deployments', app, 'secrets']),
        path: 'secrets',
        message: `secret ${name} is not set: export ${name}=... in the environment that runs deployctl`,
      });
    } else {
      variables[name] = value;
      secretValues.push(value);
    }
  }
  for (const value of environmentSecrets(processEnv).values()) if (!secretValues.includes(value)) secretValues.push(value);

  const base: Record<string, string> = { app, env };
  const lookupWith = (vars: Record<string, string>, version?: string) => (name: string) =>
    name === 'version' ? version : (base[name] ?? vars[name] ?? processEnv[name]);

  // Version: --version, else version:, else the git short SHA of the app's checkout.
  let version = options.version;
  let versionSource: ResolvedApp['versionSource'] = 'flag';
  const appPath = resolve(loaded.dir, interpolateString(String(merged.path ?? '.'), lookupWith(variables)).value);
  if (merged.version !== undefined) {
    // Checked even when --version wins: validate names a bad one at its line.
    const { value: configured, missing } = interpolateString(String(merged.version), lookupWith(variables));
    // A version: filled from a variable that is not set here is only an error when it is the one used.
    if (!isValidVersion(configured) && !(missing.length && version !== undefined)) {
      throw new ConfigError(
        [{ ...origin(src, app, env, type, ['version']), message: `${JSON.stringify(configured)} is not a version: 1-128 letters, digits, ".", "_", "+" and "-", starting with a letter or digit (or an image digest "@sha256:...")` }],
        'fix version: in deployments.yaml',
      );
    }
    if (version === undefined) {
      version = configured;
      versionSource = 'config';
    }
  }
  if (version === undefined) {
    version = gitVersion(appPath);
    versionSource = 'git';
  }
  if (version === undefined) {
    throw new UsageError(`no version for ${app}: it is not set and ${appPath} is not in a git checkout`, 'pass --version V, or set version: in deployments.yaml');
  }
  assertVersion(version);

  // Variables may refer to each other and to app, env, version and the process environment.
  const varProblems: InterpolationProblem[] = [];
  const resolvedVariables = interpolateDeep(variables, lookupWith(variables, version), () => false, varProblems, ['variables']);
  const lookup = lookupWith(resolvedVariables, version);
  const interpolationProblems: InterpolationProblem[] = [...varProblems];
  // A string in commands or hooks is the user's own shell script: it runs as written.
  const runsAsWritten = (path: KeyPath) =>
    ((path[0] === 'commands' || path[0] === 'destroy_commands') && path.length === 2) || (path[0] === 'hooks' && path.length === 3);
  const { variables: _v, ...rest } = merged;
  const interpolated = interpolateDeep(rest, lookup, runsAsWritten, interpolationProblems) as Raw;
  interpolated.variables = resolvedVariables;
  for (const p of interpolationProblems) {
    const names = p.missing.map((n) => `\${${n}}`).join(', ');
    report(p.path, `${names} is not defined: set it in variables (or in the environment), or give a fallback like \${${p.missing[0]}:-value}`);
  }

  // Durations to milliseconds.
  for (const key of DURATIONS) {
    if (interpolated[key] === undefined) continue;
    const limit = parseTimeLimit(interpolated[key]);
    if ('error' in limit) report([key], limit.error);
    else interpolated[key] = limit.ms;
  }
  const normalizeCheck = (key: 'health_check' | 'pre_check'): Raw | undefined => {
    const check = interpolated[key] as Raw | undefined;
    if (!check) return undefined;
    check.type ??= check.url ? 'http' : check.port !== undefined ? 'tcp' : check.command ? 'command' : undefined;
    if (!check.type) {
      delete interpolated[key];
      return undefined;
    }
    for (const name of HEALTH_DURATIONS) {
      if (check[name] === undefined) continue;
      const limit = parseTimeLimit(check[name], '500ms, 5s or 1m');
      if ('error' in limit) report([key, name], limit.error);
      else if (limit.ms === 0 && (name === 'timeout' || name === 'deadline')) report([key, name], `a ${key} whose ${name} is 0 can never pass: give it time, like ${name === 'timeout' ? '2s' : '1m'}`);
      else check[name] = limit.ms;
    }
    if (check.type === 'http' && !check.url) report([key], 'an http check needs url:');
    if (check.type === 'tcp' && check.port === undefined) report([key], 'a tcp check needs port:');
    if (check.type === 'command' && !check.command) report([key], 'a command check needs command: [argv...]');
    if (check.port !== undefined) {
      const port = typeof check.port === 'string' && /^\s*\d+\s*$/.test(check.port) ? Number(check.port) : check.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) report([key, 'port'], `port ${JSON.stringify(check.port)} can never be reached: a port is a whole number from 1 to 65535`);
      else check.port = port;
    }
    for (const problem of healthCheckProblems(check)) report([key, ...problem.path], problem.message);
    return check;
  };
  const notifications = interpolated.notifications as Raw | undefined;
  if (notifications?.timeout !== undefined) {
    const limit = parseTimeLimit(notifications.timeout, '10s or 1m');
    if ('error' in limit) report(['notifications', 'timeout'], limit.error);
    else notifications.timeout = limit.ms;
  }
  const health = normalizeCheck('health_check');
  const preCheck = normalizeCheck('pre_check');
  const slack = (interpolated.notifications as Raw | undefined)?.slack as Raw | undefined;
  if (slack && !slack.webhook_url) report(['notifications', 'slack'], 'slack notifications need webhook_url: (at the top of deployments.yaml, or here)');

  // Paths to absolute ones, then checked: the type says which of its keys name files or folders.
  const settings = EXECUTOR_SETTINGS[type];
  const pathGiven = typeof interpolated.path === 'string';
  for (const key of ['path', 'repo']) {
    if (typeof interpolated[key] === 'string') interpolated[key] = resolve(loaded.dir, interpolated[key]);
  }
  for (const p of settings.paths) {
    if (p.base === 'config' && typeof interpolated[p.key] === 'string') interpolated[p.key] = resolve(loaded.dir, interpolated[p.key]);
  }
  interpolated.path ??= loaded.dir;
  for (const p of settings.paths) {
    if (p.base !== 'app') continue;
    const value = interpolated[p.key];
    if (typeof value === 'string') interpolated[p.key] = resolve(interpolated.path, value);
    else if (Array.isArray(value)) interpolated[p.key] = value.map((v: unknown) => (typeof v === 'string' ? resolve(interpolated.path, v) : v));
  }
  for (const check of [health, preCheck]) if (check?.ca_file) check.ca_file = resolve(interpolated.path, check.ca_file);
  settings.resolve?.(interpolated as AppConfig, (value) => resolve(interpolated.path, value), pathGiven);

  // What the type cannot do without.
  const missing = settings.missing?.(interpolated as AppConfig);
  if (missing) problems.push({ file: src.deployments.display, ...locate(src.deployments, ['deployments', app]), path: `deployments.${app}`, message: missing });
  else for (const [key, message] of pathProblems(interpolated as AppConfig, pathGiven)) report(key.split('.'), message);
  // What the executor itself checks before a deploy (manifests it cannot fill in safely, version_var...),
  // here so that validate, every command and the engine agree; placed where the setting is written.
  if (!problems.length) {
    const { getExecutor } = await import('../executors/index.js');
    try {
      (await getExecutor(type)).preflight?.(interpolated as AppConfig);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((p) => (p.file || !p.path ? p : { ...origin(src, app, env, type, p.path.split('.')), message: p.message })));
    }
  }

  if (problems.length) throw new ConfigError(maskDeep(problems, secretValues), `fix the config of ${app} in ${env}; \`deployctl validate\` lists every problem`);

  return {
    app,
    env,
    environment,
    version,
    versionSource,
    config: interpolated as AppConfig,
    secretValues,
  };
}

function kindOf(path: string): 'file' | 'folder' | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? undefined : stat.isDirectory() ? 'folder' : 'file';
}

/**
 * The files and folders the resolved config names that are not there, or not what they must be:
 * `path:` a folder, then the type's own (manifests, compose file, var file, playbook...), the CA file.
 */
function pathProblems(config: AppConfig, pathGiven = true): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const expect = (key: string, path: string, kind: 'file' | 'folder' | 'file or folder', fix: string) => {
    const found = kindOf(path);
    if (found === undefined) out.push([key, `${path} does not exist: ${fix}`]);
    else if (kind !== 'file or folder' && found !== kind) out.push([key, `${path} is a ${found}, not a ${kind}: ${fix}`]);
  };
  expect('path', config.path, 'folder', pathGiven ? 'fix path: (relative to deployments.yaml)' : 'the folder of deployments.yaml');
  if (out.length) return out;
  const settings = EXECUTOR_SETTINGS[config.type];
  for (const p of settings.paths) {
    const value = config[p.key];
    const fix = `fix ${p.key}: (relative to ${p.base === 'config' ? 'deployments.yaml' : "the app's path:"})`;
    if (typeof value === 'string') expect(p.key, value, p.kind, fix);
    else if (Array.isArray(value)) value.forEach((v, i) => typeof v === 'string' && expect(`${p.key}.${i}`, v, p.kind, fix));
  }
  for (const [key, path, kind] of settings.impliedPaths?.(config) ?? []) {
    expect(key, path, kind, key === 'compose_file' ? 'create it, or set compose_file:' : `fix ${key}:`);
  }
  for (const name of ['health_check', 'pre_check'] as const) {
    const check = config[name] as HealthCheckConfig | undefined;
    if (check?.ca_file) expect(`${name}.ca_file`, check.ca_file, 'file', `fix ${name}.ca_file: (relative to the app's path:)`);
  }
  return out;
}

/** Where an app is written in deployments.yaml (file, line, column), for a problem about the app as a whole. */
export function appLocation(loaded: LoadedConfig, app: string): ConfigProblem {
  const src = sources.get(loaded);
  if (!src) return { path: `deployments.${app}`, message: '' };
  return { file: src.deployments.display, ...locate(src.deployments, ['deployments', app]), path: `deployments.${app}`, message: '' };
}

/**
 * For a command that acts on a target without resolving today's config for a version of its own
 * (rollback re-applies a stored config): the same checks as validate for that app in that environment,
 * before the lock. An app that is no longer in the config is left to the history.
 */
export async function checkTarget(loaded: LoadedConfig, app: string, env: string, processEnv?: NodeJS.ProcessEnv, set?: string[]): Promise<void> {
  if (!loaded.apps.includes(app) || !loaded.environments.some((e) => e.name === env)) return;
  await resolveApp(loaded, app, env, { version: '0.0.0-check', processEnv, set });
}

/** Every problem of the config: structure, names, and each app resolved in each environment. */
export async function validateConfig(configDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ problems: ConfigProblem[]; loaded?: LoadedConfig }> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ configDir, env });
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems };
    throw error;
  }
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const app of loaded.apps) {
    for (const environment of loaded.environments) {
      try {
        await resolveApp(loaded, app, environment.name, { version: '0.0.0-validate', processEnv: env });
      } catch (error) {
        if (error instanceof ConfigError) problems.push(...error.problems);
        else if (error instanceof UsageError) problems.push({ path: `deployments.${app}`, message: `${error.message} (in ${environment.name})` });
        else throw error;
      }
    }
  }
  const unique = problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { problems: unique, loaded };
}

