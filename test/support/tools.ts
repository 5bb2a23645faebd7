// Tests that need a tool that may be missing skip with a visible reason, except in CI
// (DEPLOYCTL_REQUIRE_TOOLS=1), where a missing tool fails.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../../src/executors/tools.js';
import { repoRoot } from './cli.js';

function missing(what: string, where: string, env: NodeJS.ProcessEnv): string {
  if (env.DEPLOYCTL_REQUIRE_TOOLS === '1') {
    throw new Error(`${what} is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not ${where}: install it (scripts/install-test-tools.sh)`);
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
