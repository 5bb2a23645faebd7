import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerValidate(program: Command, app: CliApp): void {
  app
    .globals(program.command('validate').description('check environments.yaml and deployments.yaml and report every problem'))
    .action(
      app.action(async (ctx) => {
        const { validateConfig } = await import('../config/load.js');
        const { formatProblem, ExitCode } = await import('../errors.js');
        const { problems, loaded } = await validateConfig(ctx.configDir, ctx.io.env);
        if (problems.length === 0) {
          return {
            exitCode: ExitCode.ok,
            data: { schemaVersion: 1, ok: true, problems: [], apps: loaded!.apps, environments: loaded!.environments.map((e) => e.name) },
            text: `config OK: ${loaded!.apps.length} apps, ${loaded!.environments.length} environments (${loaded!.environments.map((e) => e.name).join(' → ')})`,
          };
        }
        const { logLine } = await import('./context.js');
        logLine(ctx, 'info', 'validate', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the configuration:`);
        return {
          exitCode: ExitCode.usage,
          data: { schemaVersion: 1, ok: false, problems },
          text: problems.map(formatProblem).join('\n'),
        };
      }),
    );
}
