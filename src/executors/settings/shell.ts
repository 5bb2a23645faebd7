// shell: `commands:`, each an argv array run directly or a string run by the system shell as written.
import type { CommandSpec } from '../../config/types.js';
import type { ExecutorSettings, JsonSchema } from './parts.js';

export const commandSchema: JsonSchema = {
  type: ['array', 'string'],
  items: { type: 'string' },
  minItems: 1,
  description: 'an argv array run directly (["npm", "run", "migrate"]), or a string run by the system shell as written',
};

export interface ShellSettings {
  commands: CommandSpec[];
  /** What `deployctl destroy` runs, the same way. */
  destroy_commands?: CommandSpec[];
}

export const shellSettings: ExecutorSettings = {
  type: 'shell',
  schema: {
    commands: { type: 'array', items: commandSchema, minItems: 1, description: 'the commands, in order' },
    destroy_commands: { type: 'array', items: commandSchema, minItems: 1, description: 'what `deployctl destroy` runs, in order, the same way (DEPLOY_VERSION is the running version)' },
  },
  paths: [],
  missing: (c) => (Array.isArray(c.commands) && c.commands.length ? undefined : 'a shell app needs commands: (a list of argv arrays or strings)'),
  destroyMissing: (c) =>
    Array.isArray(c.destroy_commands) && c.destroy_commands.length
      ? undefined
      : { key: 'destroy_commands', message: 'nothing to destroy it with: add destroy_commands: (a list of argv arrays or strings, like commands:) to this app' },
};
