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
}

export const shellSettings: ExecutorSettings = {
  type: 'shell',
  schema: {
    commands: { type: 'array', items: commandSchema, minItems: 1, description: 'the commands, in order' },
  },
  paths: [],
  missing: (c) => (Array.isArray(c.commands) && c.commands.length ? undefined : 'a shell app needs commands: (a list of argv arrays or strings)'),
};
