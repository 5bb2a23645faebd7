// Writes the V8 code caches the CLI loads its bundles with (bin/code-cache.cjs). The bundles are
// compiled while a few commands run in-process against a throwaway config and state folder, so the
// caches also hold the functions those commands call (commander's parsing, yaml, the validators,
// execa), not only each file's top level: that is most of the gain. A failure here costs speed, not
// the build: the CLI works without caches.
// The shared caches are trained on several commands; `deploy` (OWN_CACHES) also gets caches of its
// own, trained in a process of its own on that command alone (this script, run again with --only
// deploy), so that they hold no function of another command.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { recordCodeCache, OWN_CACHES } = require(join(root, 'bin/code-cache.cjs'));
const only = process.argv[2] === '--only' ? process.argv[3] : undefined;
if (only !== undefined && !OWN_CACHES.includes(only)) throw new Error(`code-cache: no caches of their own for ${only}`);

const work = mkdtempSync(join(tmpdir(), 'deployctl-code-cache-'));
const configDir = join(work, 'config');
mkdirSync(configDir);
writeFileSync(join(configDir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
writeFileSync(
  join(configDir, 'deployments.yaml'),
  `deployments:\n  app:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ${JSON.stringify([process.execPath, '-e', '0'])}\n`,
);
const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const io = {
  stdout: sink(),
  stderr: sink(),
  stdin: Readable.from([]),
  // Only what the commands need: no CI or GitHub variables of the machine that builds.
  env: { PATH: process.env.PATH, DEPLOYCTL_HOME: join(work, 'home'), DEPLOYCTL_CONFIG_DIR: configDir, DEPLOYCTL_CACHE_DIR: join(work, 'cache'), NO_COLOR: '1' },
  cwd: work,
};

// What each training runs: the shared caches every command below; a command's own, that command (a
// deploy twice: the second finds the history the first wrote, as every deploy but the first does).
const training = {
  shared: [['--help'], ['--version'], ['validate'], ['deploy', 'app', '-e', 'dev'], ['status'], ['history', '--limit', '20']],
  deploy: [['deploy', 'app', '-e', 'dev'], ['deploy', 'app', '-e', 'dev']],
};

const recorder = recordCodeCache(only);
try {
  const { main } = require(join(root, 'dist/cli/main.bundle.cjs'));
  for (const args of training[only ?? 'shared']) {
    const code = await main(['node', 'deployctl', ...args], io);
    if (code !== 0) throw new Error(`deployctl ${args.join(' ')} exited ${code}`);
  }
  // The demo config of a clone (every app type, health checks, hooks, flow-style YAML): what validate
  // and the executors' preflights run on a real config, compiled too. Not in a copy without it.
  if (!only && existsSync(join(root, 'deployments.yaml')) && existsSync(join(root, 'examples'))) {
    await main(['node', 'deployctl', 'validate', '--config-dir', root], io);
  }
} catch (error) {
  console.warn(`code-cache${only ? ` (${only})` : ''}: the training run failed (${error.message}); the caches hold less`);
} finally {
  const { trained, untrained } = recorder.write();
  rmSync(work, { recursive: true, force: true });
  const names = (files) => files.map((f) => basename(f)).join(', ') || 'none';
  console.log(`code-cache${only ? ` of ${only}` : ''}: ${names(trained)}${only ? '' : `; top level only: ${names(untrained)}`}`);
}
if (!only) {
  for (const command of OWN_CACHES) execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--only', command], { stdio: 'inherit', cwd: root });
}
