// The V8 code caches of the bundles (bin/code-cache.cjs) change how fast the CLI starts, never what it
// does: an edited bundle runs its new code, and a cache V8 cannot use is ignored. Each test works on a
// copy of the build, so the other tests never see a damaged cache.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, tempDir } from '../support/cli.js';

/**
 * bin/, dist/ and what makes the caches, copied; the copy's caches made afresh for its own files.
 * Without the pre-rendered help (dist/cli/help.json), so that --help runs commander from the bundle.
 */
function copyOfBuild(): string {
  const dir = tempDir('deployctl-build-');
  for (const part of ['bin', 'dist', 'package.json', 'scripts/code-cache.mjs']) {
    cpSync(join(repoRoot, part), join(dir, part), { recursive: true, filter: (file) => !file.endsWith('.v8cache') && !file.endsWith('help.json') });
  }
  execFileSync(process.execPath, [join(dir, 'scripts/code-cache.mjs')], { env: cleanEnv(), encoding: 'utf8' });
  return dir;
}

const caches = (dir: string) => readdirSync(join(dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.v8cache'));
const cli = (dir: string, ...args: string[]) => execFileSync(process.execPath, [join(dir, 'bin/deployctl.cjs'), ...args], { env: cleanEnv(), encoding: 'utf8' });

/** The code caches a run of the copy read, through a preload that watches fs.readFileSync. */
function cachesRead(dir: string, ...args: string[]): string[] {
  const log = join(tempDir(), 'reads.txt');
  const preload = join(tempDir(), 'watch-reads.cjs');
  writeFileSync(
    preload,
    `const fs = require('node:fs'); const read = fs.readFileSync;
     fs.readFileSync = function (file, ...rest) { const data = read.call(this, file, ...rest);
       if (String(file).endsWith('.v8cache')) fs.appendFileSync(${JSON.stringify(log)}, require('node:path').basename(String(file)) + '\\n');
       return data; };`,
  );
  execFileSync(process.execPath, ['-r', preload, join(dir, 'bin/deployctl.cjs'), ...args], { env: cleanEnv(), encoding: 'utf8' });
  try {
    return readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

describe('code caches of the bundles', () => {
  it('are found by the content of each file, so a copy with new file times (npm pack resets them) uses them', () => {
    const dir = copyOfBuild();
    const later = new Date(Date.now() + 3600_000);
    for (const file of readdirSync(join(dir, 'dist'), { recursive: true, encoding: 'utf8' })) utimesSync(join(dir, 'dist', file), later, later);
    expect(cachesRead(dir, '--help')).toEqual([expect.stringMatching(/^main\.bundle\.cjs\.[0-9a-f]{16}\.v8cache$/)]);
  });

  it('a deploy reads the caches trained on deploys alone; other commands the shared ones', () => {
    const dir = copyOfBuild();
    expect(caches(dir)).toContain(caches(dir).find((f) => /^cli\/handlers\.bundle\.cjs\.[0-9a-f]{16}\.deploy\.v8cache$/.test(f)));
    expect(cachesRead(dir, 'deploy', '--help')).toEqual([expect.stringMatching(/^main\.bundle\.cjs\.[0-9a-f]{16}\.deploy\.v8cache$/)]);
    expect(cachesRead(dir, 'status', '--help')).toEqual([expect.stringMatching(/^main\.bundle\.cjs\.[0-9a-f]{16}\.v8cache$/)]);
    // Without its own (an older build's copy), a deploy uses the shared ones.
    for (const file of caches(dir).filter((f) => f.includes('.deploy.'))) rmSync(join(dir, 'dist', file));
    expect(cachesRead(dir, 'deploy', '--help')).toEqual([expect.stringMatching(/^main\.bundle\.cjs\.[0-9a-f]{16}\.v8cache$/)]);
  });

  it('are made for the entry bundle, and an edited bundle runs its new code, not its old cache', () => {
    const dir = copyOfBuild();
    expect(caches(dir).some((f) => f.startsWith('cli/main.bundle.cjs.'))).toBe(true);
    const bundle = join(dir, 'dist/cli/main.bundle.cjs');
    const before = 'Deploy, health-check, roll back and promote apps across environments.';
    const after = 'DEPLOY, HEALTH-CHECK, ROLL BACK AND PROMOTE APPS ACROSS ENVIRONMENTS.';
    expect(cli(dir, '--help')).toContain(before);
    // Same length: V8 alone would take the old cache for this file.
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace(before, after));
    const help = cli(dir, '--help');
    expect(help).toContain(after);
    expect(help).not.toContain(before);
  });

  it('name deployctl/dist/... in stack traces, never the folder they were made in', () => {
    const built = copyOfBuild();
    const installed = tempDir('deployctl-installed-');
    cpSync(built, installed, { recursive: true });
    // A TypeError inside the entry bundle, loaded through its cache in the second folder.
    const stack = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(join(installed, 'bin/code-cache.cjs'))}).useCodeCache();
         try { require(${JSON.stringify(join(installed, 'dist/cli/main.bundle.cjs'))}).programLevelProblem(null, ['--x']); }
         catch (error) { console.log(error.stack); }`,
      ],
      { env: cleanEnv(), encoding: 'utf8' },
    );
    expect(cachesRead(installed, 'history', 'show', '--help')).toEqual([expect.stringMatching(/^main\.bundle\.cjs\./)]);
    expect(stack).toMatch(/at .*programLevelProblem \(deployctl\/dist\/cli\/main\.bundle\.cjs:\d+:\d+\)/);
    expect(stack).not.toContain(built);
  });

  it('that V8 cannot use are ignored', () => {
    const dir = copyOfBuild();
    for (const file of caches(dir)) writeFileSync(join(dir, 'dist', file), 'not a code cache');
    expect(cli(dir, '--version').trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    expect(cli(dir, 'validate', '--config-dir', repoRoot)).toContain('config OK');
  });
});
