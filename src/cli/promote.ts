import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerPromote(program: Command, app: CliApp): void {
  app.globals(program.command('promote').description('(not built yet)')).action(
    app.action(async () => {
      const { DeployError } = await import('../errors.js');
      throw new DeployError('promote is not built yet');
    }),
  );
}
