// CI cannot pass by skipping: with DEPLOYCTL_REQUIRE_TOOLS=1 (set by .ci/run), the test files that need
// terraform, ansible-playbook, the Docker engine, the compose plugin or a tmpfs to fill (mount, as root)
// fail when it is missing. Each case runs vitest itself on the real test file, with a PATH that lacks the tool.
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTool } from '../../src/executors/tools.js';
import { cleanEnv, repoRoot, tempDir } from '../support/cli.js';

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

describe('DEPLOYCTL_REQUIRE_TOOLS=1', () => {
  it.each([
    ['terraform', 'test/e2e/executors.test.ts', 'terraform', { PATH: pathWith() }, 'terraform is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH'],
    ['ansible-playbook', 'test/e2e/executors.test.ts', 'ansible', { PATH: pathWith('terraform') }, 'ansible-playbook is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH'],
    ['the Docker engine', 'test/e2e/docker.test.ts', 'docker', { PATH: pathWith('busybox', 'docker', 'docker-compose') }, 'dockerd is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH'],
    [
      'the compose v2 plugin',
      'test/e2e/docker.test.ts',
      'v2 plugin',
      { PATH: process.env.PATH!, DEPLOYCTL_TEST_TOOLS: '/nonexistent' },
      'the docker compose v2 plugin is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not at /nonexistent/cli-plugins/docker-compose',
    ],
    ['mount (for a tmpfs to fill)', 'test/e2e/full-disk.test.ts', 'full disk', { PATH: pathWith() }, 'mounting a small tmpfs (mount -t tmpfs) is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not permitted here'],
  ])('fails when %s is missing', (_what, file, testName, env, message) => {
    const run = vitest(file, testName, { ...env, DEPLOYCTL_REQUIRE_TOOLS: '1' });
    expect(run.output).toContain(message);
    expect(run.code).toBe(1);
  });

  it('is what turns a skip into a failure: without it, a missing tool skips with a visible reason', () => {
    const run = vitest('test/e2e/executors.test.ts', 'terraform', { PATH: pathWith() });
    expect(run.output).toContain('skipping tests that need terraform: it is not on PATH');
    expect(run.output).toMatch(/Tests\s+\d+ skipped/);
    expect(run.code).toBe(0);
  });
});
