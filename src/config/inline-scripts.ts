// Config values are never pasted into code a shell or an interpreter parses. Such code is a `commands:`
// or hook string (run by the system shell), or the inline script of an argv command whose program is a
// shell or interpreter (`sh -c SCRIPT`, `python3 -c SCRIPT`, `node -e SCRIPT`, also behind `env`,
// `sudo`...). Values reach that code through the environment ("$DEPLOY_VERSION", "$PORT"), so a
// `${...}` that deployctl would fill in there is a config error naming that fix.
import type { KeyPath } from './read.js';

/** Programs that only start the program that follows them (after their own options and arguments). */
const WRAPPERS = new Set(['env', 'sudo', 'doas', 'nice', 'nohup', 'exec', 'command', 'time', 'timeout', 'stdbuf', 'setsid', 'busybox', 'chroot', 'ionice', 'xargs']);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'fish', 'csh', 'tcsh']);
/** Interpreters and the option letters after which their inline script comes. */
const INTERPRETERS: Array<[RegExp, string, string[]]> = [
  [/^(python|pypy)[0-9.]*$/, 'c', []],
  [/^(node|nodejs)$/, 'ep', ['--eval', '--print']],
  [/^bun$/, 'e', ['--eval', '--print']],
  [/^deno$/, '', ['eval']],
  [/^perl[0-9.]*$/, 'eE', []],
  [/^ruby[0-9.]*$/, 'e', []],
  [/^php[0-9.]*$/, 'r', []],
  [/^lua[0-9.]*$/, 'e', []],
  [/^(pwsh|powershell)$/, '', ['-c', '-command', '-Command']],
];

const baseName = (file: string) => file.replace(/\\/g, '/').split('/').pop()!.replace(/\.exe$/i, '');

/** The index in argv of the inline script a shell or interpreter will parse, if there is one. */
export function inlineScriptIndex(argv: readonly unknown[]): number | undefined {
  if (!argv.every((a) => typeof a === 'string')) return undefined;
  const args = argv as string[];
  let start = 0;
  // Behind a wrapper: the first argument that names a shell or interpreter.
  if (WRAPPERS.has(baseName(args[0] ?? ''))) {
    const found = args.findIndex((arg, i) => i > 0 && !arg.startsWith('-') && !arg.includes('=') && isProgram(baseName(arg)));
    if (found < 0) return undefined;
    start = found;
  }
  const program = baseName(args[start] ?? '');
  if (SHELLS.has(program)) return shellScript(args, start);
  for (const [name, letters, long] of INTERPRETERS) {
    if (!name.test(program)) continue;
    for (let i = start + 1; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '--') return undefined;
      const longHit = long.find((flag) => arg === flag || arg.startsWith(`${flag}=`));
      if (longHit) return arg === longHit ? i + 1 : i;
      // Past an option's value or a script file, a flag may still be the interpreter's: keep looking.
      if (!arg.startsWith('-') || arg.startsWith('--')) continue;
      const at = [...arg.slice(1)].findIndex((ch) => letters.includes(ch));
      if (at >= 0) return at + 2 < arg.length ? i : i + 1;
    }
    return undefined;
  }
  return undefined;
}

function isProgram(name: string): boolean {
  return SHELLS.has(name) || INTERPRETERS.some(([pattern]) => pattern.test(name));
}

/** `sh [options] -c [options] SCRIPT [name [args...]]`: the script is the first operand when -c is given. */
function shellScript(args: string[], start: number): number | undefined {
  let inline = false;
  for (let i = start + 1; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || arg === '-') return inline && i + 1 < args.length ? i + 1 : undefined;
    if (arg === '-o' || arg === '+o' || arg === '-O' || arg === '+O' || arg === '--rcfile' || arg === '--init-file') {
      i++;
      continue;
    }
    if (arg.startsWith('--')) {
      if (arg === '--command') inline = true;
      continue;
    }
    if (/^[-+][A-Za-z]+$/.test(arg)) {
      if (arg.startsWith('-') && arg.includes('c')) inline = true;
      continue;
    }
    return inline ? i : undefined;
  }
  return undefined;
}

/** `${name}` and `${name:-x}` as deployctl fills them in; `$${x}` is a literal `${x}`. */
const FILLED = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::-[^}]*)?\}/g;

function filledNames(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(FILLED)) if (match[1]) names.push(match[1]);
  return names;
}

/** How a value is read from the environment, in the hint. */
function envName(name: string): string {
  const own: Record<string, string> = { version: 'DEPLOY_VERSION', app: 'DEPLOY_APP', env: 'DEPLOY_ENV' };
  return own[name] ?? name;
}

function fix(name: string, program: string): string {
  const variable = envName(name);
  const shell = SHELLS.has(program) || program === '' || WRAPPERS.has(program);
  const read = shell
    ? `"$${variable}"`
    : /^(python|pypy)/.test(program)
      ? `os.environ["${variable}"]`
      : /^(node|nodejs|bun|deno)$/.test(program)
        ? `process.env.${variable}`
        : /^perl/.test(program)
          ? `$ENV{${variable}}`
          : /^ruby/.test(program)
            ? `ENV["${variable}"]`
            : `the environment variable ${variable}`;
  return `read it from the environment instead: ${read}${name === variable ? '' : ` (deployctl sets ${variable})`}`;
}

/**
 * The commands of an app's merged config (before filling in) that would get `${...}` pasted into code:
 * each reported at its key path. Strings of `commands:` and hooks are never filled in and run as
 * written: there `${NAME}` is the shell's own, and only deployctl's names, which the shell does not have
 * (`${version}`, `${app}`, `${env}`, or a name the shell cannot hold), are refused.
 */
export function checkInlineScripts(config: Record<string, any>, report: (path: KeyPath, message: string) => void): void {
  const checkArgv = (argv: unknown, path: KeyPath) => {
    if (!Array.isArray(argv)) return;
    const index = inlineScriptIndex(argv);
    if (index === undefined || typeof argv[index] !== 'string') return;
    const names = filledNames(argv[index]);
    if (!names.length) return;
    const program = baseName(String(argv[0]));
    const shown = names.map((n) => `\${${n}}`).join(', ');
    report([...path, index], `${shown} would be pasted into the script ${String(argv[0])} parses (shell code injection): ${fix(names[0]!, WRAPPERS.has(program) ? '' : program)}, or write $\${...} for a literal \${...}`);
  };
  const checkString = (script: unknown, path: KeyPath) => {
    if (typeof script !== 'string') return;
    const names = filledNames(script).filter((n) => n === 'version' || n === 'app' || n === 'env' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
    if (!names.length) return;
    const shown = names.map((n) => `\${${n}}`).join(', ');
    report(path, `${shown} in a shell string is not filled in by deployctl (the script runs as written): ${fix(names[0]!, 'sh')}`);
  };
  const checkList = (list: unknown, path: KeyPath) => {
    if (!Array.isArray(list)) return;
    list.forEach((spec, i) => (typeof spec === 'string' ? checkString(spec, [...path, i]) : checkArgv(spec, [...path, i])));
  };
  for (const key of Object.keys(config)) if (/(^|_)commands$/.test(key)) checkList(config[key], [key]);
  const hooks = config.hooks;
  if (hooks && typeof hooks === 'object') for (const phase of Object.keys(hooks)) checkList(hooks[phase], ['hooks', phase]);
  for (const key of ['health_check', 'pre_check']) checkArgv(config[key]?.command, [key, 'command']);
  checkArgv(config.command, ['command']);
}
