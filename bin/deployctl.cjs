#!/usr/bin/env node
// CommonJS on purpose: the start-up path (this file and the bundled entry) skips Node's ES module loader.
// The one place that ends the process: with the code main resolves to, at once after a second Ctrl-C
// (130), else when the event loop is done (so piped output is flushed).
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
    if (code === 130) process.exit(code);
    process.exitCode = code;
  });
