// history, history show, history prune, audit: the records and the audit log, read and trimmed.
import type { DeployRecord, RecordStatus } from '../state/types.js';
import type { AuditEntry } from '../state/port.js';
import { assertName } from '../names.js';
import { UsageError } from '../errors.js';
import type { CoreDeps } from './deps.js';
import { assertKnownTarget } from './target.js';
import { pruneProtects } from './rollback-policy.js';

export const STATUSES: RecordStatus[] = ['pending', 'running', 'succeeded', 'failed', 'rolled_back', 'interrupted'];

interface HistoryRequest {
  app?: string;
  env?: string;
  status?: string;
  since?: Date;
  limit: number;
}

export async function history(request: HistoryRequest, core: CoreDeps): Promise<{ records: DeployRecord[] }> {
  if (request.app) assertName('app', request.app);
  if (request.env) assertName('environment', request.env);
  if (request.status && !STATUSES.includes(request.status as RecordStatus)) throw new UsageError(`unknown status "${request.status}"`, `use one of: ${STATUSES.join(', ')}`);
  const state = await core.state();
  const records = await state.history.list({ app: request.app, env: request.env, status: request.status as RecordStatus | undefined, since: request.since, limit: request.limit });
  if (records.length === 0) await assertKnownTarget({ ...core, stateLocation: state.location }, state.history, request);
  return { records };
}

export async function showRecord(id: string, core: CoreDeps): Promise<DeployRecord> {
  const record = await (await core.state()).history.get(id);
  if (!record) throw new UsageError(`no record with the id ${JSON.stringify(id)}`, 'list the ids with: deployctl history');
  return record;
}

interface PruneRequest {
  keep: number;
  app?: string;
  env?: string;
  olderThan?: Date;
  /** As the user wrote it, for the audit log. */
  olderThanText?: string;
}

/** Deletes old records (never the newest, the running one, or the one a rollback would go back to). */
export async function prune(request: PruneRequest, core: CoreDeps): Promise<{ deleted: string[]; warnings: string[] }> {
  if (request.app) assertName('app', request.app);
  if (request.env) assertName('environment', request.env);
  const state = await core.state();
  const { deleted } = await state.history.prune({ keep: request.keep, olderThan: request.olderThan, app: request.app, env: request.env, protect: pruneProtects });
  if (deleted.length === 0) await assertKnownTarget({ ...core, stateLocation: state.location }, state.history, request);
  const warnings: string[] = [];
  // The records are gone whatever the audit log says: a log the disk refuses is a warning.
  await state.audit
    .append({
      at: core.clock().toISOString(),
      action: 'prune',
      app: request.app,
      env: request.env,
      result: `deleted ${deleted.length}`,
      user: core.identity.user,
      host: core.identity.host,
      details: { keep: request.keep, olderThan: request.olderThanText },
    })
    .catch((e: Error) => warnings.push(`${e.message}: the audit log lacks this prune`));
  return { deleted, warnings };
}

export async function auditLog(request: { limit: number }, core: CoreDeps): Promise<{ entries: AuditEntry[] }> {
  return { entries: await (await core.state()).audit.read({ limit: request.limit }) };
}
