// What every command handler gets: global options, where state and config live, and the streams.
// Handlers return a CommandResult; only cli/main.ts prints it and turns it into an exit code.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatArgv } from '../format.js';
import { detectCi } from '../notify/ci.js';
import type { StateStore } from '../state/port.js';

export interface GlobalOptions {
  json?: boolean;
  configDir?: string;
  home?: string;
  /** --state URL: where history, locks and the audit log live. */
  state?: string;
  quiet?: boolean;
  verbose?: boolean;
  logFormat?: 'text' | 'json';
  color?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /**
   * Whether stdin is a terminal, when known without making the stream (Node makes process.stdin on
   * first use: 3 to 7 ms that a command which never reads stdin need not spend). Else stdin.isTTY.
   */
  stdinIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CliContext {
  options: GlobalOptions;
  io: Io;
  /** The state folder: --home, DEPLOYCTL_HOME, or ~/.deployctl. */
  home: string;
  /** Where the state lives, as a state URL (state/open.ts): --state, DEPLOYCTL_STATE, else `file:` + home. */
  stateUrl: string;
  /** True when neither --state nor DEPLOYCTL_STATE chose: `state.url` in deployments.yaml may (openContextState). */
  stateFromConfig?: boolean;
  /** The store once opened (openContextState). */
  stateCache: { opening?: Promise<StateStore> };
  /** The config folder: --config-dir, DEPLOYCTL_CONFIG_DIR, or the current directory. */
  configDir: string;
  /** True when deployctl must never prompt: stdin not a TTY, or CI set. */
  nonInteractive: boolean;
  /** Colours allowed: no --no-color, no NO_COLOR, not a dumb terminal. Only the Ink views use colour. */
  color: boolean;
  /** A one-line command description for locks and records: "deploy web -e prod --version 1.2". */
  commandLine: string;
}

export interface CommandResult {
  exitCode: number;
  /** The JSON document printed on stdout with --json. */
  data?: unknown;
  /** Human output printed on stdout without --json. */
  text?: string;
}

/** `commandLine`: the argv deployctl was run with, shown (in locks, records) as formatCommand shows any command. */
export function createContext(options: GlobalOptions, io: Io, argv: string | readonly string[]): CliContext {
  let commandLine = typeof argv === 'string' ? argv : formatArgv(argv);
  const env = io.env;
  const home = resolve(io.cwd, options.home ?? env.DEPLOYCTL_HOME ?? join(homedir(), '.deployctl'));
  const configDir = resolve(io.cwd, options.configDir ?? env.DEPLOYCTL_CONFIG_DIR ?? '.');
  const nonInteractive = !(io.stdinIsTTY ?? io.stdin.isTTY) || isCi(env);
  const color = options.color !== false && !env.NO_COLOR && env.TERM !== 'dumb';
  const chosen = options.state || env.DEPLOYCTL_STATE || undefined;
  // A password in a --state URL never reaches a record, a lock or the audit log.
  commandLine = commandLine.replace(/(postgres(?:ql)?:\/\/[^:@/\s]*:)[^@/\s]*@/gi, '$1***@').replace(/([?&]password=)[^&\s]*/gi, '$1***');
  return { options, io, home, stateUrl: chosen ?? `file:${home}`, stateFromConfig: !chosen, stateCache: {}, configDir, nonInteractive, color, commandLine };
}

/**
 * A line for people on stderr, outside a deployment's own progress: plain text (`warning: ...` for a
 * warning), or a JSON line `{ time, level, event, message, ...fields }` with --log-format json. -q hides
 * progress and information, never a warning (the deployment reporter follows the same rule).
 */
export function logLine(ctx: CliContext, level: 'info' | 'warn', event: string, message: string, fields: Record<string, unknown> = {}): void {
  if (ctx.options.quiet && level === 'info') return;
  if (ctx.options.logFormat === 'json') {
    ctx.io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, message, ...fields })}\n`);
  } else {
    ctx.io.stderr.write(`${level === 'warn' ? 'warning: ' : ''}${message}\n`);
  }
}

/** What a store met while reading (a damaged record, a rebuilt index), as warnings: once per command, after its reads. */
export function reportWarnings(ctx: CliContext, store: { warnings(): string[] }): void {
  for (const warning of store.warnings()) logLine(ctx, 'warn', 'history', warning);
}

/** Running under a CI system: never prompt. The same detection as the CI run stored in records. */
function isCi(env: NodeJS.ProcessEnv): boolean {
  return detectCi(env) !== undefined;
}

/**
 * The state store of this command, opened once: every handler, the engine and the board share it (a
 * copy of the context, `{ ...ctx }`, shares it too).
 */
export function openContextState(ctx: CliContext): Promise<StateStore> {
  const cache = ctx.stateCache;
  if (!cache.opening) {
    const opening = import('./state-url.js')
      .then(({ chooseStateUrl }) => chooseStateUrl(ctx))
      .then(async ({ url, cwd }) => (await import('../state/open.js')).openState(url, cwd));
    cache.opening = opening;
    opening.catch(() => {
      if (cache.opening === opening) cache.opening = undefined;
    });
  }
  return cache.opening;
}
