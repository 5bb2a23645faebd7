// The state port: everything deployctl remembers (history, locks, the audit log, record ids) and the
// news that it changed, behind one interface. Commands, the engine and the board use this and nothing
// under it; state/open.ts is the one place that picks a backend (files today, PostgreSQL for teams).
import type { ApprovalStore } from './approvals.js';
import type { AuditEntry } from './audit.js';
import type { HistoryStore, LockManager } from './types.js';

interface AuditLog {
  /** Append one entry; on a full or read-only disk a StateWriteError, and the log as it was. */
  append(entry: AuditEntry): Promise<void>;
  /** The newest `limit` entries, newest first. */
  read(options: { limit: number }): Promise<AuditEntry[]>;
}

export interface StateStore {
  /** `file`, `memory` or `postgres`. */
  readonly backend: string;
  /** Where the state lives, fit to print: never a password. */
  readonly location: string;
  readonly history: HistoryStore;
  readonly locks: LockManager;
  readonly audit: AuditLog;
  /** Approval requests and decisions for protected environments (serve, and CI runs that wait). */
  readonly approvals: ApprovalStore;
  /** A new record id for the target: unique, and sorting by time within the target. */
  newRecordId(app: string, env: string, at: Date): string;
  /**
   * Calls onChange (debounced, maybe more often than needed, never with a stale view left unsignalled
   * for long) when the history or the locks change, by this process or another. Returns the stop.
   */
  watch(onChange: () => void): () => void;
  /** Releases what the store holds open (connections, watchers). Idempotent. */
  close(): Promise<void>;
}

export type { AuditEntry };
