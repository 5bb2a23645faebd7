import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerDiff(program: Command, app: CliApp): void {
  app.globals(program.command('diff').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('diff is not built yet');
    }),
  );
}
