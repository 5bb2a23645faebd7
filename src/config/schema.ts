// Structure checks with the JSON Schemas in config/, through validators precompiled at build time
// (dist/config/validators.cjs). Only when running from source (tests) is Ajv itself loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../errors.js';
import { formatKeyPath, locate, type KeyPath, type YamlFile } from './read.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
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

function describe(error: AjvError, path: KeyPath): { path: KeyPath; message: string; key?: boolean } | undefined {
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(error.params.additionalProperty)], message: `unknown key "${String(error.params.additionalProperty)}"`, key: true };
    case 'required':
      return { path, message: `missing required key "${String(error.params.missingProperty)}"` };
    case 'type': {
      const types = String(error.params.type).split(',');
      return { path, message: `must be ${types.map((t) => (t === 'array' ? 'a list' : t === 'object' ? 'a map' : t)).join(' or ')}` };
    }
    case 'enum':
      return { path, message: `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}` };
    case 'pattern':
      return { path, message: 'must be a duration like 250ms, 5s, 1m30s or a number of seconds' };
    case 'minItems':
      return { path, message: `must have at least ${String(error.params.limit)} item(s)` };
    case 'minimum':
      return { path, message: `must be ${String(error.params.limit)} or more` };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

export async function checkSchema(kind: 'environments' | 'deployments', file: YamlFile): Promise<ConfigProblem[]> {
  const validate = (await validators())[kind];
  if (validate(file.data)) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const described = describe(error, pathOf(error.instancePath));
    if (!described) continue;
    const key = `${formatKeyPath(described.path)}|${described.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file: file.display, ...locate(file, described.path, { key: described.key }), path: formatKeyPath(described.path) || undefined, message: described.message });
  }
  return problems;
}
