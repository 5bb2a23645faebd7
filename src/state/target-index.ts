// The indexes of the file backend: per target, index/{app}_{env}.json lists its newest records'
// summaries (newest first, up to INDEX_CAP); index/_summary.json holds every target's head (its newest
// record and the newest of each status), so status, list and the board read one small file whatever the
// number of records. Both are derived from the records (the truth) and rebuilt from them when damaged.
// Each change is a read-modify-write under a short mutex: a target's index first, then, nested, the
// summary, so the summary never holds a head older than its index.
// These files are small and read and written with the synchronous calls (see atomic.ts).
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StateWriteError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { withFileMutex } from './file-lock.js';
import { indexDir, targetKey } from './paths.js';
import { newestFirst } from './record-files.js';
import type { IndexEntry, RecordStatus, TargetHead } from './types.js';
import { stateWriteError } from './write-error.js';

/** How many of a target's newest records its index lists. Older ones are found by a scan. */
export const INDEX_CAP = 500;

export interface TargetIndex {
  schemaVersion: 1;
  app: string;
  env: string;
  /** True when entries hold every record of the target. */
  complete: boolean;
  entries: IndexEntry[];
}

interface Summary {
  schemaVersion: 1;
  targets: TargetHead[];
}

const SUMMARY_FILE = '_summary.json';

const byTarget = (a: { app: string; env: string }, b: { app: string; env: string }) =>
  a.app === b.app ? (a.env < b.env ? -1 : a.env > b.env ? 1 : 0) : a.app < b.app ? -1 : 1;

/** A target's head from its index entries (newest first); undefined when it has none. */
export function headOf(index: { app: string; env: string; entries: readonly IndexEntry[] }): TargetHead | undefined {
  const last = index.entries[0];
  if (!last) return undefined;
  const latest: Partial<Record<RecordStatus, IndexEntry>> = {};
  for (const e of index.entries) latest[e.status] ??= e;
  return { app: index.app, env: index.env, last, latest };
}

export class IndexFiles {
  constructor(
    private readonly home: string,
    private readonly warn: (problem: string) => void,
    /** The `{app}_{env}` keys of the targets that have record files (read once, to make a first summary). */
    private readonly recordKeys: () => Promise<Set<string>>,
  ) {}

  path(app: string, env: string): string {
    return join(indexDir(this.home), `${targetKey(app, env)}.json`);
  }

  private summaryPath(): string {
    return join(indexDir(this.home), SUMMARY_FILE);
  }

  /** A target's index; undefined when missing, or damaged (with a warning). */
  async read(app: string, env: string): Promise<TargetIndex | undefined> {
    try {
      const value = JSON.parse(readFileSync(this.path(app, env), 'utf8')) as TargetIndex;
      if (value?.schemaVersion === 1 && value.app === app && value.env === env && Array.isArray(value.entries)) return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    }
    this.warn(`the index of ${app} in ${env} was damaged: rebuilt from the records`);
    return undefined;
  }

  /** The heads of every target; undefined when the summary is missing or damaged (rebuild it). */
  async readSummary(): Promise<TargetHead[] | undefined> {
    try {
      const value = JSON.parse(readFileSync(this.summaryPath(), 'utf8')) as Summary;
      if (value?.schemaVersion === 1 && Array.isArray(value.targets) && value.targets.every((t) => typeof t?.app === 'string' && typeof t?.env === 'string' && t.last && t.latest)) {
        return value.targets;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    }
    this.warn('the summary of targets in index/_summary.json was damaged: rebuilt from the indexes');
    return undefined;
  }

  /** The target index files there are, by their content (a damaged one by its name alone cannot be told apart). */
  async indexFileNames(): Promise<string[]> {
    try {
      return (await readdir(indexDir(this.home))).filter((n) => n.endsWith('.json') && !n.startsWith('_') && !n.startsWith('.'));
    } catch {
      return [];
    }
  }

  /** The target an index file names in its content. */
  async targetOfFile(name: string): Promise<{ app: string; env: string } | undefined> {
    try {
      const index = JSON.parse(await readFile(join(indexDir(this.home), name), 'utf8')) as TargetIndex;
      if (typeof index.app === 'string' && typeof index.env === 'string' && `${targetKey(index.app, index.env)}.json` === name) return { app: index.app, env: index.env };
    } catch {
      // damaged
    }
    return undefined;
  }

  /**
   * Change a target's index under its mutex (`change` may be async: a rebuild scans the records while
   * holding it, so no write in between is lost), then its head in the summary. Returns the index as
   * written. An index of no entries is removed, and its target leaves the summary.
   */
  async update(app: string, env: string, change: (index: TargetIndex) => void | Promise<void>): Promise<TargetIndex> {
    const file = this.path(app, env);
    return withFileMutex(`${file}.lock`, async () => {
      let index: TargetIndex | undefined;
      try {
        index = JSON.parse(readFileSync(file, 'utf8')) as TargetIndex;
        if (index.schemaVersion !== 1 || !Array.isArray(index.entries) || index.app !== app || index.env !== env) index = undefined;
      } catch {
        index = undefined;
      }
      index ??= { schemaVersion: 1, app, env, complete: false, entries: [] };
      await change(index);
      index.entries.sort(newestFirst);
      if (index.entries.length > INDEX_CAP) {
        index.entries = index.entries.slice(0, INDEX_CAP);
        index.complete = false;
      }
      if (index.entries.length === 0) await rm(file, { force: true });
      else await writeFileAtomic(file, JSON.stringify(index), { fsync: false });
      await this.setHead(app, env, headOf(index));
      return index;
    });
  }

  /**
   * Put a target's head into the summary (or take the target out). When the disk refuses, the summary
   * is removed instead, to be rebuilt from the indexes by the next read: never left behind its index.
   */
  private async setHead(app: string, env: string, head: TargetHead | undefined): Promise<void> {
    const file = this.summaryPath();
    try {
      await withFileMutex(`${file}.lock`, async () => {
        const heads = (await this.readSummaryQuietly()) ?? (await this.firstSummary(app, env));
        if (!heads) return; // not to be made here: the next read builds one from the records
        const others = heads.filter((h) => h.app !== app || h.env !== env);
        await this.writeSummary(head ? [...others, head] : others);
      });
    } catch (error) {
      const failure = stateWriteError(error, 'update the summary', file);
      if (!(failure instanceof StateWriteError)) throw error;
      await rm(file, { force: true }).catch(() => {
        throw failure;
      });
    }
  }

  /**
   * The heads of the other targets, to make the summary at the first write (a new state folder, or one
   * from before the summary): from their indexes, when every one is whole and every target with records
   * has one; else undefined, and the next read rebuilds it from the records.
   */
  private async firstSummary(app: string, env: string): Promise<TargetHead[] | undefined> {
    const mine = `${targetKey(app, env)}.json`;
    const heads: TargetHead[] = [];
    const keys = new Set<string>([targetKey(app, env)]);
    for (const name of await this.indexFileNames()) {
      if (name === mine) continue;
      let index: TargetIndex;
      try {
        index = JSON.parse(await readFile(join(indexDir(this.home), name), 'utf8')) as TargetIndex;
      } catch {
        return undefined;
      }
      if (index?.schemaVersion !== 1 || !Array.isArray(index.entries) || `${targetKey(index.app, index.env)}.json` !== name) return undefined;
      const head = headOf(index);
      if (head) heads.push(head);
      keys.add(name.slice(0, -'.json'.length));
    }
    for (const key of await this.recordKeys()) if (!keys.has(key)) return undefined;
    return heads;
  }

  /** Does the summary list this target? True when there is no summary to ask (it cannot say no). */
  async summaryLists(app: string, env: string): Promise<boolean> {
    const heads = await this.readSummaryQuietly();
    return !heads || heads.some((h) => h.app === app && h.env === env);
  }

  private async readSummaryQuietly(): Promise<TargetHead[] | undefined> {
    try {
      const value = JSON.parse(readFileSync(this.summaryPath(), 'utf8')) as Summary;
      return value?.schemaVersion === 1 && Array.isArray(value.targets) ? value.targets : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeSummary(heads: TargetHead[]): Promise<void> {
    heads.sort(byTarget);
    await writeFileAtomic(this.summaryPath(), JSON.stringify({ schemaVersion: 1, targets: heads } satisfies Summary), { fsync: false });
  }

  /**
   * A new summary from the heads of the given indexes. Under the summary's mutex, so an update racing
   * it is either in the indexes read or applied after.
   */
  async rebuildSummary(readHeads: () => Promise<TargetHead[]>): Promise<TargetHead[]> {
    const file = this.summaryPath();
    return withFileMutex(`${file}.lock`, async () => {
      const heads = await readHeads();
      await this.writeSummary(heads);
      return heads;
    });
  }
}
