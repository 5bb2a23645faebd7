// Atomic file writes: a temp file in the same folder, fsync, rename, fsync of the folder. A reader sees
// the old file or the new one, never half of one, and after a crash the rename is not lost. A write
// that fails (a full disk) removes its temp file and leaves the old file as it was.
// The files are small (a record, an index, a lock): opening, writing, closing and renaming them are made
// with the synchronous calls, each a copy into the page cache that takes microseconds, where a call
// through libuv's thread pool waits for a thread and then for the event loop (a no-op deploy made about
// a hundred such round trips). Only the fsyncs, which wait for the disk, go to the thread pool, so the
// event loop runs on meanwhile.
import { randomHex } from './random-hex.js';
import { closeSync, fsync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(file: string, data: string, options: { fsync?: boolean } = {}): Promise<void> {
  const durable = options.fsync !== false;
  const temp = join(dirname(file), `.${basename(file)}.${randomHex(6)}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeFileSync(fd, data);
      if (durable) await syncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the write's own error says more
    }
    throw error;
  }
  if (durable) await syncFolder(dirname(file));
}

/** fsync on a thread of libuv's pool: the one wait on the disk. */
function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Make a rename in `dir` durable. Windows cannot open a folder for this; there it is skipped. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    await syncFd(fd);
  } finally {
    closeSync(fd);
  }
}
