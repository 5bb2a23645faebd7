import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerValidate(program: Command, app: CliApp): void {
  app.globals(program.command('validate').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('validate is not built yet');
    }),
  );
}
