// The file history store: one JSON file per record in history/, and a small per-target index in
// index/{app}_{env}.json with the newest records' summaries, so `status`, `deploy` and
// `history --limit N` never read the whole history. The index is rebuilt from the records when it is
// missing or damaged; the records are the truth. On a full or read-only disk a write either saves the
// record where readers find it or fails with a StateWriteError leaving the history as it was, and
// reading goes on without the writes it makes on the side (a rebuilt index, a record settled).
import { randomBytes } from 'node:crypto';
import { link, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateWriteError } from '../errors.js';
import type { DeployRecord, HistoryQuery, HistoryStore, IndexEntry } from './types.js';
import { writeFileAtomic } from './atomic.js';
import { inFlight, recordsRollbacksNeed } from './good.js';
import { historyDir, indexDir, targetKey } from './paths.js';
import { isPidAlive, isSameProcessAlive, processStartTime } from './process.js';
import { diskCause, diskErrno, guardWrite, stateWriteError } from './write-error.js';

/** How many of a target's newest records its index lists. Older ones are found by a scan. */
export const INDEX_CAP = 500;

interface TargetIndex {
  schemaVersion: 1;
  app: string;
  env: string;
  /** True when entries hold every record of the target. */
  complete: boolean;
  entries: IndexEntry[];
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** `{app}_{env}_{20261124T153012123Z}_{random}`: sorts by time within a target, safe in every OS's file names. */
export function newRecordId(app: string, env: string, date: Date = new Date()): string {
  return `${targetKey(app, env)}_${timestamp(date)}_${randomBytes(3).toString('hex')}`;
}

function entryOf(record: DeployRecord): IndexEntry {
  const entry: IndexEntry = {
    id: record.id,
    app: record.app,
    env: record.env,
    version: record.version,
    action: record.action,
    status: record.status,
    startedAt: record.startedAt,
    user: record.user,
    host: record.host,
    pid: record.pid,
  };
  if (record.finishedAt) entry.finishedAt = record.finishedAt;
  if (record.durationMs !== undefined) entry.durationMs = record.durationMs;
  if (record.healthy !== undefined) entry.healthy = record.healthy;
  if (record.bad) entry.bad = true;
  return entry;
}

function isRecord(value: unknown): value is DeployRecord {
  const r = value as DeployRecord;
  return Boolean(r && typeof r === 'object' && typeof r.id === 'string' && typeof r.app === 'string' && typeof r.env === 'string' && typeof r.status === 'string');
}

const newestFirst = (a: { id: string; startedAt: string }, b: { id: string; startedAt: string }) =>
  a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A record left pending or running, as interrupted (changed in place). */
function settle(record: DeployRecord, message: string): DeployRecord {
  record.status = 'interrupted';
  record.finishedAt ??= new Date().toISOString();
  record.durationMs ??= Math.max(0, Date.parse(record.finishedAt) - Date.parse(record.startedAt));
  record.error ??= { code: 'interrupted', message };
  return record;
}

export class FileHistoryStore implements HistoryStore {
  private readonly problems = new Set<string>();
  private readonly host = hostname();
  private readonly lockHolder = `${process.pid}@${this.host}@${processStartTime(process.pid) ?? ''}`;

  /** `home` is a state folder made by ensureHome (state/open.ts opens the store that way). */
  constructor(private readonly home: string) {}

  warnings(): string[] {
    return [...this.problems];
  }

  private warn(problem: string): void {
    this.problems.add(problem);
  }

  private recordPath(id: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*_[A-Za-z0-9]+_[a-f0-9]+$/.test(id) && !/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
      throw new Error(`not a record id: ${id}`);
    }
    return join(historyDir(this.home), `${id}.json`);
  }

  async write(record: DeployRecord): Promise<void> {
    const file = this.recordPath(record.id);
    const existed = await stat(file).then(
      () => true,
      () => false,
    );
    await guardWrite('write the record', file, () => writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`));
    try {
      await this.updateIndex(record.app, record.env, (index) => {
        const at = index.entries.findIndex((e) => e.id === record.id);
        if (at >= 0) index.entries[at] = entryOf(record);
        else index.entries.push(entryOf(record));
      });
    } catch (error) {
      const failure = this.indexRefused(error, record.app, record.env);
      if (!existed) {
        // A new record its index does not list would be missed by status and deploy: taken back, the
        // history is as it was, and the write fails.
        await rm(file, { force: true }).catch(() => undefined);
        throw failure;
      }
      // The record is saved, which is what counts; its index entry is behind, so the index goes and
      // the next read rebuilds it from the records.
      await this.dropIndex(record.app, record.env, failure);
    }
  }

  /** An index update the disk refused, as a StateWriteError; any other error is thrown as it is. */
  private indexRefused(error: unknown, app: string, env: string): StateWriteError {
    const failure = stateWriteError(error, 'update the index', this.indexPath(app, env));
    if (failure instanceof StateWriteError) return failure;
    throw error;
  }

  /** Remove a target's index that could not be updated: the next read rebuilds it from the records. */
  private async dropIndex(app: string, env: string, failure: StateWriteError): Promise<void> {
    try {
      await rm(this.indexPath(app, env), { force: true });
    } catch {
      throw failure;
    }
  }

  /**
   * A write a read makes on the side (a rebuilt index, a record settled as interrupted): on a full or
   * read-only disk the read goes on without it, with a warning, and it is tried again on the next read.
   */
  private async onTheSide(problem: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      const errno = error instanceof StateWriteError ? error.errno : diskErrno(error);
      if (!errno) throw error;
      this.warn(`${problem}: ${diskCause(errno)}`);
    }
  }

  /** One record; one left running by a process that is gone is rewritten as interrupted first. */
  async get(id: string): Promise<DeployRecord | undefined> {
    const record = await this.read(id);
    if (!record || !inFlight(record.status)) return record;
    return (await this.reconcileRecord(record)) ?? record;
  }

  private async read(id: string): Promise<DeployRecord | undefined> {
    let file: string;
    try {
      file = this.recordPath(id);
    } catch {
      return undefined;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.warn(`cannot read ${file}: ${(error as Error).message}`);
      return undefined;
    }
    try {
      const value = JSON.parse(text) as unknown;
      if (isRecord(value)) return value;
      this.warn(`${file} is not a deployment record: skipped`);
    } catch {
      this.warn(`${file} is damaged (not JSON): skipped`);
    }
    return undefined;
  }

  async list(query: HistoryQuery): Promise<DeployRecord[]> {
    const entries = await this.entries(query);
    const records: DeployRecord[] = [];
    for (const entry of entries) {
      const record = await this.get(entry.id);
      if (record) records.push(record);
    }
    return records;
  }

  /** Index entries matching the query, newest first: reads only index files unless it must go deeper. */
  async entries(query: HistoryQuery): Promise<IndexEntry[]> {
    const indexes = query.app && query.env ? [await this.targetIndex(query.app, query.env)] : await this.allIndexes(query);
    const since = query.since?.toISOString();
    const matches = (e: IndexEntry) =>
      (!query.app || e.app === query.app) &&
      (!query.env || e.env === query.env) &&
      (!query.status || e.status === query.status) &&
      (!since || e.startedAt >= since);
    const limit = query.limit ?? Infinity;
    const found: IndexEntry[] = [];
    for (let index of indexes) {
      if (index.entries.some((e) => inFlight(e.status))) {
        index = { ...index, entries: await Promise.all(index.entries.map((e) => this.reconcile(e))) };
      }
      let hits = index.entries.filter(matches);
      if (hits.length < limit && !index.complete) {
        index = await this.scanTarget(index.app, index.env);
        hits = index.entries.filter(matches);
      }
      found.push(...hits);
    }
    found.sort(newestFirst);
    return found.slice(0, limit);
  }

  async latest(app: string, env: string): Promise<DeployRecord | undefined> {
    return (await this.list({ app, env, limit: 1 }))[0];
  }

  async current(): Promise<DeployRecord[]> {
    const records: DeployRecord[] = [];
    for (const index of await this.allIndexes({})) {
      // The newest readable record: a damaged newest file is reported and the one before it shown.
      for (const entry of index.entries) {
        const record = await this.get((await this.reconcile(entry)).id);
        if (record) {
          records.push(record);
          break;
        }
      }
    }
    return records.sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
  }

  async targets(): Promise<Array<{ app: string; env: string }>> {
    return (await this.allIndexes({})).map((i) => ({ app: i.app, env: i.env }));
  }

  /**
   * Deletes old records of each target, keeping the newest `keep`, and never: the newest record, the
   * current one (the newest that succeeded: what runs there), the last good one a bare rollback would
   * go back to, or one still in flight.
   */
  async prune(options: { keep: number; olderThan?: Date; app?: string; env?: string }): Promise<{ deleted: string[] }> {
    const deleted: string[] = [];
    const indexes = options.app && options.env ? [await this.targetIndex(options.app, options.env)] : await this.allIndexes(options);
    for (const partial of indexes) {
      const index = await this.scanTarget(partial.app, partial.env);
      const entries = index.entries;
      const keep = new Set(entries.slice(0, Math.max(0, options.keep)).map((e) => e.id));
      for (const e of recordsRollbacksNeed(entries)) keep.add(e.id);
      const cutoff = options.olderThan?.toISOString();
      const doomed = entries.filter((e) => !keep.has(e.id) && (!cutoff || e.startedAt < cutoff) && !inFlight(e.status));
      if (doomed.length === 0) continue;
      const doomedIds = new Set(doomed.map((e) => e.id));
      try {
        await this.updateIndex(index.app, index.env, (idx) => {
          idx.entries = idx.entries.filter((e) => !doomedIds.has(e.id));
        });
      } catch (error) {
        // A full disk is when pruning helps most: the index goes, and the next read rebuilds it.
        await this.dropIndex(index.app, index.env, this.indexRefused(error, index.app, index.env));
      }
      for (const entry of doomed) {
        const file = this.recordPath(entry.id);
        await guardWrite('delete the record', file, () => rm(file, { force: true }));
        deleted.push(entry.id);
      }
    }
    return { deleted };
  }

  async interruptInFlight(app: string, env: string, message: (record: DeployRecord) => string): Promise<DeployRecord[]> {
    const index = await this.targetIndex(app, env);
    const settled: DeployRecord[] = [];
    for (const entry of index.entries.filter((e) => inFlight(e.status))) {
      const record = await this.read(entry.id);
      if (!record || !inFlight(record.status)) continue;
      settled.push(await this.markInterrupted(record, message(record)));
    }
    return settled;
  }

  /** A record left pending or running by a process that is gone is rewritten as `interrupted`. */
  private async reconcile(entry: IndexEntry): Promise<IndexEntry> {
    if (!inFlight(entry.status) || !this.isGone(entry)) return entry;
    const record = await this.read(entry.id);
    if (!record) return entry;
    const settled = await this.reconcileRecord(record);
    return settled ? entryOf(settled) : entry;
  }

  private isGone(r: { host: string; pid: number }): boolean {
    return r.host === this.host && r.pid !== process.pid && !isPidAlive(r.pid);
  }

  /** Read as interrupted; saved so when the disk lets it, else shown so with a warning. */
  private async reconcileRecord(record: DeployRecord): Promise<DeployRecord | undefined> {
    if (!inFlight(record.status) || !this.isGone(record)) return undefined;
    const settled = settle(
      record,
      `deployctl (pid ${record.pid} on ${record.host}) stopped before this deployment finished, or could not save how it ended: it was killed, the machine restarted, or the disk was full`,
    );
    await this.onTheSide(`record ${record.id} is shown as interrupted but could not be saved so`, () => this.write(settled));
    return settled;
  }

  private async markInterrupted(record: DeployRecord, message: string): Promise<DeployRecord> {
    await this.write(settle(record, message));
    return record;
  }

  private indexPath(app: string, env: string): string {
    return join(indexDir(this.home), `${targetKey(app, env)}.json`);
  }

  private async readIndex(app: string, env: string): Promise<TargetIndex | undefined> {
    try {
      const value = JSON.parse(await readFile(this.indexPath(app, env), 'utf8')) as TargetIndex;
      if (value?.schemaVersion === 1 && value.app === app && value.env === env && Array.isArray(value.entries)) return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    }
    this.warn(`the index of ${app} in ${env} was damaged: rebuilt from the records`);
    return undefined;
  }

  private async targetIndex(app: string, env: string): Promise<TargetIndex> {
    return (await this.readIndex(app, env)) ?? this.scanTarget(app, env);
  }

  /**
   * The index of every target (or those matching the filter). `index/_targets.json` lists the targets,
   * so an index file that went missing is noticed and rebuilt from the records like a damaged one.
   */
  private async allIndexes(filter: { app?: string; env?: string }): Promise<TargetIndex[]> {
    const names = new Set((await readdir(indexDir(this.home))).filter((n) => n.endsWith('.json') && !n.startsWith('_')));
    let targets = await this.readManifest();
    if (!targets) {
      if (names.size === 0) {
        if (!(await this.hasRecords())) return [];
        this.warn('the history index was missing: rebuilt from the records');
        await this.rebuildAll();
        return this.allIndexes(filter);
      }
      targets = [];
    }
    // Index files the list does not name yet (a state folder from before the list, a crash in between).
    const listed = new Set(targets.map((t) => `${targetKey(t.app, t.env)}.json`));
    for (const name of names) {
      if (listed.has(name)) continue;
      for (const found of await this.targetsOfIndexFile(name)) {
        targets.push(found);
        await this.remember(found.app, found.env);
      }
    }
    const indexes: TargetIndex[] = [];
    for (const { app, env } of targets) {
      if ((filter.app && app !== filter.app) || (filter.env && env !== filter.env)) continue;
      let index = await this.readIndex(app, env);
      if (!index) {
        index = await this.scanTarget(app, env);
        // Its records are all gone (deleted by hand): the target is no longer one.
        if (index.entries.length === 0) await this.forget(app, env);
        else if (!names.has(`${targetKey(app, env)}.json`)) this.warn(`the index of ${app} in ${env} was missing: rebuilt from the records`);
      }
      if (index.entries.length) indexes.push(index);
    }
    return indexes;
  }

  /** The target(s) an index file belongs to: from its content, or, when it is damaged, from the records its name points at. */
  private async targetsOfIndexFile(name: string): Promise<Array<{ app: string; env: string }>> {
    try {
      const index = JSON.parse(await readFile(join(indexDir(this.home), name), 'utf8')) as TargetIndex;
      if (typeof index.app === 'string' && typeof index.env === 'string') return [{ app: index.app, env: index.env }];
    } catch {
      // damaged: fall through to the records
    }
    const key = name.slice(0, -'.json'.length);
    const found = new Map<string, { app: string; env: string }>();
    for (const file of await readdir(historyDir(this.home))) {
      if (!file.startsWith(`${key}_`) || !file.endsWith('.json')) continue;
      const record = await this.read(file.slice(0, -'.json'.length));
      if (record && targetKey(record.app, record.env) === key) found.set(`${record.app}\0${record.env}`, { app: record.app, env: record.env });
    }
    return [...found.values()];
  }

  private manifestPath(): string {
    return join(indexDir(this.home), '_targets.json');
  }

  private async readManifest(): Promise<Array<{ app: string; env: string }> | undefined> {
    try {
      const value = JSON.parse(await readFile(this.manifestPath(), 'utf8')) as { targets?: Array<{ app: string; env: string }> };
      if (Array.isArray(value.targets) && value.targets.every((t) => typeof t?.app === 'string' && typeof t?.env === 'string')) return value.targets;
      this.warn('the list of targets in index/_targets.json was damaged: rebuilt');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn('the list of targets in index/_targets.json was damaged: rebuilt');
    }
    return undefined;
  }

  /**
   * Add a target to index/_targets.json. When the disk refuses, the list stays behind and the next
   * read finds the target by its index file, as it finds one the list does not name yet.
   */
  private remember(app: string, env: string): Promise<void> {
    return this.onTheSide('the list of targets in index/_targets.json could not be updated', () =>
      this.changeManifest((targets) => (targets.some((t) => t.app === app && t.env === env) ? undefined : [...targets, { app, env }])),
    );
  }

  private forget(app: string, env: string): Promise<void> {
    return this.onTheSide('the list of targets in index/_targets.json could not be updated', () =>
      this.changeManifest((targets) => targets.filter((t) => t.app !== app || t.env !== env)),
    );
  }

  /** Read-modify-write of index/_targets.json under its own short lock; `change` returns undefined for no change. */
  private async changeManifest(change: (targets: Array<{ app: string; env: string }>) => Array<{ app: string; env: string }> | undefined): Promise<void> {
    const file = this.manifestPath();
    await this.withFileLock(`${file}.lock`, async () => {
      const targets = change((await this.readManifest()) ?? []);
      if (!targets) return;
      targets.sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
      await writeFileAtomic(file, JSON.stringify({ schemaVersion: 1, targets }));
    });
  }

  private async hasRecords(): Promise<boolean> {
    try {
      return (await readdir(historyDir(this.home))).some((n) => n.endsWith('.json'));
    } catch {
      return false;
    }
  }

  /** Read every record of one target (slow path), and write a complete fresh index for it. */
  private async scanTarget(app: string, env: string): Promise<TargetIndex> {
    const prefix = `${targetKey(app, env)}_`;
    const names = (await readdir(historyDir(this.home))).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
    const entries: IndexEntry[] = [];
    for (const name of names) {
      const record = await this.read(name.slice(0, -'.json'.length));
      if (record && record.app === app && record.env === env) entries.push(entryOf(record));
    }
    entries.sort(newestFirst);
    const index: TargetIndex = { schemaVersion: 1, app, env, complete: true, entries };
    // A target with no records gets no index: asking about a name must not make it known.
    if (entries.length === 0) return index;
    await this.onTheSide(`the rebuilt index of ${app} in ${env} could not be saved`, () =>
      this.updateIndex(app, env, (idx) => {
        idx.entries = entries;
        idx.complete = true;
      }),
    );
    return index;
  }

  private async rebuildAll(): Promise<void> {
    const targets = new Map<string, [string, string]>();
    for (const name of await readdir(historyDir(this.home))) {
      if (!name.endsWith('.json')) continue;
      const record = await this.read(name.slice(0, -'.json'.length));
      if (record) targets.set(`${record.app}\0${record.env}`, [record.app, record.env]);
    }
    for (const [app, env] of targets.values()) await this.scanTarget(app, env);
  }

  /** Read-modify-write of a target's index under a short exclusive lock of its own. */
  private async updateIndex(app: string, env: string, change: (index: TargetIndex) => void): Promise<void> {
    const file = this.indexPath(app, env);
    let created = false;
    await this.withFileLock(`${file}.lock`, async () => {
      let index: TargetIndex | undefined;
      try {
        index = JSON.parse(await readFile(file, 'utf8')) as TargetIndex;
        if (index.schemaVersion !== 1 || !Array.isArray(index.entries)) index = undefined;
      } catch (error) {
        created = (error as NodeJS.ErrnoException).code === 'ENOENT';
        index = undefined;
      }
      index ??= { schemaVersion: 1, app, env, complete: false, entries: [] };
      change(index);
      index.entries.sort(newestFirst);
      if (index.entries.length > INDEX_CAP) {
        index.entries = index.entries.slice(0, INDEX_CAP);
        index.complete = false;
      }
      await writeFileAtomic(file, JSON.stringify(index), { fsync: false });
    });
    if (created) await this.remember(app, env);
  }

  /**
   * A short exclusive lock (a file created with O_EXCL) around a read-modify-write. It holds
   * `pid@host@start` (start: the process's start time, to tell a reused pid from the holder).
   */
  private async withFileLock(lock: string, body: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        const handle = await open(lock, 'wx', 0o600);
        try {
          await handle.writeFile(this.lockHolder);
        } catch {
          // A full disk: the empty file still excludes, and one left behind is freed by its age.
        } finally {
          await handle.close();
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!(await this.freeAbandonedLock(lock))) await sleep(5 + Math.random() * 20);
      }
    }
    try {
      await body();
    } finally {
      await rm(lock, { force: true });
    }
  }

  /**
   * Remove a lock left by a holder that is gone (killed mid-update): on this machine, one whose process
   * is no longer running, or whose pid another process has now; a live one is waited for however long
   * it holds the lock. A lock of another machine, or one with no holder in it (a full disk, or a holder
   * killed between creating and writing it), cannot be checked: it is taken once it is 10 s old. Only the
   * lock judged is removed: one that another waiter took in between is put back. True when the caller
   * should try again at once.
   */
  private async freeAbandonedLock(lock: string): Promise<boolean> {
    const seen = await stat(lock).catch(() => undefined);
    if (!seen) return true;
    const [pid, host, start] = (await readFile(lock, 'utf8').catch(() => '')).split('@');
    const abandoned =
      Number(pid) > 0 && host === this.host ? !isSameProcessAlive(Number(pid), start || undefined) : Date.now() - seen.mtimeMs > 10_000;
    if (!abandoned) return false;
    const aside = `${lock}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await rename(lock, aside);
    } catch {
      return true;
    }
    const moved = await stat(aside).catch(() => undefined);
    if (moved && (moved.ino !== seen.ino || moved.mtimeMs !== seen.mtimeMs)) await link(aside, lock).catch(() => undefined);
    await rm(aside, { force: true });
    return true;
  }
}
