// The one file-lock primitive of the file backend. A lock is a file created with its whole content at
// once (a temp file linked into place: link fails when the lock exists), naming its holder (pid, host,
// process start time). A holder on this host whose process is gone (or whose pid another process now
// has) is abandoned; only the lock judged is ever removed (moved aside, checked, put back when it turns
// out another process took it in between). Used for the deployment locks (locks.ts) and for the short
// mutex around each read-modify-write of an index file (withFileMutex).
import { randomHex } from './random-hex.js';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isSameProcessAlive, processStartTime } from './process.js';

interface LockOwner {
  pid: number;
  host: string;
  /** Process start time (Linux), to tell a reused pid from the holder. */
  pidStart?: string;
}

const HOST = hostname();

/** This process, as a lock owner. */
function thisProcess(): LockOwner {
  return { pid: process.pid, host: HOST, pidStart: processStartTime(process.pid) };
}

/**
 * Create `file` with `content` unless it exists: true when created, false when another holds it. The
 * temp file never outlives the call. `durable` syncs the content first (a lock outlives no restart:
 * after one its process is gone and it is stale, so deployment locks skip it).
 */
export async function createExclusive(file: string, content: string, options: { durable?: boolean } = {}): Promise<boolean> {
  const temp = `${file}.${randomHex(6)}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(content);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/**
 * Is the owner gone? true: on this host and its process is gone (or the pid is another process's now);
 * false: alive on this host; undefined: cannot be told from here (another host, or no owner written).
 */
export function isAbandoned(owner: Partial<LockOwner> | undefined, isAlive: (pid: number, start?: string) => boolean = isSameProcessAlive): boolean | undefined {
  if (!owner || !(Number(owner.pid) > 0) || owner.host !== HOST) return undefined;
  return !isAlive(Number(owner.pid), owner.pidStart || undefined);
}

/** The ending of a lock file moved aside by removeJudged while it is judged (put back, or removed). */
export const ASIDE = '.stale';

/**
 * Remove `file` only if it is still the lock judged: it is moved aside first, and put back when
 * `stillJudged(content of what was moved)` says another process took the lock in between. True when removed.
 */
export async function removeJudged(file: string, stillJudged: (content: string) => boolean): Promise<boolean> {
  // Read first: a lock judged a moment ago may have been replaced already (its holder released it and
  // another took it), and moving a live lock aside, even for an instant, makes its holder look for it.
  const now = await readFile(file, 'utf8').catch(() => undefined);
  if (now === undefined || !stillJudged(now)) return false;
  const aside = `${file}.${randomHex(6)}${ASIDE}`;
  try {
    await rename(file, aside);
  } catch {
    return false;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (!stillJudged(moved)) {
    // A fresh lock taken in between: put it back (link fails only if yet another lock exists by now).
    await link(aside, file).catch(() => undefined);
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

/** The owner a mutex file names: JSON, or the `pid@host@start` of earlier versions. */
function parseOwner(text: string): Partial<LockOwner> | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    const [pid, host, pidStart] = text.split('@');
    return { pid: Number(pid), host, pidStart };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How old a mutex whose owner cannot be checked (another host, or none written: a full disk) must be to be taken. */
const UNCHECKABLE_AFTER_MS = 10_000;

/**
 * Run `body` holding the short mutex `lockFile` (around a read-modify-write). A live holder on this
 * machine is waited for however long it holds it; one that is gone is taken over at once; one that
 * cannot be checked once it is 10 s old. Mutexes nest only in one order (a target's index, then the
 * summary), so two processes never wait for each other.
 */
export async function withFileMutex<T>(lockFile: string, body: () => Promise<T>): Promise<T> {
  const owner = JSON.stringify(thisProcess());
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      try {
        await handle.writeFile(owner);
      } catch {
        // A full disk: the empty file still excludes, and one left behind is freed by its age.
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!(await freeAbandonedMutex(lockFile))) await sleep(5 + Math.random() * 20);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/** True when the caller should try again at once (the mutex was freed, or is gone). */
async function freeAbandonedMutex(lockFile: string): Promise<boolean> {
  const seen = await stat(lockFile).catch(() => undefined);
  if (!seen) return true;
  const text = await readFile(lockFile, 'utf8').catch(() => '');
  const abandoned = isAbandoned(parseOwner(text)) ?? Date.now() - seen.mtimeMs > UNCHECKABLE_AFTER_MS;
  if (!abandoned) return false;
  await removeJudged(lockFile, (moved) => moved === text);
  return true;
}
