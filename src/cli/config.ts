import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { collect } from './deploy.js';

export function registerConfig(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('config <app>')
        .description('print the resolved config of an app in an environment, secrets shown as ***')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--version <version>', 'version to resolve with')
        .option('--set <key=value>', 'override a config value (repeatable)', collect, []),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; version?: string; set: string[] }) => {
        const { runConfig } = await import('./target-handlers.js');
        return runConfig(ctx, appName, opts);
      }),
    );
}
