import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerRollback(program: Command, app: CliApp): void {
  app.globals(program.command('rollback').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('rollback is not built yet');
    }),
  );
}
