// deployctl status and list: the core's answer as a table, or --json.
import { reportWarnings, openContextState, type CliContext, type CommandResult } from './context.js';
import { list, status } from '../core/status.js';
import { renderTable, statusLabel, STATUS_SYMBOL } from '../ui/table.js';
import { ago, formatDuration } from '../config/duration.js';
import { createCoreDeps } from './core-deps.js';

export async function runStatus(ctx: CliContext, app: string | undefined, opts: { env?: string }): Promise<CommandResult> {
  const { targets } = await status({ app, env: opts.env }, createCoreDeps(ctx));
  reportWarnings(ctx, (await openContextState(ctx)).history);
  const data = {
    schemaVersion: 1,
    targets: targets.map((t) => ({
      app: t.app,
      env: t.env,
      version: t.version,
      since: t.since,
      by: t.by,
      ...(t.destroyed ? { destroyed: t.destroyed } : {}),
      last: { id: t.last.id, action: t.last.action, version: t.last.version, status: t.last.status, startedAt: t.last.startedAt, finishedAt: t.last.finishedAt, user: t.last.user, error: t.last.error?.message },
      ...(t.lock ? { lock: t.lock } : {}),
    })),
  };
  // Who holds a lock now, under the table: the same words a refused deployment shows.
  const locked = targets.filter((t) => t.lock).map((t) => `${t.app} in ${t.env} is locked by ${t.lock!.description}${t.lock!.state === 'stale' ? ' (its process is gone)' : ''}`);
  const text = targets.length
    ? renderTable(
        ['APP', 'ENV', 'VERSION', 'SINCE', 'BY', 'LAST DEPLOYMENT'],
        targets.map((t) => [
          t.app,
          t.env,
          t.version ?? (t.destroyed ? `destroyed (was ${t.destroyed.version})` : '-'),
          t.since ? ago(t.since) : t.destroyed ? ago(t.destroyed.at) : '-',
          t.by ?? t.destroyed?.by ?? '-',
          `${statusLabel(t.last.status)} ${t.last.action} ${t.last.version}${t.last.durationMs !== undefined ? ` in ${formatDuration(t.last.durationMs)}` : ''}${t.last.error ? `: ${t.last.error.message}` : ''}`,
        ]),
      )
    : `nothing deployed${app ? ` of ${app}` : ''}${opts.env ? ` to ${opts.env}` : ''} yet: try deployctl deploy ${app ?? '<app>'} -e ${opts.env ?? '<env>'}`;
  return { exitCode: 0, data, text: locked.length ? `${text}\n\n${locked.join('\n')}` : text };
}

export async function runList(ctx: CliContext): Promise<CommandResult> {
  const { environments: envs, apps } = await list(createCoreDeps(ctx));
  reportWarnings(ctx, (await openContextState(ctx)).history);
  const text = renderTable(
    ['APP', ...envs.map((e) => e.toUpperCase())],
    apps.map((a) => [
      a.app,
      ...envs.map((e) => {
        const c = a.environments[e]!;
        if (!c.status) return '-';
        if (c.destroyed) return `destroyed${c.status === 'succeeded' ? '' : ` ${STATUS_SYMBOL[c.status] ?? '?'}${c.lastVersion}`}`;
        const flag = c.status === 'succeeded' ? '' : ` ${STATUS_SYMBOL[c.status] ?? '?'}${c.lastVersion !== c.version ? c.lastVersion : ''}`;
        return `${c.version ?? '-'}${flag}`;
      }),
    ]),
  );
  return { exitCode: 0, data: { schemaVersion: 1, environments: envs, apps }, text };
}
