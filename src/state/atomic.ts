// Atomic file writes: a temp file in the same folder, fsync, rename, fsync of the folder. A reader sees
// the old file or the new one, never half of one, and after a crash the rename is not lost. A write
// that fails (a full disk) removes its temp file and leaves the old file as it was.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(file: string, data: string, options: { fsync?: boolean } = {}): Promise<void> {
  const durable = options.fsync !== false;
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  if (durable) await syncFolder(dirname(file));
}

/** Make a rename in `dir` durable. Windows cannot open a folder for this; there it is skipped. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
