// The one place an error becomes a message and an exit code.
import { isDeployctlError, ExitCode, ConfigError } from '../errors.js';
import type { GlobalOptions, Io } from './context.js';

export function reportFailure(error: unknown, options: GlobalOptions, io: Io): number {
  if (isDeployctlError(error)) {
    if (options.json) {
      const problems = error instanceof ConfigError ? error.problems : undefined;
      io.stdout.write(
        `${JSON.stringify({ schemaVersion: 1, error: { code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint, problems } }, null, 2)}\n`,
      );
    }
    if (options.logFormat === 'json') {
      io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'error', code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint })}\n`);
    } else {
      io.stderr.write(`error: ${error.message}\n`);
      if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    }
    if (io.env.GITHUB_ACTIONS === 'true') io.stderr.write(`::error::${error.message.split('\n')[0]}\n`);
    if (options.verbose && error.stack) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ schemaVersion: 1, error: { code: 'internal', exitCode: ExitCode.internal, message } }, null, 2)}\n`,
    );
  }
  io.stderr.write(`internal error: ${message}\n`);
  io.stderr.write('This is a bug in deployctl. Run again with --verbose for the stack trace and report it.\n');
  if (options.verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return ExitCode.internal;
}
