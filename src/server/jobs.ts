// Each command `serve` runs is a deployctl process of its own: the same engine, locks and history as
// the CLI, its own process group (its commands are stopped with it), its own signal handling (SIGTERM
// records the deployment as interrupted). It answers with --json on stdout; its progress comes as JSON
// lines on stderr (--log-format json), which `serve` turns into message updates.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface JobResult {
  exitCode: number;
  /** The command's --json document, when it printed one. */
  json: any;
  /** What it printed on stdout (the text of a read without --json). */
  stdout: string;
  /** The last lines it wrote on stderr, for a failure without a JSON document. */
  stderrTail: string;
}

export interface Job {
  readonly pid: number | undefined;
  readonly done: Promise<JobResult>;
  /** SIGTERM to the process: it stops its commands and records the deployment as interrupted. */
  terminate(): void;
}

export interface JobOptions {
  args: string[];
  /** Global flags of `serve` handed on: --config-dir, --home, --state. */
  globals: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** --json: the answer is the command's JSON document (default); else its text. */
  json?: boolean;
  /** Each JSON progress line the command writes on stderr. */
  onProgress?: (event: Record<string, unknown>) => void;
}

export function deployctlEntry(): string {
  return createRequire(import.meta.url).resolve('../../bin/deployctl.cjs');
}

export function startJob(options: JobOptions, entry: string = deployctlEntry()): Job {
  const child = spawn(process.execPath, [entry, ...options.args, ...options.globals, ...(options.json === false ? [] : ['--json']), ...(options.onProgress ? ['--log-format', 'json'] : [])], {
    cwd: options.cwd,
    env: { ...options.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-16_384);
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        options.onProgress?.(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a progress line
      }
    }
  });
  const done = new Promise<JobResult>((resolve) => {
    child.on('error', (error) => resolve({ exitCode: 1, json: undefined, stdout: '', stderrTail: error.message }));
    child.on('close', (code, signal) => {
      let json: unknown;
      try {
        json = options.json !== false && stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ exitCode: code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 130 : 1), json, stdout, stderrTail: stderr.split('\n').filter(Boolean).slice(-5).join('\n') });
    });
  });
  return {
    pid: child.pid,
    done,
    terminate: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
