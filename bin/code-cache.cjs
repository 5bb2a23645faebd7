// Loads deployctl's CommonJS bundles with a V8 code cache made at build time (scripts/code-cache.mjs),
// so V8 skips parsing and compiling what the cache holds: about 20 ms of a no-op deploy or of a
// `validate`, 5 of `--help`. (Node 22 does this by itself with module.enableCompileCache; Node 20 cannot.)
// - Only files under dist/ with a cache written for that very content: the cache's name holds a checksum of
//   the file's bytes (not its size and time: `npm pack` resets every file time, so a copy installed from
//   a tarball would never find its caches), so a rebuilt or edited bundle never runs with a stale cache.
// - V8 checks its version and flags, and rejects a cache from another Node: the file then compiles as
//   usual, nothing else changes.
// - Files with import() get no cache: on Node 20 a script compiled from a cache cannot import().
'use strict';
const Module = require('node:module');
const zlib = require('node:zlib');
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist') + sep;
// Node loads .cjs files with its '.js' handler: it is wrapped, not replaced, and only ever for dist/.
const compileAsUsual = Module._extensions['.js'];

/**
 * Commands with caches of their own, trained on that command alone (scripts/code-cache.mjs): V8
 * deserializes every function a cache holds, so with the caches trained on every command a deploy
 * read, and built, the functions of the others too (its own: 3 % less CPU; `validate`'s own measured
 * no difference, see BENCHMARKS.md). Any other command uses the shared ones.
 */
const OWN_CACHES = ['deploy'];

/**
 * What names a file's caches: the CRC-32 of its bytes, with their number. A checksum, not a digest:
 * it only has to tell a rebuilt or edited bundle from the one a cache was made for, and zlib's loads
 * and runs in a fifth of the time node:crypto's SHA-1 took (about 4 ms of every start, see
 * BENCHMARKS.md).
 */
function hashOf(bytes) {
  // (zlib.crc32 is in every Node deployctl supports, 20.19 and later; an older one would run it too.)
  if (typeof zlib.crc32 !== 'function') return require('node:crypto').createHash('sha1').update(bytes).digest('hex').slice(0, 16);
  return `${(zlib.crc32(bytes) >>> 0).toString(16).padStart(8, '0')}${bytes.length.toString(16).padStart(8, '0')}`;
}

/** The cache of a file with this hash: the shared one, or that of one command (`tag`). */
function cacheFile(filename, hash, tag) {
  return `${filename}.${hash}${tag ? `.${tag}` : ''}.v8cache`;
}

/** Run a CommonJS file compiled by `script`, as Node's own loader would. */
function run(script, module, filename) {
  const wrapper = script.runInThisContext();
  wrapper.call(module.exports, module.exports, Module.createRequire(filename), module, filename, dirname(filename));
}

/**
 * The file name a cache is made under. V8 keeps it: every function compiled from a cache reports it in
 * stack traces, wherever the file is when it runs. So not the build's absolute path (which names the
 * builder's folders and does not exist where deployctl is installed), but `deployctl/dist/...`.
 */
function nameInCache(filename) {
  return `deployctl/dist/${filename.slice(dist.length).split(sep).join('/')}`;
}

function compile(source, filename, cachedData) {
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename, cachedData });
}

/**
 * At start-up: .cjs files of dist/ load with their cache when there is one: the command's own
 * (`command`: the first argument, when OWN_CACHES names it), else the shared one.
 */
function useCodeCache(command) {
  const tag = OWN_CACHES.includes(command) ? command : undefined;
  Module._extensions['.js'] = function (module, filename) {
    if (!filename.startsWith(dist) || !filename.endsWith('.cjs')) return compileAsUsual(module, filename);
    const bytes = readFileSync(filename);
    const hash = hashOf(bytes);
    let cachedData;
    for (const name of tag ? [cacheFile(filename, hash, tag), cacheFile(filename, hash)] : [cacheFile(filename, hash)]) {
      try {
        cachedData = readFileSync(name);
        break;
      } catch {
        // none of this name: the next, or none for these bytes
      }
    }
    if (!cachedData) return compileAsUsual(module, filename);
    run(compile(bytes.toString('utf8'), filename, cachedData), module, filename);
  };
}

/**
 * At build time: compile the .cjs files of dist/ that can have a cache while the caller exercises
 * them, then write their caches, with the functions compiled so far, not only the top level. Files
 * the caller did not load get a cache of their top level. With `tag` (one of OWN_CACHES), the caches
 * of that command, and only for the files it loaded.
 */
function recordCodeCache(tag) {
  const scripts = new Map();
  const ours = (filename) => filename.startsWith(dist) && filename.endsWith('.cjs');
  Module._extensions['.js'] = function (module, filename) {
    const source = ours(filename) ? readFileSync(filename, 'utf8') : '';
    if (!ours(filename) || source.includes('import(')) return compileAsUsual(module, filename);
    const script = compile(source, nameInCache(filename));
    scripts.set(filename, script);
    run(script, module, filename);
  };
  return {
    /** Write the caches; returns the files that were exercised, and those cached by their top level. */
    write() {
      Module._extensions['.js'] = compileAsUsual;
      const untrained = [];
      for (const file of tag ? [] : readdirSync(dist, { recursive: true })) {
        const filename = join(dist, file);
        if (scripts.has(filename) || !ours(filename)) continue;
        const source = readFileSync(filename, 'utf8');
        if (source.includes('import(')) continue;
        scripts.set(filename, compile(source, nameInCache(filename)));
        untrained.push(filename);
      }
      for (const [filename, script] of scripts) writeFileSync(cacheFile(filename, hashOf(readFileSync(filename)), tag), script.createCachedData());
      return { trained: [...scripts.keys()].filter((f) => !untrained.includes(f)), untrained };
    },
  };
}

module.exports = { useCodeCache, recordCodeCache, OWN_CACHES };
