// How a command is shown to people, in every place that shows one: the live view, the plain reporter,
// `history show`, a dry run, the labels that errors name. Quoted only where a shell would need it, so
// it can be copied into one, and with secrets masked first.
import { maskValues } from './config/secret-env.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function quoteArg(arg: string): string {
  if (arg === '') return "''";
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

/**
 * A command as deployctl shows it: an argv quoted for a shell, or a shell string as the `sh -c` it
 * runs as. Each argument's secrets are masked before quoting, so a masked value reads `***` whatever
 * characters it had.
 */
export function formatCommand(argv: readonly string[], options: { shell?: boolean; secretValues?: readonly string[] } = {}): string {
  const masked = options.secretValues?.length ? argv.map((a) => maskValues(a, options.secretValues!)) : argv;
  return options.shell ? `sh -c ${formatArgv(masked)}` : formatArgv(masked);
}
