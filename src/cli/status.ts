import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerStatus(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('status [app]')
        .description('what version runs where, since when, by whom, and how the last deployment ended')
        .option('-e, --env <env>', 'only this environment'),
    )
    .action(
      app.action(async (ctx, appName: string | undefined, opts: { env?: string }) => {
        const { assertName } = await import('../names.js');
        const { openContextState } = await import('./context.js');
        const { assertKnownTarget } = await import('./target.js');
        const { renderTable, statusLabel } = await import('../ui/table.js');
        const { formatDuration, ago } = await import('../config/duration.js');
        if (appName) assertName('app', appName);
        if (opts.env) assertName('environment', opts.env);
        const history = (await openContextState(ctx)).history;
        // Every target's head in one read (no record is read): its newest record, and what runs (the newest that succeeded).
        const heads = await history.heads({ app: appName, env: opts.env });
        if (heads.length === 0) await assertKnownTarget(ctx, history, { app: appName, env: opts.env });
        const targets = heads.map(({ app, env, last, latest: { succeeded: running } }) => ({ app, env, version: running?.version ?? null, since: running?.finishedAt ?? null, by: running?.user ?? null, last }));
        const { reportWarnings } = await import('./context.js');
        reportWarnings(ctx, history);
        const data = {
          schemaVersion: 1,
          targets: targets.map((t) => ({
            app: t.app,
            env: t.env,
            version: t.version,
            since: t.since,
            by: t.by,
            last: { id: t.last.id, action: t.last.action, version: t.last.version, status: t.last.status, startedAt: t.last.startedAt, finishedAt: t.last.finishedAt, user: t.last.user, error: t.last.error?.message },
          })),
        };
        const text = targets.length
          ? renderTable(
              ['APP', 'ENV', 'VERSION', 'SINCE', 'BY', 'LAST DEPLOYMENT'],
              targets.map((t) => [
                t.app,
                t.env,
                t.version ?? '-',
                t.since ? ago(t.since) : '-',
                t.by ?? '-',
                `${statusLabel(t.last.status)} ${t.last.action} ${t.last.version}${t.last.durationMs !== undefined ? ` in ${formatDuration(t.last.durationMs)}` : ''}${t.last.error ? `: ${t.last.error.message}` : ''}`,
              ]),
            )
          : `nothing deployed${appName ? ` of ${appName}` : ''}${opts.env ? ` to ${opts.env}` : ''} yet: try deployctl deploy ${appName ?? '<app>'} -e ${opts.env ?? '<env>'}`;
        return { exitCode: 0, data, text };
      }),
    );
}
