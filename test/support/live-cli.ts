// The built CLI in a process of its own, watched while it runs: for tests that act when the CLI has
// reached a point (a line it printed, a file a tool it runs wrote), never after a fixed time.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cliPath, repoRoot, type CliRun } from './cli.js';

export interface LiveCli {
  /** Resolves when stderr holds the text; rejects if the CLI ends first, saying what it printed. */
  waitForStderr(text: string): Promise<void>;
  /** Whether the process is still running. */
  running(): boolean;
  done: Promise<CliRun>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): LiveCli {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const watchers = new Set<() => void>();
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const watcher of watchers) watcher();
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      for (const watcher of watchers) watcher();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    done,
    running: () => !ended,
    waitForStderr(text) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (stderr.includes(text)) {
            watchers.delete(check);
            resolve();
          } else if (ended) {
            watchers.delete(check);
            reject(new Error(`deployctl ${args.join(' ')} ended (code ${child.exitCode}) before printing ${JSON.stringify(text)}:\n${stderr}\n${stdout}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/**
 * Resolves when the file exists: written by a tool the CLI runs. Checked every 50 ms; fails when the CLI
 * ends first, or after a generous limit.
 */
export async function waitForFile(path: string, cli: LiveCli, limitMs = 300_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!existsSync(path)) {
    if (!cli.running()) {
      const run = await cli.done;
      throw new Error(`deployctl ended (code ${run.code}) before ${path} appeared:\n${run.stderr}\n${run.stdout}`);
    }
    if (Date.now() > until) throw new Error(`${path} did not appear within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
