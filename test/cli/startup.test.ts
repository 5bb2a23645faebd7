import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';

function loadedModules(traceFile: string): string[] {
  return readFileSync(traceFile, 'utf8').trim().split('\n');
}

describe('CLI start-up', () => {
  it.each([['--help'], ['--version'], ['deploy', '--help']])('`deployctl %s` loads commander and nothing heavier', async (...args) => {
    const trace = join(tempDir(), 'modules.txt');
    const run = await runCli(args, {
      env: cleanEnv({ TRACE_FILE: trace }),
      nodeArgs: ['--import', join(repoRoot, 'test/support/trace-loader.mjs')],
    });
    expect(run.code).toBe(0);
    const modules = loadedModules(trace);
    const packages = new Set(modules.flatMap((url) => url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? []));
    // commander is bundled into the entry; yaml, ajv, got, execa, ink and the rest load only in handlers.
    expect([...packages]).toEqual([]);
    const ownModules = modules.filter((url) => url.includes('/dist/')).map((url) => url.replace(/^.*\/dist\//, ''));
    expect(ownModules).toEqual(['cli/main.bundle.cjs']);
  });

  it('prints usage errors with exit code 2', async () => {
    const run = await runCli(['deploy', 'web'], { spawn: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("required option '-e, --env <env>' not specified");
  });
});
