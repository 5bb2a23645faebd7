import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerList(program: Command, app: CliApp): void {
  app
    .globals(program.command('list').description('apps × environments from the config, with the version deployed in each'))
    .action(
      app.action(async (ctx) => {
        const { runList } = await import('./status-handler.js');
        return runList(ctx);
      }),
    );
}
