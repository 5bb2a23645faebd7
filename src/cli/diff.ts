import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerDiff(program: Command, app: CliApp): void {
  app.globals(program.command('diff').description('(not built yet)')).action(
    app.action(async () => {
      const { DeployError } = await import('../errors.js');
      throw new DeployError('diff is not built yet');
    }),
  );
}
