// The one place that picks the state backend from a state URL: `file:DIR` (or a plain folder path),
// the default; `postgres://` (or `postgresql://`) for teams, loaded only when asked for. Opening makes
// the state folder first (once per home), so a folder that cannot be used is reported the same way by
// every command, before anything is read.
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { ensureHome } from './paths.js';
import type { StateStore } from './port.js';

type StateLocation = { kind: 'file'; dir: string } | { kind: 'postgres'; url: string };

/** `file:DIR`, a plain path (a folder), or `postgres://` / `postgresql://`. Relative folders resolve against cwd. */
export function parseStateUrl(url: string, cwd: string): StateLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new UsageError('the state URL "file:" names no folder', 'write file:DIR, for example file:~/.deployctl or file:/var/lib/deployctl');
    return { kind: 'file', dir: resolve(cwd, path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new UsageError(`unknown state backend in ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`, 'use file:DIR (one machine) or postgres://user@host/db (a team)');
  }
  return { kind: 'file', dir: resolve(cwd, url) };
}

export async function openState(url: string, cwd: string = process.cwd()): Promise<StateStore> {
  const location = parseStateUrl(url, cwd);
  if (location.kind === 'postgres') {
    const { createPostgresState } = await import('./postgres/store.js');
    return createPostgresState(location.url);
  }
  const [{ createFileState }] = await Promise.all([import('./file-store.js'), ensureHome(location.dir)]);
  return createFileState(location.dir);
}
