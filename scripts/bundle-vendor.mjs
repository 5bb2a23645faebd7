// Bundles the packages of src/vendor/ into one CommonJS file each (dist/vendor/*.cjs), which the
// handlers bundle requires when they are first used (see bundle-cli.mjs): loaded as loose ES modules,
// execa alone cost about 150 ms of every deploy, and got is about a hundred files.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const name of readdirSync(join(root, 'src/vendor')).map((file) => file.replace(/\.ts$/, ''))) {
  await build({
    entryPoints: [join(root, 'src/vendor', `${name}.ts`)],
    outfile: join(root, 'dist/vendor', `${name}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    // pg's optional native driver: required only through pg.native, which deployctl never reads.
    external: ['pg-native'],
  });
}
