// What deployctl remembers: one record per deploy/rollback/promote/destroy, and one lock per app+environment.

export type RecordAction = 'deploy' | 'rollback' | 'promote' | 'destroy';
export type RecordStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled_back' | 'interrupted';

export interface StepRecord {
  label: string;
  phase: string;
  /** The argv as run (file + args); secrets redacted. For a shell string, the string. */
  command: string[];
  shell?: boolean;
  cwd: string;
  exitCode: number | null;
  durationMs: number;
  timedOut?: boolean;
  interrupted?: boolean;
  skipped?: boolean;
  spawnError?: string;
  /** Last lines of output, bounded, redacted. */
  output?: string;
}

export interface HealthAttempt {
  attempt: number;
  ok: boolean;
  /** "status 200", "refused", "timed out after 5s", "body lacks \"1.4.2\"". */
  message: string;
  latencyMs: number;
  at: string;
}

export interface HealthResult {
  ok: boolean;
  message: string;
  attempts: HealthAttempt[];
  durationMs: number;
}

export interface CiInfo {
  provider: string;
  runUrl?: string;
  commit?: string;
  actor?: string;
  ref?: string;
}

export interface DeployRecord {
  schemaVersion: 1;
  /** `{app}_{env}_{timestamp}`: also the file name without `.json`. */
  id: string;
  app: string;
  env: string;
  version: string;
  action: RecordAction;
  status: RecordStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  user: string;
  host: string;
  pid: number;
  command: string;
  ci?: CiInfo;
  /** The resolved config, secrets redacted. */
  config: Record<string, unknown>;
  /** Rendered manifests, image references, terraform outputs, ansible recap: what a rollback re-applies. Secrets redacted. */
  artifacts: Record<string, unknown>;
  /**
   * Where each secret stood in `config` (paths from its keys) and in `artifacts` (paths starting with
   * "artifacts"), by name, never by value: a rollback puts the values back from the environment.
   */
  secretRefs?: Array<{ path: (string | number)[]; template: string }>;
  steps: StepRecord[];
  health?: HealthResult;
  /** The pre-deploy check (`pre_check:`), when the app has one. */
  preCheck?: HealthResult;
  /** True when the deploy succeeded and its health check passed (or it had none). */
  healthy?: boolean;
  /** Marked when this version failed here, so a bare rollback never picks it. */
  bad?: boolean;
  error?: { code: string; message: string };
  /** For a rollback: the record whose config was re-applied. */
  rollbackOf?: string;
  /** For a failed record that was rolled back automatically: the rollback record(s). */
  rolledBackBy?: string[];
  /** For a rollback record: the record whose failure triggered it. */
  triggeredBy?: string;
  /** For a promote: where the version came from. */
  from?: { env: string; recordId: string };
  notes?: string[];
  /** What the user was warned of before it ran: what a rollback to this deployment cannot restore (compose). */
  warnings?: string[];
}

/** What the history's index holds of a record: enough to list it and to choose, without reading it. */
export type IndexEntry = Pick<
  DeployRecord,
  'id' | 'app' | 'env' | 'version' | 'action' | 'status' | 'startedAt' | 'finishedAt' | 'durationMs' | 'user' | 'host' | 'pid' | 'healthy' | 'bad' | 'error'
>;

/**
 * One target at a glance, without reading its records: its newest record and the newest record of each
 * status (so what runs there, the newest that succeeded, is `latest.succeeded`). For status, list, the board.
 */
export interface TargetHead {
  app: string;
  env: string;
  last: IndexEntry;
  latest: Partial<Record<RecordStatus, IndexEntry>>;
}

export interface HistoryQuery {
  app?: string;
  env?: string;
  status?: RecordStatus;
  since?: Date;
  limit?: number;
}

/** The history store: files today, PostgreSQL for teams later. */
export interface HistoryStore {
  /**
   * Write (create or replace) a record atomically. Throws a StateWriteError when the disk refuses (full,
   * read-only): the history is then as it was (a replaced record keeps its old content).
   * `heldBy`: the lock of the record's target this process holds. The record is written only while that
   * lock is still held, asked of the state itself just before the write (the lock file read again), or
   * with it (PostgreSQL: one statement on the lock's own session, so there is no moment between). A
   * lock found lost fires its handle's `lost` signal, and the write throws a StateWriteError with errno
   * LOCK_LOST: nothing was written.
   */
  write(record: DeployRecord, options?: { heldBy?: LockHandle }): Promise<void>;
  get(id: string): Promise<DeployRecord | undefined>;
  /** Newest first. Must not read every record for a narrow query with a limit. */
  list(query: HistoryQuery): Promise<DeployRecord[]>;
  /** As list, the index entries only: reads no record for a target whose index holds the newest `limit`. */
  entries(query: HistoryQuery): Promise<IndexEntry[]>;
  /**
   * The records of one target, newest first, among its newest `limit` entries (all, without it) those
   * `pick` accepts (all, without it): each record is read only when the iteration reaches it, so a
   * caller that stops early (a rollback whose first candidate works) reads no more. One that cannot be
   * read any more is left out (the store warns).
   */
  walk(app: string, env: string, options?: { pick?: (entry: IndexEntry) => boolean; limit?: number }): AsyncIterable<DeployRecord>;
  /** The newest record of one target, whatever its status. */
  latest(app: string, env: string): Promise<DeployRecord | undefined>;
  /** Every target (app, env) with its newest record, for status and list. */
  current(): Promise<DeployRecord[]>;
  /** Every app and environment pair that has records. */
  targets(): Promise<Array<{ app: string; env: string }>>;
  /**
   * Every target's head (or those matching the filter), sorted by app then env: one read whatever the
   * number of records, for status, list and the board. Records left in flight by a process that is gone
   * are settled first, as everywhere.
   */
  heads(filter?: { app?: string; env?: string }): Promise<TargetHead[]>;
  /**
   * Under the target's lock nothing else deploys it: a record still pending or running there is an
   * orphan (its process died, or lost the lock). Rewrites each as interrupted, with `message(record)`.
   * `afterCrash` (the lock was taken over from a process that is gone): a store whose record and index
   * are not written at once looks at the records themselves, for one its index never heard of.
   */
  interruptInFlight(app: string, env: string, message: (record: DeployRecord) => string, options?: { afterCrash?: boolean }): Promise<DeployRecord[]>;
  /**
   * Delete old records, keeping per target the newest `keep`, the newest record, the newest that
   * succeeded (what runs there), any still in flight, and what `protect` names (the rollback policy:
   * the last good one). `protect` sees the target's entries newest first, as they are when the decision
   * is made: a deployment racing the prune loses nothing.
   */
  prune(options: { keep: number; olderThan?: Date; app?: string; env?: string; protect?: (newestFirst: readonly IndexEntry[]) => Iterable<string> }): Promise<{ deleted: string[] }>;
  /** Problems met while reading (unreadable files), reported not fatal. */
  warnings(): string[];
}

export interface LockInfo {
  app: string;
  env: string;
  pid: number;
  host: string;
  user: string;
  command: string;
  startedAt: string;
  refreshedAt: string;
  token: string;
  /**
   * The process groups of the commands the holder runs now (each group's leader pid and start time),
   * so that a takeover after the holder was killed stops what is left of them on this host.
   */
  processes?: TrackedProcess[];
}

/** A command's process group, as the lock records it: the leader's pid, its start time, what it runs. */
interface TrackedProcess {
  pid: number;
  /** Start time of the leader (Linux clock ticks since boot), so a reused pid is never taken for it. */
  start?: string;
  command?: string;
}

/** What taking over a stale lock did about the commands its holder had left running. */
export interface Takeover {
  /** Process groups still running on this host, stopped (SIGTERM, then SIGKILL) before the lock was taken. */
  stopped: TrackedProcess[];
  /** Process groups that could not be checked or stopped from here: they may still be running. */
  leftRunning: TrackedProcess[];
}

/** stale: its process is gone (taken over); silent: another host's, not refreshed lately; alive: held. */
export type LockState = 'stale' | 'silent' | 'alive';

export interface LockHandle {
  info: LockInfo;
  /**
   * Aborted when this process no longer holds the lock although it never released it (its database
   * session was ended by `unlock --force`, the network to the database was cut): the reason is an
   * Error saying why, in a clause ("its database session was ended ..."). The engine then stops the
   * running commands and records the deployment as interrupted (lock_lost). The file backend fires it
   * when the lock file is removed or names another holder; a backend without it is assumed never to
   * lose a lock it holds.
   */
  lost?: AbortSignal;
  /**
   * Record a command's process group in the lock (the runner calls it when it starts one; the group is
   * the command's pid), so a takeover after a kill -9 of this process can stop it. Never throws.
   */
  track?(pid: number, command?: string): Promise<void>;
  /** The command ended: its group no longer needs stopping. Never throws. */
  untrack?(pid: number): Promise<void>;
  /**
   * Whether this process still holds the lock, asked of the state now (the lock file read again; on
   * PostgreSQL a query on the lock's own session), not taken from the last look or heartbeat. When it
   * does not, `lost` has fired (saying why) by the time this returns false. False after release.
   */
  stillHeld?(): Promise<boolean>;
  /**
   * Remove the lock. Throws a StateWriteError when the disk refuses (read-only, failing): the lock is
   * then left behind, stale once this process has exited, and the error's hint says how it goes.
   */
  release(): Promise<void>;
}

export interface AcquireOptions {
  command: string;
  /** Who takes it (src/identity.ts currentIdentity): the lock and the record name the same user. */
  user?: string;
  waitMs?: number;
  /** Called after a stale lock was taken over, with what was done about the commands it had left running. */
  onStale?: (old: LockInfo, takeover: Takeover) => void;
  signal?: AbortSignal;
}

export interface LockManager {
  /**
   * Take the lock of app+env. A stale lock (same host, pid gone) is taken over, calling onStale: first
   * the process groups it recorded that still run on this host are stopped (checked by start time).
   * Held by someone alive: waits up to waitMs (0 = no wait), then throws LockError naming the holder.
   */
  acquire(app: string, env: string, options: AcquireOptions): Promise<LockHandle>;
  /** The holder, whether it is alive, whether it is on this host, and a one-line description for messages. */
  inspect(app: string, env: string): Promise<{ holder: LockInfo; state: LockState; local: boolean; description: string } | undefined>;
  /** Every lock held now (or left behind), as inspect describes it: for status and state info. */
  holders(): Promise<Array<{ holder: LockInfo; state: LockState; local: boolean; description: string }>>;
  /** Remove a lock by hand (only the one with `token`, when given); returns what was removed. */
  remove(app: string, env: string, token?: string): Promise<LockInfo | undefined>;
}
