// The state folder: history records, their per-target index, and locks. Mode 0700, files 0600.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StateWriteError, UsageError } from '../errors.js';
import { assertName } from '../names.js';
import { guardWrite } from './write-error.js';

export function historyDir(home: string): string {
  return join(home, 'history');
}
export function indexDir(home: string): string {
  return join(home, 'index');
}
export function locksDir(home: string): string {
  return join(home, 'locks');
}

/** `{app}_{env}`: the key of one target in file names. Names are checked before they touch a path. */
export function targetKey(app: string, env: string): string {
  assertName('app', app);
  assertName('environment', env);
  return `${app}_${env}`;
}

const made = new Map<string, Promise<void>>();

/**
 * The state folder and its subfolders, made when missing, mode 0700: once per home in a process
 * (state/open.ts calls it for every store it opens). A disk that refuses (full, read-only, no
 * permission) gives a StateWriteError; a path that cannot be a folder is a usage error naming --home.
 */
export function ensureHome(home: string): Promise<void> {
  let ready = made.get(home);
  if (!ready) {
    ready = makeHome(home);
    made.set(home, ready);
    // A failure is not remembered: a later call tries again (the board runs for long).
    ready.catch(() => made.delete(home));
  }
  return ready;
}

async function makeHome(home: string): Promise<void> {
  try {
    // Synchronous calls: four small folders, once per process (see atomic.ts).
    for (const dir of [home, historyDir(home), indexDir(home), locksDir(home)]) {
      await guardWrite('create the state folder', dir, async () => makeFolders(dir), dirname(dir));
      const mode = statSync(dir).mode & 0o777;
      if (mode !== 0o700) await guardWrite('set mode 0700 on the state folder', dir, async () => chmodSync(dir, 0o700), dir);
    }
  } catch (error) {
    if (error instanceof StateWriteError) throw error;
    throw new UsageError(`cannot use ${home} as the state folder: ${notAFolder(home) ?? (error as Error).message}`, 'pass --home DIR (or set DEPLOYCTL_HOME) to a folder you can write to');
  }
}

/**
 * `mkdir -p`, one folder at a time. Node's recursive mkdir never returns where a parent exists but
 * answers ENOENT for a child (`--home /proc/x`): it spins, creating the parent again and again.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !statSync(p, { throwIfNoEntry: false }); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      mkdirSync(p, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** "/x/a-file is a file, not a folder" for the first path on the way to `dir` that is not a folder. */
function notAFolder(dir: string): string | undefined {
  const chain: string[] = [];
  for (let p = dir; !chain.includes(p); p = dirname(p)) chain.unshift(p);
  try {
    for (const p of chain) {
      const found = statSync(p, { throwIfNoEntry: false });
      if (!found) return undefined;
      if (!found.isDirectory()) return `${p} is a file, not a folder`;
    }
  } catch {
    // not allowed to look: the error's own words say enough
  }
  return undefined;
}
