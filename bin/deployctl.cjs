#!/usr/bin/env node
// CommonJS on purpose: the start-up path (this file and the bundled entry) skips Node's ES module loader.
// The one place that ends the process: with the code main resolves to, at once after a second Ctrl-C
// (130), else when the event loop is done (so piped output is flushed).
'use strict';

// `deployctl --help`, `--version`, `deployctl` alone and `deployctl <command> --help`: the text commander
// printed for exactly these arguments when the build ran it (dist/cli/help.json, see
// scripts/prerender-help.mjs), printed without loading commander or a bundle. In a terminal whose width
// would make commander wrap the text differently, and for anything else, commander runs as usual.
function printedAtBuild(args) {
  const fs = require('node:fs');
  let table;
  try {
    table = JSON.parse(fs.readFileSync(require('node:path').join(__dirname, '..', 'dist', 'cli', 'help.json'), 'utf8'));
  } catch {
    return false; // not built with it: commander renders
  }
  const found = table.cases[JSON.stringify(args)];
  if (!found) return false;
  // commander's width: the terminal's columns, or 80 when the stream is not a terminal.
  if (fs.fstatSync(found.fd).isCharacterDevice() && require('node:tty').isatty(found.fd)) {
    const columns = (found.fd === 1 ? process.stdout : process.stderr).columns;
    if (!found.widths.some(([from, to]) => columns >= from && columns <= to)) return false;
  }
  const text = Buffer.from(table.texts[found.text]);
  for (let at = 0; at < text.length; ) {
    try {
      at += fs.writeSync(found.fd, text, at);
    } catch (error) {
      if (error.code === 'EAGAIN') {
        (found.fd === 1 ? process.stdout : process.stderr).write(text.subarray(at));
        break;
      }
      if (error.code === 'EPIPE') break; // the reader is gone, as with `deployctl --help | head -1`
      throw error;
    }
  }
  process.exitCode = found.code;
  return true;
}

// Only arguments that ask for help or the version (or none) look at the table; the build checks that
// every case it writes is one of these (scripts/prerender-help.mjs).
const args = process.argv.slice(2);
const asksForHelp = args.length === 0 || (args.length <= 2 && args.some((a) => /^(-h|--help|-V|--version|help)$/.test(a)));
if (!asksForHelp || !printedAtBuild(args)) {
  // Ctrl-C while deployctl starts, before a command installs its own handler, still means 130. The first
  // SIGINT handler a command adds takes over from this one.
  const interruptedEarly = () => process.exit(130);
  process.on('SIGINT', interruptedEarly);
  process.on('newListener', function handOver(event) {
    if (event !== 'SIGINT') return;
    process.removeListener('newListener', handOver);
    process.nextTick(() => process.removeListener('SIGINT', interruptedEarly));
  });
  require('./code-cache.cjs').useCodeCache(args[0]);
  require('../dist/cli/main.bundle.cjs')
    .main(process.argv)
    .then((code) => {
      if (code === 130) process.exit(code);
      process.exitCode = code;
    });
}
