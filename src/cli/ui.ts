import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerUi(program: Command, app: CliApp): void {
  app.globals(program.command('ui').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('ui is not built yet');
    }),
  );
}
