import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerConfig(program: Command, app: CliApp): void {
  app.globals(program.command('config').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('config is not built yet');
    }),
  );
}
