import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerStatus(program: Command, app: CliApp): void {
  app.globals(program.command('status').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('status is not built yet');
    }),
  );
}
