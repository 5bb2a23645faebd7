// The state folder: history records, their per-target index, and locks. Mode 0700, files 0600.
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

export async function ensureHome(home: string): Promise<void> {
  for (const dir of [home, historyDir(home), indexDir(home), locksDir(home)]) {
    await guardWrite('create the state folder', dir, () => mkdir(dir, { recursive: true, mode: 0o700 }), dirname(dir));
    const mode = (await stat(dir)).mode & 0o777;
    if (mode !== 0o700) await guardWrite('set mode 0700 on the state folder', dir, () => chmod(dir, 0o700));
  }
}
