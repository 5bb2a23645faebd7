// The shell executor: `commands:` run in order in the app's folder. An argv array runs directly; a
// string is the user's own script and runs through the system shell as written (values reach it
// through the environment: $DEPLOY_VERSION, $PORT...). Hooks use the same rules for every type.
import type { CommandSpec } from '../config/types.js';
import { formatArgv } from '../format.js';
import type { Command, Executor, Phase, PlanInput } from './types.js';

function commandFromSpec(spec: CommandSpec, input: PlanInput, phase: Phase, label: string): Command {
  const base = { cwd: input.config.path, env: input.childEnv, timeoutMs: input.config.timeout, mutates: true, label, phase };
  if (typeof spec === 'string') return { ...base, file: spec, args: [], shell: true };
  const [file, ...args] = spec;
  return { ...base, file: file!, args };
}

/**
 * A command as its label names it in errors, records, the lock and notifications: whole, never cut (two
 * commands alike in their first characters would read the same, and the rollback policy compares the
 * failures they name). A script's lines are joined with ↵. Only the live view cuts it to the terminal's
 * width, with an ellipsis.
 */
function describeSpec(spec: CommandSpec): string {
  if (typeof spec !== 'string') return formatArgv(spec);
  return spec
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ↵ ');
}

export function planShellDeploy(input: PlanInput): Command[] {
  const commands = (input.config.commands as CommandSpec[] | undefined) ?? [];
  return commands.map((spec, i) => commandFromSpec(spec, input, 'deploy', `command ${i + 1}/${commands.length}: ${describeSpec(spec)}`));
}

function planShellDestroy(input: PlanInput): Command[] {
  const commands = (input.config.destroy_commands as CommandSpec[] | undefined) ?? [];
  return commands.map((spec, i) => commandFromSpec(spec, input, 'deploy', `destroy command ${i + 1}/${commands.length}: ${describeSpec(spec)}`));
}

export function planHooks(input: PlanInput, phase: 'pre_deploy' | 'post_deploy'): Command[] {
  const hooks = input.config.hooks?.[phase] ?? [];
  return hooks.map((spec, i) => commandFromSpec(spec, input, phase, `${phase} hook ${i + 1}/${hooks.length}: ${describeSpec(spec)}`));
}

export const shellExecutor: Executor = {
  type: 'shell',
  tools: () => [],
  async plan(input) {
    return { commands: planShellDeploy(input), artifacts: {}, notes: [] };
  },
  async planDestroy(input) {
    return { commands: planShellDestroy(input), artifacts: {}, notes: [] };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { shellSettings, type ShellSettings } from './settings/shell.js';
