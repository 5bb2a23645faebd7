// A private Docker engine for the tests: its own data root, exec root, pid file and socket under a
// temp folder, no iptables and no bridge (containers use the host network and talk to 127.0.0.1 only).
// Images are built locally from a busybox-static rootfs: nothing is pulled.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export interface DockerEngine {
  env: Record<string, string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startDockerEngine(): Promise<DockerEngine> {
  const dir = tempDir('deployctl-dockerd-');
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'dockerd.pid');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const daemon = spawn(
    'dockerd',
    ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', pidfile, '-H', `unix://${socket}`, '--iptables=false', '--ip6tables=false', '--bridge=none'],
    { stdio: ['ignore', log, log], detached: true },
  );
  daemon.unref();
  const env = { DOCKER_HOST: `unix://${socket}` };
  for (let i = 0; ; i++) {
    try {
      execFileSync('docker', ['version'], { env: { ...process.env, ...env }, stdio: 'ignore', timeout: 5000 });
      break;
    } catch {
      if (i > 150 || daemon.exitCode !== null) throw new Error(`dockerd did not start:\n${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
      await sleep(200);
    }
  }
  return {
    env,
    async stop() {
      try {
        execFileSync('docker', ['rm', '-f', ...execFileSync('docker', ['ps', '-aq'], { env: { ...process.env, ...env }, encoding: 'utf8' }).split('\n').filter(Boolean)], {
          env: { ...process.env, ...env },
          stdio: 'ignore',
        });
      } catch {
        // no containers
      }
      const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : daemon.pid;
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        for (let i = 0; i < 100 && daemon.exitCode === null; i++) await sleep(100);
      }
      // dockerd leaves its network namespace mounted under the exec root.
      try {
        execFileSync('umount', [join(dir, 'exec', 'netns', 'default')], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // a leftover mount: the temp folder stays, nothing else does
      }
    },
  };
}

/** `deployctl-test/busybox:base`: busybox-static and its applets, imported as an image. */
export function importBusyboxImage(env: Record<string, string>): string {
  const rootfs = tempDir('deployctl-rootfs-');
  mkdirSync(join(rootfs, 'bin'));
  cpSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'httpd', 'sleep', 'echo', 'cat', 'mkdir', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const tag = 'deployctl-test/busybox:base';
  execFileSync('sh', ['-c', `tar -C "${rootfs}" -c . | docker import - ${tag}`], { env: { ...process.env, ...env }, stdio: 'ignore' });
  rmSync(rootfs, { recursive: true, force: true });
  return tag;
}
