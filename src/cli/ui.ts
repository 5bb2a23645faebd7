import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUi(program: Command, app: CliApp): void {
  app
    .globals(program.command('ui').description('a live board of apps × environments: history, rollback and promotion from the keyboard'))
    .action(
      app.action(async (ctx) => {
        const { runUi } = await import('./ui-handler.js');
        return runUi(ctx);
      }),
    );
}
