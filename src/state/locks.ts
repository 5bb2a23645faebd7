// One deployment in flight per app and environment, on the file-lock primitive of file-lock.ts (the
// lock file is created whole or not at all). A lock whose process is gone on this host is stale and
// taken over, after stopping what is left of the commands it recorded; a lock from another host is
// never assumed dead. A disk that refuses the lock (full, read-only) gives a StateWriteError and leaves
// no temp file behind. A holder whose lock file is removed (`unlock --force`) or taken by another while
// it runs loses its lock: its handle's `lost` signal fires, and the engine stops the deployment.
import { randomHex } from './random-hex.js';
import { readFileSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { StateWriteError } from '../errors.js';
import { currentIdentity } from '../identity.js';
import type { AcquireOptions, LockHandle, LockInfo, LockManager, LockState } from './types.js';
import { writeFileAtomic } from './atomic.js';
import { ASIDE, createExclusive, isAbandoned, removeJudged } from './file-lock.js';
import { describeHolder, lockHint, lockRefused, processTracking } from './held-locks.js';
import { locksDir, targetKey } from './paths.js';
import { isSameProcessAlive, processStartTime, stopProcessGroups } from './process.js';
import { diskCause, diskErrno, guardWrite } from './write-error.js';

interface FileLockOptions {
  hostname?: string;
  /** The user a lock names when acquire is given none (by default, as src/identity.ts says: DEPLOYCTL_USER, ...). */
  user?: string;
  pid?: number;
  /** How often a held lock's refreshedAt is rewritten. */
  refreshMs?: number;
  /** A lock from another host not refreshed for this long looks abandoned (`unlock` needs no --force). */
  silentAfterMs?: number;
  isAlive?: (pid: number, startTime?: string) => boolean;
  /** Between SIGTERM and SIGKILL when a takeover stops the commands a stale lock left running. */
  stopGraceMs?: number;
  /** How often a holder reads its lock file to see it is still its own (besides watching the folder). */
  lossCheckMs?: number;
}

/** A holder whose lock file was removed or taken notices within this time, at the latest (sooner where the folder can be watched). */
const LOSS_CHECK_MS = 2_000;

interface StoredLock extends LockInfo {
  /** Process start time (Linux), to tell a reused pid from the holder. */
  pidStart?: string;
}


// The holder as messages name it, and the two ways out, shared by every backend (held-locks.ts).
export { describeHolder, lockHint };

export class FileLockManager implements LockManager {
  private readonly host: string;
  private readonly user: string;
  private readonly pid: number;
  private readonly isAlive: (pid: number, startTime?: string) => boolean;

  /** `home` is a state folder made by ensureHome (state/open.ts opens the manager that way). */
  constructor(
    private readonly home: string,
    private readonly options: FileLockOptions = {},
  ) {
    this.host = options.hostname ?? hostname();
    this.pid = options.pid ?? process.pid;
    this.isAlive = options.isAlive ?? isSameProcessAlive;
    this.user = options.user ?? currentIdentity().user;
  }

  private path(app: string, env: string): string {
    return join(locksDir(this.home), `${targetKey(app, env)}.lock`);
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
    return this.state(lock) === 'stale';
  }

  /**
   * stale: this host, and its process is gone (or the pid now belongs to another process);
   * silent: another host, not refreshed for a while (never taken over, but `unlock` needs no --force);
   * alive: anything else.
   */
  state(lock: StoredLock): LockState {
    if (lock.host !== this.host) {
      const quiet = Date.now() - Date.parse(lock.refreshedAt);
      return quiet > (this.options.silentAfterMs ?? 60_000) ? 'silent' : 'alive';
    }
    if (lock.token === 'damaged') return Date.now() - Date.parse(lock.refreshedAt) > 10_000 ? 'stale' : 'alive';
    return isAbandoned({ ...lock, host: hostname() }, this.isAlive) !== false ? 'stale' : 'alive';
  }

  async inspect(app: string, env: string): Promise<{ holder: LockInfo; state: LockState; local: boolean; description: string } | undefined> {
    const holder = await this.readFile(this.path(app, env));
    if (!holder) return undefined;
    return { holder, state: this.state(holder), local: holder.host === this.host, description: describeHolder(holder, this.host) };
  }

  async holders(): Promise<Array<{ holder: LockInfo; state: LockState; local: boolean; description: string }>> {
    let names: string[];
    try {
      names = await readdir(locksDir(this.home));
    } catch {
      return [];
    }
    const found = await Promise.all(names.filter((n) => n.endsWith('.lock')).map((n) => this.readFile(join(locksDir(this.home), n))));
    return found
      .filter((holder): holder is StoredLock => holder !== undefined)
      .map((holder) => ({ holder, state: this.state(holder), local: holder.host === this.host, description: describeHolder(holder, this.host) }));
  }

  async acquire(
    app: string,
    env: string,
    options: AcquireOptions,
  ): Promise<LockHandle> {
    const file = this.path(app, env);
    const deadline = Date.now() + (options.waitMs ?? 0);
    const now = new Date().toISOString();
    const info: StoredLock = {
      app,
      env,
      pid: this.pid,
      host: this.host,
      user: options.user ?? this.user,
      command: options.command,
      startedAt: now,
      refreshedAt: now,
      token: randomHex(12),
      pidStart: this.pid === process.pid ? processStartTime(process.pid) : undefined,
    };
    for (;;) {
      if (await guardWrite('create the lock', file, () => createExclusive(file, JSON.stringify(info, null, 2)))) return this.handle(app, env, file, info);
      const holder = await this.readFile(file);
      if (!holder) continue;
      if (this.isStale(holder)) {
        // What the dead holder left running goes first: the next deployment must not run beside it.
        const takeover = await stopProcessGroups(holder.processes ?? [], this.options.stopGraceMs);
        if (await this.removeStale(file, holder)) options.onStale?.(holder, takeover);
        continue;
      }
      if (options.signal?.aborted || Date.now() >= deadline) {
        throw lockRefused(app, env, { description: describeHolder(holder, this.host), state: this.state(holder) }, options);
      }
      await this.waitForChange(file, Math.min(deadline - Date.now(), 1000), options.signal);
    }
  }

  /** Is a lock with `token` moved aside from `file` now, being judged by another process (removeJudged)? */
  private async movedAside(file: string, token: string): Promise<boolean> {
    const dir = locksDir(this.home);
    const prefix = `${basename(file)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(prefix) && n.endsWith(ASIDE))) {
      if ((await this.readFile(join(dir, name)))?.token === token) return true;
    }
    return false;
  }

  /** Remove a stale lock, but only the one we judged: another process may have replaced it meanwhile. */
  private removeStale(file: string, stale: StoredLock): Promise<boolean> {
    return removeJudged(file, (moved) => {
      let lock: StoredLock | undefined;
      try {
        lock = JSON.parse(moved) as StoredLock;
      } catch {
        return stale.token === 'damaged';
      }
      return lock.token === stale.token || this.isStale(lock);
    });
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

  private handle(app: string, env: string, file: string, info: StoredLock): LockHandle {
    let released = false;
    // Lost: the lock file was removed (`unlock --force`, by hand) or names another holder now, though
    // this process never released it. Seen at once where the folder can be watched, and by a read
    // every LOSS_CHECK_MS (and at each rewrite) anywhere else.
    const lost = new AbortController();
    const judge = (current: StoredLock | undefined): boolean => {
      if (current?.token === info.token) return true;
      if (released || lost.signal.aborted) return false;
      stopWatching();
      lost.abort(
        new Error(
          current
            ? `its lock file was removed (\`deployctl unlock --force\`, or by hand), and the lock is held now by ${describeHolder(current, this.host)}`
            : `its lock file was removed (\`deployctl unlock --force\`, or by hand): ${file}`,
        ),
      );
      return false;
    };
    // The lock file as it is now; while another process has it moved aside to judge it (removeJudged,
    // put back within moments when it is found alive), it is waited for, not taken for removed.
    // One look at a time: the watcher, the polling and a rewrite asking at once share it.
    let looking: Promise<StoredLock | undefined> | undefined;
    const look = async (): Promise<StoredLock | undefined> => {
      for (let tries = 0; ; tries++) {
        const found = await this.readFile(file);
        if (found || tries >= 50 || !(await this.movedAside(file, info.token))) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const current = (): Promise<StoredLock | undefined> => (looking ??= look().finally(() => (looking = undefined)));
    const check = async () => {
      if (!released && !lost.signal.aborted) judge(await current());
    };
    // Rewrites of the lock (refreshedAt, the commands running) one after another, and only while it is ours.
    let rewriting: Promise<void> = Promise.resolve();
    const rewrite = (change: () => void) =>
      (rewriting = rewriting.then(async () => {
        if (released || !judge(await current())) return;
        change();
        await writeFileAtomic(file, JSON.stringify(info, null, 2), { fsync: false });
      }).catch(() => undefined));
    // Rewrite refreshedAt now and then, so other hosts see the holder is alive.
    const refresh = setInterval(() => void rewrite(() => (info.refreshedAt = new Date().toISOString())), this.options.refreshMs ?? 10_000);
    refresh.unref();
    const polling = setInterval(() => void check(), this.options.lossCheckMs ?? LOSS_CHECK_MS);
    polling.unref();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(locksDir(this.home), (_event, name) => {
        if (!name || name === basename(file)) void check();
      });
      watcher.on('error', () => undefined);
      watcher.unref();
    } catch {
      // no watching here: the polling alone sees a loss
    }
    function stopWatching(): void {
      clearInterval(refresh);
      clearInterval(polling);
      watcher?.close();
    }
    // A process that exits without releasing (a second Ctrl-C, process.exit) still frees its lock.
    const onExit = () => {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as StoredLock).token === info.token) unlinkSync(file);
      } catch {
        // gone already, or not ours
      }
    };
    process.once('exit', onExit);
    return {
      info,
      lost: lost.signal,
      ...processTracking(info, rewrite),
      stillHeld: async () => {
        if (released || lost.signal.aborted) return false;
        // A look begun before the question may have read the file before it went: a fresh one is taken.
        await looking;
        return judge(await current());
      },
      release: async () => {
        if (released) return;
        released = true;
        stopWatching();
        await rewriting;
        process.off('exit', onExit);
        const current = await this.readFile(file);
        if (current?.token !== info.token) return;
        try {
          await unlink(file);
        } catch (error) {
          const errno = diskErrno(error);
          if (!errno) return;
          // Left behind, it is stale once this process has exited: say how it goes away.
          throw new StateWriteError(
            `cannot remove the lock ${file}: ${diskCause(errno)}`,
            `the next deploy of ${app} in ${env} on this machine takes it over once this process has exited; or remove it with \`deployctl unlock ${app} -e ${env}\` (or rm ${file}) when the disk allows it again`,
            { path: file, errno },
          );
        }
      },
    };
  }

  /** Remove a lock by hand; with `token`, only if it is still that lock (not one taken since). */
  async remove(app: string, env: string, token?: string): Promise<LockInfo | undefined> {
    const file = this.path(app, env);
    const lock = await this.readFile(file);
    if (!lock || (token !== undefined && lock.token !== token)) return undefined;
    await guardWrite('remove the lock', file, () => rm(file, { force: true }));
    return lock;
  }
}
