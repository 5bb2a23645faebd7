// The records of the file backend: one JSON file per record in history/{id}.json, mode 0600, written
// atomically. This module knows files only: which record is current, or what to keep, is decided above.
import { randomHex } from './random-hex.js';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { historyDir, targetKey } from './paths.js';
import type { DeployRecord, IndexEntry, RecordStatus } from './types.js';
import { guardWrite } from './write-error.js';

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** `{app}_{env}_{20261124T153012123Z}_{random}`: sorts by time within a target, safe in every OS's file names. */
export function newRecordId(app: string, env: string, date: Date = new Date()): string {
  return `${targetKey(app, env)}_${timestamp(date)}_${randomHex(3)}`;
}

/** A record whose deployment has not ended (or whose process died before saying so). */
export function isInFlight(status: RecordStatus): boolean {
  return status === 'pending' || status === 'running';
}

/** A record left pending or running, as interrupted (changed in place). */
export function settle(record: DeployRecord, message: string, code = 'interrupted'): DeployRecord {
  record.status = 'interrupted';
  record.finishedAt ??= new Date().toISOString();
  record.durationMs ??= Math.max(0, Date.parse(record.finishedAt) - Date.parse(record.startedAt));
  record.error ??= { code, message };
  return record;
}

const ENTRY_FIELDS = ['id', 'app', 'env', 'version', 'action', 'status', 'startedAt', 'finishedAt', 'durationMs', 'user', 'host', 'pid', 'healthy', 'bad', 'error'] as const satisfies ReadonlyArray<keyof IndexEntry>;

/** What the index holds of a record, on every backend: the fields IndexEntry names, in that order, those set (`bad` only when true). */
export function entryOf(record: DeployRecord): IndexEntry {
  const entry: Record<string, unknown> = {};
  for (const key of ENTRY_FIELDS) if (record[key] !== undefined) entry[key] = record[key];
  if (!record.bad) delete entry.bad;
  if (record.error) entry.error = { code: record.error.code, message: record.error.message };
  return entry as unknown as IndexEntry;
}

export const newestFirst = (a: { id: string; startedAt: string }, b: { id: string; startedAt: string }) =>
  a.startedAt === b.startedAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.startedAt < b.startedAt ? 1 : -1;

function isRecord(value: unknown): value is DeployRecord {
  const r = value as DeployRecord;
  return Boolean(r && typeof r === 'object' && typeof r.id === 'string' && typeof r.app === 'string' && typeof r.env === 'string' && typeof r.status === 'string');
}

export class RecordFiles {
  constructor(
    private readonly home: string,
    private readonly warn: (problem: string) => void,
  ) {}

  path(id: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*_[A-Za-z0-9]+_[a-f0-9]+$/.test(id) && !/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
      throw new Error(`not a record id: ${id}`);
    }
    return join(historyDir(this.home), `${id}.json`);
  }

  /** A record, or undefined when there is none (or it cannot be read: then with a warning). */
  async read(id: string): Promise<DeployRecord | undefined> {
    let file: string;
    try {
      file = this.path(id);
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

  async exists(id: string): Promise<boolean> {
    return existsSync(this.path(id));
  }

  /** Write atomically; `durable` syncs the file and the folder (a record that says how a deployment ended). */
  async write(record: DeployRecord, durable: boolean): Promise<void> {
    const file = this.path(record.id);
    await guardWrite('write the record', file, () => writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, { fsync: durable }));
  }

  async remove(id: string): Promise<void> {
    const file = this.path(id);
    await guardWrite('delete the record', file, () => rm(file, { force: true }));
  }

  /** The ids of every record file, or of one target's (by file name: its records are read to be sure). */
  async ids(target?: { app: string; env: string }): Promise<string[]> {
    const prefix = target ? `${targetKey(target.app, target.env)}_` : '';
    let names: string[];
    try {
      names = await readdir(historyDir(this.home));
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.') && n.startsWith(prefix)).map((n) => n.slice(0, -'.json'.length));
  }

  /** The `{app}_{env}` of every target with record files (names cannot hold "_"). */
  async targetKeys(): Promise<Set<string>> {
    return new Set((await this.ids()).map((id) => id.split('_').slice(0, 2).join('_')));
  }

  /** Every record of one target, as index entries, newest first: the slow path, for rebuilding its index. */
  async scan(app: string, env: string): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    for (const id of await this.ids({ app, env })) {
      const record = await this.read(id);
      if (record && record.app === app && record.env === env) entries.push(entryOf(record));
    }
    return entries.sort(newestFirst);
  }
}
