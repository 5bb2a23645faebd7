// The floor of a start-up (npm run bench -- --only floor): one part of the pinned stack at a time, as
// deployctl loads it (its bundles in dist/, through bin/code-cache.cjs with a deploy's code caches),
// and nothing of deployctl's own work. What is left of a start-up target once these are paid.
'use strict';
const { join } = require('node:path');

const root = join(__dirname, '..');
require(join(root, 'bin', 'code-cache.cjs')).useCodeCache('deploy');
const part = process.argv[2];

function execaTrue() {
  const { execa } = require(join(root, 'dist', 'vendor', 'execa.cjs'));
  return execa('true');
}

if (part === 'spawn') {
  require('node:child_process').spawn('true', { stdio: 'ignore' });
} else if (part === 'execa') {
  execaTrue();
} else if (part === 'entry') {
  require(join(root, 'dist', 'cli', 'main.bundle.cjs'));
} else if (part === 'handlers') {
  require(join(root, 'dist', 'cli', 'handlers.bundle.cjs'));
} else if (part === 'all') {
  require(join(root, 'dist', 'cli', 'main.bundle.cjs'));
  require(join(root, 'dist', 'cli', 'handlers.bundle.cjs'));
  execaTrue();
} else if (part === 'config') {
  const { parseDocument } = require(join(root, 'dist', 'vendor', 'yaml.cjs'));
  const validators = require(join(root, 'dist', 'config', 'validators.cjs'));
  const text = 'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n';
  if (!validators.deployments(parseDocument(text).toJS())) throw new Error('the floor config does not pass its schema');
} else {
  throw new Error(`bench/floor.cjs: unknown part ${part}`);
}
