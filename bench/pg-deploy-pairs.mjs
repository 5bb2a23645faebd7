// A no-op deploy on PostgreSQL, two builds of deployctl against each other, in pairs:
//   node bench/pg-deploy-pairs.mjs BEFORE_ROOT AFTER_ROOT [PAIRS]
// Each root is a checkout with dist/ built (npm run build). One throwaway server (bench/postgres.mjs),
// a database per build; each pair runs both builds (the order alternating), and the after build on the
// file backend too, for the PostgreSQL / files ratio. Wall time around the process, CPU time (user +
// sys) of the deployctl process as bash's `time` reports it (ms resolution). Prints the medians and
// the median of the per-pair ratios and differences.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres } from './postgres.mjs';

const [before, after] = process.argv.slice(2, 4);
const pairs = Number(process.argv[4] ?? 21);
if (!before || !after) throw new Error('usage: node bench/pg-deploy-pairs.mjs BEFORE_ROOT AFTER_ROOT [PAIRS]');

const config = mkdtempSync(join(tmpdir(), 'deployctl-pg-pairs-'));
writeFileSync(join(config, 'environments.yaml'), 'environments:\n  dev: {}\n');
writeFileSync(join(config, 'deployments.yaml'), 'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n');

function run(root, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; time "$@" >/dev/null 2>/dev/null', 'bash', process.execPath, join(root, 'bin', 'deployctl.cjs'), 'deploy', 'noop', '-e', 'dev', '-q'], {
    env,
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const [user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  if (r.status !== 0) throw new Error(`deploy failed (${r.status}): ${r.stderr}`);
  return { wall, cpu: (user + sys) * 1000 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const server = await startThrowawayPostgres();
try {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DEPLOYCTL_CONFIG_DIR: config };
  const home = () => mkdtempSync(join(tmpdir(), 'deployctl-pg-pairs-home-'));
  const envs = {
    before: { ...base, DEPLOYCTL_HOME: home(), DEPLOYCTL_STATE: server.url(await server.createDatabase('pairs_before')) },
    after: { ...base, DEPLOYCTL_HOME: home(), DEPLOYCTL_STATE: server.url(await server.createDatabase('pairs_after')) },
    files: { ...base, DEPLOYCTL_HOME: home() },
  };
  const roots = { before, after, files: after };
  // Warm-up: the schema made, the code caches and the page cache filled.
  for (const name of ['before', 'after', 'files']) for (let i = 0; i < 2; i++) run(roots[name], envs[name]);
  const load = loadavg()[0];
  const rows = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 ? ['after', 'files', 'before'] : ['before', 'files', 'after'];
    const row = {};
    for (const name of order) row[name] = run(roots[name], envs[name]);
    rows.push(row);
  }
  console.log(`${pairs} pairs, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}, ${new Date().toISOString()}`);
  for (const metric of ['wall', 'cpu']) {
    const m = (name) => median(rows.map((r) => r[name][metric])).toFixed(0);
    const ratio = (a, b) => median(rows.map((r) => r[b][metric] / r[a][metric])).toFixed(2);
    const diff = (a, b) => median(rows.map((r) => r[b][metric] - r[a][metric])).toFixed(1);
    console.log(
      `${metric}: before ${m('before')} ms, after ${m('after')} ms, files ${m('files')} ms; after/before ${ratio('before', 'after')} (${diff('before', 'after')} ms); ` +
        `before/files ${ratio('files', 'before')} (+${diff('files', 'before')} ms); after/files ${ratio('files', 'after')} (+${diff('files', 'after')} ms)`,
    );
  }
} finally {
  await server.stop();
}
