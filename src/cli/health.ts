import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerHealth(program: Command, app: CliApp): void {
  app.globals(program.command('health').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('health is not built yet');
    }),
  );
}
