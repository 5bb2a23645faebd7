// Running the CLI in tests. By default in-process: main(argv, io) from src/cli/main.ts, the TypeScript
// itself (no build needed, no process start), with stdout and stderr captured, env and cwd given through
// io and stdin read from a string. With { spawn: true } (or nodeArgs), the built binary the way a user
// runs it: `node bin/deployctl.cjs ...`; for what only a real process shows: signals, kill -9, a
// terminal, start-up, the exit code bin/ gives, and code that reads process.env or process.cwd() itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'bin', 'deployctl.cjs');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'deployctl-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The files under a folder (a state folder) whose content holds the text, relative to it. */
export function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (readFileSync(path, 'utf8').includes(text)) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found;
}

let testCacheDir: string | undefined;

/** Environment for a CLI run: no CI variables leaking in from the test runner's own environment. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(CI|GITHUB_|GITLAB_|BUILDKITE|CIRCLECI|JENKINS_URL|TF_BUILD|DEPLOYCTL_)/.test(key)) delete env[key];
  }
  env.NO_COLOR = '1';
  // The parse cache (src/config/parse-cache.ts) of these runs: one folder per test process, not the
  // user's own cache folder. Runs of the same config text share its entries, as a user's commands do.
  env.DEPLOYCTL_CACHE_DIR = (testCacheDir ??= tempDir('deployctl-cache-'));
  return { ...env, ...extra };
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Node flags for a spawned run (implies spawn). */
  nodeArgs?: string[];
  /** Run the built binary in a process of its own instead of main() in this one. */
  spawn?: boolean;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  // DEPLOYCTL_TEST_SPAWN=1 runs every case through the binary, as before the in-process runs (to compare).
  const spawned = options.spawn || options.nodeArgs || process.env.DEPLOYCTL_TEST_SPAWN === '1';
  return spawned ? spawnCli(args, options) : runInProcess(args, options);
}

/** A writable that keeps what is written, as text; not a terminal. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function runInProcess(args: string[], options: RunOptions): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.js');
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(options.input ? [Buffer.from(options.input)] : [], { objectMode: false });
  const io = { stdout, stderr, stdin, env: options.env ?? cleanEnv(), cwd: options.cwd ?? repoRoot };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deployctl ${args.join(' ')} still running after ${options.timeoutMs ?? 60_000} ms (in-process)`)), options.timeoutMs ?? 60_000);
  });
  try {
    const code = await Promise.race([main(['node', cliPath, ...args], io), timeout]);
    return { code, signal: null, stdout: stdout.text, stderr: stderr.text };
  } finally {
    clearTimeout(timer);
  }
}

function spawnCli(args: string[], options: RunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
