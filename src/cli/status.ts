import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerStatus(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('status [app]')
        .description('what version runs where, since when, by whom, and how the last deployment ended')
        .option('-e, --env <env>', 'only this environment'),
    )
    .action(
      app.action(async (ctx, appName: string | undefined, opts: { env?: string }) => {
        const { runStatus } = await import('./status-handler.js');
        return runStatus(ctx, appName, opts);
      }),
    );
}
