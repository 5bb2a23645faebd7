// The CLI entry: only commander is imported here. Every command registers its flags from its own file
// and imports what it needs inside its handler, so `deployctl --help` stays as fast as plain Node.
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { isatty } from 'node:tty';
import type { CliContext, CommandResult, GlobalOptions, Io } from './context.js';
import { commands } from './commands.js';

type Handler = (ctx: CliContext, ...args: any[]) => Promise<CommandResult>;

export interface CliApp {
  /** Wrap a handler as a commander action: builds the context, keeps the result for main to print. */
  action(handler: Handler): (...args: any[]) => Promise<void>;
  /** Add the global flags to a subcommand, so they work before or after it. */
  globals(command: Command): Command;
}

function addGlobalOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout; human text goes to stderr')
    .option('--config-dir <dir>', 'folder holding environments.yaml and deployments.yaml (env: DEPLOYCTL_CONFIG_DIR)')
    .option('--home <dir>', 'state folder for history and locks (env: DEPLOYCTL_HOME, default ~/.deployctl)')
    .option('--state <url>', 'where history, locks and the audit log live: postgres://USER@HOST/DB or file:DIR (env: DEPLOYCTL_STATE)')
    .option('-q, --quiet', 'print only the result, warnings and errors (no progress)')
    .option('-v, --verbose', 'print debug output and stack traces')
    .addOption(new Option('--log-format <format>', 'format of the lines on stderr').choices(['text', 'json']).default('text'))
    .option('--no-color', 'no colours (also NO_COLOR)');
}

/**
 * The options of a command and the commands above it. A flag given on the command line wins wherever
 * it was written (`deployctl --json deploy ...` or `deployctl deploy ... --json`); a default never
 * overrides a given value (commander's optsWithGlobals lets the program's defaults win).
 */
function globalOptions(command: Command): GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [key, value] of Object.entries(c.opts())) {
      if (value === undefined || (c.getOptionValueSource(key) === 'default' && key in merged)) continue;
      merged[key] = value;
    }
  }
  return merged as GlobalOptions;
}

/** Global flags read straight from argv, for errors commander raises before any action runs. */
function globalsFromArgv(args: string[]): GlobalOptions {
  const at = args.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  const format = at < 0 ? undefined : args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1];
  return { json: args.includes('--json'), logFormat: format === 'json' ? 'json' : 'text' };
}

function defaultIo(): Io {
  // Getters: Node creates a standard stream on first use, and `--help` never needs stdin.
  return {
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    get stdinIsTTY() {
      return isatty(0);
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** What is wrong with the flags before the command, if anything: an unknown one, or --version with company. */
export function programLevelProblem(program: Command, args: string[]): { message: string; hint: string } | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-' || arg === '-h' || arg === '--help') return undefined;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const option = program.options.find((o) => o.long === name || o.short === name || (o.negate && o.long === name));
    if (!option) {
      const command = args.slice(i + 1).find((a) => program.commands.some((c) => c.name() === a));
      return {
        message: `unknown option '${name}'${command ? ` before the command ${command}` : ''}`,
        hint: command ? `put the command's own flags after it; see: deployctl ${command} --help` : 'see: deployctl --help',
      };
    }
    if (option.long === '--version' && args.length > 1) {
      const command = args.find((a) => program.commands.some((c) => c.name() === a));
      return {
        message: `${arg} prints deployctl's own version and takes nothing else`,
        hint: command ? `for the version to ${command}, write --version after the command: deployctl ${command} ... --version V` : 'run deployctl --version alone',
      };
    }
    if ((option.required || option.optional) && !arg.includes('=')) i++;
  }
  return undefined;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let result: CommandResult | undefined;
  let failure: unknown;
  let globalsSeen: GlobalOptions = {};
  const userArgs = argv.slice(2);

  const program = new Command('deployctl')
    .description('Deploy, health-check, roll back and promote apps across environments.')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are reported like every other error (text, --json or --log-format json), below.
      outputError: () => {},
    })
    .exitOverride();
  addGlobalOptions(program);
  program.version(packageVersion(), '-V, --version', 'print the version of deployctl');

  const app: CliApp = {
    globals: (command) => addGlobalOptions(command).exitOverride().configureOutput(program.configureOutput()),
    action:
      (handler) =>
      async (...args: any[]) => {
        const command = args[args.length - 1] as Command;
        const options = globalOptions(command);
        globalsSeen = options;
        const { createContext } = await import('./context.js');
        const ctx = createContext(options, io, ['deployctl', ...userArgs]);
        try {
          result = await handler(ctx, ...args.slice(0, -1));
        } catch (error) {
          failure = error;
        }
        // A database backend holds connections: let them go, so the process ends now.
        await ctx.stateCache.opening?.then((store) => store.close()).catch(() => undefined);
      },
  };
  // `deployctl deploy ...`: only that command is built. commander makes every option of every command
  // it is given (16 commands, over 200 options), which a run of one command never reads; anything else
  // (flags first, help, a misspelt command that gets a suggestion) gets them all.
  const named = commands.find(([name]) => name === userArgs[0]);
  for (const [, register] of named ? [named] : commands) register(program, app);

  // Before the command, only deployctl's own flags. commander, once it meets an unknown one there,
  // reads the rest as the program's (`deployctl --typo deploy web --version 1.2.3` printed deployctl's
  // version and exited 0), so they are checked here first; -V/--version acts only when it is all there is.
  const before = programLevelProblem(program, userArgs);
  if (before) {
    const { UsageError } = await import('../errors.js');
    const { reportFailure } = await import('./report-failure.js');
    return reportFailure(new UsageError(before.message, before.hint), globalsFromArgv(userArgs), io);
  }

  try {
    await program.parseAsync(argv);
  } catch (error) {
    // commander's own exits: --help, --version, unknown command or option, a missing argument.
    const e = error as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
    if (typeof e.exitCode === 'number') {
      if (e.exitCode === 0) return 0;
      const { UsageError } = await import('../errors.js');
      const { reportFailure } = await import('./report-failure.js');
      const words = userArgs.filter((a) => !a.startsWith('-'));
      const sub = program.commands.find((c) => c.name() === words[0]);
      const usage = new UsageError((e.message ?? String(error)).replace(/^error: /, ''), `see: deployctl ${sub ? `${sub.name()} ` : ''}--help`);
      return reportFailure(usage, globalsFromArgv(userArgs), io);
    }
    failure = error;
  }
  if (failure !== undefined) {
    const { reportFailure } = await import('./report-failure.js');
    return reportFailure(failure, globalsSeen, io);
  }
  if (!result) return 0;
  if (globalsSeen.json) {
    if (result.data !== undefined) io.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
  } else if (result.text) {
    io.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
  }
  return result.exitCode;
}
