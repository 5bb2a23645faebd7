#!/usr/bin/env node
// CommonJS on purpose: the start-up path (this file and the bundled entry) skips Node's ES module loader.
// The one place that ends the process: with the code main resolves to, at once after a second Ctrl-C
// (130), else when the event loop is done (so piped output is flushed).
require('./code-cache.cjs').useCodeCache();
require('../dist/cli/main.bundle.cjs')
  .main(process.argv)
  .then((code) => {
    if (code === 130) process.exit(code);
    process.exitCode = code;
  });
