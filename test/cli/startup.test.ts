import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';

function loadedModules(traceFile: string): string[] {
  return readFileSync(traceFile, 'utf8').trim().split('\n');
}

describe('CLI start-up', () => {
  it.each([{ args: ['--help'] }, { args: ['--version'] }, { args: ['deploy', '--help'] }, { args: [] }])(
    '`deployctl $args` prints the help or version the build pre-rendered: no bundle, no package',
    async ({ args }: { args: string[] }) => {
      const trace = join(tempDir(), 'modules.txt');
      const run = await runCli(args, {
        env: cleanEnv({ TRACE_FILE: trace }),
        nodeArgs: ['--import', join(repoRoot, 'test/support/trace-loader.mjs')],
      });
      expect(run.code).toBe(args.length ? 0 : 2);
      expect(run.stdout + run.stderr).toMatch(args[0] === '--version' ? /^\d+\.\d+\.\d+/ : /^Usage: deployctl/);
      // bin/ only: the text comes from dist/cli/help.json, read as a file.
      expect(loadedModules(trace).filter((url) => !url.includes('/bin/'))).toEqual([]);
    },
  );

  it('`deployctl history show --help` (not pre-rendered) loads commander and nothing heavier', async () => {
    const trace = join(tempDir(), 'modules.txt');
    const run = await runCli(['history', 'show', '--help'], {
      env: cleanEnv({ TRACE_FILE: trace }),
      nodeArgs: ['--import', join(repoRoot, 'test/support/trace-loader.mjs')],
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: deployctl history show');
    const modules = loadedModules(trace);
    const packages = new Set(modules.flatMap((url) => url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? []));
    // commander is bundled into the entry; yaml, ajv, got, execa, ink and the rest load only in handlers.
    expect([...packages]).toEqual([]);
    const ownModules = modules.filter((url) => url.includes('/dist/')).map((url) => url.replace(/^.*\/dist\//, ''));
    expect(ownModules).toEqual(['cli/main.bundle.cjs']);
  });

  it('a deploy of a config read before loads neither the YAML parser, the validators nor node:crypto', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    const env = cleanEnv({ DEPLOYCTL_CONFIG_DIR: dir, DEPLOYCTL_HOME: join(dir, 'home'), DEPLOYCTL_CACHE_DIR: join(dir, 'cache') });
    const log = join(dir, 'required.txt');
    const preload = join(dir, 'watch.cjs');
    // Every require, built-ins too (the ES module trace above leaves those out).
    writeFileSync(preload, `const M = require('node:module'); const fs = require('node:fs'); const load = M._load;
      M._load = function (request) { fs.appendFileSync(${JSON.stringify(log)}, request + '\\n'); return load.apply(this, arguments); };`);
    const deploy = ['deploy', 'noop', '-e', 'dev', '-q'];
    expect((await runCli(deploy, { env, spawn: true })).code).toBe(0);
    const first = readFileSync(join(dir, 'home', 'audit.log'), 'utf8');
    expect((await runCli(deploy, { env, nodeArgs: ['-r', preload] })).code).toBe(0);
    expect(readFileSync(join(dir, 'home', 'audit.log'), 'utf8').length).toBeGreaterThan(first.length);
    const required = readFileSync(log, 'utf8').trim().split('\n');
    expect(required.filter((r) => /execa\.cjs$/.test(r))).toHaveLength(1); // the trace sees the bundles
    expect(required.filter((r) => /yaml|validators|^(node:)?crypto$/.test(r))).toEqual([]);
  });

  it('prints usage errors with exit code 2', async () => {
    const run = await runCli(['deploy', 'web'], { spawn: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("required option '-e, --env <env>' not specified");
  });
});

describe('the PostgreSQL driver', () => {
  it('is loaded from its bundle (dist/vendor/pg.cjs) when built, not from node_modules, and works', () => {
    const script = [
      `import { createRequire } from 'node:module';`,
      `const { loadPg } = await import(${JSON.stringify(join(repoRoot, 'dist/state/postgres/connection.js'))});`,
      `const pg = loadPg();`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache);`,
      `console.log(JSON.stringify({ client: typeof pg.Client, pool: typeof pg.Pool, bundle: loaded.some((f) => f.endsWith('/dist/vendor/pg.cjs')), modules: loaded.filter((f) => f.includes('/node_modules/pg')).length, navigator: 'navigator' in globalThis }));`,
    ].join('\n');
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: cleanEnv() }));
    expect(out).toEqual({ client: 'function', pool: 'function', bundle: true, modules: 0, navigator: false });
  });
});
