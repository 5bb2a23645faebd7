import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { collect } from './deploy.js';

export function registerHealth(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('health <app>')
        .description('run the configured health check now (exit 0 healthy, 4 unhealthy)')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--version <version>', 'the version to expect (default: the one deployed there)')
        .option('--set <key=value>', 'override a config value (repeatable)', collect, []),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; version?: string; set: string[] }) => {
        const { runHealth } = await import('./target-handlers.js');
        return runHealth(ctx, appName, opts);
      }),
    );
}
