// Tests that need a tool that may be missing skip with a visible reason, except in CI
// (DEPLOYCTL_REQUIRE_TOOLS=1), where a missing tool fails.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../../src/executors/tools.js';
import { repoRoot } from './cli.js';

function missing(what: string, where: string, env: NodeJS.ProcessEnv, fix = 'install it (scripts/install-test-tools.sh)'): string {
  if (env.DEPLOYCTL_REQUIRE_TOOLS === '1') {
    throw new Error(`${what} is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not ${where}: ${fix}`);
  }
  console.warn(`skipping tests that need ${what}: it is not ${where}`);
  return `${what} is not installed`;
}

export function toolMissing(name: string, env: NodeJS.ProcessEnv = process.env): string | false {
  return findTool(name, {}, env) ? false : missing(name, 'on PATH', env);
}

/**
 * The compose v2 plugin that scripts/install-test-tools.sh puts in $DEPLOYCTL_TEST_TOOLS/cli-plugins
 * (default .cache/test-tools), for the tests that use it: never installed for the whole machine, so
 * that the v1 fallback can be tested too.
 */
export function composePluginPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DEPLOYCTL_TEST_TOOLS ?? join(repoRoot, '.cache/test-tools'), 'cli-plugins', 'docker-compose');
}

export function composePluginMissing(env: NodeJS.ProcessEnv = process.env): string | false {
  const path = composePluginPath(env);
  try {
    accessSync(path, constants.X_OK);
    return false;
  } catch {
    return missing('the docker compose v2 plugin', `at ${path}`, env);
  }
}

/**
 * A small tmpfs mounted by the tests (test/support/small-disk.ts), to fill up for real: needs `mount`
 * and root, as on the developers' machine and in CI. Tried once, here.
 */
export function tmpfsMissing(env: NodeJS.ProcessEnv = process.env): string | false {
  const dir = mkdtempSync(join(tmpdir(), 'deployctl-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { env, stdio: 'pipe' });
    execFileSync('umount', [dir], { env, stdio: 'pipe' });
    return false;
  } catch (error) {
    const why = ((error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message).split('\n')[0];
    return missing('mounting a small tmpfs (mount -t tmpfs)', `permitted here (${why})`, env, 'run the tests as root, as CI does');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
