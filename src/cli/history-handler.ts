// deployctl history, history show, history prune and audit: flags -> request -> core -> table or --json.
import { logLine, openContextState, reportWarnings, type CliContext, type CommandResult } from './context.js';
import { auditLog, history, prune, showRecord, STATUSES } from '../core/history.js';
import { UsageError } from '../errors.js';
import { ago, formatDuration, parseDuration } from '../config/duration.js';
import { renderTable, statusLabel } from '../ui/table.js';
import { showRecord as recordText } from '../ui/record-text.js';
import { createCoreDeps } from './core-deps.js';

function wholeNumber(flag: string, value: string, min: number, example: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${value} is not a ${min > 0 ? 'positive ' : ''}whole number`, `for example ${flag} ${example}`);
  return n;
}

export async function runHistory(
  ctx: CliContext,
  app: string | undefined,
  opts: { env?: string; limit: string; status?: string; since?: string },
): Promise<CommandResult> {
  const limit = wholeNumber('--limit', opts.limit, 1, '50');
  if (opts.status && !STATUSES.includes(opts.status as (typeof STATUSES)[number])) throw new UsageError(`unknown status "${opts.status}"`, `use one of: ${STATUSES.join(', ')}`);
  let since: Date | undefined;
  if (opts.since) {
    const ms = parseDuration(opts.since);
    since = ms !== undefined ? new Date(Date.now() - ms) : new Date(opts.since);
    if (Number.isNaN(since.getTime())) throw new UsageError(`--since ${opts.since} is neither a duration nor a date`, 'for example --since 2h or --since 2026-11-01');
  }
  const { records } = await history({ app, env: opts.env, status: opts.status, since, limit }, createCoreDeps(ctx));
  reportWarnings(ctx, (await openContextState(ctx)).history);
  const text = records.length
    ? renderTable(
        ['ID', 'APP', 'ENV', 'VERSION', 'ACTION', 'STATUS', 'STARTED', 'DURATION', 'BY'],
        records.map((r) => [r.id, r.app, r.env, r.version, r.action, statusLabel(r.status), ago(r.startedAt), r.durationMs !== undefined ? formatDuration(r.durationMs) : '-', r.user]),
      )
    : 'no deployment records match';
  return { exitCode: 0, data: { schemaVersion: 1, records }, text };
}

export async function runShow(ctx: CliContext, id: string): Promise<CommandResult> {
  const record = await showRecord(id, createCoreDeps(ctx)).finally(async () => reportWarnings(ctx, (await openContextState(ctx)).history));
  return { exitCode: 0, data: { schemaVersion: 1, record }, text: recordText(record) };
}

export async function runPrune(ctx: CliContext, app: string | undefined, opts: { keep: string; env?: string; olderThan?: string }): Promise<CommandResult> {
  const keep = wholeNumber('--keep', opts.keep, 0, '50');
  let olderThan: Date | undefined;
  if (opts.olderThan) {
    const ms = parseDuration(opts.olderThan);
    if (ms === undefined) throw new UsageError(`--older-than ${opts.olderThan} is not a duration`, 'for example --older-than 30d');
    olderThan = new Date(Date.now() - ms);
  }
  const { deleted, warnings } = await prune({ keep, olderThan, olderThanText: opts.olderThan, app, env: opts.env }, createCoreDeps(ctx));
  reportWarnings(ctx, (await openContextState(ctx)).history);
  for (const warning of warnings) logLine(ctx, 'warn', 'audit', warning);
  return {
    exitCode: 0,
    data: { schemaVersion: 1, deleted },
    text: deleted.length ? `deleted ${deleted.length} record${deleted.length === 1 ? '' : 's'}:\n${deleted.join('\n')}` : 'nothing to delete',
  };
}

export async function runAudit(ctx: CliContext, opts: { limit: string }): Promise<CommandResult> {
  const limit = wholeNumber('--limit', opts.limit, 1, '100');
  const { entries } = await auditLog({ limit }, createCoreDeps(ctx));
  const text = entries.length
    ? renderTable(
        ['WHEN', 'ACTION', 'APP', 'ENV', 'VERSION', 'RESULT', 'WHO'],
        entries.map((e) => [e.at, e.action, e.app ?? '-', e.env ?? '-', e.version ?? '-', e.result, `${e.user}@${e.host}`]),
      )
    : 'the audit log is empty';
  return { exitCode: 0, data: { schemaVersion: 1, entries }, text };
}
