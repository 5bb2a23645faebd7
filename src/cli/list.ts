import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerList(program: Command, app: CliApp): void {
  app.globals(program.command('list').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('list is not built yet');
    }),
  );
}
