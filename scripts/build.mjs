// Build: TypeScript to dist/, JSON Schemas to precompiled Ajv standalone validators, the bundles, the
// help text commander prints (dist/cli/help.json, printed by bin/ without loading commander), and
// last the V8 code caches of the bundles.
import { execFileSync } from 'node:child_process';
import { rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
  cwd: root,
});
for (const step of ['compile-schemas.mjs', 'bundle-vendor.mjs', 'bundle-cli.mjs', 'prerender-help.mjs', 'bundle-ui.mjs', 'code-cache.mjs']) {
  const file = join(root, 'scripts', step);
  if (existsSync(file)) execFileSync(process.execPath, [file], { stdio: 'inherit', cwd: root });
}
