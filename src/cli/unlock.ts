import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUnlock(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('unlock <app>')
        .description('remove the lock of an app in an environment by hand (when the run that held it is gone)')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--force', 'remove it even though its holder looks alive (running here, or refreshed lately by another host)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; force?: boolean }) => {
        const { runUnlock } = await import('./target-handlers.js');
        return runUnlock(ctx, appName, opts);
      }),
    );
}
