// Tests that need a tool that may be missing skip with a visible reason, except in CI
// (DEPLOYCTL_REQUIRE_TOOLS=1), where a missing tool fails.
import { findTool } from '../../src/executors/tools.js';

export function toolMissing(name: string): string | false {
  if (findTool(name, {}, process.env)) return false;
  if (process.env.DEPLOYCTL_REQUIRE_TOOLS === '1') {
    throw new Error(`${name} is required (DEPLOYCTL_REQUIRE_TOOLS=1) but not on PATH: install it (scripts/install-test-tools.sh)`);
  }
  console.warn(`skipping tests that need ${name}: it is not on PATH`);
  return `${name} is not installed`;
}
