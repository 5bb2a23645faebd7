// The file history store: one JSON file per record in history/, and a small per-target index in
// index/{app}_{env}.json with the newest records' summaries, so `status`, `deploy` and
// `history --limit N` never read the whole history. The index is rebuilt from the records when it is
// missing or damaged; the records are the truth.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DeployRecord, HistoryQuery, HistoryStore, RecordStatus } from './types.js';
import { writeFileAtomic } from './atomic.js';
import { ensureHome, historyDir, indexDir, targetKey } from './paths.js';
import { isPidAlive } from './process.js';

/** How many of a target's newest records its index lists. Older ones are found by a scan. */
export const INDEX_CAP = 500;

export interface IndexEntry {
  id: string;
  app: string;
  env: string;
  version: string;
  action: DeployRecord['action'];
  status: RecordStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  user: string;
  host: string;
  pid: number;
  healthy?: boolean;
  bad?: boolean;
}

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

export class FileHistoryStore implements HistoryStore {
  private readonly problems: string[] = [];
  private ready?: Promise<void>;
  private readonly host = hostname();

  constructor(private readonly home: string) {}

  warnings(): string[] {
    return [...this.problems];
  }

  private ensure(): Promise<void> {
    this.ready ??= ensureHome(this.home);
    return this.ready;
  }

  private recordPath(id: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*_[A-Za-z0-9]+_[a-f0-9]+$/.test(id) && !/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
      throw new Error(`not a record id: ${id}`);
    }
    return join(historyDir(this.home), `${id}.json`);
  }

  async write(record: DeployRecord): Promise<void> {
    await this.ensure();
    await writeFileAtomic(this.recordPath(record.id), `${JSON.stringify(record, null, 2)}\n`);
    await this.updateIndex(record.app, record.env, (index) => {
      const at = index.entries.findIndex((e) => e.id === record.id);
      if (at >= 0) index.entries[at] = entryOf(record);
      else index.entries.push(entryOf(record));
    });
  }

  async get(id: string): Promise<DeployRecord | undefined> {
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
      this.problems.push(`cannot read ${file}: ${(error as Error).message}`);
      return undefined;
    }
    try {
      const value = JSON.parse(text) as unknown;
      if (isRecord(value)) return value;
      this.problems.push(`${file} is not a deployment record: skipped`);
    } catch {
      this.problems.push(`${file} is damaged (not JSON): skipped`);
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
    await this.ensure();
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
      if (index.entries.some((e) => e.status === 'running')) {
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

  async lastGood(app: string, env: string, options: { exclude?: string[]; olderThan?: string } = {}): Promise<DeployRecord | undefined> {
    const index = await this.targetIndex(app, env);
    let entries = index.entries;
    if (!index.complete && !entries.some((e) => e.status === 'succeeded')) entries = (await this.scanTarget(app, env)).entries;
    const badVersions = new Set(entries.filter((e) => e.bad).map((e) => e.version));
    for (const entry of entries) {
      if (entry.status !== 'succeeded' || entry.healthy === false || entry.bad || badVersions.has(entry.version)) continue;
      if (options.exclude?.includes(entry.id)) continue;
      if (options.olderThan && entry.startedAt >= options.olderThan) continue;
      return this.get(entry.id);
    }
    return undefined;
  }

  async current(): Promise<DeployRecord[]> {
    await this.ensure();
    const records: DeployRecord[] = [];
    for (const index of await this.allIndexes({})) {
      const first = index.entries[0];
      if (!first) continue;
      const record = await this.get((await this.reconcile(first)).id);
      if (record) records.push(record);
    }
    return records.sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
  }

  async prune(options: { keep: number; olderThan?: Date; app?: string; env?: string }): Promise<{ deleted: string[] }> {
    await this.ensure();
    const deleted: string[] = [];
    const indexes = options.app && options.env ? [await this.targetIndex(options.app, options.env)] : await this.allIndexes(options);
    for (const partial of indexes) {
      const index = await this.scanTarget(partial.app, partial.env);
      const keep = new Set(index.entries.slice(0, Math.max(0, options.keep)).map((e) => e.id));
      if (index.entries[0]) keep.add(index.entries[0].id);
      const good = index.entries.find((e) => e.status === 'succeeded' && e.healthy !== false && !e.bad);
      if (good) keep.add(good.id);
      const cutoff = options.olderThan?.toISOString();
      const doomed = index.entries.filter((e) => !keep.has(e.id) && (!cutoff || e.startedAt < cutoff) && e.status !== 'running');
      if (doomed.length === 0) continue;
      const doomedIds = new Set(doomed.map((e) => e.id));
      await this.updateIndex(index.app, index.env, (idx) => {
        idx.entries = idx.entries.filter((e) => !doomedIds.has(e.id));
      });
      for (const entry of doomed) {
        await rm(this.recordPath(entry.id), { force: true });
        deleted.push(entry.id);
      }
    }
    return { deleted };
  }

  /** A record left `running` by a process that is gone is rewritten as `interrupted`. */
  private async reconcile(entry: IndexEntry): Promise<IndexEntry> {
    if (entry.status !== 'running' || entry.host !== this.host || entry.pid === process.pid || isPidAlive(entry.pid)) return entry;
    const record = await this.get(entry.id);
    if (!record || record.status !== 'running') return entry;
    record.status = 'interrupted';
    record.finishedAt ??= new Date().toISOString();
    record.error ??= {
      code: 'interrupted',
      message: `deployctl (pid ${record.pid} on ${record.host}) stopped before this deployment finished: it was killed or the machine restarted`,
    };
    await this.write(record);
    return entryOf(record);
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
    this.problems.push(`the index of ${app} in ${env} was damaged: rebuilt from the records`);
    return undefined;
  }

  private async targetIndex(app: string, env: string): Promise<TargetIndex> {
    await this.ensure();
    return (await this.readIndex(app, env)) ?? this.scanTarget(app, env);
  }

  private async allIndexes(filter: { app?: string; env?: string }): Promise<TargetIndex[]> {
    let names = (await readdir(indexDir(this.home))).filter((n) => n.endsWith('.json'));
    if (names.length === 0 && (await this.hasRecords())) {
      await this.rebuildAll();
      names = (await readdir(indexDir(this.home))).filter((n) => n.endsWith('.json'));
    }
    const indexes: TargetIndex[] = [];
    for (const name of names) {
      try {
        const index = JSON.parse(await readFile(join(indexDir(this.home), name), 'utf8')) as TargetIndex;
        if ((filter.app && index.app !== filter.app) || (filter.env && index.env !== filter.env)) continue;
        indexes.push(index.schemaVersion === 1 && Array.isArray(index.entries) ? index : await this.scanTarget(index.app, index.env));
      } catch {
        this.problems.push(`index file ${name} is damaged: run any command on that target to rebuild it`);
      }
    }
    return indexes;
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
      const record = await this.get(name.slice(0, -'.json'.length));
      if (record && record.app === app && record.env === env) entries.push(entryOf(record));
    }
    entries.sort(newestFirst);
    const index: TargetIndex = { schemaVersion: 1, app, env, complete: true, entries };
    await this.updateIndex(app, env, (idx) => {
      idx.entries = entries;
      idx.complete = true;
    });
    return index;
  }

  private async rebuildAll(): Promise<void> {
    const targets = new Map<string, [string, string]>();
    for (const name of await readdir(historyDir(this.home))) {
      if (!name.endsWith('.json')) continue;
      const record = await this.get(name.slice(0, -'.json'.length));
      if (record) targets.set(`${record.app}\0${record.env}`, [record.app, record.env]);
    }
    for (const [app, env] of targets.values()) await this.scanTarget(app, env);
  }

  /** Read-modify-write of a target's index under a short exclusive lock of its own. */
  private async updateIndex(app: string, env: string, change: (index: TargetIndex) => void): Promise<void> {
    const file = this.indexPath(app, env);
    const lock = `${file}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, 'wx', 0o600);
        await handle.writeFile(`${process.pid}@${this.host}`);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A holder killed mid-update (SIGKILL) leaves the lock behind: gone holder, or too old, frees it.
        const [pid, host] = (await readFile(lock, 'utf8').catch(() => '')).split('@');
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if ((host === this.host && Number(pid) > 0 && !isPidAlive(Number(pid))) || age > 10_000) await rm(lock, { force: true });
        else await sleep(5 + Math.random() * 20);
      }
    }
    try {
      let index: TargetIndex | undefined;
      try {
        index = JSON.parse(await readFile(file, 'utf8')) as TargetIndex;
        if (index.schemaVersion !== 1 || !Array.isArray(index.entries)) index = undefined;
      } catch {
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
    } finally {
      await rm(lock, { force: true });
    }
  }
}

/**
 * Write `count` synthetic records quickly (for benchmarks): spread over the given targets, oldest
 * first, each target's index written once at the end.
 */
export async function generateRecords(
  home: string,
  count: number,
  targets: Array<[string, string]> = [['noop', 'dev'], ['noop', 'prod']],
): Promise<void> {
  await ensureHome(home);
  const start = Date.parse('2026-01-01T00:00:00Z');
  const byTarget = new Map<string, IndexEntry[]>();
  for (let i = 0; i < count; i++) {
    const [app, env] = targets[i % targets.length]!;
    const at = new Date(start + i * 60_000);
    const record: DeployRecord = {
      schemaVersion: 1,
      id: newRecordId(app, env, at),
      app,
      env,
      version: `1.0.${i}`,
      action: 'deploy',
      status: i % 10 === 3 ? 'failed' : 'succeeded',
      startedAt: at.toISOString(),
      finishedAt: new Date(at.getTime() + 5000).toISOString(),
      durationMs: 5000,
      user: 'bench',
      host: 'bench-host',
      pid: 1,
      command: `deployctl deploy ${app} -e ${env}`,
      config: { type: 'shell' },
      artifacts: {},
      steps: [],
      healthy: i % 10 !== 3,
    };
    writeFileSync(join(historyDir(home), `${record.id}.json`), JSON.stringify(record), { mode: 0o600 });
    const key = targetKey(app, env);
    if (!byTarget.has(key)) byTarget.set(key, []);
    byTarget.get(key)!.push(entryOf(record));
  }
  mkdirSync(indexDir(home), { recursive: true, mode: 0o700 });
  for (const entries of byTarget.values()) {
    entries.sort(newestFirst);
    const index: TargetIndex = {
      schemaVersion: 1,
      app: entries[0]!.app,
      env: entries[0]!.env,
      complete: entries.length <= INDEX_CAP,
      entries: entries.slice(0, INDEX_CAP),
    };
    writeFileSync(join(indexDir(home), `${targetKey(index.app, index.env)}.json`), JSON.stringify(index), { mode: 0o600 });
  }
}
