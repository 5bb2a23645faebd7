import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerAudit(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('audit')
        .description('the audit log: who deployed, rolled back, promoted, destroyed, unlocked or pruned what, and when')
        .option('--limit <n>', 'how many entries', '50'),
    )
    .action(
      app.action(async (ctx, opts: { limit: string }) => {
        const { runAudit } = await import('./history-handler.js');
        return runAudit(ctx, opts);
      }),
    );
}
