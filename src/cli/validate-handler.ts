// deployctl validate: every problem of both files, or what the config holds.
import { logLine, type CliContext, type CommandResult } from './context.js';
import { ExitCode, formatProblem } from '../errors.js';

export async function runValidate(ctx: CliContext): Promise<CommandResult> {
  const { validateConfig } = await import('../config/load.js');
  const { problems, loaded } = await validateConfig(ctx.configDir, ctx.io.env);
  if (problems.length === 0) {
    return {
      exitCode: ExitCode.ok,
      data: { schemaVersion: 1, ok: true, problems: [], apps: loaded!.apps, environments: loaded!.environments.map((e) => e.name) },
      text: `config OK: ${plural(loaded!.apps.length, 'app')}, ${plural(loaded!.environments.length, 'environment')} (${loaded!.environments.map((e) => e.name).join(' → ')})`,
    };
  }
  logLine(ctx, 'info', 'validate', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the configuration:`);
  return { exitCode: ExitCode.usage, data: { schemaVersion: 1, ok: false, problems }, text: problems.map(formatProblem).join('\n') };
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
