// Every target's head in PostgreSQL: its newest record and the newest of each status, one index probe
// per target and status (deployctl_records_target_status), whatever the size of the history.
import type { IndexEntry, RecordStatus, TargetHead } from '../types.js';
import type { Database } from './database.js';

const STATUSES: RecordStatus[] = ['pending', 'running', 'succeeded', 'failed', 'rolled_back', 'interrupted'];

export async function readHeads(db: Database, filter: { app?: string; env?: string } = {}): Promise<TargetHead[]> {
  const rows = await db.read<{ app: string; env: string; last: IndexEntry; status: RecordStatus | null; entry: IndexEntry | null }>(
    `SELECT t.app, t.env, l.entry AS last, s.status, s.entry
       FROM deployctl_targets t
       CROSS JOIN LATERAL (SELECT entry FROM deployctl_records r WHERE r.app = t.app AND r.env = t.env ORDER BY started_at DESC, id DESC LIMIT 1) l
       CROSS JOIN unnest($3::text[]) AS st(status)
       LEFT JOIN LATERAL (SELECT r.status, r.entry FROM deployctl_records r
                           WHERE r.app = t.app AND r.env = t.env AND r.status = st.status
                           ORDER BY started_at DESC, id DESC LIMIT 1) s ON true
      WHERE ($1::text IS NULL OR t.app = $1) AND ($2::text IS NULL OR t.env = $2)
      ORDER BY t.app, t.env`,
    [filter.app ?? null, filter.env ?? null, STATUSES],
  );
  const heads = new Map<string, TargetHead>();
  for (const row of rows) {
    const key = `${row.app}\0${row.env}`;
    let head = heads.get(key);
    if (!head) {
      head = { app: row.app, env: row.env, last: row.last, latest: {} };
      heads.set(key, head);
    }
    if (row.status && row.entry) head.latest[row.status] = row.entry;
  }
  return [...heads.values()];
}
