// CI cannot pass by skipping: with DEPLOYCTL_REQUIRE_TOOLS=1 (set by .ci/run), the test files that need
// terraform, ansible-playbook, the Docker engine, the compose plugin or a tmpfs to fill (mount, as root)
// fail when it is missing. Each case runs vitest itself on the real test file, with a PATH that lacks the tool.
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTool } from '../../src/executors/tools.js';
import { cleanEnv, repoRoot, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

/** A PATH with node and the given tools only. */
function pathWith(...tools: string[]): string {
  const bin = tempDir('deployctl-bin-');
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of tools) {
    const found = findTool(tool, {}, process.env);
    if (found) symlinkSync(found, join(bin, tool));
  }
  return bin;
}

function vitest(file: string, testName: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', file, '-t', testName], {
    cwd: repoRoot,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * Whether a case can show its one missing tool: the test file checks its tools in order, so the tools
 * checked before the missing one (and kept on the PATH given) must be on this machine. Where they are
 * not, the case skips saying why (or, with DEPLOYCTL_REQUIRE_TOOLS=1 here too, fails).
 */
const needs = (...checks: (() => string | false)[]) => () => checks.reduce<string | false>((why, check) => why || check(), false);

describe('DEPLOYCTL_REQUIRE_TOOLS=1', () => {
  const cases: [string, () => string | false, string, string, () => Record<string, string>, string][] = [
    ['terraform', needs(), 'test/e2e/executors.test.ts', 'terraform', () => ({ PATH: pathWith() }), 'terraform is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH'],
    [
      'ansible-playbook',
      // executors.test.ts checks terraform first: it must be there to be kept on the PATH.
      needs(() => toolMissing('terraform')),
      'test/e2e/executors.test.ts',
      'ansible',
      () => ({ PATH: pathWith('terraform') }),
      'ansible-playbook is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH',
    ],
    [
      'the Docker engine',
      needs(),
      'test/e2e/docker.test.ts',
      'docker',
      () => ({ PATH: pathWith('busybox', 'docker', 'docker-compose') }),
      'dockerd is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH',
    ],
    [
      'the compose v2 plugin',
      // docker.test.ts checks dockerd, docker and busybox before the plugin.
      needs(() => toolMissing('dockerd'), () => toolMissing('docker'), () => toolMissing('busybox')),
      'test/e2e/docker.test.ts',
      'v2 plugin',
      () => ({ PATH: process.env.PATH!, DEPLOYCTL_TEST_TOOLS: '/nonexistent' }),
      'the docker compose v2 plugin is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not at /nonexistent/cli-plugins/docker-compose',
    ],
    [
      'mount (for a tmpfs to fill)',
      needs(),
      'test/e2e/full-disk.test.ts',
      'full disk',
      () => ({ PATH: pathWith() }),
      'mounting a small tmpfs (mount -t tmpfs) is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not permitted here',
    ],
  ];
  for (const [what, missing, file, testName, env, message] of cases) {
    it.skipIf(missing())(`fails when ${what} is missing`, () => {
      const run = vitest(file, testName, { ...env(), DEPLOYCTL_REQUIRE_TOOLS: '1' });
      expect(run.output).toContain(message);
      expect(run.code).toBe(1);
    });
  }

  it('on a machine without Docker (or terraform), these cases skip, saying why, and the run passes', () => {
    const run = vitest('test/e2e/require-tools.test.ts', 'compose v2 plugin|ansible-playbook', { PATH: pathWith() });
    expect(run.output).toContain('skipping tests that need dockerd: it is not on PATH');
    expect(run.output).toContain('skipping tests that need terraform: it is not on PATH');
    expect(run.output).toMatch(/Tests\s+\d+ skipped/);
    expect(run.output).not.toMatch(/\d+ (passed|failed)/);
    expect(run.code).toBe(0);
  });

  it('is what turns a skip into a failure: without it, a missing tool skips with a visible reason', () => {
    const run = vitest('test/e2e/executors.test.ts', 'terraform', { PATH: pathWith() });
    expect(run.output).toContain('skipping tests that need terraform: it is not on PATH');
    expect(run.output).toMatch(/Tests\s+\d+ skipped/);
    expect(run.code).toBe(0);
  });
});
