// Only bin/ ends the process: on a second Ctrl-C, main resolves with 130 at once (bin then exits),
// even while a command that ignores SIGTERM still runs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cleanEnv, tempDir } from '../support/cli.js';

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((resolve) => setImmediate(resolve));
};

describe('a second Ctrl-C', () => {
  it('main resolves with 130 without waiting for the command, and leaves the process to bin', async () => {
    const dir = tempDir('deployctl-signal-');
    const pidFile = join(tempDir(), 'pid');
    const stubborn = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  svc:\n    type: shell\n    commands: [[node, -e, ${JSON.stringify(stubborn)}]]\n`);
    let stderr = '';
    const io = {
      stdout: new PassThrough(),
      stderr: new Writable({ write: (chunk, _e, cb) => ((stderr += String(chunk)), cb()) }),
      stdin: new PassThrough(),
      env: cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir }),
      cwd: dir,
    };
    const before = process.listenerCount('SIGINT');
    const running = main(['node', 'deployctl', 'deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], io);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.emit('SIGINT', 'SIGINT');
      await until(() => stderr.includes('SIGINT: stopping the running commands'));
      process.emit('SIGINT', 'SIGINT');
      expect(await running).toBe(130);
      expect(stderr).toContain('SIGINT again: quitting without waiting for the commands to stop');
      expect(process.listenerCount('SIGINT')).toBe(before);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
