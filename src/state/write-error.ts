// When state cannot be written: the errors a full, read-only, failing or forbidden disk gives, said in
// words, naming the file and the way out. Anything else stays what it is (a bug is not a full disk).
import { dirname } from 'node:path';
import { StateWriteError } from '../errors.js';

const CAUSES: Record<string, { words: string; fix: (dir: string) => string }> = {
  ENOSPC: { words: 'no space left on device', fix: (dir) => `free space on the disk that holds ${dir} (df -h ${dir}; df -i ${dir} for inodes)` },
  EDQUOT: { words: 'disk quota exceeded', fix: (dir) => `free space in your quota on the disk that holds ${dir} (quota -s), or ask for a larger one` },
  EROFS: { words: 'read-only file system', fix: (dir) => `make the file system that holds ${dir} writable again (mount -o remount,rw)` },
  EACCES: { words: 'permission denied', fix: (dir) => `make ${dir} writable for the user running deployctl (ls -ld ${dir})` },
  EPERM: { words: 'operation not permitted', fix: (dir) => `make ${dir} writable for the user running deployctl (ls -ld ${dir})` },
  EIO: { words: 'input/output error (the disk may be failing)', fix: (dir) => `check the disk that holds ${dir} (dmesg)` },
};

/** The errno of an error a disk gives (full, read-only, failing, forbidden), or undefined for any other. */
export function diskErrno(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && code in CAUSES ? code : undefined;
}

/** "no space left on device" for ENOSPC. */
export function diskCause(errno: string): string {
  return CAUSES[errno]?.words ?? errno;
}

/** What to do about it, for a file in `dir`. */
export function diskFix(errno: string, dir: string): string {
  return `${CAUSES[errno]?.fix(dir) ?? `check ${dir}`}, or point --home (or DEPLOYCTL_HOME) at a folder on another disk`;
}

/**
 * A StateWriteError for a disk error met doing `action` to `path` ("write the record", "remove the
 * lock"), or the error itself when it is anything else. A StateWriteError passes through as it is.
 */
export function stateWriteError(error: unknown, action: string, path: string, dir = dirname(path)): unknown {
  if (error instanceof StateWriteError) return error;
  const errno = diskErrno(error);
  if (!errno) return error;
  const failure = new StateWriteError(`cannot ${action} ${path}: ${diskCause(errno)}`, diskFix(errno, dir), { path, errno });
  failure.cause = error;
  return failure;
}

/** Run a write of state; a disk error becomes a StateWriteError saying what could not be done to `path`. */
export async function guardWrite<T>(action: string, path: string, write: () => Promise<T>, dir?: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw stateWriteError(error, action, path, dir);
  }
}
