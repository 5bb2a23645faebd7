// The one place an error becomes a message and an exit code.
import { isDeployctlError, ExitCode, ConfigError, StateWriteError } from '../errors.js';
import type { GlobalOptions, Io } from './context.js';
import { environmentSecrets, maskDeep, maskValues } from '../config/secret-env.js';

const BUG = 'This is a bug in deployctl. Run again with --verbose for the stack trace and report it.';

export function reportFailure(error: unknown, options: GlobalOptions, io: Io): number {
  const known = isDeployctlError(error);
  const code = known ? error.code : 'internal';
  const exitCode = known ? error.exitCode : ExitCode.internal;
  // Where the error was built masked what it knew; the secrets of the process environment are masked here whatever the error.
  const secrets = [...environmentSecrets(io.env).values()];
  const mask = (text: string) => maskValues(text, secrets);
  const message = mask(error instanceof Error ? error.message : String(error));
  const hint = known && error.hint ? mask(error.hint) : known ? error.hint : BUG;
  // Stack traces only with --verbose.
  const stack = options.verbose && error instanceof Error && error.stack ? mask(error.stack) : undefined;
  if (options.json) {
    const problems = error instanceof ConfigError ? maskDeep(error.problems, secrets) : undefined;
    const unsaved = error instanceof StateWriteError ? error.record : undefined;
    const state =
      error instanceof StateWriteError
        ? { path: error.path, errno: error.errno, record: unsaved && { id: unsaved.id, app: unsaved.app, env: unsaved.env, version: unsaved.version, action: unsaved.action, status: unsaved.status } }
        : {};
    io.stdout.write(`${JSON.stringify({ schemaVersion: 1, error: { code, exitCode, message, hint, problems, ...state } }, null, 2)}\n`);
  }
  if (options.logFormat === 'json') {
    io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'error', code, exitCode, message, hint, stack })}\n`);
  } else {
    io.stderr.write(known ? `error: ${message}\n` : `internal error: ${message}\n`);
    if (hint) io.stderr.write(known ? `hint: ${hint}\n` : `${hint}\n`);
    if (stack) io.stderr.write(`${stack}\n`);
  }
  // Under GitHub Actions the failure is an annotation on the run too (a workflow command, not a log line).
  if (known && io.env.GITHUB_ACTIONS === 'true') io.stderr.write(`::error::${message.split('\n')[0]}\n`);
  return exitCode;
}
