// A no-op deploy on PostgreSQL, two builds of deployctl against each other, in pairs:
//   node bench/pg-deploy-pairs.mjs BEFORE_ROOT AFTER_ROOT [PAIRS] [LATENCY_MS]
// Each root is a checkout with dist/ built (npm run build). One throwaway server (bench/postgres.mjs),
// a database per build; each pair runs both builds (the order alternating), and the after build on the
// file backend too, for the PostgreSQL / files ratio. Wall time around the process, CPU time (user +
// sys) of the deployctl process as bash's `time` reports it (ms resolution). Prints the medians and
// the median of the per-pair ratios and differences. With LATENCY_MS, the builds reach the server through
// a proxy on loopback that holds every chunk that long in each direction (a database across a network:
// each round trip costs twice that).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres } from './postgres.mjs';

const [before, after] = process.argv.slice(2, 4);
const pairs = Number(process.argv[4] ?? 21);
const latency = Number(process.argv[5] ?? 0);
if (!before || !after) throw new Error('usage: node bench/pg-deploy-pairs.mjs BEFORE_ROOT AFTER_ROOT [PAIRS]');

const config = mkdtempSync(join(tmpdir(), 'deployctl-pg-pairs-'));
writeFileSync(join(config, 'environments.yaml'), 'environments:\n  dev: {}\n');
writeFileSync(join(config, 'deployments.yaml'), 'deployments:\n  noop:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["true"]\n');

/** One deploy: wall time around it, CPU time of the process (bash's `time`). Asynchronous, so the proxy here keeps relaying. */
function run(root, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', 'TIMEFORMAT="%3U %3S"; time "$@" >/dev/null 2>/dev/null', 'bash', process.execPath, join(root, 'bin', 'deployctl.cjs'), 'deploy', 'noop', '-e', 'dev', '-q'], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`deploy failed (${code}): ${stderr}`));
      const [user, sys] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
      resolve({ wall, cpu: (user + sys) * 1000 });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A TCP proxy to `port` that delays every chunk by `ms` each way (the order kept); its port. */
async function delayingProxy(port, ms) {
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const relay = (from, to) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), ms));
      from.on('end', () => setTimeout(() => to.end(), ms));
      from.on('error', () => to.destroy());
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxy.unref();
  return proxy.address().port;
}

const server = await startThrowawayPostgres();
try {
  const url = async (name) => {
    const direct = server.url(await server.createDatabase(name));
    if (!latency) return direct;
    const parsed = new URL(direct);
    parsed.port = String(await delayingProxy(Number(parsed.port), latency));
    return parsed.toString();
  };
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DEPLOYCTL_CONFIG_DIR: config };
  const home = () => mkdtempSync(join(tmpdir(), 'deployctl-pg-pairs-home-'));
  const envs = {
    before: { ...base, DEPLOYCTL_HOME: home(), DEPLOYCTL_STATE: await url('pairs_before') },
    after: { ...base, DEPLOYCTL_HOME: home(), DEPLOYCTL_STATE: await url('pairs_after') },
    files: { ...base, DEPLOYCTL_HOME: home() },
  };
  const roots = { before, after, files: after };
  // Warm-up: the schema made, the code caches and the page cache filled.
  for (const name of ['before', 'after', 'files']) for (let i = 0; i < 2; i++) await run(roots[name], envs[name]);
  const load = loadavg()[0];
  const rows = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 ? ['after', 'files', 'before'] : ['before', 'files', 'after'];
    const row = {};
    for (const name of order) row[name] = await run(roots[name], envs[name]);
    rows.push(row);
  }
  console.log(`${pairs} pairs${latency ? `, ${latency} ms each way to the server` : ''}, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}, ${new Date().toISOString()}`);
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
