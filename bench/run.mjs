// npm run bench: what deployctl costs a user, as ratios against a baseline measured in the same run.
// Never part of `npm test`; never writes to the working tree unless given --write (then it rewrites the
// section of BENCHMARKS.md between the bench:latest markers).
//
//   npm run bench                      all figures, printed
//   npm run bench -- --quick           fewer pairs (for a look, not for the record)
//   npm run bench -- --write           also write the table into BENCHMARKS.md
//   npm run bench -- --only startup    groups, comma-separated: startup, floor, cache, records, health, ui,
//                                      queue, memory, serve, pg
//
// Honest by construction:
// - Every child runs without NODE_EXTRA_CA_CERTS (this machine sets it; it makes every Node start read
//   the CA bundle, ~40 ms, which flatters every ratio against `node -e 0`), CI and DEPLOYCTL_ variables.
// - Paired runs: A, B, A, B, ...; the figure is the median of the per-pair ratios B/A, and beside it the
//   median of the per-pair differences B − A (the milliseconds deployctl adds).
// - Start-up is measured on the copy an npm user gets (`npm pack`, then `npm install <tarball>` into a
//   temporary prefix, run as node_modules/.bin/deployctl) and on the clone (`node bin/deployctl.cjs`).
// - A deploy is measured with -q and as a person sees it: in a pseudo-terminal (`script`), live view on.
// - status, list and history at 100 records and at 1,000,000 records over 1,000 targets (the generated
//   state folders are cached under .cache/bench-records/, keyed by the generator's source).
// - pg: a throwaway PostgreSQL started here (bench/postgres.mjs), its records loaded in SQL; skipped,
//   saying so, where the PostgreSQL binaries are missing.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = args.includes('--write');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(',')) : undefined;
const wanted = (group) => !only || only.has(group);
const PAIRS = quick ? 7 : 21;
const RECORD_PAIRS = quick ? 5 : 11;
/** A single run longer than this is reported as "over" and not repeated. */
const RUN_LIMIT_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'deployctl-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const baseEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.NODE_EXTRA_CA_CERTS;
delete baseEnv.NODE_OPTIONS;
delete baseEnv.CI; // ink treats any CI variable, even empty, as CI and draws no live frames
for (const key of Object.keys(baseEnv)) if (/^(GITHUB_|GITLAB_|DEPLOYCTL_|npm_)/.test(key)) delete baseEnv[key];
// The parse cache of the runs (src/config/parse-cache.ts): the run's own folder, not the user's. The
// warm-up run of each pair fills it, as a person's first command does; the `parse cache off` rows show
// a first run (a CI runner that starts empty).
baseEnv.DEPLOYCTL_CACHE_DIR = join(work, 'parse-cache');
// node_modules/.bin/deployctl starts with `#!/usr/bin/env node`: the same node as the baseline.
baseEnv.PATH = `${dirname(process.execPath)}:${baseEnv.PATH ?? '/usr/bin:/bin'}`;

// ---------------------------------------------------------------------------------------------------
// Measuring

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

class Over extends Error {}

/** One run of a command: { file, args, env, cwd, expect }. Returns wall-clock milliseconds. */
function timeOnce(cmd) {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd.file, cmd.args, {
    cwd: cmd.cwd ?? root,
    env: cmd.env ?? baseEnv,
    encoding: 'utf8',
    timeout: RUN_LIMIT_MS,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error?.code === 'ETIMEDOUT' || result.signal === 'SIGTERM') throw new Over(`over ${RUN_LIMIT_MS / 1000} s`);
  if (result.error) throw result.error;
  if (result.status !== (cmd.expect ?? 0)) {
    throw new Error(`${cmd.file} ${cmd.args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return ms;
}

/** Paired runs A, B, A, B...: the median per-pair ratio B/A and the median per-pair B − A. */
function paired(a, b, pairs = PAIRS) {
  timeOnce(a);
  timeOnce(b); // warm-up: file cache, and whatever a first run writes
  const ratios = [];
  const added = [];
  const as = [];
  const bs = [];
  for (let i = 0; i < pairs; i++) {
    const ta = timeOnce(a);
    const tb = timeOnce(b);
    ratios.push(tb / ta);
    added.push(tb - ta);
    as.push(ta);
    bs.push(tb);
  }
  return { ratio: median(ratios), addedMs: median(added), aMs: median(as), bMs: median(bs) };
}

/** Like paired(), but a B slower than RUN_LIMIT_MS is reported, not waited for again and again. */
function pairedOrOver(a, b, pairs) {
  try {
    return paired(a, b, pairs);
  } catch (error) {
    if (error instanceof Over) return { over: error.message };
    throw error;
  }
}

const node = (cliArgs, extra = {}) => ({ file: process.execPath, args: cliArgs, ...extra });
const nodeE0 = node(['-e', '0']);
const shq = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;
/** A command run in a pseudo-terminal by util-linux `script`, as a person at a terminal runs it. */
const inTerminal = (cmd) => ({
  ...cmd,
  file: 'script',
  args: ['-qfec', [cmd.file, ...cmd.args].map(shq).join(' '), '/dev/null'],
  env: { ...(cmd.env ?? baseEnv), TERM: 'xterm-256color', COLUMNS: '100', LINES: '30' },
});

// ---------------------------------------------------------------------------------------------------
// Results

const rows = [];
const fmtRatio = (r) => (r.over ? r.over : `${r.ratio.toFixed(2)} (${r.addedMs >= 0 ? '+' : '−'}${Math.abs(r.addedMs).toFixed(1)} ms)`);
const meets = (r, target) => !r.over && (target === undefined || r.ratio <= target);

/** A row: the figure measured on the installed copy and on the clone (either may be absent). */
function row(figure, results, target, note = '') {
  const measured = Object.values(results).filter(Boolean);
  const pass = target === undefined ? undefined : measured.every((r) => meets(r, target));
  rows.push({ figure, results, target, pass, note });
  const shown = Object.entries(results)
    .filter(([, r]) => r)
    .map(([where, r]) => `${where} ${typeof r === 'string' ? r : fmtRatio(r)}`)
    .join(', ');
  console.log(`${pass === undefined ? '    ' : pass ? 'pass' : 'MISS'}  ${figure}: ${shown}${target !== undefined ? ` (target ≤ ${target})` : ''}`);
}

// ---------------------------------------------------------------------------------------------------
// The two copies of deployctl

const clone = { name: 'clone', bin: (cliArgs, extra) => node([join(root, 'bin', 'deployctl.cjs'), ...cliArgs], extra) };

let installed;
/** The copy an npm user gets, installed once per run. */
function installCopy() {
  installed ??= installCopyNow();
  return installed;
}

function installCopyNow() {
  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  // The build already ran (npm run bench builds first): --ignore-scripts skips `prepare`.
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], { cwd: root, encoding: 'utf8', env: { ...baseEnv } });
  if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz')));
  const prefix = join(work, 'installed');
  mkdirSync(prefix);
  writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
  const flags = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--silent', tarball];
  let how = 'offline, from the npm cache';
  let installed = spawnSync('npm', [...flags, '--offline'], { cwd: prefix, encoding: 'utf8', env: { ...baseEnv } });
  if (installed.status !== 0) {
    how = `from the registry (offline failed: ${installed.stderr.trim().split('\n')[0]})`;
    installed = spawnSync('npm', flags, { cwd: prefix, encoding: 'utf8', env: { ...baseEnv } });
  }
  if (installed.status !== 0) throw new Error(`npm install of the tarball failed: ${installed.stderr}`);
  const bin = join(prefix, 'node_modules', '.bin', 'deployctl');
  console.log(`(installed copy: npm pack, npm install ${how}, run as node_modules/.bin/deployctl)`);
  return { name: 'installed', bin: (cliArgs, extra = {}) => ({ file: bin, args: cliArgs, ...extra }), prefix };
}

function writeConfig(dir, deployments, environments = 'environments:\n  dev: {}\n  prod: {}\n') {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  return dir;
}

const noopDir = writeConfig(
  join(work, 'noop'),
  'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n',
);
const noopEnv = (home) => ({ ...baseEnv, DEPLOYCTL_HOME: join(work, home), DEPLOYCTL_CONFIG_DIR: noopDir });

// ---------------------------------------------------------------------------------------------------
// 1. Start-up, against `node -e 0`

if (wanted('startup')) {
  const copies = [installCopy(), clone];
  const each = (make) => Object.fromEntries(copies.map((copy) => [copy.name, make(copy)]));
  row('`deployctl --help` / `node -e 0`', each((c) => paired(nodeE0, c.bin(['--help']))), 1.3);
  row('`deployctl --version` / `node -e 0`', each((c) => paired(nodeE0, c.bin(['--version']))), 1.3);
  row('`deployctl validate` (the demo config) / `node -e 0`', each((c) => paired(nodeE0, c.bin(['validate']))), 1.8);
  row(
    'no-op deploy `-q` (a shell app running `true`) / `node -e 0`',
    each((c) => paired(nodeE0, c.bin(['deploy', 'noop', '-e', 'dev', '-q'], { env: noopEnv(`home-q-${c.name}`) }))),
    2.0,
  );
  const cold = { DEPLOYCTL_CACHE_DIR: 'off' };
  row('`deployctl validate`, parse cache off (a first run) / `node -e 0`', each((c) => paired(nodeE0, c.bin(['validate'], { env: { ...baseEnv, ...cold } }))), undefined);
  row(
    'no-op deploy `-q`, parse cache off (a first run) / `node -e 0`',
    each((c) => paired(nodeE0, c.bin(['deploy', 'noop', '-e', 'dev', '-q'], { env: { ...noopEnv(`home-cold-${c.name}`), ...cold } }))),
    undefined,
  );
  row(
    'the same deploy in a terminal, live view on / `node -e 0` in a terminal',
    each((c) => paired(inTerminal(nodeE0), inTerminal(c.bin(['deploy', 'noop', '-e', 'dev'], { env: noopEnv(`home-tty-${c.name}`) })))),
    undefined,
    'both under `script` (a pseudo-terminal)',
  );
}

// ---------------------------------------------------------------------------------------------------
// 1a. The floor: what parts of the pinned stack cost by themselves, with deployctl's own bundles and
//     code caches, before deployctl does anything (bench/floor.cjs). Against the start-up targets.

if (wanted('floor')) {
  const floor = (part) => node([join(root, 'bench', 'floor.cjs'), part]);
  row('spawning `true` with node:child_process / `node -e 0`', { clone: paired(nodeE0, floor('spawn')) });
  row('running `true` with execa (its bundle and code cache) / `node -e 0`', { clone: paired(nodeE0, floor('execa')) });
  row('loading the entry bundle (commander and the command table) / `node -e 0`', { clone: paired(nodeE0, floor('entry')) });
  row('loading the handlers bundle / `node -e 0`', { clone: paired(nodeE0, floor('handlers')) });
  row('the entry and handlers bundles, and execa running `true` / `node -e 0`', { clone: paired(nodeE0, floor('all')) });
  row('parsing and checking a 6-line config (yaml and the validators, no parse cache) / `node -e 0`', { clone: paired(nodeE0, floor('config')) });
}

// ---------------------------------------------------------------------------------------------------
// 1b. Do the V8 code caches pay in the installed copy? The same copy with its caches and without them.

if (wanted('cache')) {
  const withCaches = installCopy();
  const caches = readdirSync(join(withCaches.prefix, 'node_modules', 'deployctl', 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.v8cache'));
  if (caches.length === 0) {
    console.log('(no code caches in the installed copy: nothing to compare)');
  } else {
    const bare = join(work, 'installed-without-caches');
    cpSync(withCaches.prefix, bare, { recursive: true, verbatimSymlinks: true, filter: (file) => !file.endsWith('.v8cache') });
    const without = { name: 'without', bin: (cliArgs, extra = {}) => ({ file: join(bare, 'node_modules', '.bin', 'deployctl'), args: cliArgs, ...extra }) };
    for (const [label, cliArgs, env] of [
      ['`--help`', ['--help'], baseEnv],
      ['`validate`', ['validate'], baseEnv],
      ['no-op deploy `-q`', ['deploy', 'noop', '-e', 'dev', '-q'], noopEnv('home-cache')],
    ]) {
      const result = paired(withCaches.bin(cliArgs, { env }), without.bin(cliArgs, { env }));
      row(`${label}: installed copy without its code caches / with them (above 1: they pay)`, { installed: result }, undefined, 'no target');
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. status, list and history: 100 records against 1,000,000 over 1,000 targets

const APPS = 500;
const ENVS = ['dev', 'prod'];
const manyTargets = [];
for (let a = 0; a < APPS; a++) for (const env of ENVS) manyTargets.push([`app${String(a).padStart(3, '0')}`, env]);

/** A generated state folder, cached under .cache/bench-records/ by the generator's source and size. */
async function recordsHome(count, targets) {
  const generator = join(root, 'bench', 'records.mjs');
  const key = createHash('sha256')
    .update(readFileSync(generator))
    .update(JSON.stringify([count, targets]))
    .digest('hex')
    .slice(0, 12);
  const cache = join(root, '.cache', 'bench-records');
  const home = join(cache, `${count}-${targets.length}-${key}`);
  if (existsSync(home)) return home;
  mkdirSync(cache, { recursive: true });
  for (const old of readdirSync(cache)) if (old.startsWith(`${count}-${targets.length}-`)) rmSync(join(cache, old), { recursive: true, force: true });
  const { generateRecords } = await import('./records.mjs');
  const partial = `${home}.partial-${process.pid}`;
  const t0 = Date.now();
  await generateRecords(partial, count, targets);
  renameSync(partial, home);
  console.log(`(generated ${count.toLocaleString('en')} records over ${targets.length} targets in ${((Date.now() - t0) / 1000).toFixed(0)} s, cached in .cache/bench-records/)`);
  return home;
}

if (wanted('records')) {
  const apps = manyTargets.filter(([, env]) => env === 'dev').map(([app]) => `  ${app}:\n    type: shell\n    version: "1.0.0"\n    commands: [["true"]]\n`);
  const configDir = writeConfig(join(work, 'many'), `deployments:\n${apps.join('')}`);
  const small = await recordsHome(100, manyTargets);
  const large = await recordsHome(1_000_000, manyTargets);
  const env = (home) => ({ ...baseEnv, DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: configDir });
  for (const [label, cliArgs] of [
    ['`status`', ['status']],
    ['`list`', ['list']],
    ['`history --limit 20`', ['history', '--limit', '20']],
  ]) {
    const result = pairedOrOver(clone.bin(cliArgs, { env: env(small) }), clone.bin(cliArgs, { env: env(large) }), RECORD_PAIRS);
    row(`${label}, 1,000,000 records / 100 records (1,000 targets)`, { clone: result }, 1.5);
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. Health check reaction time against a server that comes up after a delay

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

if (wanted('health')) {
  const ratios = [];
  for (const delay of quick ? [1500] : [1000, 2000, 3000]) {
    const port = await freePort();
    const dir = writeConfig(
      join(work, `health-${delay}`),
      `deployments:\n  slow:\n    type: shell\n    version: "1.0.0"\n    commands: [["true"]]\n    health_check:\n      type: http\n      url: http://127.0.0.1:${port}/\n`,
    );
    const server = spawn(process.execPath, ['-e', `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), ${delay})`], {
      stdio: 'ignore',
      env: baseEnv,
    });
    const ms = timeOnce(clone.bin(['health', 'slow', '-e', 'dev', '-q'], { env: { ...baseEnv, DEPLOYCTL_HOME: join(work, 'health-home'), DEPLOYCTL_CONFIG_DIR: dir } }));
    server.kill();
    ratios.push(ms / delay);
  }
  row('health check: time reported healthy / time the server took to come up', { clone: `${median(ratios).toFixed(2)}` }, undefined, 'target ≤ 1.2');
  rows.at(-1).pass = median(ratios) <= 1.2;
}

// ---------------------------------------------------------------------------------------------------
// 4. The board's first frame in a real terminal (tmux)

if (wanted('ui')) {
  try {
    const { measureFirstFrame } = await import('./ui-first-frame.mjs');
    const ms = await measureFirstFrame({ cli: join(root, 'bin', 'deployctl.cjs'), work, env: baseEnv, runs: quick ? 3 : 7 });
    row('`ui`: time to first frame', { clone: `${Math.round(ms)} ms` }, undefined, 'target ≤ 300 ms');
    rows.at(-1).pass = ms <= 300;
  } catch (error) {
    console.log(`(ui first frame not measured: ${error.message})`);
  }
}

// ---------------------------------------------------------------------------------------------------
// 5. 20 queued deploys (--wait-lock) against 20 × one deploy

if (wanted('queue')) {
  const env = noopEnv('queue-home');
  const one = median(Array.from({ length: 5 }, () => timeOnce(clone.bin(['deploy', 'noop', '-e', 'prod', '--yes', '-q'], { env }))));
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise((resolve, reject) => {
          const cmd = clone.bin(['deploy', 'noop', '-e', 'dev', '--wait-lock', '5m', '-q'], { env });
          const child = spawn(cmd.file, cmd.args, { env, stdio: 'ignore' });
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`queued deploy exited ${code}`))));
        }),
    ),
  );
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  row('20 queued deploys (`--wait-lock`) wall time / (20 × one deploy)', { clone: (wall / (20 * one)).toFixed(2) }, undefined, 'target ≤ 1.1');
  rows.at(-1).pass = wall / (20 * one) <= 1.1;
}

// ---------------------------------------------------------------------------------------------------
// 6. Peak memory of a deploy

if (wanted('memory')) {
  const rss = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(root, 'bin', 'deployctl.cjs'), 'deploy', 'noop', '-e', 'dev', '-q'], { env: noopEnv('rss-home'), encoding: 'utf8' });
    const kb = Number(r.stderr.trim().split('\n').pop());
    if (Number.isFinite(kb)) rss.push(kb / 1024);
  }
  if (rss.length) {
    row('peak RSS of a no-op deploy', { clone: `${Math.round(median(rss))} MB` }, undefined, 'target ≤ 80 MB');
    rows.at(-1).pass = median(rss) <= 80;
  } else console.log('(peak RSS not measured: /usr/bin/time is missing)');
}

// ---------------------------------------------------------------------------------------------------
// 7. deployctl serve: time to acknowledge a slash command, and its memory while idle

if (wanted('serve')) {
  const { createHmac } = await import('node:crypto');
  const secret = 'bench-signing-secret';
  const env = { ...noopEnv('serve-home'), SLACK_SIGNING_SECRET: secret, SLACK_BOT_TOKEN: 'xoxb-bench', DEPLOYCTL_SLACK_API_URL: 'http://127.0.0.1:9/' };
  const child = spawn(process.execPath, [join(root, 'bin', 'deployctl.cjs'), 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  const idleBefore = rssMb();
  const ack = async (text) => {
    const body = new URLSearchParams({ user_id: 'U1', user_name: 'bench', text, channel_id: 'C1', response_url: 'http://127.0.0.1:9/response' }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const start = performance.now();
    const response = await fetch(`${url}/slack/commands`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature } });
    await response.text();
    if (response.status !== 200) throw new Error(`slash command answered ${response.status}`);
    return performance.now() - start;
  };
  const p99 = (values) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1];
  const help = [];
  for (let i = 0; i < 200; i++) help.push(await ack('help'));
  // A read is acknowledged at once; its deployctl process runs after the answer (one at a time here).
  const reads = [];
  for (let i = 0; i < 20; i++) reads.push(await ack('status'));
  // The same on a server with nothing running: each read once the previous one's process has ended
  // (what a Slack user who is not racing nineteen others sees).
  const children = () => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const idle = async () => {
    for (const end = Date.now() + 30_000; children() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  };
  const idleReads = [];
  for (let i = 0; i < 20; i++) {
    await idle();
    idleReads.push(await ack('status'));
  }
  await idle();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('close', resolve));
  row('`serve`: acknowledge a slash command, p99 of 200 (`help`) on loopback', { clone: `${p99(help).toFixed(1)} ms` }, undefined, 'target ≤ 100 ms');
  rows.at(-1).pass = p99(help) <= 100;
  row('`serve`: acknowledge a read (`status`, which starts a deployctl process), p99 of 20', { clone: `${p99(reads).toFixed(1)} ms` }, undefined, 'target ≤ 100 ms');
  rows.at(-1).pass = p99(reads) <= 100;
  row('`serve`: acknowledge a read on an idle server (each after the last one\'s process ended), p99 of 20', { clone: `${p99(idleReads).toFixed(1)} ms` }, undefined, 'target ≤ 100 ms');
  rows.at(-1).pass = p99(idleReads) <= 100;
  row('`serve`: RSS while idle', { clone: `${Math.round(idleBefore)} MB` }, undefined, '');
}

// ---------------------------------------------------------------------------------------------------
// 8. Team state on PostgreSQL (a throwaway server on loopback): a deploy's overhead against the file
// backend, and status, list and history at 1,000,000 records over 1,000 targets against 100 records.

if (wanted('pg')) {
  const { loadRecords, postgresBinDir, startThrowawayPostgres } = await import('./postgres.mjs');
  if (!postgresBinDir()) {
    console.log('(pg figures skipped: PostgreSQL is not installed here: no initdb and postgres in /usr/local/bin, /usr/lib/postgresql/*/bin or on PATH)');
  } else {
    const server = await startThrowawayPostgres();
    try {
      const deployDb = await server.createDatabase('bench_deploy');
      const deploy = ['deploy', 'noop', '-e', 'dev', '-q'];
      const onFiles = clone.bin(deploy, { env: noopEnv('pg-file-home') });
      const onPg = clone.bin(deploy, { env: { ...noopEnv('pg-pg-home'), DEPLOYCTL_STATE: server.url(deployDb) } });
      row('no-op deploy `-q`, `--state postgres://` (a server on loopback) / the file backend', { clone: paired(onFiles, onPg) }, undefined, 'no target');

      const apps = manyTargets.filter(([, env]) => env === 'dev').map(([app]) => `  ${app}:\n    type: shell\n    version: "1.0.0"\n    commands: [["true"]]\n`);
      const configDir = writeConfig(join(work, 'pg-many'), `deployments:\n${apps.join('')}`);
      const env = (db) => ({ ...baseEnv, DEPLOYCTL_STATE: server.url(db), DEPLOYCTL_HOME: join(work, 'pg-records-home'), DEPLOYCTL_CONFIG_DIR: configDir });
      const databases = {};
      for (const [name, count] of [['small', 100], ['one', manyTargets.length], ['large', 1_000_000]]) {
        const db = await server.createDatabase(`bench_${name}`);
        timeOnce(clone.bin(['state', 'info'], { env: env(db) })); // deployctl makes its tables
        const t0 = Date.now();
        await loadRecords(server, db, count, manyTargets);
        console.log(`(loaded ${count.toLocaleString('en')} records over ${manyTargets.length} targets into PostgreSQL in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        databases[name] = db;
      }
      for (const [label, cliArgs] of [
        ['`status`', ['status']],
        ['`list`', ['list']],
        ['`history --limit 20`', ['history', '--limit', '20']],
      ]) {
        const result = pairedOrOver(clone.bin(cliArgs, { env: env(databases.small) }), clone.bin(cliArgs, { env: env(databases.large) }), RECORD_PAIRS);
        row(`${label} on PostgreSQL, 1,000,000 records / 100 records (1,000 targets)`, { clone: result }, 1.2);
      }
      // 100 records touch 100 targets: the same 1,000 targets with one record each, to tell records from targets.
      const perTarget = pairedOrOver(clone.bin(['status'], { env: env(databases.one) }), clone.bin(['status'], { env: env(databases.large) }), RECORD_PAIRS);
      row('`status` on PostgreSQL, 1,000,000 records / 1,000 records (one per target, 1,000 targets)', { clone: perTarget }, 1.2);
    } finally {
      await server.stop();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The table

const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version} (${hostname()})`;
const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
const cell = (r) => (r === undefined ? '' : typeof r === 'string' ? r : fmtRatio(r));
const table = [
  '| figure | installed (npm pack) | clone | target | |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.figure} | ${cell(r.results.installed)} | ${cell(r.results.clone)} | ${r.target !== undefined ? `≤ ${r.target}` : r.note.startsWith('target') ? r.note.slice(7) : ''} | ${
        r.pass === undefined ? r.note : r.pass ? 'pass' : 'miss'
      } |`,
  ),
].join('\n');
const summary = `Machine: ${machine}. Load average at the start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.\n${PAIRS} pairs per start-up figure${quick ? ' (--quick)' : ''}, ${RECORD_PAIRS} per records figure; ratio = median of per-pair ratios, (+ ms) = median of per-pair differences.`;
console.log(`\n${summary}\n\n${table}\n`);
const misses = rows.filter((r) => r.pass === false).length;
console.log(misses ? `${misses} figure(s) miss their target` : 'every figure meets its target');

if (write) {
  const file = join(root, 'BENCHMARKS.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const marker = '<!-- bench:latest -->';
  const latest = `${marker}\n## Latest run: ${date} UTC\n\n${summary}\n\n${table}\n${marker}`;
  writeFileSync(file, previous.includes(marker) ? previous.replace(new RegExp(`${marker}[\\s\\S]*?${marker}`), latest) : `${previous}\n${latest}\n`);
  console.log(`wrote ${file}`);
}
