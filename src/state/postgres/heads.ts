// Every target's head in PostgreSQL: one row per target in deployctl_heads, its newest record's index
// entry and the newest of each status, kept by the records' triggers in the transaction of each write
// (schema.ts, migration 3). Reading them costs one row per target, whatever the size of the history.
import type { TargetHead } from '../types.js';
import type { Database } from './database.js';

export async function readHeads(db: Database, filter: { app?: string; env?: string } = {}): Promise<TargetHead[]> {
  // One row holding them all, in the order the file backend sorts them (code points, not the
  // database's collation): one JSON text to parse instead of a value per row.
  const [row] = await db.read<{ heads: TargetHead[] | null }>(
    `SELECT json_agg(head ORDER BY app COLLATE "C", env COLLATE "C") AS heads FROM deployctl_heads
      WHERE ($1::text IS NULL OR app = $1) AND ($2::text IS NULL OR env = $2)`,
    [filter.app ?? null, filter.env ?? null],
  );
  const heads = row?.heads ?? [];
  // Stored once: the newest record is the newest of its own status.
  for (const head of heads) head.latest[head.last.status] = head.last;
  return heads;
}
