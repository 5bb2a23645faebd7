// Replaces dist/vendor/*.js (plain re-exports after tsc) with one-file bundles of those packages, so
// a deploy does not load execa's and yaml's many modules one by one.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const name of ['execa', 'yaml']) {
  await build({
    entryPoints: [join(root, 'src/vendor', `${name}.ts`)],
    outfile: join(root, 'dist/vendor', `${name}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    allowOverwrite: true,
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
}
