import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerUnlock(program: Command, app: CliApp): void {
  app.globals(program.command('unlock').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('unlock is not built yet');
    }),
  );
}
