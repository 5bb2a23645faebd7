// Starts and stops the demo server in the background, one per environment and port.
// `node ctl.mjs start`: stop the old server (pid file), start the new one, wait until it listens.
// `node ctl.mjs stop`, `node ctl.mjs check` (the port is free or held by our own server).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.env.PORT ?? 18101);
const runDir = process.env.HELLO_RUN_DIR ?? join(tmpdir(), 'deployctl-hello');
const pidFile = join(runDir, `${process.env.DEPLOY_ENV ?? 'dev'}-${port}.pid`);
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listening() {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function stop() {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    // An exited server may linger as a zombie where nothing reaps it: the port closing is what counts.
    for (let i = 0; i < 50 && alive(pid) && (await listening()); i++) await sleep(50);
    if (await listening()) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  for (let i = 0; i < 50 && (await listening()); i++) await sleep(50);
}

async function start() {
  await stop();
  if (await listening()) {
    console.error(`port ${port} is taken by another program: set PORT for this environment in environments.yaml`);
    process.exit(1);
  }
  mkdirSync(runDir, { recursive: true });
  const log = openSync(join(runDir, `${process.env.DEPLOY_ENV ?? 'dev'}-${port}.log`), 'a');
  const child = spawn(process.execPath, [join(here, 'server.mjs')], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  for (let i = 0; i < 100; i++) {
    if (await listening()) {
      console.log(`hello ${process.env.DEPLOY_VERSION} listening on 127.0.0.1:${port} (pid ${child.pid})`);
      return;
    }
    await sleep(50);
  }
  console.error('the server did not start listening within 5 s');
  process.exit(1);
}

async function check() {
  const ours = existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')));
  if (!ours && (await listening())) {
    console.error(`port ${port} is taken by another program: set PORT for this environment in environments.yaml`);
    process.exit(1);
  }
  console.log(`port ${port} is ready for hello`);
}

const action = process.argv[2];
if (action === 'start') await start();
else if (action === 'stop') await stop();
else if (action === 'check') await check();
else {
  console.error('usage: node ctl.mjs start|stop|check');
  process.exit(2);
}
