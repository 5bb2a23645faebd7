// The one runner: the only module that starts processes (through execa). It streams output line by
// line, keeps a bounded tail, enforces time limits, and stops whole process trees: execa's own
// cleanup kills the direct child only, so each child gets its own process group and we signal the group.
// It also writes the private files a command reads, and removes them when it ends.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command, RunResult, Runner } from '../executors/types.js';
import { findTool } from '../executors/tools.js';

interface RunnerOptions {
  /** A dry run: see `shows`, the one place that decides what a dry run runs. */
  dryRun: boolean;
  env?: NodeJS.ProcessEnv;
  /** Bytes of combined output kept per command. */
  maxOutputBytes?: number;
  /** Bytes of stdout kept per command (parsed output such as `terraform output -json`). */
  maxStdoutBytes?: number;
  /** Between SIGTERM and SIGKILL when stopping a tree. */
  killGraceMs?: number;
  /** A command started, in its own process group (the pid): the lock records it, to stop it after a kill -9 of deployctl. */
  onSpawn?: (pid: number, label: string) => void;
  /** That command ended (its group was stopped too if it had to be). */
  onExit?: (pid: number) => void;
}

class Tail {
  private chunks: string[] = [];
  private size = 0;
  /** Some of the beginning was dropped. */
  truncated = false;
  constructor(private readonly limit: number) {}
  push(text: string) {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size > this.limit) this.truncated = true;
    // Drop whole chunks only while what is left still holds the limit; toString cuts the first one.
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }
  toString() {
    const text = this.chunks.join('');
    return text.length > this.limit ? text.slice(text.length - this.limit) : text;
  }
}

interface Running {
  pid?: number;
  stop(signal: NodeJS.Signals): void;
  interrupted: boolean;
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  if (process.platform === 'win32') {
    import('node:child_process').then(({ spawn }) => spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore' }));
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Process groups still running, killed if deployctl exits without stopping them (a second Ctrl-C). */
const liveGroups = new Set<number>();
/** Folders of files written for running commands, removed if deployctl exits before they end. */
const liveDirs = new Set<string>();
let exitHook = false;
function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const group of liveGroups) killTree(group, 'SIGKILL');
    removeDirs([...liveDirs]);
  });
}
function trackGroup(pid: number | undefined): void {
  if (!pid) return;
  liveGroups.add(pid);
  hookExit();
}

/**
 * A command's files, each in a folder made for it that only this user can open (0700, files 0600).
 * The folder must not exist yet: nobody else can have put anything there. Returns the folders made.
 */
function writeFiles(files: Record<string, string>): string[] {
  const made: string[] = [];
  try {
    for (const dir of new Set(Object.keys(files).map((f) => dirname(f)))) {
      mkdirSync(dir, { mode: 0o700 });
      made.push(dir);
      liveDirs.add(dir);
      hookExit();
    }
    for (const [file, text] of Object.entries(files)) writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    removeDirs(made);
    throw error;
  }
  return made;
}

function removeDirs(dirs: string[]): void {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  }
}

export function createRunner(options: RunnerOptions): Runner {
  const running = new Set<Running>();
  // Once stopped (Ctrl-C), a command about to start is not started: the signal may come between two.
  let stopped = false;
  const notStarted = (): RunResult => ({ exitCode: null, output: '', stdout: '', durationMs: 0, timedOut: false, interrupted: true });
  const grace = options.killGraceMs ?? 3000;
  const baseEnv = options.env ?? process.env;

  const stopTree = (pid: number | undefined, signal: NodeJS.Signals) => {
    if (!pid) return;
    killTree(pid, signal);
    if (signal !== 'SIGKILL') setTimeout(() => killTree(pid, 'SIGKILL'), grace).unref();
  };

  /**
   * A dry run's one rule: a command that changes something is shown, not run; one that only reads
   * (terraform plan, kubectl kustomize, docker ps) runs, unless its program is not installed here,
   * when it is shown too (the dry run says what a real deploy would stop at).
   */
  const shows = (command: Command): boolean => {
    if (!options.dryRun) return false;
    if (command.mutates) return true;
    return !command.shell && findTool(command.file, {}, baseEnv) === undefined;
  };

  return {
    shows,

    async run(command: Command, onLine): Promise<RunResult> {
      if (shows(command)) {
        return { exitCode: 0, output: '', stdout: '', durationMs: 0, timedOut: false, interrupted: false, skipped: true };
      }
      if (stopped) return notStarted();
      let dirs: string[];
      try {
        dirs = writeFiles(command.files ?? {});
      } catch (error) {
        const spawnError = `could not write the files of ${command.label}: ${(error as Error).message}`;
        return { exitCode: null, output: '', stdout: '', durationMs: 0, timedOut: false, interrupted: false, spawnError };
      }
      try {
        return await spawnCommand(command, onLine);
      } finally {
        removeDirs(dirs);
      }
    },

    async stopAll(signal: NodeJS.Signals = 'SIGTERM') {
      stopped = true;
      for (const entry of running) {
        entry.interrupted = true;
        entry.stop(signal);
      }
    },
  };

  async function spawnCommand(command: Command, onLine?: (line: string, stream: 'stdout' | 'stderr') => void): Promise<RunResult> {
    const { execa } = await import('../vendor/execa.js');
    if (stopped) return notStarted();
    const started = process.hrtime.bigint();
    const output = new Tail(options.maxOutputBytes ?? 64 * 1024);
    const stdout = new Tail(command.maxStdoutBytes ?? options.maxStdoutBytes ?? 1024 * 1024);
    const env = { ...baseEnv, ...command.env };
    const child = execa(command.file, command.shell ? [] : command.args, {
      cwd: command.cwd,
      env,
      extendEnv: false,
      shell: command.shell ? true : false,
      input: command.input,
      stdin: command.input === undefined ? 'ignore' : undefined,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      detached: process.platform !== 'win32',
      cleanup: true,
      windowsHide: true,
    });
    const entry: Running = { pid: child.pid, interrupted: false, stop: (signal) => stopTree(child.pid, signal) };
    running.add(entry);
    trackGroup(child.pid);
    if (child.pid) options.onSpawn?.(child.pid, command.label);
    let timedOut = false;
    const timer =
      command.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stopTree(child.pid, 'SIGTERM');
          }, command.timeoutMs)
        : undefined;

    const follow = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') =>
      new Promise<void>((resolve) => {
        if (!stream) return resolve();
        let partial = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          output.push(chunk);
          if (name === 'stdout') stdout.push(chunk);
          const lines = (partial + chunk).split(/\r?\n/);
          partial = lines.pop() ?? '';
          for (const line of lines) onLine?.(line, name);
        });
        stream.on('end', () => {
          if (partial) onLine?.(partial, name);
          resolve();
        });
        stream.on('error', () => resolve());
      });

    const [result] = await Promise.all([child, follow(child.stdout, 'stdout'), follow(child.stderr, 'stderr')]);
    if (timer) clearTimeout(timer);
    running.delete(entry);
    if (child.pid) liveGroups.delete(child.pid);
    // A child that exited still may have left grandchildren behind in its group: stop them too.
    if (timedOut || entry.interrupted) stopTree(child.pid, 'SIGKILL');
    if (child.pid) options.onExit?.(child.pid);
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const code = (result as { code?: string }).code;
    let spawnError: string | undefined;
    // execa says ENOENT for a working folder that is not there, too: say which it is.
    if (code === 'ENOENT' && !existsSync(command.cwd)) spawnError = `working folder ${command.cwd} does not exist: create it, or fix path: in deployments.yaml`;
    else if (code === 'ENOENT') spawnError = `${command.file}: command not found`;
    else if (code === 'EACCES') spawnError = `${command.file}: permission denied`;
    else if (result.failed && result.exitCode === undefined && !result.signal && !timedOut && !entry.interrupted) {
      spawnError = (result as { shortMessage?: string }).shortMessage ?? 'could not start';
    }
    return {
      exitCode: result.exitCode ?? null,
      output: output.toString(),
      stdout: stdout.toString(),
      ...(stdout.truncated ? { stdoutTruncated: true } : {}),
      durationMs,
      timedOut,
      interrupted: entry.interrupted,
      ...(spawnError ? { spawnError } : {}),
    };
  }
}

/** Whether a quick read-only command (`docker compose version`) runs and exits 0: the executors' probe. */
export function probeTool(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync(file, args, { stdio: 'ignore', timeout: 10_000, env }).status === 0;
}
