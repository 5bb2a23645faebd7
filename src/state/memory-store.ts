// The in-memory backend of the state port: what the file and PostgreSQL backends do, held in one
// process's memory. For tests of the engine and the core (fast, nothing on disk), and as the reference
// the contract suite (test/state/contract.ts) holds every backend to. Several stores can share one
// MemoryStateData, each as another deployctl process (its own pid): a process can be "killed"
// (killProcess), after which its locks are stale and its records in flight are settled, as on disk.
// It lives in src/ (not test/) so that it is type-checked against the port with the rest, and so the
// core's and the server's tests can open it the way they open the others.
import { hostname } from 'node:os';
import type { AuditEntry, StateStore } from './port.js';
import { MemoryApprovalStore } from './approvals.js';
import { describeHolder, lockRefused, processTracking, requireHeld } from './held-locks.js';
import { isPidAlive, stopProcessGroups } from './process.js';
import { entryOf, isInFlight, newestFirst, newRecordId, settle } from './record-files.js';
import { headOf } from './target-index.js';
import type { AcquireOptions, DeployRecord, HistoryQuery, HistoryStore, IndexEntry, LockHandle, LockInfo, LockManager, LockState, TargetHead } from './types.js';
import { sharedReads } from './walk.js';

interface MemoryStateData {
  records: Map<string, DeployRecord>;
  locks: Map<string, LockInfo>;
  audit: AuditEntry[];
  /** Simulated processes (pids above any real one) and whether each is alive. */
  processes: Map<number, boolean>;
  listeners: Set<() => void>;
  nextPid: number;
}

export function createMemoryData(): MemoryStateData {
  // Above Linux's pid_max (2^22): a simulated pid is never a real process's.
  return { records: new Map(), locks: new Map(), audit: [], processes: new Map(), listeners: new Set(), nextPid: 5_000_000 };
}

/** A new simulated process over `data`, alive until killProcess. */
export function newProcess(data: MemoryStateData): number {
  const pid = data.nextPid++;
  data.processes.set(pid, true);
  return pid;
}

/** kill -9 of a simulated process: its locks stay, stale; its records in flight stay, to be settled. */
export function killProcess(data: MemoryStateData, pid: number): void {
  data.processes.set(pid, false);
  changed(data);
}

function changed(data: MemoryStateData): void {
  for (const listener of [...data.listeners]) queueMicrotask(listener);
}

const HOST = hostname();

function isAlive(data: MemoryStateData, pid: number): boolean {
  const simulated = data.processes.get(pid);
  return simulated ?? isPidAlive(pid);
}

const clone = <T>(value: T): T => structuredClone(value);

class MemoryHistory implements HistoryStore {
  constructor(
    private readonly data: MemoryStateData,
    private readonly pid: number,
  ) {}

  private isGone(r: { host: string; pid: number }): boolean {
    return r.host === HOST && r.pid !== this.pid && !isAlive(this.data, r.pid);
  }

  /** Records left in flight by a process that is gone, settled as interrupted (as the file backend does on read). */
  private reconcile(): void {
    for (const record of this.data.records.values()) {
      if (isInFlight(record.status) && this.isGone(record)) {
        settle(record, `deployctl (pid ${record.pid} on ${record.host}) stopped before this deployment finished, or could not save how it ended: it was killed, the machine restarted, or the disk was full`);
      }
    }
  }

  private all(): DeployRecord[] {
    this.reconcile();
    return [...this.data.records.values()].sort(newestFirst);
  }

  async write(record: DeployRecord, options: { heldBy?: LockHandle } = {}): Promise<void> {
    await requireHeld(options.heldBy, record, 'memory');
    this.data.records.set(record.id, clone(record));
    changed(this.data);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    this.reconcile();
    const record = this.data.records.get(id);
    return record && clone(record);
  }

  async list(query: HistoryQuery): Promise<DeployRecord[]> {
    const ids = (await this.entries(query)).map((e) => e.id);
    return ids.map((id) => clone(this.data.records.get(id)!));
  }

  async entries(query: HistoryQuery): Promise<IndexEntry[]> {
    const since = query.since?.toISOString();
    return this.all()
      .filter((r) => (!query.app || r.app === query.app) && (!query.env || r.env === query.env) && (!query.status || r.status === query.status) && (!since || r.startedAt >= since))
      .slice(0, query.limit ?? Infinity)
      .map(entryOf);
  }

  walk = sharedReads.walk;
  latest = sharedReads.latest;

  async heads(filter: { app?: string; env?: string } = {}): Promise<TargetHead[]> {
    const byTarget = new Map<string, IndexEntry[]>();
    for (const r of this.all()) {
      if ((filter.app && r.app !== filter.app) || (filter.env && r.env !== filter.env)) continue;
      const key = `${r.app}\0${r.env}`;
      if (!byTarget.has(key)) byTarget.set(key, []);
      byTarget.get(key)!.push(entryOf(r));
    }
    return [...byTarget.values()]
      .map((entries) => headOf({ app: entries[0]!.app, env: entries[0]!.env, entries })!)
      .sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
  }

  async current(): Promise<DeployRecord[]> {
    return (await this.heads()).map((h) => clone(this.data.records.get(h.last.id)!));
  }

  async targets(): Promise<Array<{ app: string; env: string }>> {
    return (await this.heads()).map(({ app, env }) => ({ app, env }));
  }

  async interruptInFlight(app: string, env: string, message: (record: DeployRecord) => string): Promise<DeployRecord[]> {
    const settled: DeployRecord[] = [];
    for (const record of this.data.records.values()) {
      if (record.app !== app || record.env !== env || !isInFlight(record.status)) continue;
      settled.push(clone(settle(record, message(record))));
    }
    if (settled.length) changed(this.data);
    return settled;
  }

  async prune(options: { keep: number; olderThan?: Date; app?: string; env?: string; protect?: (newestFirst: readonly IndexEntry[]) => Iterable<string> }): Promise<{ deleted: string[] }> {
    const deleted: string[] = [];
    const cutoff = options.olderThan?.toISOString();
    for (const head of await this.heads(options)) {
      const entries = await this.entries({ app: head.app, env: head.env });
      const keep = new Set(entries.slice(0, Math.max(0, options.keep)).map((e) => e.id));
      keep.add(head.last.id);
      if (head.latest.succeeded) keep.add(head.latest.succeeded.id);
      for (const id of options.protect?.(entries) ?? []) keep.add(id);
      for (const e of entries) {
        if (keep.has(e.id) || isInFlight(e.status) || (cutoff && e.startedAt >= cutoff)) continue;
        this.data.records.delete(e.id);
        deleted.push(e.id);
      }
    }
    if (deleted.length) changed(this.data);
    return { deleted };
  }

  warnings(): string[] {
    return [];
  }
}

class MemoryLocks implements LockManager {
  constructor(
    private readonly data: MemoryStateData,
    private readonly pid: number,
  ) {}

  private state(lock: LockInfo): LockState {
    return lock.host === HOST && !isAlive(this.data, lock.pid) ? 'stale' : 'alive';
  }

  async holders() {
    return [...this.data.locks.values()].map((holder) => ({ holder: clone(holder), state: this.state(holder), local: holder.host === HOST, description: describeHolder(holder, HOST) }));
  }

  async inspect(app: string, env: string) {
    const holder = this.data.locks.get(`${app}_${env}`);
    if (!holder) return undefined;
    return { holder: clone(holder), state: this.state(holder), local: holder.host === HOST, description: describeHolder(holder, HOST) };
  }

  async acquire(
    app: string,
    env: string,
    options: AcquireOptions,
  ): Promise<LockHandle> {
    const key = `${app}_${env}`;
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      const holder = this.data.locks.get(key);
      if (!holder) {
        const now = new Date().toISOString();
        const info: LockInfo = { app, env, pid: this.pid, host: HOST, user: options.user ?? 'unknown', command: options.command, startedAt: now, refreshedAt: now, token: `${this.pid}-${Math.random().toString(16).slice(2)}` };
        this.data.locks.set(key, info);
        changed(this.data);
        return this.handle(key, info);
      }
      if (this.state(holder) === 'stale') {
        const takeover = await stopProcessGroups(holder.processes ?? []);
        if (this.data.locks.get(key) === holder) {
          this.data.locks.delete(key);
          options.onStale?.(clone(holder), takeover);
        }
        continue;
      }
      if (options.signal?.aborted || Date.now() >= deadline) {
        throw lockRefused(app, env, { description: describeHolder(holder, HOST), state: this.state(holder) }, options);
      }
      await this.waitForChange(Math.min(deadline - Date.now(), 200), options.signal);
    }
  }

  private waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.data.listeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(5, ms));
      this.data.listeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private handle(key: string, info: LockInfo): LockHandle {
    const ours = () => this.data.locks.get(key)?.token === info.token;
    const lost = new AbortController();
    heldOf(this.data).set(info.token, lost);
    return {
      info,
      lost: lost.signal,
      ...processTracking(info, async (change) => {
        if (ours()) change();
      }),
      stillHeld: async () => {
        if (!heldOf(this.data).has(info.token)) return false;
        if (ours()) return true;
        loseHandle(this.data, info.token, 'its lock was removed (`deployctl unlock --force`)');
        return false;
      },
      release: async () => {
        heldOf(this.data).delete(info.token);
        if (!ours()) return;
        this.data.locks.delete(key);
        changed(this.data);
      },
    };
  }

  /** By hand (`unlock --force`): a holder still alive loses its lock, as a PostgreSQL holder whose session is ended. */
  async remove(app: string, env: string, token?: string): Promise<LockInfo | undefined> {
    const key = `${app}_${env}`;
    const lock = this.data.locks.get(key);
    if (!lock || (token !== undefined && lock.token !== token)) return undefined;
    this.data.locks.delete(key);
    changed(this.data);
    loseHandle(this.data, lock.token, 'its lock was removed (`deployctl unlock --force`)');
    return clone(lock);
  }
}

/** A store over `data` as the process `pid` (a new simulated one by default; process.pid to be this one). */
export function createMemoryState(data: MemoryStateData = createMemoryData(), pid: number = newProcess(data)): StateStore {
  const listeners = new Set<() => void>();
  return {
    backend: 'memory',
    location: 'memory',
    history: new MemoryHistory(data, pid),
    locks: new MemoryLocks(data, pid),
    approvals: approvalsOf(data),
    audit: {
      append: async (entry) => {
        data.audit.push(clone(entry));
      },
      read: async ({ limit }) => data.audit.slice(-limit).reverse().map(clone),
    },
    newRecordId: (app, env, at) => newRecordId(app, env, at),
    watch: (onChange) => {
      let timer: NodeJS.Timeout | undefined;
      const listener = () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, 20);
      };
      data.listeners.add(listener);
      listeners.add(listener);
      return () => {
        clearTimeout(timer);
        data.listeners.delete(listener);
        listeners.delete(listener);
      };
    },
    close: async () => {
      for (const listener of listeners) data.listeners.delete(listener);
      listeners.clear();
    },
  };
}

/** The lost signals of the locks held now, by token, per data set. */
const heldLocks = new WeakMap<MemoryStateData, Map<string, AbortController>>();

function heldOf(data: MemoryStateData): Map<string, AbortController> {
  let held = heldLocks.get(data);
  if (!held) heldLocks.set(data, (held = new Map()));
  return held;
}

function loseHandle(data: MemoryStateData, token: string, why: string): void {
  const held = heldOf(data);
  const lost = held.get(token);
  held.delete(token);
  lost?.abort(new Error(why));
}

/**
 * For tests: the holder of app/env loses its lock as it would on a cut network (the lock stays taken
 * until removed, as a server keeps a silent session for a while); its handle's lost signal fires with `why`.
 */
export function loseLock(data: MemoryStateData, app: string, env: string, why: string): void {
  const lock = data.locks.get(`${app}_${env}`);
  if (lock) loseHandle(data, lock.token, why);
}

const approvalStores = new WeakMap<MemoryStateData, MemoryApprovalStore>();

/** One approval store per data set, shared by every store over it (another "process"). */
function approvalsOf(data: MemoryStateData): MemoryApprovalStore {
  let store = approvalStores.get(data);
  if (!store) {
    store = new MemoryApprovalStore(() => changed(data));
    approvalStores.set(data, store);
  }
  return store;
}
