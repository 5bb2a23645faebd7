// Time from starting `deployctl ui` in a real terminal (tmux) to its first frame on screen.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function measureFirstFrame({ cli, work, env, runs }) {
  execFileSync('tmux', ['-V']);
  const dir = join(work, 'ui-config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), 'deployments:\n  web:\n    type: shell\n    commands: [["true"]]\n');
  const times = [];
  // One session stays up throughout, so the tmux server is not restarted between runs.
  // A tmux server of its own (-L), started with the bench's environment (no NODE_EXTRA_CA_CERTS), so
  // that no other tmux server's environment leaks into the measured process.
  const socket = `bench-ui-${process.pid}`;
  const tmux = (args, options = {}) => execFileSync('tmux', ['-L', socket, ...args], { env, ...options });
  const keeper = `bench-ui-keep-${process.pid}`;
  tmux(['new-session', '-d', '-s', keeper, 'sleep 600']);
  for (let i = 0; i < runs; i++) {
    const session = `bench-ui-${process.pid}-${i}`;
    const vars = `DEPLOYCTL_HOME='${join(work, 'ui-home')}' DEPLOYCTL_CONFIG_DIR='${dir}' NO_COLOR=1`;
    const start = process.hrtime.bigint();
    tmux(['new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env -u NODE_EXTRA_CA_CERTS ${vars} '${process.execPath}' '${cli}' ui`]);
    for (;;) {
      const screen = tmux(['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
      if (screen.includes('deployctl · ')) break;
      if (Number(process.hrtime.bigint() - start) / 1e6 > 10_000) throw new Error(`no first frame:\n${screen}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    tmux(['kill-session', '-t', session]);
  }
  tmux(['kill-server']);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
