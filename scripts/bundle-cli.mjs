// Bundles the CLI into two CommonJS files, so that no command goes through Node's ES module loader (a
// no-op deploy used to load about 40 of deployctl's modules one by one through it; this way it takes
// about 20 ms less, see BENCHMARKS.md):
// - dist/cli/main.bundle.cjs: the entry, the command registrations and commander. `--help` and
//   `--version` load this file and nothing else.
// - dist/cli/handlers.bundle.cjs: every module the handlers import on demand (config, engine, state,
//   executors, ...). The entry's import() of its own modules is routed there; the file is loaded by the
//   first handler that runs, and each module in it is evaluated only when it is first imported, as before.
// The packages of src/vendor/ are files of their own (dist/vendor/*.cjs, see bundle-vendor.mjs), and Ajv
// (the fallback when the precompiled validators are missing) is required from node_modules, when first
// used. Only the Ink bundle stays an ES module, loaded with import() by dist/cli/ui-load.cjs.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const outdir = join(root, 'dist/cli');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // The one import() that stays one loads the Ink bundle, an ES module (step 3).
  supported: { 'dynamic-import': true },
  banner: { js: "const __moduleUrl = (file) => require('node:url').pathToFileURL(require('node:path').join(__dirname, file)).href;" },
};

/** import('node:os') in a CommonJS bundle: a require(), not a trip through the ES module loader. */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/** A source file's module name in dist/, e.g. `cli/target.js`. */
const moduleName = (file) => relative(src, file).replace(/\.tsx?$/, '.js');

/**
 * Each bundled module keeps the import.meta.url of its own file in dist/, so paths it builds from it
 * (the precompiled validators, the Ink bundle, package.json) are the same bundled or not.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(b) {
    b.onLoad({ filter: /\.tsx?$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const url = `__moduleUrl(${JSON.stringify(relative(outdir, join(root, 'dist', moduleName(args.path))))})`;
      return { contents: source.replaceAll('import.meta.url', url), loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

// 1. The entry. Every import() of one of our modules becomes a require() of that module from the
//    handlers bundle; the names are collected for step 2.
const handlerModules = new Set();
const main = await build({
  ...common,
  entryPoints: [join(src, 'cli/main.ts')],
  outfile: join(outdir, 'main.bundle.cjs'),
  metafile: true,
  plugins: [
    keepModuleUrls,
    builtinsByRequire,
    {
      name: 'handlers-from-their-bundle',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind !== 'dynamic-import') return undefined;
          if (!args.path.startsWith('.')) return { path: args.path, external: true };
          const name = moduleName(join(args.resolveDir, args.path).replace(/\.js$/, '.ts'));
          handlerModules.add(name);
          return { path: name, namespace: 'handler' };
        });
        b.onLoad({ filter: /.*/, namespace: 'handler' }, (args) => ({
          contents: `module.exports = require('./handlers.bundle.cjs')(${JSON.stringify(args.path)});`,
          loader: 'js',
        }));
        b.onResolve({ filter: /^\.\/handlers\.bundle\.cjs$/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
});

// 2. The handlers: one lazily evaluated module per name the entry asks for, and what they import.
const entry = [
  'const modules = {',
  ...[...handlerModules].sort().map((name) => `  ${JSON.stringify(name)}: () => require(${JSON.stringify(`./${name.replace(/\.js$/, '')}`)}),`),
  '};',
  'module.exports = (name) => modules[name]();',
].join('\n');
const handlers = await build({
  ...common,
  stdin: { contents: entry, resolveDir: src, sourcefile: 'handlers.js', loader: 'js' },
  outfile: join(outdir, 'handlers.bundle.cjs'),
  metafile: true,
  plugins: [
    keepModuleUrls,
    builtinsByRequire,
    {
      name: 'packages-by-require',
      setup(b) {
        // The vendor bundles, and Ajv (CommonJS already): a require() when first imported.
        const required = (path) => ({ path, namespace: 'require' });
        b.onResolve({ filter: /.*/, namespace: 'require' }, (args) => ({ path: args.path, external: true }));
        b.onResolve({ filter: /\bvendor\/[\w-]+(\.js)?$/ }, (args) => required(`../vendor/${args.path.match(/([\w-]+)(\.js)?$/)[1]}.cjs`));
        b.onResolve({ filter: /^ajv(-formats)?$/ }, (args) => required(args.path));
        // The loader of the Ink bundle: a file of its own (step 3).
        b.onResolve({ filter: /\bui\/load(\.js)?$/ }, () => required('./ui-load.cjs'));
        b.onLoad({ filter: /.*/, namespace: 'require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
      },
    },
  ],
});

// 3. What loads the Ink bundle, the one ES module of the CLI, with import(). It is a file of its own,
//    so the handlers bundle has no import() and can have a code cache (bin/code-cache.cjs).
const uiLoad = await build({
  ...common,
  entryPoints: [join(src, 'ui/load.ts')],
  outfile: join(outdir, 'ui-load.cjs'),
  metafile: true,
  plugins: [
    keepModuleUrls,
    {
      name: 'ink-outside',
      setup(b) {
        // The Ink side has its own bundle (bundle-ui.mjs); without it, its ES modules in dist/.
        b.onResolve({ filter: /\/ink-entry\.js$/ }, () => ({ path: '../ui/ink-entry.js', external: true }));
      },
    },
  ],
});

// A module in two bundles would exist twice (two copies of each error class, say): refuse that.
const seen = new Map();
for (const [name, result] of Object.entries({ main, handlers, uiLoad })) {
  for (const file of Object.keys(result.metafile.inputs).filter((f) => f.startsWith('src/'))) {
    if (seen.has(file)) throw new Error(`bundle-cli: ${file} would be in both the ${seen.get(file)} and the ${name} bundle: import it on demand, or not from a handler`);
    seen.set(file, name);
  }
}

// The build's id, which names the parse cache's folder (src/config/parse-cache.ts): a hash of what turns
// a config's text into checked data (the YAML bundle, the validators, the handlers bundle with the
// reading and checking code), so another build never reads the entries of this one.
{
  const { createHash } = await import('node:crypto');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const hash = createHash('sha256');
  for (const file of ['dist/vendor/yaml.cjs', 'dist/config/validators.cjs', 'dist/cli/handlers.bundle.cjs']) hash.update(readFileSync(join(root, file)));
  writeFileSync(join(root, 'dist/build-id'), `${hash.digest('hex').slice(0, 32)}\n`);
}
