// When state cannot be written: the errors a full, read-only, failing or forbidden disk gives, said in
// words, naming the file and the way out. Anything else stays what it is (a bug is not a full disk).
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/**
 * What to do about it, for a file in `dir`. Refused (EACCES, EPERM) in a folder that belongs to another
 * user: making it writable is not ours to do, so the advice names both users and the ways that work.
 */
export function diskFix(errno: string, dir: string): string {
  const foreign = errno === 'EACCES' || errno === 'EPERM' ? foreignOwner(dir) : undefined;
  if (foreign) return ownershipFix(foreign);
  return `${CAUSES[errno]?.fix(dir) ?? `check ${dir}`}, or point --home (or DEPLOYCTL_HOME) at a folder on another disk`;
}

/** A user account: its uid, and its name where the system knows one. */
export interface Account {
  uid: number;
  name?: string;
}

/** Who owns a folder of the state, and who runs deployctl: the facts behind the advice for a refusal. */
export interface Ownership {
  /** The folder (or the nearest one above it that exists). */
  path: string;
  owner: Account;
  me: Account;
}

const shown = (a: Account) => (a.name ? `${a.name} (uid ${a.uid})` : `uid ${a.uid}`);

/**
 * The advice for a state folder that belongs to another user: only its owner (or root) may change its
 * mode or let others write in it, so: the owner hands it over, or deployctl runs as the owner, or it
 * uses a folder of one's own.
 */
export function ownershipFix({ path, owner, me }: Ownership): string {
  const ownerName = owner.name ?? `uid ${owner.uid}`;
  return (
    `${path} belongs to ${shown(owner)}, and deployctl runs as ${shown(me)}: only its owner (or root) can change who may write in it. ` +
    `Ask ${ownerName} to hand it over (sudo chown -R ${me.name ?? me.uid} ${path}), or run deployctl as ${ownerName}, ` +
    `or pass --home DIR (or set DEPLOYCTL_HOME) to a folder you own`
  );
}

/**
 * The ownership of `dir` (or of the nearest folder above it that exists) when it belongs to someone
 * other than the user running deployctl; undefined when it is that user's, when that user is root
 * (nothing is another's to root), where uids do not exist (Windows), or when it cannot be looked at.
 */
export function foreignOwner(dir: string): Ownership | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return undefined;
  for (let p = resolve(dir); ; p = dirname(p)) {
    const found = statOrNothing(p);
    if (found) return found.uid === uid ? undefined : { path: p, owner: { uid: found.uid, name: accountName(found.uid) }, me: { uid, name: accountName(uid) } };
    if (dirname(p) === p) return undefined;
  }
}

function statOrNothing(p: string): { uid: number } | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** The name of account `uid` in /etc/passwd (only read when a write was refused). */
function accountName(uid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid && id !== '') return name;
    }
  } catch {
    // no passwd file to read
  }
  return undefined;
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
