import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createRunner } from '../../src/engine/runner.js';
import type { Command } from '../../src/executors/types.js';
import { isPidAlive } from '../../src/state/process.js';
import { repoRoot, tempDir } from '../support/cli.js';

function command(file: string, args: string[], extra: Partial<Command> = {}): Command {
  return { file, args, cwd: process.cwd(), env: {}, timeoutMs: 10_000, mutates: true, label: file, phase: 'deploy', ...extra };
}

describe('the runner', () => {
  it('streams lines in order from stdout and stderr and keeps them', async () => {
    const lines: string[] = [];
    const result = await createRunner({ dryRun: false }).run(
      command(process.execPath, ['-e', 'console.log("one"); console.error("two"); setTimeout(() => console.log("three"), 20)']),
      (line, stream) => lines.push(`${stream}:${line}`),
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(['stdout:one', 'stderr:two', 'stdout:three']);
    expect(result.stdout).toBe('one\nthree\n');
    expect(result.output).toContain('two');
  });

  it('passes the environment and reports the exit code', async () => {
    const result = await createRunner({ dryRun: false }).run(command(process.execPath, ['-e', 'process.exit(Number(process.env.CODE))'], { env: { CODE: '7' } }));
    expect(result.exitCode).toBe(7);
  });

  it('runs a user string through the shell as written', async () => {
    const result = await createRunner({ dryRun: false }).run(command('echo "v=$V" | tr a-z A-Z', [], { shell: true, env: { V: 'x' } }));
    expect(result.stdout).toBe('V=X\n');
  });

  it('keeps a bounded tail of long output', async () => {
    const result = await createRunner({ dryRun: false, maxOutputBytes: 1000 }).run(
      command(process.execPath, ['-e', 'for (let i = 0; i < 2000; i++) console.log("line " + i)']),
    );
    expect(result.output.length).toBeLessThanOrEqual(1000);
    expect(result.output).toContain('line 1999');
    expect(result.output).not.toContain('line 10\n');
  });

  it('keeps stdout whole up to the bound of the command, and says when it was longer', async () => {
    const print = (n: number) => command(process.execPath, ['-e', `process.stdout.write("x".repeat(${n}))`]);
    const runner = createRunner({ dryRun: false, maxStdoutBytes: 1000 });
    const whole = await runner.run({ ...print(5000), maxStdoutBytes: 10_000 });
    expect([whole.stdout.length, whole.stdoutTruncated]).toEqual([5000, undefined]);
    const cut = await runner.run(print(5000));
    expect([cut.stdout.length, cut.stdoutTruncated]).toEqual([1000, true]);
  });

  it('says when a program is not there', async () => {
    const result = await createRunner({ dryRun: false }).run(command('no-such-tool-here', ['x']));
    expect(result.spawnError).toBe('no-such-tool-here: command not found');
  });

  it('stops the whole process tree on time-out', async () => {
    const pids: number[] = [];
    const result = await createRunner({ dryRun: false, killGraceMs: 500 }).run(
      command('sh', ['-c', 'sleep 30 & echo $!; sleep 30 & echo $!; wait'], { timeoutMs: 500 }),
      (line) => pids.push(Number(line)),
    );
    expect(result.timedOut).toBe(true);
    expect(pids).toHaveLength(2);
    // The grandchildren get SIGTERM, then SIGKILL after the grace period: give a loaded machine time.
    for (let i = 0; i < 100 && pids.some(isPidAlive); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(isPidAlive)).toEqual([]);
  });

  it('stops running commands when asked (Ctrl-C)', async () => {
    const runner = createRunner({ dryRun: false, killGraceMs: 500 });
    const running = runner.run(command('sh', ['-c', 'sleep 30']));
    await new Promise((r) => setTimeout(r, 200));
    await runner.stopAll('SIGTERM');
    const result = await running;
    expect(result.interrupted).toBe(true);
    expect(result.exitCode).not.toBe(0);
  });

  it('after stopAll, a command asked to run is not started, even one already on its way (Ctrl-C between two commands)', async () => {
    const dir = tempDir();
    const runner = createRunner({ dryRun: false });
    // Asked, then stopped before it could spawn (the runner was still loading what runs it).
    const onItsWay = runner.run(command('touch', [join(dir, 'first')]));
    await runner.stopAll('SIGTERM');
    const later = await runner.run(command('touch', [join(dir, 'second')]));
    for (const result of [await onItsWay, later]) expect(result).toMatchObject({ interrupted: true, exitCode: null });
    expect([existsSync(join(dir, 'first')), existsSync(join(dir, 'second'))]).toEqual([false, false]);
  });

  describe('the files a command reads', () => {
    const fileIn = (dir: string) => join(dir, 'private', 'pins.yml');
    /** Prints the file's text and the modes of the file and its folder, then exits with `code`. */
    const reading = (file: string, code = 0, extra: Partial<Command> = {}) =>
      command(
        process.execPath,
        ['-e', `const fs = require("fs"); const m = (p) => (fs.statSync(p).mode & 0o777).toString(8); console.log(fs.readFileSync(process.argv[1], "utf8"), m(process.argv[1]), m(require("path").dirname(process.argv[1]))); process.exit(${code})`, file],
        { files: { [file]: 'services: {}\n' }, ...extra },
      );

    it('are written for the command only this user can read, and removed when it ends', async () => {
      const file = fileIn(tempDir());
      const result = await createRunner({ dryRun: false }).run(reading(file));
      expect(result.stdout).toBe('services: {}\n 600 700\n');
      expect(existsSync(dirname(file))).toBe(false);
    });

    it('are removed when the command fails, times out or is stopped', async () => {
      const runner = createRunner({ dryRun: false, killGraceMs: 200 });
      const failed = fileIn(tempDir());
      expect((await runner.run(reading(failed, 3))).exitCode).toBe(3);
      const timedOut = fileIn(tempDir());
      expect((await runner.run(command('sleep', ['30'], { files: { [timedOut]: 'x' }, timeoutMs: 300 }))).timedOut).toBe(true);
      const stopped = fileIn(tempDir());
      const running = runner.run(command('sleep', ['30'], { files: { [stopped]: 'x' } }));
      await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(stopped)).toBe(true);
      await runner.stopAll('SIGTERM');
      expect((await running).interrupted).toBe(true);
      expect([failed, timedOut, stopped].map((f) => existsSync(dirname(f)))).toEqual([false, false, false]);
    });

    it('are removed when deployctl exits while the command runs (a second Ctrl-C)', async () => {
      const dir = tempDir();
      const file = fileIn(dir);
      // The runner in a process of its own, which exits at once while `sleep` reads its file.
      const banner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
      await build({ entryPoints: [join(repoRoot, 'src/engine/runner.ts')], outfile: join(dir, 'runner.mjs'), bundle: true, platform: 'node', format: 'esm', logLevel: 'error', banner: { js: banner } });
      const script = [
        banner,
        `import { createRunner } from ${JSON.stringify(join(dir, 'runner.mjs'))};`,
        `createRunner({ dryRun: false }).run({ file: 'sleep', args: ['30'], cwd: '/', env: {}, timeoutMs: 60000, mutates: true, label: 'sleep', phase: 'deploy', files: { ${JSON.stringify(file)}: 'x' } });`,
        `const wait = setInterval(() => { if (require('fs').existsSync(${JSON.stringify(file)})) { clearInterval(wait); process.exit(130); } }, 20);`,
      ].join('\n');
      const exited = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
      expect([exited.status, exited.stderr]).toEqual([130, '']);
      expect(existsSync(dirname(file))).toBe(false);
    });

    it('are not written into a folder that is already there, and the command does not run', async () => {
      const file = fileIn(tempDir());
      mkdirSync(dirname(file));
      const result = await createRunner({ dryRun: false }).run(reading(file));
      expect(result.spawnError).toMatch(/^could not write the files of .*: EEXIST/);
      expect(result.stdout).toBe('');
      expect(existsSync(dirname(file))).toBe(true);
    });

    it('are not written when a dry run skips the command', async () => {
      const file = fileIn(tempDir());
      expect(await createRunner({ dryRun: true }).run(reading(file))).toMatchObject({ skipped: true });
      expect(existsSync(dirname(file))).toBe(false);
    });
  });

  it('skips commands that change things in a dry run, and runs read-only ones', async () => {
    const runner = createRunner({ dryRun: true });
    expect(await runner.run(command('false', []))).toMatchObject({ skipped: true, exitCode: 0 });
    expect(await runner.run(command('false', [], { mutates: false }))).toMatchObject({ exitCode: 1 });
  });

  it.each([
    ['a real run runs everything', false, command('false', []), false],
    ['a dry run shows a command that changes something', true, command('false', []), true],
    ['a dry run runs a read-only command whose program is installed', true, command('false', [], { mutates: false }), false],
    ['a dry run shows a read-only command whose program is not installed (a real deploy stops before it)', true, command('no-such-tool-here', ['plan'], { mutates: false }), true],
  ])('decides alone what a dry run runs: %s', async (_name, dryRun, planned, shown) => {
    const runner = createRunner({ dryRun });
    expect(runner.shows?.(planned)).toBe(shown);
    const result = await runner.run(planned);
    expect(Boolean(result.skipped)).toBe(shown);
    if (shown) expect(result).toMatchObject({ exitCode: 0, output: '' });
    else expect(result.spawnError ?? result.exitCode).not.toBe(0);
  });
});
