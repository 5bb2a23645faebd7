import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerAudit(program: Command, app: CliApp): void {
  app.globals(program.command('audit').description('(not built yet)')).action(
    app.action(async () => {
      const { DeployError } = await import('../errors.js');
      throw new DeployError('audit is not built yet');
    }),
  );
}
