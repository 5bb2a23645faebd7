// Bundles the Ink side (ink, react, the board and progress views) into one file: the first frame of
// `deployctl ui` comes about twice as fast as when Node loads a few hundred modules.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'src/ui/ink-entry.tsx')],
  outfile: join(root, 'dist/ui-bundle/ink-entry.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  minify: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"', 'process.env.DEV': '"false"' },
  plugins: [
    {
      // yoga's wasm is inlined as base64, yet its loader fetch()es that data: URL when fetch exists,
      // and the first fetch() makes Node load undici (~20 ms of the first frame). Decode it directly.
      name: 'yoga-without-fetch',
      setup(b) {
        b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]binaries[\\/].*\.js$/ }, async (args) => {
          const source = await readFile(args.path, 'utf8');
          const patched = source.replaceAll('"function"!=typeof fetch', '!0');
          if (patched === source) throw new Error(`yoga-without-fetch: no fetch check found in ${args.path}; update scripts/bundle-ui.mjs`);
          return { contents: patched, loader: 'js' };
        });
      },
    },
    {
      // ink loads React DevTools only when DEV=true; the bundle leaves it out.
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default { connectToDevTools() {} };', loader: 'js' }));
      },
    },
  ],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
