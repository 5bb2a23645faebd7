// The config pipeline: read both YAML files with positions, check their structure against the JSON
// Schemas, check names and references, then (per app and environment) merge the layers, interpolate,
// read secrets, convert durations and paths. Every problem is collected and reported at once.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from '../vendor/yaml.js';
import { ConfigError, UsageError, type ConfigProblem } from '../errors.js';
import { assertVersion, isValidName } from '../names.js';
import { parseDuration } from './duration.js';
import { gitVersion } from './git-version.js';
import { interpolateDeep, interpolateString, type InterpolationProblem } from './interpolate.js';
import { deepMerge, setLayer, type Layer } from './merge.js';
import { has, locate, readYamlFile, formatKeyPath, type KeyPath, type YamlFile } from './read.js';
import { checkSchema } from './schema.js';
import { COMPOSE_DEFAULT_FILES } from '../executors/compose-files.js';
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

function closest(name: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  const best = known.map((k) => [k, distance(name, k)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? best[0] : undefined;
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
  const envFile = await readYamlFile(environmentsFile, problems);
  const depFile = await readYamlFile(deploymentsFile, problems);
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
  };
  sources.set(loaded, { environments: envFile, deployments: depFile, env: options.env ?? process.env });
  return loaded;
}

function stringifyValues(map: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((map ?? {}) as Raw).map(([k, v]) => [k, String(v)]));
}

const FROM_CONFIG_DIR = ['path', 'manifests', 'kustomize', 'repo'];
const FROM_APP_PATH = ['compose_file', 'env_file', 'var_file', 'var_files', 'inventory', 'playbook', 'vault_password_file', 'extra_vars_file'];
const DURATIONS = ['timeout', 'rollout_timeout', 'stop_timeout'];
const HEALTH_DURATIONS = ['interval', 'max_interval', 'timeout', 'start_period', 'deadline'] as const;

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
    const near = closest(app, loaded.apps);
    throw new UsageError(`unknown app "${app}"${near ? ` (did you mean "${near}"?)` : ''}`, `deployments.yaml defines: ${loaded.apps.join(', ') || 'no apps'}`);
  }
  const environment = loaded.environments.find((e) => e.name === env);
  if (!environment) {
    const names = loaded.environments.map((e) => e.name);
    const near = closest(env, names);
    throw new UsageError(`unknown environment "${env}"${near ? ` (did you mean "${near}"?)` : ''}`, `environments.yaml defines: ${names.join(', ')}`);
  }

  const depData = src.deployments.data as Raw;
  const appRaw = { ...(depData.deployments[app] as Raw) };
  const overrides = (appRaw.environments ?? {})[env] as Layer | undefined;
  delete appRaw.environments;
  const type = appRaw.type as AppConfig['type'];
  const envRaw = ((src.environments.data as Raw).environments[env] ?? {}) as Raw;
  const { layer: setValues, errors: setErrors } = setLayer(options.set ?? [], (text) => {
    try {
      const value = parseYaml(text) as unknown;
      return value === null || typeof value === 'object' ? text : value;
    } catch {
      return text;
    }
  });
  if (setErrors.length) throw new UsageError(setErrors[0]!, 'for example: --set variables.PORT=9000 --set health_check.retries=3');

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
  const report = (path: KeyPath, message: string) => problems.push({ ...origin(src, app, env, type, path), message });

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

  const base: Record<string, string> = { app, env };
  const lookupWith = (vars: Record<string, string>, version?: string) => (name: string) =>
    name === 'version' ? version : (base[name] ?? vars[name] ?? processEnv[name]);

  // Version: --version, else version:, else the git short SHA of the app's checkout.
  let version = options.version;
  let versionSource: ResolvedApp['versionSource'] = 'flag';
  const appPath = resolve(loaded.dir, interpolateString(String(merged.path ?? '.'), lookupWith(variables)).value);
  if (version === undefined && merged.version !== undefined) {
    const result = interpolateString(String(merged.version), lookupWith(variables));
    version = result.value;
    versionSource = 'config';
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
    (path[0] === 'commands' && path.length === 2) || (path[0] === 'hooks' && path.length === 3);
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
    const ms = parseDuration(interpolated[key]);
    if (ms === undefined) report([key], `"${interpolated[key]}" is not a duration: write it like 90s, 5m or 1m30s`);
    else interpolated[key] = ms;
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
      const ms = parseDuration(check[name]);
      if (ms === undefined) report([key, name], `"${check[name]}" is not a duration: write it like 500ms, 5s or 1m`);
      else check[name] = ms;
    }
    if (check.type === 'http' && !check.url) report([key], 'an http check needs url:');
    if (check.type === 'tcp' && check.port === undefined) report([key], 'a tcp check needs port:');
    if (check.type === 'command' && !check.command) report([key], 'a command check needs command: [argv...]');
    if (check.port !== undefined) check.port = Number(check.port);
    return check;
  };
  const notifications = interpolated.notifications as Raw | undefined;
  if (notifications?.timeout !== undefined) {
    const ms = parseDuration(notifications.timeout);
    if (ms === undefined) report(['notifications', 'timeout'], `"${notifications.timeout}" is not a duration: write it like 10s or 1m`);
    else notifications.timeout = ms;
  }
  const health = normalizeCheck('health_check');
  const preCheck = normalizeCheck('pre_check');
  const slack = (interpolated.notifications as Raw | undefined)?.slack as Raw | undefined;
  if (slack && !slack.webhook_url) report(['notifications', 'slack'], 'slack notifications need webhook_url: (at the top of deployments.yaml, or here)');

  // Paths to absolute ones.
  for (const key of FROM_CONFIG_DIR) {
    if (typeof interpolated[key] === 'string') interpolated[key] = resolve(loaded.dir, interpolated[key]);
  }
  // Seed 004's shape: a kubernetes app whose `path` is its manifests folder (or a kustomize folder).
  if (type === 'kubernetes' && !interpolated.manifests && !interpolated.kustomize && typeof interpolated.path === 'string') {
    const isKustomize = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => existsSync(join(interpolated.path, f)));
    interpolated[isKustomize ? 'kustomize' : 'manifests'] = interpolated.path;
  }
  interpolated.path ??= loaded.dir;
  for (const key of FROM_APP_PATH) {
    // An inline inventory ("web1,web2,") is a list of hosts, passed as written.
    const inline = (v: unknown) => key === 'inventory' && typeof v === 'string' && v.includes(',');
    if (typeof interpolated[key] === 'string' && !inline(interpolated[key])) interpolated[key] = resolve(interpolated.path, interpolated[key]);
    if (Array.isArray(interpolated[key])) interpolated[key] = interpolated[key].map((v: unknown) => (typeof v === 'string' && !inline(v) ? resolve(interpolated.path, v) : v));
  }
  for (const check of [health, preCheck]) if (check?.ca_file) check.ca_file = resolve(interpolated.path, check.ca_file);
  if (interpolated.build && typeof interpolated.build === 'object') {
    const build = interpolated.build as Raw;
    build.context = resolve(interpolated.path, build.context ?? '.');
    if (build.dockerfile) build.dockerfile = isAbsolute(build.dockerfile) ? build.dockerfile : resolve(interpolated.path, build.dockerfile);
  }

  // What each type cannot do without.
  const needs: Partial<Record<AppConfig['type'], () => string | undefined>> = {
    shell: () => (Array.isArray(interpolated.commands) && interpolated.commands.length ? undefined : 'a shell app needs commands: (a list of argv arrays or strings)'),
    docker: () => (interpolated.image || interpolated.build ? undefined : 'a docker app needs image: (to pull), or build: (an image named after the app)'),
    kubernetes: () => (interpolated.manifests || interpolated.kustomize ? undefined : 'a kubernetes app needs manifests: (a file or folder), kustomize: (a folder) or a path: holding either'),
    ansible: () => (interpolated.playbook ? undefined : 'an ansible app needs playbook:'),
  };
  const missing = needs[type]?.();
  if (missing) problems.push({ file: src.deployments.display, ...locate(src.deployments, ['deployments', app]), path: `deployments.${app}`, message: missing });
  if (type === 'docker-compose' && typeof interpolated.build === 'object') {
    report(['build'], 'build: of a docker-compose app is true or false (whether up builds the services); their build sections belong in the compose file');
  }

  if (problems.length) throw new ConfigError(problems, `fix the config of ${app} in ${env}; \`deployctl validate\` lists every problem`);

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

/** Files and folders the resolved config names, which must exist for a deploy to work. */
function missingPaths(config: AppConfig): Array<[string, string]> {
  const keys = ['path', 'manifests', 'kustomize', 'compose_file', 'env_file', 'var_file', 'var_files', 'inventory', 'playbook', 'vault_password_file', 'extra_vars_file'];
  const out: Array<[string, string]> = [];
  for (const key of keys) {
    const values = Array.isArray(config[key]) ? (config[key] as unknown[]) : [config[key]];
    values.forEach((value, i) => {
      // Inline inventories are hosts, not files.
      if (typeof value === 'string' && !(key === 'inventory' && value.includes(',')) && !existsSync(value)) out.push([Array.isArray(config[key]) ? `${key}.${i}` : key, value]);
    });
  }
  // extra_vars: a list of var files (a map is the variables themselves).
  if (Array.isArray(config.extra_vars)) {
    config.extra_vars.forEach((f, i) => {
      const file = resolve(config.path, String(f));
      if (!existsSync(file)) out.push([`extra_vars.${i}`, file]);
    });
  }
  // compose's own discovery: one of its default files in path, as deploy will look for it.
  if (config.type === 'docker-compose' && config.compose_file === undefined && existsSync(config.path) && !COMPOSE_DEFAULT_FILES.some((f) => existsSync(join(config.path, f)))) {
    out.push(['path', `${join(config.path, COMPOSE_DEFAULT_FILES[0])} (or ${COMPOSE_DEFAULT_FILES.slice(1).join(', ')}; or set compose_file:)`]);
  }
  const health = config.health_check as HealthCheckConfig | undefined;
  if (health?.ca_file && !existsSync(health.ca_file)) out.push(['health_check.ca_file', health.ca_file]);
  return out;
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
  const src = sources.get(loaded)!;
  for (const app of loaded.apps) {
    for (const environment of loaded.environments) {
      try {
        const resolved = await resolveApp(loaded, app, environment.name, { version: '0.0.0-validate', processEnv: env });
        const missing = missingPaths(resolved.config);
        for (const [key, value] of missing) {
          problems.push({ ...origin(src, app, environment.name, resolved.config.type, key.split('.')), message: `${value} does not exist` });
        }
        // What the executor checks before a deploy takes the lock (manifests it cannot fill in safely, version_var).
        if (missing.length === 0) {
          const { getExecutor } = await import('../executors/index.js');
          try {
            (await getExecutor(resolved.config.type)).preflight?.(resolved.config);
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            // Placed where the setting is written, when it names one.
            problems.push(...error.problems.map((p) => (p.file || !p.path ? p : { ...origin(src, app, environment.name, resolved.config.type, p.path.split('.')), message: p.message })));
          }
        }
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

