import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerDeploy(program: Command, app: CliApp): void {
  app.globals(program.command('deploy').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('deploy is not built yet');
    }),
  );
}
