import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerValidate(program: Command, app: CliApp): void {
  app
    .globals(program.command('validate').description('check environments.yaml and deployments.yaml and report every problem'))
    .action(
      app.action(async (ctx) => {
        const { runValidate } = await import('./validate-handler.js');
        return runValidate(ctx);
      }),
    );
}
