import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { DeployError } from '../errors.js';

export function registerAudit(program: Command, app: CliApp): void {
  app.globals(program.command('audit').description('(not built yet)')).action(
    app.action(async () => {
      throw new DeployError('audit is not built yet');
    }),
  );
}
