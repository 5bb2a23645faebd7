import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerHistory(program: Command, app: CliApp): void {
  app.globals(program.command('history').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('history is not built yet');
    }),
  );
}
