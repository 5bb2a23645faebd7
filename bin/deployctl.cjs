#!/usr/bin/env node
// CommonJS on purpose: the start-up path (this file and the bundled entry) skips Node's ES module loader.
// Ctrl-C while deployctl starts, before a command installs its own handler, still means 130. The first
// SIGINT handler a command adds takes over from this one.
const interruptedEarly = () => process.exit(130);
process.on('SIGINT', interruptedEarly);
process.on('newListener', function handOver(event) {
  if (event !== 'SIGINT') return;
  process.removeListener('newListener', handOver);
  process.nextTick(() => process.removeListener('SIGINT', interruptedEarly));
});
require('./code-cache.cjs').useCodeCache();
require('../dist/cli/main.bundle.cjs')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
