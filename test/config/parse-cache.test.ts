// The parse cache (src/config/parse-cache.ts): a config text that parsed and passed its schema check is
// read back as JSON by the next command, which then loads neither the YAML parser nor the validators;
// any other text is parsed, and a problem in a kept text still names its line.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openParseCache, userCacheDir } from '../../src/config/parse-cache.js';
import { locate, readYamlFile } from '../../src/config/read.js';
import { checkSchema } from '../../src/config/schema.js';
import { cleanEnv, cliPath, repoRoot, tempDir } from '../support/cli.js';

const DEPLOYMENTS = 'deployments:\n  web:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n';
const ENVIRONMENTS = 'environments:\n  dev: {}\n  prod: {}\n';

/** The entries a cache folder holds, for one build or all. */
function entries(cacheDir: string): string[] {
  const base = join(cacheDir, 'config');
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((build) => readdirSync(join(base, build)).map((name) => join(base, build, name)));
}

function configDir(deployments = DEPLOYMENTS, environments = ENVIRONMENTS): string {
  const dir = tempDir('deployctl-parse-cache-');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  writeFileSync(join(dir, 'environments.yaml'), environments);
  return dir;
}

describe('in the process', () => {
  it('keeps a text that passed its schema check, and gives it back with its lines for a later problem', async () => {
    const cacheDir = tempDir();
    const cache = openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0001')!;
    const first = join(configDir(), 'deployments.yaml');
    const parsed = (await readYamlFile(first, [], cache))!;
    expect(entries(cacheDir)).toEqual([]); // parsed, not yet checked
    expect(await checkSchema('deployments', parsed)).toEqual([]);
    expect(entries(cacheDir)).toHaveLength(1);

    // The same text in another file (this process keeps a parsed file by its path): read from the cache.
    const second = join(configDir(), 'deployments.yaml');
    const kept = (await readYamlFile(second, [], cache))!;
    expect(kept.data).toEqual(parsed.data);
    expect([...kept.checked]).toEqual(['deployments']);
    expect(locate(kept, ['deployments', 'web', 'commands'])).toEqual({ line: 6, column: 7 });
    expect(locate(kept, ['deployments', 'web', 'type'], { key: true })).toEqual({ line: 3, column: 5 });
  });

  it('never keeps a text that fails its schema check', async () => {
    const cacheDir = tempDir();
    const cache = openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0001')!;
    const file = (await readYamlFile(join(configDir('deployments:\n  web:\n    type: shell\n    playbook: site.yml\n'), 'deployments.yaml'), [], cache))!;
    const problems = await checkSchema('deployments', file);
    expect(problems.map((p) => [p.line, p.path])).toEqual([[4, 'deployments.web.playbook']]);
    expect(entries(cacheDir)).toEqual([]);
  });

  it('gives the same data for a text with aliases, parsed or kept: copies, not one shared object', async () => {
    const text = 'x: &shared { a: 1 }\ndeployments:\n  web: { type: shell, variables: *shared }\n  api: { type: shell, variables: *shared }\n';
    const cache = openParseCache({ DEPLOYCTL_CACHE_DIR: tempDir() }, 'build0001')!;
    const parsed = (await readYamlFile(join(configDir(text), 'deployments.yaml'), [], cache))!;
    parsed.passed('deployments');
    const kept = (await readYamlFile(join(configDir(text), 'deployments.yaml'), [], cache))!;
    for (const file of [parsed, kept]) {
      const apps = (file.data as { deployments: Record<string, { variables: object }> }).deployments;
      expect(apps.web!.variables).toEqual({ a: 1 });
      expect(apps.web!.variables).not.toBe(apps.api!.variables);
    }
    expect(kept.checked.has('deployments')).toBe(true);
  });

  it('a new build removes the entries of the others; a folder it cannot write is only a miss', async () => {
    const cacheDir = tempDir();
    openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0001')!.put('a: 1\n', { a: 1 }, ['deployments']);
    expect(readdirSync(join(cacheDir, 'config'))).toEqual(['build0001']);
    const next = openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0002')!;
    expect(next.get('a: 1\n')).toBeUndefined();
    next.put('a: 1\n', { a: 1 }, ['deployments']);
    expect(readdirSync(join(cacheDir, 'config'))).toEqual(['build0002']);
    expect(next.get('a: 1\n')).toEqual({ data: { a: 1 }, checked: ['deployments'] });
    expect(next.get('a: 2\n')).toBeUndefined();

    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, '');
    const broken = openParseCache({ DEPLOYCTL_CACHE_DIR: file }, 'build0001')!;
    expect(() => broken.put('a: 1\n', { a: 1 }, [])).not.toThrow();
    expect(broken.get('a: 1\n')).toBeUndefined();
  });

  it.skipIf(process.platform === 'win32')('trusts only an entry that no other user can write', () => {
    const cacheDir = tempDir();
    const cache = openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0001')!;
    cache.put('a: 1\n', { a: 1 }, ['deployments']);
    const [entry] = entries(cacheDir);
    expect(cache.get('a: 1\n')).toEqual({ data: { a: 1 }, checked: ['deployments'] });
    chmodSync(entry!, 0o666);
    expect(cache.get('a: 1\n')).toBeUndefined();
  });

  it('is off with DEPLOYCTL_CACHE_DIR=off and when running from source; keeps only what JSON gives back', () => {
    expect(openParseCache({ DEPLOYCTL_CACHE_DIR: 'off' }, 'build0001')).toBeUndefined();
    expect(openParseCache({ DEPLOYCTL_CACHE_DIR: tempDir() })).toBeUndefined(); // no dist/build-id next to src/
    const cacheDir = tempDir();
    const cache = openParseCache({ DEPLOYCTL_CACHE_DIR: cacheDir }, 'build0001')!;
    cache.put('a: .inf\n', { a: Infinity }, ['deployments']);
    expect(entries(cacheDir)).toEqual([]);
  });

  it('lives in the platform cache folder by default', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux')).toBe('/x/cache/deployctl');
    expect(userCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux')).toMatch(/\.cache\/deployctl$/);
    expect(userCacheDir({}, 'darwin')).toMatch(/Library\/Caches\/deployctl$/);
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32')).toContain('deployctl');
  });
});

describe('the built CLI', () => {
  const run = (dir: string, cacheDir: string | Record<string, string | undefined>, ...args: string[]) => {
    const extra = typeof cacheDir === 'string' ? { DEPLOYCTL_CACHE_DIR: cacheDir } : cacheDir;
    try {
      return { code: 0, out: execFileSync(process.execPath, [cliPath, ...args], { cwd: dir, env: cleanEnv({ DEPLOYCTL_HOME: join(dir, 'home'), ...extra }), encoding: 'utf8', stdio: 'pipe' }) };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: e.stdout + e.stderr };
    }
  };

  it('the second command reads the kept entries, not the YAML: an entry it trusts shows', () => {
    const dir = configDir();
    const cacheDir = tempDir();
    expect(run(dir, cacheDir, 'validate').out).toMatch(/config OK: 1 app, 2 environments/i);
    const kept = entries(cacheDir);
    expect(kept).toHaveLength(2);
    expect(readFileSync(join(repoRoot, 'dist', 'build-id'), 'utf8').trim()).toBe(kept[0]!.split('/').at(-2));
    // Proof that the next run reads the entry: one made to say something else is what it sees.
    const deployments = kept.find((f) => readFileSync(f, 'utf8').includes('"deployments"'))!;
    const entry = JSON.parse(readFileSync(deployments, 'utf8')) as { data: { deployments: Record<string, unknown> } };
    entry.data.deployments = { kept: entry.data.deployments.web };
    writeFileSync(deployments, JSON.stringify(entry));
    expect(run(dir, cacheDir, 'validate', '--json').out).toContain('"kept"');
    // An edited file is another text: parsed again.
    writeFileSync(join(dir, 'deployments.yaml'), DEPLOYMENTS.replace('web', 'api'));
    expect(JSON.parse(run(dir, cacheDir, 'validate', '--json').out).apps).toEqual(['api']);
  });

  it('a problem found after the schema check still names its line when the text was kept', () => {
    const dir = configDir(DEPLOYMENTS.replace('    commands:', '    environments:\n      qa: {}\n    commands:'));
    const cacheDir = tempDir();
    const first = run(dir, cacheDir, 'validate');
    expect(first.code).toBe(2);
    expect(first.out).toMatch(/deployments\.yaml:6:\d+.*unknown environment "qa"/);
    expect(entries(cacheDir)).toHaveLength(2); // both passed their schema check
    expect(run(dir, cacheDir, 'validate')).toEqual(first);
  });

  it('keeps its entries in the user cache folder, none with DEPLOYCTL_CACHE_DIR=off, and works on when it cannot write', () => {
    const dir = configDir();
    const home = tempDir();
    expect(run(dir, { HOME: home, XDG_CACHE_HOME: undefined, DEPLOYCTL_CACHE_DIR: 'off' }, 'validate').code).toBe(0);
    expect(existsSync(join(home, '.cache'))).toBe(false);
    expect(run(dir, { HOME: home, XDG_CACHE_HOME: undefined, DEPLOYCTL_CACHE_DIR: undefined }, 'validate').code).toBe(0);
    expect(entries(join(home, '.cache', 'deployctl'))).toHaveLength(2);
    if (process.getuid?.() !== 0) {
      const locked = tempDir();
      mkdirSync(join(locked, 'config'));
      chmodSync(join(locked, 'config'), 0o500);
      expect(run(dir, locked, 'validate').code).toBe(0);
    }
    const blocked = join(tempDir(), 'file');
    writeFileSync(blocked, '');
    expect(run(dir, blocked, 'validate').code).toBe(0);
  });
});
