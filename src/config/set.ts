// `--set key.path=value`: each assignment read and checked like the same setting in deployments.yaml
// (the app's type decides which keys exist), before anything runs. Nothing here can reach
// Object.prototype: a `__proto__`, `constructor` or `prototype` segment is refused before any object is built.
import { secretSetProblem } from './secret-env.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { deepMerge, type Layer } from './merge.js';
import { schemaProblems } from './schema.js';
import { formatKeyPath, yaml } from './read.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** A variable whose name says it holds a secret: its value belongs in the environment, never on a command line. */
const KEY_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const EXAMPLE = 'for example: --set variables.PORT=9000 --set health_check.retries=3';

/** As YAML reads it: a scalar, or a flow list of scalars (`[module.a, module.b]`); anything else, the text. */
function scalarOf(text: string): unknown {
  try {
    const value = yaml().parse(text) as unknown;
    if (Array.isArray(value) && value.every((item) => item !== null && typeof item !== 'object')) return value;
    return value === null || typeof value === 'object' ? text : value;
  } catch {
    return text;
  }
}

function nest(parts: string[], value: unknown): Layer {
  let node: unknown = value;
  for (const part of [...parts].reverse()) node = { [part]: node };
  return node as Layer;
}

/**
 * The `--set` layer for an app of `type`. Throws one ConfigError naming every refused `--set` (exit 2):
 * a malformed assignment, a forbidden segment, a key the type does not have, a wrong type, a NUL, a
 * secret variable (named in `secrets` or by its name).
 */
/** Variables that change how every child runs (which programs, which libraries, Node's own options). */
export function isReservedVariable(name: string): boolean {
  return ['PATH', 'NODE_OPTIONS'].includes(name) || /^(LD_|DYLD_)/.test(name);
}

export function reservedVariableMessage(name: string): string {
  return `${name} reaches every command deployctl runs, tools included, and changes what they load or which programs run: it is refused unless allow_env: [${name}] is set on the app or in defaults`;
}

export async function setLayer(assignments: string[], type: string, secretNames: string[], allowEnv: string[] = []): Promise<Layer> {
  const problems: ConfigProblem[] = [];
  const layers: Layer[] = [];
  for (const assignment of assignments) {
    const refuse = (message: string) => problems.push({ message: `--set ${JSON.stringify(assignment)}: ${message}` });
    const eq = assignment.indexOf('=');
    const key = eq > 0 ? assignment.slice(0, eq) : '';
    const text = assignment.slice(eq + 1);
    if (!key || !KEY_PATH.test(key)) {
      refuse('write it as key.path=value, e.g. --set variables.PORT=9000');
      continue;
    }
    const parts = key.split('.');
    const forbidden = parts.find((p) => FORBIDDEN_KEYS.has(p));
    if (forbidden) {
      refuse(`"${forbidden}" is not a setting and cannot be set`);
      continue;
    }
    if (text.includes('\0')) {
      refuse('the value holds a NUL character, which no command can receive');
      continue;
    }
    if (parts[0] === 'type' || parts[0] === 'environments') {
      refuse(`${parts[0]} cannot be set from the command line: change it in deployments.yaml`);
      continue;
    }
    // A secret's value on the command line is seen by every local user (ps) and kept in shell history.
    const secret = secretSetProblem([assignment], secretNames);
    if (secret) {
      problems.push({ message: `${secret.message}: ${secret.hint}` });
      continue;
    }
    const envKey = ['variables', 'env', 'env_vars'].includes(parts[0]!) && parts.length === 2 ? parts[1]! : undefined;
    if (envKey && isReservedVariable(envKey) && !allowEnv.includes(envKey)) {
      refuse(reservedVariableMessage(envKey));
      continue;
    }
    // Read as YAML would (a number, a boolean, a list); when the setting is text, the text as written.
    let chosen: Layer | undefined;
    let first: Array<{ path: (string | number)[]; message: string }> = [];
    for (const value of [scalarOf(text), text]) {
      const layer = nest(parts, value);
      const found = await schemaProblems('deployments', { deployments: { app: { type, ...layer } } });
      if (found.length === 0) {
        chosen = layer;
        break;
      }
      if (first.length === 0) first = found;
    }
    if (chosen) layers.push(chosen);
    else {
      for (const p of first) {
        const where = formatKeyPath(p.path.slice(2));
        refuse(where && where !== key ? `${where}: ${p.message}` : p.message);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems, `fix the --set above (or drop it); ${EXAMPLE}`);
  return deepMerge(...layers);
}
