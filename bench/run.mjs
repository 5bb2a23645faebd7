// npm run bench: deployctl's speed as ratios against a baseline measured in the same run, median of
// repeated runs, written to BENCHMARKS.md with the machine and the date. Never part of `npm test`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem, hostname, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'deployctl.cjs');
const work = mkdtempSync(join(tmpdir(), 'deployctl-bench-'));
const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 15;

const baseEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.CI; // ink treats any CI variable, even empty, as CI and draws no live frames
for (const key of Object.keys(baseEnv)) if (/^(GITHUB_|GITLAB_|DEPLOYCTL_)/.test(key)) delete baseEnv[key];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeOnce(args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: options.cwd ?? root, env: options.env ?? baseEnv, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== (options.expect ?? 0)) {
    throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/** Median of a and b, runs interleaved so that both see the same machine load. */
function compare(aArgs, bArgs, aOptions = {}, bOptions = {}, runs = RUNS) {
  timeOnce(aArgs, aOptions);
  timeOnce(bArgs, bOptions);
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(timeOnce(aArgs, aOptions).ms);
    b.push(timeOnce(bArgs, bOptions).ms);
  }
  return { a: median(a), b: median(b) };
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function writeConfig(dir, deployments) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  return dir;
}

const rows = [];
function row(figure, value, target, unit, before) {
  const pass = value <= target;
  rows.push({ figure, value, target, unit, pass, before });
  const shown = unit === 'ratio' ? value.toFixed(2) : `${Math.round(value)} ${unit}`;
  const goal = unit === 'ratio' ? `≤ ${target}` : `≤ ${target} ${unit}`;
  console.log(`${pass ? 'pass' : 'MISS'}  ${figure}: ${shown} (target ${goal})`);
}

const node0 = [['-e', '0']];

// 1-3: start-up
{
  const help = compare(node0[0], [cli, '--help']);
  row('`deployctl --help` / `node -e 0`', help.b / help.a, 1.3, 'ratio');
  const version = compare(node0[0], [cli, '--version']);
  row('`deployctl --version` / `node -e 0`', version.b / version.a, 1.3, 'ratio');
  const validate = compare(node0[0], [cli, 'validate']);
  row('`deployctl validate` on the demo config / `node -e 0`', validate.b / validate.a, 2.0, 'ratio');
}

// 4: a no-op deploy
const noopDir = writeConfig(
  join(work, 'noop'),
  'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n',
);
const noopHome = join(work, 'noop-home');
const noopEnv = { ...baseEnv, DEPLOYCTL_HOME: noopHome, DEPLOYCTL_CONFIG_DIR: noopDir };
{
  const deploy = compare(node0[0], [cli, 'deploy', 'noop', '-e', 'dev', '-q'], {}, { env: noopEnv });
  row('`deployctl deploy` of a shell app running `true`, no health check / `node -e 0`', deploy.b / deploy.a, 2.5, 'ratio');
}

// 5-6: status and history with 100 and 100,000 records
{
  const { generateRecords } = await import('./records.mjs');
  const small = join(work, 'home-100');
  const large = join(work, 'home-100k');
  const t0 = Date.now();
  await generateRecords(small, 100);
  await generateRecords(large, 100_000);
  console.log(`(generated 100 and 100,000 records in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const env = (home) => ({ ...baseEnv, DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: noopDir });
  const status = compare([cli, 'status'], [cli, 'status'], { env: env(small) }, { env: env(large) });
  row('`status` with 100,000 records / with 100 records', status.b / status.a, 1.2, 'ratio');
  const history = compare([cli, 'history', '--limit', '20'], [cli, 'history', '--limit', '20'], { env: env(small) }, { env: env(large) });
  row('`history --limit 20` with 100,000 records / with 100 records', history.b / history.a, 1.2, 'ratio');
}

// 7: health check reaction time against a server that comes up after a delay
{
  const ratios = [];
  for (const delay of quick ? [1500] : [1000, 2000, 3000]) {
    const port = await freePort();
    const dir = writeConfig(
      join(work, `health-${delay}`),
      `deployments:\n  slow:\n    type: shell\n    version: "1.0.0"\n    commands: [["true"]]\n    health_check:\n      type: http\n      url: http://127.0.0.1:${port}/\n`,
    );
    const server = spawn(
      process.execPath,
      ['-e', `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), ${delay})`],
      { stdio: 'ignore' },
    );
    const start = process.hrtime.bigint();
    timeOnce([cli, 'health', 'slow', '-e', 'dev', '-q'], { env: { ...baseEnv, DEPLOYCTL_HOME: join(work, 'health-home'), DEPLOYCTL_CONFIG_DIR: dir } });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    server.kill();
    ratios.push(ms / delay);
  }
  row('health check: time reported healthy / time the server took to come up', median(ratios), 1.2, 'ratio');
}

// 8: the TUI's first frame
{
  let firstFrame;
  try {
    firstFrame = await import(join(root, 'bench/ui-first-frame.mjs')).then((m) => m.measureFirstFrame({ cli, root, work, env: baseEnv, runs: quick ? 3 : 7 }));
  } catch (error) {
    console.log(`(ui first frame not measured: ${error.message})`);
  }
  if (firstFrame !== undefined) row('`ui`: time to first frame', firstFrame, 300, 'ms');
}

// 9: 20 queued deploys
{
  const home = join(work, 'queue-home');
  const env = { ...baseEnv, DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: noopDir };
  const one = median(Array.from({ length: 5 }, () => timeOnce([cli, 'deploy', 'noop', '-e', 'prod', '--yes', '-q'], { env }).ms));
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [cli, 'deploy', 'noop', '-e', 'dev', '--wait-lock', '5m', '-q'], { env, stdio: 'ignore' });
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`queued deploy exited ${code}`))));
        }),
    ),
  );
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  row('20 queued deploys (`--wait-lock`) wall time / (20 × one deploy)', wall / (20 * one), 1.1, 'ratio');
}

// 10: peak RSS of a deploy
{
  const rss = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'deploy', 'noop', '-e', 'dev', '-q'], { env: noopEnv, encoding: 'utf8' });
    const kb = Number(r.stderr.trim().split('\n').pop());
    if (Number.isFinite(kb)) rss.push(kb / 1024);
  }
  if (rss.length) row('peak RSS of a deploy', median(rss), 80, 'MB');
  else console.log('(peak RSS not measured: /usr/bin/time is missing)');
}

rmSync(work, { recursive: true, force: true });

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version} (${hostname()})`;
const date = new Date().toISOString().slice(0, 10);
const table = [
  '| figure | result | target | |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.figure} | ${r.unit === 'ratio' ? r.value.toFixed(2) : `${Math.round(r.value)} ${r.unit}`} | ≤ ${r.target}${r.unit === 'ratio' ? '' : ` ${r.unit}`} | ${r.pass ? 'pass' : 'miss'} |`),
].join('\n');
const file = join(root, 'BENCHMARKS.md');
let previous = '';
try {
  previous = readFileSync(file, 'utf8');
} catch {}
const marker = '<!-- bench:latest -->';
const latest = `${marker}\n## Latest run: ${date}\n\nMachine: ${machine}\n\n${table}\n${marker}`;
const next = previous.includes(marker)
  ? previous.replace(new RegExp(`${marker}[\\s\\S]*?${marker}`), latest)
  : `# Benchmarks\n\n\`npm run bench\` measures each figure as a ratio against a baseline measured in the same run (median of ${RUNS} interleaved runs).\n\n${latest}\n`;
writeFileSync(file, next);
console.log(`\nwrote ${file}`);
console.log(rows.every((r) => r.pass) ? "every figure meets its target" : `${rows.filter((r) => !r.pass).length} figure(s) miss their target: see BENCHMARKS.md`);
