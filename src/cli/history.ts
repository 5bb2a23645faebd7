import type { Command } from 'commander';
import type { CliApp } from './main.js';

const STATUSES = ['pending', 'running', 'succeeded', 'failed', 'rolled_back', 'interrupted'];

export function registerHistory(program: Command, app: CliApp): void {
  const history = app
    .globals(
      program
        .command('history [app]')
        .description('deployment records, newest first (`history show <id>`, `history prune --keep N`)')
        .option('-e, --env <env>', 'only this environment')
        .option('--limit <n>', 'how many records', '20')
        .option('--status <status>', `only records with this status (${STATUSES.join(', ')})`)
        .option('--since <when>', 'only records since a duration ago (2h, 7d) or a date (2026-11-01)'),
    )
    .action(
      app.action(async (ctx, appName: string | undefined, opts: { env?: string; limit: string; status?: string; since?: string }) => {
        const { runHistory } = await import('./history-handler.js');
        return runHistory(ctx, appName, opts);
      }),
    );

  app
    .globals(history.command('show <id>').description('one record: steps, health attempts, error'))
    .action(
      app.action(async (ctx, id: string) => {
        const { runShow } = await import('./history-handler.js');
        return runShow(ctx, id);
      }),
    );

  app
    .globals(
      history
        .command('prune [app]')
        .description('delete old records, keeping the newest N per app and environment (never the current or last good one)')
        .requiredOption('--keep <n>', 'records to keep per app and environment')
        .option('-e, --env <env>', 'only this environment')
        .option('--older-than <duration>', 'only delete records older than this (30d)'),
    )
    .action(
      app.action(async (ctx, appName: string | undefined, opts: { keep: string; env?: string; olderThan?: string }) => {
        const { runPrune } = await import('./history-handler.js');
        return runPrune(ctx, appName, opts);
      }),
    );
}
