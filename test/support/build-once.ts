// vitest globalSetup: the tests that run the built binary (runCli(..., { spawn: true }), start-up, the
// terminal, signals) must run today's code, so `npx vitest run` alone never tests a stale build: when a
// file under src/, bin/, config/ or scripts/ is newer than the build, the build runs first.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** The build's own output, written last by scripts/build.mjs; missing before the first build. */
function builtAt(): number {
  try {
    return statSync(join(repoRoot, 'dist', 'cli', 'main.bundle.cjs')).mtimeMs;
  } catch {
    return 0;
  }
}

export default function setup(): void {
  const sources = Math.max(...['src', 'bin', 'config', 'scripts'].map((dir) => newest(join(repoRoot, dir))), statSync(join(repoRoot, 'package.json')).mtimeMs);
  if (builtAt() >= sources) return;
  console.log('dist/ is older than the sources: building first (npm run build)');
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
}
