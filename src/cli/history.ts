import type { Command } from 'commander';
import type { CliApp } from './main.js';
import type { DeployRecord } from '../state/types.js';

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
        const { assertName } = await import('../names.js');
        const { UsageError } = await import('../errors.js');
        const { parseDuration, formatDuration, ago } = await import('../config/duration.js');
        const { openContextState } = await import('./context.js');
        const { assertKnownTarget } = await import('./target.js');
        const { renderTable, statusLabel } = await import('../ui/table.js');
        if (appName) assertName('app', appName);
        if (opts.env) assertName('environment', opts.env);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${opts.limit} is not a positive whole number`, 'for example --limit 50');
        if (opts.status && !STATUSES.includes(opts.status)) throw new UsageError(`unknown status "${opts.status}"`, `use one of: ${STATUSES.join(', ')}`);
        let since: Date | undefined;
        if (opts.since) {
          const ms = parseDuration(opts.since);
          since = ms !== undefined ? new Date(Date.now() - ms) : new Date(opts.since);
          if (Number.isNaN(since.getTime())) throw new UsageError(`--since ${opts.since} is neither a duration nor a date`, 'for example --since 2h or --since 2026-11-01');
        }
        const store = (await openContextState(ctx)).history;
        const records = await store.list({ app: appName, env: opts.env, status: opts.status as DeployRecord['status'] | undefined, since, limit });
        if (records.length === 0) await assertKnownTarget(ctx, store, { app: appName, env: opts.env });
        const { reportWarnings } = await import('./context.js');
        reportWarnings(ctx, store);
        const text = records.length
          ? renderTable(
              ['ID', 'APP', 'ENV', 'VERSION', 'ACTION', 'STATUS', 'STARTED', 'DURATION', 'BY'],
              records.map((r) => [r.id, r.app, r.env, r.version, r.action, statusLabel(r.status), ago(r.startedAt), r.durationMs !== undefined ? formatDuration(r.durationMs) : '-', r.user]),
            )
          : 'no deployment records match';
        return { exitCode: 0, data: { schemaVersion: 1, records }, text };
      }),
    );

  app
    .globals(history.command('show <id>').description('one record: steps, health attempts, error'))
    .action(
      app.action(async (ctx, id: string) => {
        const { openContextState } = await import('./context.js');
        const { UsageError } = await import('../errors.js');
        const { showRecord } = await import('../ui/record-text.js');
        const store = (await openContextState(ctx)).history;
        const { reportWarnings } = await import('./context.js');
        const record = await store.get(id);
        reportWarnings(ctx, store);
        if (!record) throw new UsageError(`no record with the id ${JSON.stringify(id)}`, 'list the ids with: deployctl history');
        return { exitCode: 0, data: { schemaVersion: 1, record }, text: showRecord(record) };
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
        const { UsageError } = await import('../errors.js');
        const { assertName } = await import('../names.js');
        const { parseDuration } = await import('../config/duration.js');
        const { openContextState } = await import('./context.js');
        const { assertKnownTarget } = await import('./target.js');
        if (appName) assertName('app', appName);
        if (opts.env) assertName('environment', opts.env);
        const keep = Number(opts.keep);
        if (!Number.isInteger(keep) || keep < 0) throw new UsageError(`--keep ${opts.keep} is not a whole number`, 'for example --keep 50');
        let olderThan: Date | undefined;
        if (opts.olderThan) {
          const ms = parseDuration(opts.olderThan);
          if (ms === undefined) throw new UsageError(`--older-than ${opts.olderThan} is not a duration`, 'for example --older-than 30d');
          olderThan = new Date(Date.now() - ms);
        }
        const store = (await openContextState(ctx)).history;
        const { rollbackKeepers } = await import('../engine/deploy.js');
        const { deleted } = await store.prune({ keep, olderThan, app: appName, env: opts.env, protect: rollbackKeepers });
        if (deleted.length === 0) await assertKnownTarget(ctx, store, { app: appName, env: opts.env });
        const { currentIdentity } = await import('../engine/identity.js');
        const { logLine, reportWarnings } = await import('./context.js');
        reportWarnings(ctx, store);
        const who = currentIdentity(ctx.io.env);
        // The records are gone whatever the audit log says: a log the disk refuses is a warning.
        await (await openContextState(ctx)).audit.append({ at: new Date().toISOString(), action: 'prune', app: appName, env: opts.env, result: `deleted ${deleted.length}`, user: who.user, host: who.host, details: { keep, olderThan: opts.olderThan } }).catch(
          (e: Error) => logLine(ctx, 'warn', 'audit', `${e.message}: the audit log lacks this prune`),
        );
        return {
          exitCode: 0,
          data: { schemaVersion: 1, deleted },
          text: deleted.length ? `deleted ${deleted.length} record${deleted.length === 1 ? '' : 's'}:\n${deleted.join('\n')}` : 'nothing to delete',
        };
      }),
    );
}
