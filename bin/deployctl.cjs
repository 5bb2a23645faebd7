#!/usr/bin/env node
// CommonJS on purpose: the start-up path (this file and the bundled entry) skips Node's ES module loader.
require('./code-cache.cjs').useCodeCache();
require('../dist/cli/main.bundle.cjs')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
