import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerAudit(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('audit')
        .description('the audit log: who deployed, rolled back, promoted, unlocked or pruned what, and when')
        .option('--limit <n>', 'how many entries', '50'),
    )
    .action(
      app.action(async (ctx, opts: { limit: string }) => {
        const { UsageError } = await import('../errors.js');
        const { openContextState } = await import('./context.js');
        const { renderTable } = await import('../ui/table.js');
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${opts.limit} is not a positive whole number`, 'for example --limit 100');
        const entries = await (await openContextState(ctx)).audit.read({ limit });
        const text = entries.length
          ? renderTable(
              ['WHEN', 'ACTION', 'APP', 'ENV', 'VERSION', 'RESULT', 'WHO'],
              entries.map((e) => [e.at, e.action, e.app ?? '-', e.env ?? '-', e.version ?? '-', e.result, `${e.user}@${e.host}`]),
            )
          : 'the audit log is empty';
        return { exitCode: 0, data: { schemaVersion: 1, entries }, text };
      }),
    );
}
