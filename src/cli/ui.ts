import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUi(program: Command, app: CliApp): void {
  app.globals(program.command('ui').description('(not built yet)')).action(
    app.action(async () => {
      const { DeployError } = await import('../errors.js');
      throw new DeployError('ui is not built yet');
    }),
  );
}
