// The file history store: records (record-files.ts), each target's index and the summary of every
// target's head (target-index.ts). Narrow queries and status never read the whole history: the summary
// says which targets hold the newest records, their indexes which records. The indexes are rebuilt from
// the records when missing or damaged; the records are the truth. On a full or read-only disk a write
// either saves the record where readers find it or fails with a StateWriteError leaving the history as
// it was, and reading goes on without the writes it makes on the side (a rebuilt index, a record settled).
// What to keep for a rollback is not decided here: prune takes it as an argument.
import { hostname } from 'node:os';
import { StateWriteError } from '../errors.js';
import { entryOf, isInFlight, newestFirst, RecordFiles, settle } from './record-files.js';
import { headOf, IndexFiles, type TargetIndex } from './target-index.js';
import { isPidAlive } from './process.js';
import { requireHeld } from './held-locks.js';
import type { DeployRecord, HistoryQuery, HistoryStore, IndexEntry, LockHandle, TargetHead } from './types.js';
import { diskCause, diskErrno, stateWriteError } from './write-error.js';
import { sharedReads } from './walk.js';

export { newRecordId } from './record-files.js';
export { INDEX_CAP } from './target-index.js';

const byTarget = (a: { app: string; env: string }, b: { app: string; env: string }) =>
  a.app === b.app ? (a.env < b.env ? -1 : a.env > b.env ? 1 : 0) : a.app < b.app ? -1 : 1;

export class FileHistoryStore implements HistoryStore {
  private readonly problems = new Set<string>();
  private readonly host = hostname();
  private readonly records: RecordFiles;
  private readonly indexes: IndexFiles;

  /** `home` is a state folder made by ensureHome (state/open.ts opens the store that way). */
  constructor(home: string) {
    const warn = (problem: string) => this.warn(problem);
    this.records = new RecordFiles(home, warn);
    this.indexes = new IndexFiles(home, warn, () => this.records.targetKeys());
  }

  warnings(): string[] {
    return [...this.problems];
  }

  private warn(problem: string): void {
    this.problems.add(problem);
  }

  /**
   * The record first (synced when it is new or says how the deployment ended: an update while it runs
   * is not, the next one syncs it), then its index entry and head. `heldBy`: only while that lock is
   * still held, read again just before.
   */
  async write(record: DeployRecord, options: { heldBy?: LockHandle } = {}): Promise<void> {
    const existed = await this.records.exists(record.id);
    await requireHeld(options.heldBy, record, this.records.path(record.id));
    await this.records.write(record, !existed || !isInFlight(record.status));
    try {
      await this.indexes.update(record.app, record.env, (index) => {
        const at = index.entries.findIndex((e) => e.id === record.id);
        if (at >= 0) index.entries[at] = entryOf(record);
        else index.entries.push(entryOf(record));
      });
    } catch (error) {
      const failure = this.indexRefused(error, record.app, record.env);
      if (!existed) {
        // A new record its index does not list would be missed by status and deploy: taken back, the
        // history is as it was, and the write fails.
        await this.records.remove(record.id).catch(() => undefined);
        throw failure;
      }
      // The record is saved, which is what counts; its index entry is behind, so the index goes and
      // the next read rebuilds it from the records.
      await this.dropIndex(record.app, record.env, failure);
    }
  }

  /** An index update the disk refused, as a StateWriteError; any other error is thrown as it is. */
  private indexRefused(error: unknown, app: string, env: string): StateWriteError {
    const failure = stateWriteErrorOf(error, this.indexes.path(app, env));
    if (failure) return failure;
    throw error;
  }

  /** Remove a target's index that could not be updated: the next read rebuilds it from the records. */
  private async dropIndex(app: string, env: string, failure: StateWriteError): Promise<void> {
    const { rm } = await import('node:fs/promises');
    try {
      await rm(this.indexes.path(app, env), { force: true });
    } catch {
      throw failure;
    }
  }

  /**
   * A write a read makes on the side (a rebuilt index, a record settled as interrupted): on a full or
   * read-only disk the read goes on without it, with a warning, and it is tried again on the next read.
   */
  private async onTheSide<T>(problem: string, write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (error) {
      const errno = error instanceof StateWriteError ? error.errno : diskErrno(error);
      if (!errno) throw error;
      this.warn(`${problem}: ${diskCause(errno)}`);
      return undefined;
    }
  }

  /** One record; one left running by a process that is gone is rewritten as interrupted first. */
  async get(id: string): Promise<DeployRecord | undefined> {
    const record = await this.records.read(id);
    if (!record || !isInFlight(record.status)) return record;
    return (await this.reconcileRecord(record)) ?? record;
  }

  async list(query: HistoryQuery): Promise<DeployRecord[]> {
    const records: DeployRecord[] = [];
    for (const entry of await this.entries(query)) {
      const record = await this.get(entry.id);
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * Index entries matching the query, newest first. Across targets, the targets are visited newest
   * head first and the visit stops once the next target's newest record is older than the last one
   * wanted: `history --limit 20` reads about 20 indexes whatever the number of targets and records.
   */
  async entries(query: HistoryQuery): Promise<IndexEntry[]> {
    const since = query.since?.toISOString();
    const matches = (e: IndexEntry) =>
      (!query.app || e.app === query.app) && (!query.env || e.env === query.env) && (!query.status || e.status === query.status) && (!since || e.startedAt >= since);
    const limit = query.limit ?? Infinity;
    let targets: Array<{ app: string; env: string; newest?: string }>;
    if (query.app && query.env) targets = [{ app: query.app, env: query.env }];
    else targets = (await this.heads(query)).map((h) => ({ app: h.app, env: h.env, newest: h.last.startedAt })).sort((a, b) => (a.newest! < b.newest! ? 1 : -1));
    const found: IndexEntry[] = [];
    for (const target of targets) {
      if (found.length >= limit) {
        found.sort(newestFirst);
        found.length = limit;
        if (target.newest && target.newest < found[limit - 1]!.startedAt) break;
      }
      if (since && target.newest && target.newest < since) break;
      let index = await this.targetIndex(target.app, target.env, !(query.app && query.env));
      if (!index) continue;
      let hits = (await this.settled(index.entries)).filter(matches);
      if (hits.length < limit && !index.complete) {
        index = await this.rebuildIndex(target.app, target.env);
        hits = (await this.settled(index.entries)).filter(matches);
      }
      found.push(...hits);
    }
    found.sort(newestFirst);
    return found.slice(0, limit);
  }

  /** Entries, with those left in flight by a process that is gone settled as interrupted. */
  private async settled(entries: IndexEntry[]): Promise<IndexEntry[]> {
    if (!entries.some((e) => isInFlight(e.status))) return entries;
    return Promise.all(entries.map((e) => this.reconcile(e)));
  }

  walk = sharedReads.walk;
  latest = sharedReads.latest;

  async current(): Promise<DeployRecord[]> {
    const records: DeployRecord[] = [];
    for (const head of await this.heads()) {
      let record = await this.get(head.last.id);
      if (!record) {
        // The newest readable record: a damaged newest file is reported and the one before it shown.
        for (const entry of (await this.targetIndex(head.app, head.env))?.entries ?? []) {
          record = await this.get(entry.id);
          if (record) break;
        }
      }
      if (record) records.push(record);
    }
    return records.sort(byTarget);
  }

  async targets(): Promise<Array<{ app: string; env: string }>> {
    return (await this.heads()).map((h) => ({ app: h.app, env: h.env }));
  }

  async heads(filter: { app?: string; env?: string } = {}): Promise<TargetHead[]> {
    const heads = ((await this.indexes.readSummary()) ?? (await this.rebuildSummary())).filter(
      (h) => (!filter.app || h.app === filter.app) && (!filter.env || h.env === filter.env),
    );
    const settled: TargetHead[] = [];
    for (const head of heads) {
      if (!Object.values(head.latest).some((e) => e && isInFlight(e.status) && this.isGone(e))) {
        settled.push(head);
        continue;
      }
      // A record left in flight by a process that is gone: settled (saved so when the disk lets it), and the head made again.
      const index = await this.targetIndex(head.app, head.env);
      const again = index && headOf({ ...index, entries: await this.settled(index.entries) });
      if (again) settled.push(again);
    }
    return settled;
  }

  /**
   * The summary from every target's index (a target whose index is missing or damaged gets it rebuilt
   * from its records; with no index at all, every record is read once to find the targets).
   */
  private async rebuildSummary(): Promise<TargetHead[]> {
    // Names cannot hold "_", so `{app}_{env}` in a file name says its target.
    const targetOf = (key: string) => {
      const [app, env] = key.split('_');
      return app && env ? { app, env } : undefined;
    };
    const targets = new Map<string, { app: string; env: string }>();
    const indexed = new Set<string>();
    for (const name of await this.indexes.indexFileNames()) {
      const key = name.slice(0, -'.json'.length);
      const target = targetOf(key);
      if (target) targets.set(key, target);
      indexed.add(key);
    }
    const missing = new Set<string>();
    for (const id of await this.records.ids()) {
      const key = id.split('_').slice(0, 2).join('_');
      if (indexed.has(key) || missing.has(key)) continue;
      const target = targetOf(key);
      if (!target) continue;
      missing.add(key);
      targets.set(key, target);
    }
    // Every index made whole first (a rebuild takes the index's mutex, never while holding the summary's).
    for (const [key, t] of targets) {
      if (!(await this.indexes.read(t.app, t.env))) await this.rebuildIndex(t.app, t.env);
      if (missing.has(key) && (indexed.size > 0 || missing.size === 1)) this.warn(`the index of ${t.app} in ${t.env} was missing: rebuilt from the records`);
    }
    if (indexed.size === 0 && missing.size > 1) this.warn('the history index was missing: rebuilt from the records');
    const rebuilt = await this.onTheSide('the rebuilt summary index/_summary.json could not be saved', () =>
      this.indexes.rebuildSummary(async () => {
        const heads: TargetHead[] = [];
        for (const t of targets.values()) {
          const head = headOf((await this.indexes.read(t.app, t.env)) ?? { ...t, entries: [] });
          if (head) heads.push(head);
        }
        return heads;
      }),
    );
    if (rebuilt) return rebuilt;
    const heads: TargetHead[] = [];
    for (const t of targets.values()) {
      const head = headOf((await this.targetIndex(t.app, t.env)) ?? { ...t, entries: [] });
      if (head) heads.push(head);
    }
    return heads.sort(byTarget);
  }

  /**
   * Deletes old records of each target, keeping the newest `keep`, and never the newest record, the
   * newest that succeeded, one still in flight, or one `protect` names. The decision and the deletion
   * are made holding the target's index mutex, so a deployment writing meanwhile loses no entry.
   */
  async prune(options: {
    keep: number;
    olderThan?: Date;
    app?: string;
    env?: string;
    protect?: (newestFirst: readonly IndexEntry[]) => Iterable<string>;
  }): Promise<{ deleted: string[] }> {
    const deleted: string[] = [];
    const targets = options.app && options.env ? [{ app: options.app, env: options.env }] : await this.heads(options);
    const cutoff = options.olderThan?.toISOString();
    for (const { app, env } of targets) {
      const doomed: string[] = [];
      try {
        await this.indexes.update(app, env, async (index) => {
          // Every record of the target, read under the mutex: the index may list only the newest.
          const entries = index.complete ? index.entries.slice().sort(newestFirst) : await this.records.scan(app, env);
          const keep = new Set(entries.slice(0, Math.max(0, options.keep)).map((e) => e.id));
          const newest = entries[0];
          if (newest) keep.add(newest.id);
          const running = entries.find((e) => e.status === 'succeeded');
          if (running) keep.add(running.id);
          for (const id of options.protect?.(entries) ?? []) keep.add(id);
          for (const e of entries) if (!keep.has(e.id) && !isInFlight(e.status) && (!cutoff || e.startedAt < cutoff)) doomed.push(e.id);
          const gone = new Set(doomed);
          index.entries = entries.filter((e) => !gone.has(e.id));
          index.complete = true;
          // Records go after their entries: a crash in between leaves records the next rebuild lists again.
        });
      } catch (error) {
        const failure = stateWriteErrorOf(error, this.indexes.path(app, env));
        if (!failure) throw error;
        // A full disk is when pruning helps most: the index goes, the records still go, and the next read rebuilds it.
        await this.dropIndex(app, env, failure);
      }
      for (const id of doomed) {
        await this.records.remove(id);
        deleted.push(id);
      }
    }
    return { deleted };
  }

  /**
   * After a crash, the index is made again from the target's records first: a process killed between
   * writing a new record and listing it in the index (and the summary) left a record no index lists.
   */
  async interruptInFlight(app: string, env: string, message: (record: DeployRecord) => string, options: { afterCrash?: boolean } = {}): Promise<DeployRecord[]> {
    const index = options.afterCrash ? await this.rebuildIndex(app, env) : await this.targetIndex(app, env);
    const settled: DeployRecord[] = [];
    for (const entry of (index?.entries ?? []).filter((e) => isInFlight(e.status))) {
      const record = await this.records.read(entry.id);
      if (!record || !isInFlight(record.status)) continue;
      await this.write(settle(record, message(record)));
      settled.push(record);
    }
    return settled;
  }

  /** A record left pending or running by a process that is gone is rewritten as `interrupted`. */
  private async reconcile(entry: IndexEntry): Promise<IndexEntry> {
    if (!isInFlight(entry.status) || !this.isGone(entry)) return entry;
    const record = await this.records.read(entry.id);
    if (!record) return entry;
    const settled = await this.reconcileRecord(record);
    return settled ? entryOf(settled) : entry;
  }

  private isGone(r: { host: string; pid: number }): boolean {
    return r.host === this.host && r.pid !== process.pid && !isPidAlive(r.pid);
  }

  /** Read as interrupted; saved so when the disk lets it, else shown so with a warning. */
  private async reconcileRecord(record: DeployRecord): Promise<DeployRecord | undefined> {
    if (!isInFlight(record.status) || !this.isGone(record)) return undefined;
    const settled = settle(
      record,
      `deployctl (pid ${record.pid} on ${record.host}) stopped before this deployment finished, or could not save how it ended: it was killed, the machine restarted, or the disk was full`,
    );
    await this.onTheSide(`record ${record.id} is shown as interrupted but could not be saved so`, () => this.write(settled));
    return settled;
  }

  /** A target's index: read, or rebuilt from its records when missing or damaged; undefined when it has none. */
  private async targetIndex(app: string, env: string, known = false): Promise<TargetIndex | undefined> {
    const before = this.problems.size;
    let index = await this.indexes.read(app, env);
    if (!index) {
      const damaged = before !== this.problems.size;
      // The summary is kept in step with the indexes: a target it does not list has no records, and
      // no scan of the whole history folder is needed to say so (a first deploy of a new target).
      if (!damaged && !known && !(await this.indexes.summaryLists(app, env))) return undefined;
      const missing = known && !damaged;
      index = await this.rebuildIndex(app, env);
      if (missing && index.entries.length) this.warn(`the index of ${app} in ${env} was missing: rebuilt from the records`);
    }
    return index.entries.length ? index : undefined;
  }

  /**
   * Read every record of one target (the slow path) and write its complete index, holding its mutex
   * while it reads, so a record written meanwhile is not lost. A target with no records gets no index
   * (asking about a name must not make it known). On a full disk the read goes on with what it found.
   */
  private async rebuildIndex(app: string, env: string): Promise<TargetIndex> {
    let scanned: IndexEntry[] | undefined;
    const written = await this.onTheSide(`the rebuilt index of ${app} in ${env} could not be saved`, () =>
      this.indexes.update(app, env, async (index) => {
        scanned = await this.records.scan(app, env);
        index.entries = scanned;
        index.complete = true;
      }),
    );
    if (written === undefined) scanned ??= await this.records.scan(app, env);
    // Every record found, even beyond what the index keeps: the caller asked for more than it holds.
    return { schemaVersion: 1, app, env, complete: true, entries: scanned ?? [] };
  }
}

function stateWriteErrorOf(error: unknown, path: string): StateWriteError | undefined {
  const failure = stateWriteError(error, 'update the index', path);
  return failure instanceof StateWriteError ? failure : undefined;
}
