// One deployment in flight per app and environment. The lock file is created atomically with its
// content (write a temp file, then link it into place: link fails if the lock exists). A lock whose
// process is gone on this host is stale and taken over; a lock from another host is never assumed dead.
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { link, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { LockError } from '../errors.js';
import type { LockHandle, LockInfo, LockManager } from './types.js';
import { writeFileAtomic } from './atomic.js';
import { ensureHome, locksDir, targetKey } from './paths.js';
import { isSameProcessAlive, processStartTime } from './process.js';

export interface FileLockOptions {
  hostname?: string;
  user?: string;
  pid?: number;
  /** How often a held lock's refreshedAt is rewritten. */
  refreshMs?: number;
  isAlive?: (pid: number, startTime?: string) => boolean;
}

interface StoredLock extends LockInfo {
  /** Process start time (Linux), to tell a reused pid from the holder. */
  pidStart?: string;
}


function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 16);
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function describeHolder(lock: LockInfo, localHost: string): string {
  const remote = lock.host !== localHost ? `, last refreshed ${ago(lock.refreshedAt)}` : '';
  return `${lock.user}@${lock.host} (pid ${lock.pid}) since ${clock(lock.startedAt)}${remote}: ${lock.command}`;
}

export class FileLockManager implements LockManager {
  private readonly host: string;
  private readonly user: string;
  private readonly pid: number;
  private readonly isAlive: (pid: number, startTime?: string) => boolean;

  constructor(
    private readonly home: string,
    private readonly options: FileLockOptions = {},
  ) {
    this.host = options.hostname ?? hostname();
    this.pid = options.pid ?? process.pid;
    this.isAlive = options.isAlive ?? isSameProcessAlive;
    let user = options.user;
    if (!user) {
      try {
        user = userInfo().username;
      } catch {
        user = process.env.USER ?? 'unknown';
      }
    }
    this.user = user;
  }

  private path(app: string, env: string): string {
    return join(locksDir(this.home), `${targetKey(app, env)}.lock`);
  }

  async read(app: string, env: string): Promise<LockInfo | undefined> {
    return this.readFile(this.path(app, env));
  }

  private async readFile(file: string): Promise<StoredLock | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as StoredLock;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Unreadable content: treat as a lock of unknown holder, stale once old enough.
      const s = await stat(file).catch(() => undefined);
      if (!s) return undefined;
      const at = new Date(s.mtimeMs).toISOString();
      return { app: '', env: '', pid: 0, host: this.host, user: 'unknown', command: 'unknown (damaged lock file)', startedAt: at, refreshedAt: at, token: 'damaged' };
    }
  }

  isStale(lock: StoredLock): boolean {
    if (lock.host !== this.host) return false;
    if (lock.token === 'damaged') return Date.now() - Date.parse(lock.refreshedAt) > 10_000;
    return !this.isAlive(lock.pid, lock.pidStart);
  }

  async acquire(
    app: string,
    env: string,
    options: { command: string; waitMs?: number; onStale?: (old: LockInfo) => void; signal?: AbortSignal },
  ): Promise<LockHandle> {
    await ensureHome(this.home);
    const file = this.path(app, env);
    const deadline = Date.now() + (options.waitMs ?? 0);
    const now = new Date().toISOString();
    const info: StoredLock = {
      app,
      env,
      pid: this.pid,
      host: this.host,
      user: this.user,
      command: options.command,
      startedAt: now,
      refreshedAt: now,
      token: randomBytes(12).toString('hex'),
      pidStart: this.pid === process.pid ? processStartTime(process.pid) : undefined,
    };
    for (;;) {
      if (await this.tryCreate(file, info)) return this.handle(file, info);
      const holder = await this.readFile(file);
      if (!holder) continue;
      if (this.isStale(holder)) {
        if (await this.removeStale(file, holder)) options.onStale?.(holder);
        continue;
      }
      if (options.signal?.aborted) throw new LockError(`gave up waiting for the lock of ${app} in ${env}`);
      if (Date.now() >= deadline) {
        const waited = options.waitMs ? ` after waiting ${Math.round(options.waitMs / 1000)}s` : '';
        throw new LockError(
          `Lock held by ${describeHolder(holder, this.host)}${waited}.`,
          `Wait with --wait-lock 5m, or run \`deployctl unlock ${app} -e ${env}\` if that run is gone.`,
        );
      }
      await this.waitForChange(file, Math.min(deadline - Date.now(), 1000), options.signal);
    }
  }

  private async tryCreate(file: string, info: StoredLock): Promise<boolean> {
    const temp = `${file}.${info.token}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(info, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Remove a stale lock, but only the one we judged: another process may have replaced it meanwhile. */
  private async removeStale(file: string, stale: StoredLock): Promise<boolean> {
    const aside = `${file}.stale.${randomBytes(6).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch {
      return false;
    }
    const moved = await this.readFile(aside);
    if (moved && moved.token !== stale.token && !this.isStale(moved)) {
      // We moved a fresh lock taken in between: put it back (link fails only if yet another lock exists).
      await link(aside, file).catch(() => undefined);
      await rm(aside, { force: true });
      return false;
    }
    await rm(aside, { force: true });
    return true;
  }

  /** Wake up when the lock folder changes (a release), or after `ms` at the latest. */
  private waitForChange(file: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let watcher: ReturnType<typeof watch> | undefined;
      const done = () => {
        clearTimeout(timer);
        watcher?.close();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(10, ms) + Math.random() * 50);
      try {
        watcher = watch(locksDir(this.home), (_event, name) => {
          if (!name || file.endsWith(name)) done();
        });
        watcher.on('error', () => undefined);
      } catch {
        // no watching here: the timer alone paces the retries
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private handle(file: string, info: StoredLock): LockHandle {
    const refresh = setInterval(async () => {
      const current = await this.readFile(file);
      if (current?.token !== info.token) return;
      info.refreshedAt = new Date().toISOString();
      await writeFileAtomic(file, JSON.stringify(info, null, 2)).catch(() => undefined);
    }, this.options.refreshMs ?? 10_000);
    refresh.unref();
    let released = false;
    return {
      info,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(refresh);
        const current = await this.readFile(file);
        if (current?.token === info.token) await unlink(file).catch(() => undefined);
      },
    };
  }

  async remove(app: string, env: string): Promise<LockInfo | undefined> {
    const file = this.path(app, env);
    const lock = await this.readFile(file);
    if (lock) await rm(file, { force: true });
    return lock;
  }

  async list(): Promise<LockInfo[]> {
    let names: string[] = [];
    try {
      names = (await readdir(locksDir(this.home))).filter((n) => n.endsWith('.lock'));
    } catch {
      return [];
    }
    const locks: LockInfo[] = [];
    for (const name of names) {
      const lock = await this.readFile(join(locksDir(this.home), name));
      if (lock) locks.push(lock);
    }
    return locks;
  }
}
