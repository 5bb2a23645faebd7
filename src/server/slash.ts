// A Slack slash command's text, read as a deployctl command line. Only the words below are taken, each
// checked like the CLI checks them; no flag ever comes from Slack, so a message cannot reach --set,
// --config-dir, --home or anything else.
import { assertName } from '../names.js';

export type SlashCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'status'; app?: string }
  | { kind: 'history'; app: string; env: string }
  | { kind: 'diff'; from: string; to: string; app?: string }
  | { kind: 'deploy'; app: string; env: string; version: string }
  | { kind: 'promote'; app: string; env?: string }
  | { kind: 'rollback'; app: string; env: string; to?: string };

export type MutatingCommand = Extract<SlashCommand, { kind: 'deploy' | 'promote' | 'rollback' }>;

export const USAGE = [
  '`list`: apps × environments and what runs there',
  '`status [app]`: what version runs where',
  '`history <app> <env>`: the last deployments',
  '`diff <src-env> <dst-env> [app]`: what differs between two environments',
  '`deploy <app> <env> <version>`',
  '`promote <app> [env]`: the version that succeeded in the environment before',
  '`rollback <app> <env> [record-or-version]`',
  '`help`',
];

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}(@sha256:[a-f0-9]{64})?$/;
const RECORD_OR_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+:-]{0,199}$/;

export class SlashError extends Error {}

export function parseSlash(text: string): SlashCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', ...rest] = words;
  const flag = rest.find((w) => w.startsWith('-'));
  if (flag) throw new SlashError(`options are not taken from Slack (${flag})`);
  const arity = (min: number, max: number, shape: string) => {
    if (rest.length < min || rest.length > max) throw new SlashError(`usage: \`${verb} ${shape}\``);
  };
  const name = (kind: 'app' | 'environment', value: string) => {
    try {
      assertName(kind, value);
    } catch (error) {
      throw new SlashError((error as Error).message);
    }
    return value;
  };
  switch (verb.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'list':
      arity(0, 0, '');
      return { kind: 'list' };
    case 'status':
      arity(0, 1, '[app]');
      return { kind: 'status', app: rest[0] === undefined ? undefined : name('app', rest[0]) };
    case 'history':
      arity(2, 2, '<app> <env>');
      return { kind: 'history', app: name('app', rest[0]!), env: name('environment', rest[1]!) };
    case 'diff':
      arity(2, 3, '<src-env> <dst-env> [app]');
      return { kind: 'diff', from: name('environment', rest[0]!), to: name('environment', rest[1]!), app: rest[2] === undefined ? undefined : name('app', rest[2]) };
    case 'deploy':
      arity(3, 3, '<app> <env> <version>');
      if (!VERSION.test(rest[2]!)) throw new SlashError(`${JSON.stringify(rest[2])} is not a version: letters, digits and . _ + - (at most 128)`);
      return { kind: 'deploy', app: name('app', rest[0]!), env: name('environment', rest[1]!), version: rest[2]! };
    case 'promote':
      arity(1, 2, '<app> [env]');
      return { kind: 'promote', app: name('app', rest[0]!), env: rest[1] === undefined ? undefined : name('environment', rest[1]) };
    case 'rollback':
      arity(2, 3, '<app> <env> [record-or-version]');
      if (rest[2] !== undefined && !RECORD_OR_VERSION.test(rest[2])) throw new SlashError(`${JSON.stringify(rest[2])} is neither a record id nor a version`);
      return { kind: 'rollback', app: name('app', rest[0]!), env: name('environment', rest[1]!), to: rest[2] };
    default:
      throw new SlashError(`unknown command ${JSON.stringify(verb)}`);
  }
}

export function isMutating(command: SlashCommand): command is MutatingCommand {
  return command.kind === 'deploy' || command.kind === 'promote' || command.kind === 'rollback';
}

/** The deployctl arguments that do what the command asks (global flags are added by the job runner). */
export function argvOf(command: SlashCommand): string[] {
  switch (command.kind) {
    case 'help':
      return ['--help'];
    case 'list':
      return ['list'];
    case 'status':
      return ['status', ...(command.app ? [command.app] : [])];
    case 'history':
      return ['history', command.app, '-e', command.env, '--limit', '10'];
    case 'diff':
      return ['diff', command.from, command.to, ...(command.app ? [command.app] : [])];
    case 'deploy':
      return ['deploy', command.app, '-e', command.env, '--version', command.version];
    case 'promote':
      return ['promote', command.app, ...(command.env ? ['--to', command.env] : [])];
    case 'rollback':
      return ['rollback', command.app, '-e', command.env, ...(command.to ? ['--to', command.to] : [])];
  }
}

/** "deploy web prod 1.4.2", for messages. */
export function describe(command: SlashCommand): string {
  return [command.kind, ...argvOf(command).slice(1).filter((a) => !a.startsWith('-'))].join(' ');
}
