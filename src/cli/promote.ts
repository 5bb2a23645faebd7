import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerPromote(program: Command, app: CliApp): void {
  app.globals(program.command('promote').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('promote is not built yet');
    }),
  );
}
