// The parse cache: a config file that parsed and passed its schema check is kept as JSON, by its exact
// text, so the next command that reads the same text skips the YAML parser and the schema validators
// (loading and running them is most of what `validate` and a deploy spend on their config, see
// BENCHMARKS.md). Nothing else is kept: resolving apps, interpolation, secrets and every check that
// reads the environment or the disk run each time.
// - An entry holds the text it was made from and is used only for that very text; a file that does not
//   parse or fails its schema check is never kept (its problems are found, with their lines, each time).
// - Entries live in a folder named after the build (dist/build-id: a hash of the parser, the validators
//   and the code around them), so another build of deployctl never reads them; making a new build's
//   folder removes those of other builds.
// - Where: DEPLOYCTL_CACHE_DIR, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux,
//   ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows), then deployctl/config/<build>.
//   DEPLOYCTL_CACHE_DIR=off turns it off. Running from source (tests) there is no build id and no cache.
// - A cache is never a reason to fail: an entry that cannot be read or written is a miss, silently.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** At most this many entries per build (configs being edited make one each); past it, the older half go. */
const MAX_ENTRIES = 200;

let buildId: string | null | undefined;

/** This build's id (dist/build-id, written by scripts/bundle-cli.mjs), or null when running from source. */
function currentBuild(): string | null {
  if (buildId !== undefined) return buildId;
  try {
    const id = readFileSync(fileURLToPath(new URL('../build-id', import.meta.url)), 'utf8').trim();
    buildId = /^[0-9a-f]{8,64}$/.test(id) ? id : null;
  } catch {
    buildId = null;
  }
  return buildId;
}

/** The user's cache folder for deployctl, by the platform's convention. */
export function userCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'deployctl', 'Cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'deployctl');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'deployctl');
}

/** Two 32-bit FNV-1a hashes of the text's UTF-16 units, with its length: the entry's file name. */
function nameOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${text.length.toString(36)}-${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}.json`;
}

/** Whether JSON gives this value back unchanged: plain maps and lists, strings, finite numbers, booleans, null. */
export function jsonSafe(value: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every((v) => jsonSafe(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((v) => jsonSafe(v, depth + 1));
}

interface Entry {
  text: string;
  data: unknown;
  /** The schema checks this text passed ('environments', 'deployments'). */
  checked: string[];
}

export interface ParseCache {
  /** The data and passed checks kept for exactly this text, if any. */
  get(text: string): { data: unknown; checked: string[] } | undefined;
  /** Keep this text's data, which passed these checks. */
  put(text: string, data: unknown, checked: string[]): void;
}

/** The parse cache this environment asks for, or undefined (off, or running from source). */
export function openParseCache(env: NodeJS.ProcessEnv, build: string | null = currentBuild()): ParseCache | undefined {
  if (!build) return undefined;
  const setting = env.DEPLOYCTL_CACHE_DIR;
  if (setting === 'off') return undefined;
  const base = join(setting ? setting : userCacheDir(env), 'config');
  const dir = join(base, build);
  const uid = process.getuid?.();
  return {
    get(text) {
      try {
        const fd = openSync(join(dir, nameOf(text)), 'r');
        let json: string;
        try {
          // Only an entry this user wrote, which nobody else can change: in a shared folder another
          // user's file could otherwise hand this one a config of their making.
          const stat = fstatSync(fd);
          if (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o022) !== 0)) return undefined;
          json = readFileSync(fd, 'utf8');
        } finally {
          closeSync(fd);
        }
        const entry = JSON.parse(json) as Entry;
        if (entry.text !== text || !Array.isArray(entry.checked)) return undefined;
        return { data: entry.data, checked: entry.checked };
      } catch {
        return undefined;
      }
    },
    put(text, data, checked) {
      if (!jsonSafe(data)) return;
      try {
        const json = JSON.stringify({ text, data, checked } satisfies Entry);
        let fresh = false;
        try {
          statSync(dir);
        } catch {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          fresh = true;
        }
        const file = join(dir, nameOf(text));
        const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(tmp, json, { mode: 0o600 });
        renameSync(tmp, file);
        if (fresh) {
          // A new build: the entries of the others are of no more use.
          for (const other of readdirSync(base)) if (other !== build) rmSync(join(base, other), { recursive: true, force: true });
        } else {
          const names = readdirSync(dir);
          if (names.length > MAX_ENTRIES) {
            const byAge = names.map((name) => ({ name, at: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((x, y) => x.at - y.at);
            for (const { name } of byAge.slice(0, names.length - MAX_ENTRIES / 2)) rmSync(join(dir, name), { force: true });
          }
        }
      } catch {
        // A cache that cannot be written is only a slower next start.
      }
    },
  };
}
