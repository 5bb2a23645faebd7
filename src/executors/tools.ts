// Finding the tools an executor needs before anything runs: `kubectl not found on PATH` is a usage
// error (exit 2), not a failed deployment.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ConfigError, ToolMissingError } from '../errors.js';

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The executable for a tool: the `tools:` override, or the first match on PATH. */
export function findTool(name: string, overrides: Record<string, string>, env: NodeJS.ProcessEnv): string | undefined {
  const wanted = overrides[name] ?? name;
  if (isAbsolute(wanted) || wanted.includes('/')) return isExecutable(wanted) ? wanted : undefined;
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const ext of extensions) {
      const candidate = join(dir, wanted + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Resolve every tool or throw one error naming what is missing and how to fix it. */
export function resolveTools(names: string[], overrides: Record<string, string>, env: NodeJS.ProcessEnv): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const name of names) {
    const found = findTool(name, overrides, env);
    if (!found) {
      throw new ToolMissingError(
        overrides[name]
          ? `${name} not found at ${overrides[name]}: install it there or fix tools.${name} in deployments.yaml`
          : `${name} not found on PATH: install it or set tools.${name} in deployments.yaml`,
      );
    }
    resolved[name] = overrides[name] ?? name;
  }
  return resolved;
}

/** version_var as written: a variable name, or false for none; "" and true are refused with the fix. */
export function checkedVersionVar(setting: unknown, tool: 'terraform' | 'ansible'): string | undefined {
  if (setting === false) return undefined;
  if (typeof setting === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(setting)) return setting;
  throw new ConfigError(
    [{ path: 'version_var', message: `version_var ${JSON.stringify(setting)} is not a variable name: name the ${tool} variable that receives the version, or write version_var: false for none` }],
    'fix version_var in deployments.yaml',
  );
}
