// Structure checks with the JSON Schemas in config/, through validators precompiled at build time
// (dist/config/validators.cjs). Only when running from source (tests) is Ajv itself loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../errors.js';
import { EXECUTOR_SETTINGS } from '../executors/settings/index.js';
import { formatKeyPath, locate, type KeyPath, type YamlFile } from './read.js';

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  /** Set on the errors of a propertyNames check: the key that failed. */
  propertyName?: string;
}
type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
type Validators = { environments: Validator; deployments: Validator };

let cached: Validators | undefined;

async function validators(): Promise<Validators> {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('./validators.cjs') as Validators;
  } catch {
    const { default: Ajv } = await import('ajv');
    const { default: addFormats } = await import('ajv-formats');
    const ajv = new Ajv.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const load = (name: string) => ajv.compile(JSON.parse(readFileSync(join(root, 'config', `${name}.schema.json`), 'utf8'))) as Validator;
    cached = { environments: load('environments'), deployments: load('deployments') };
  }
  return cached;
}

function pathOf(instancePath: string): KeyPath {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

import { DURATION_PATTERN } from '../executors/settings/parts.js';

/** The type of the app a path inside `deployments:` belongs to, and the app's own keys' place. */
function appTypeAt(data: unknown, path: KeyPath): string | undefined {
  if (path[0] !== 'deployments' || typeof path[1] !== 'string') return undefined;
  if (!(path.length === 2 || (path.length === 4 && path[2] === 'environments'))) return undefined;
  const app = (data as { deployments?: Record<string, { type?: unknown }> }).deployments?.[path[1]];
  return typeof app?.type === 'string' && Object.hasOwn(EXECUTOR_SETTINGS, app.type) ? app.type : undefined;
}

function describe(error: AjvError, path: KeyPath, data: unknown): { path: KeyPath; message: string; key?: boolean } | undefined {
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    return { path: [...path, error.propertyName], message: `"${error.propertyName}" is not an environment variable name: use letters, digits and "_", not starting with a digit`, key: true };
  }
  switch (error.keyword) {
    case 'if':
    case 'const':
      return undefined;
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const type = appTypeAt(data, path);
      if (type) {
        const own = Object.keys(EXECUTOR_SETTINGS[type as keyof typeof EXECUTOR_SETTINGS].schema);
        const elsewhere = Object.values(EXECUTOR_SETTINGS).filter((s) => Object.hasOwn(s.schema, key)).map((s) => s.type);
        const allowed = [...own, ...COMMON_KEYS, ...(path.length === 2 ? ['type', 'environments'] : [])];
        const near = closestName(key, allowed);
        const takes = `a ${type} app takes ${own.join(', ') || 'no keys of its own'}, besides the settings every app has (path, variables, hooks, health_check, ...)`;
        return {
          path: [...path, key],
          message: elsewhere.length
            ? `"${key}" is a setting of ${elsewhere.join(' and ')} apps, not of a ${type} app: ${takes}`
            : near
              ? `unknown key "${key}" for a ${type} app (did you mean "${near}"?)`
              : `unknown key "${key}" for a ${type} app: ${takes}`,
          key: true,
        };
      }
      return { path: [...path, key], message: `unknown key "${key}"`, key: true };
    }
    case 'required':
      return { path, message: `missing required key "${String(error.params.missingProperty)}"` };
    case 'type': {
      const types = String(error.params.type).split(',');
      return { path, message: `must be ${types.map((t) => (t === 'array' ? 'a list' : t === 'object' ? 'a map' : t)).join(' or ')}` };
    }
    case 'enum':
      return { path, message: `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}` };
    case 'pattern':
      if (error.params.pattern === DURATION_PATTERN) return { path, message: 'must be a duration like 250ms, 5s, 1m30s or a number of seconds' };
      if (path[path.length - 1] === 'method') return { path, message: 'must be an HTTP method like GET, HEAD or POST' };
      return { path, message: error.message ?? 'does not match its pattern' };
    case 'minItems':
      return { path, message: `must have at least ${String(error.params.limit)} item(s)` };
    case 'minimum':
      return { path, message: `must be ${String(error.params.limit)} or more` };
    case 'maximum':
      return { path, message: `must be ${String(error.params.limit)} or less` };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

/** The settings every app has, whatever its type. */
const COMMON_KEYS = ['path', 'version', 'repo', 'description', 'variables', 'allow_env', 'secrets', 'timeout', 'hooks', 'health_check', 'pre_check', 'rollback', 'retention', 'notifications'];

export function closestName(name: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  const best = known.map((k) => [k, distance(name, k)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? best[0] : undefined;
}

/** The problems of a value against a schema, by key path and message, without positions (`--set` values). */
export async function schemaProblems(kind: 'environments' | 'deployments', data: unknown): Promise<Array<{ path: KeyPath; message: string }>> {
  const validate = (await validators())[kind];
  if (validate(data)) return [];
  return (validate.errors ?? []).map((error) => describe(error, pathOf(error.instancePath), data)).filter((d): d is NonNullable<typeof d> => d !== undefined);
}

export async function checkSchema(kind: 'environments' | 'deployments', file: YamlFile): Promise<ConfigProblem[]> {
  // Passed before, for this very text (the parse cache): the validators need not even load.
  if (file.checked.has(kind)) return [];
  const validate = (await validators())[kind];
  if (validate(file.data)) {
    file.passed(kind);
    return [];
  }
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const described = describe(error, pathOf(error.instancePath), file.data);
    if (!described) continue;
    const key = `${formatKeyPath(described.path)}|${described.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file: file.display, ...locate(file, described.path, { key: described.key }), path: formatKeyPath(described.path) || undefined, message: described.message });
  }
  return problems;
}
