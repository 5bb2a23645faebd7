// The CLI entry: only commander is imported here. Every command registers its flags from its own file
// and imports what it needs inside its handler, so `deployctl --help` stays as fast as plain Node.
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import type { CliContext, CommandResult, GlobalOptions, Io } from './context.js';
import { commands } from './commands.js';

export type Handler = (ctx: CliContext, ...args: any[]) => Promise<CommandResult>;

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
    .option('-q, --quiet', 'print only errors and the result')
    .option('-v, --verbose', 'print debug output and stack traces')
    .addOption(new Option('--log-format <format>', 'format of the lines on stderr').choices(['text', 'json']).default('text'))
    .option('--no-color', 'no colours (also NO_COLOR)');
}

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
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
        const options = command.optsWithGlobals() as GlobalOptions;
        globalsSeen = options;
        const { createContext } = await import('./context.js');
        const ctx = createContext(options, io, ['deployctl', ...userArgs].join(' '));
        try {
          result = await handler(ctx, ...args.slice(0, -1));
        } catch (error) {
          failure = error;
        }
      },
  };
  for (const register of commands) register(program, app);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    // commander's own exits: --help, --version, unknown command or option.
    const e = error as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.exitCode === 'number') return e.exitCode === 0 ? 0 : 2;
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
