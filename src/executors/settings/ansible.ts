// ansible: the playbook, its inventory, vault password and extra vars files, and how it runs.
import type { ExecutorSettings } from './parts.js';

export interface AnsibleSettings {
  inventory?: string;
  playbook: string;
  vault_password_file?: string;
  extra_vars_file?: string;
  limit?: string;
  tags?: string;
  check?: boolean;
}

export const ansibleSettings: ExecutorSettings = {
  type: 'ansible',
  schema: {
    inventory: { type: 'string', description: 'inventory (a file or folder, relative to path), or a host list like "localhost,"' },
    playbook: { type: 'string', description: 'playbook, relative to path' },
    vault_password_file: { type: 'string' },
    extra_vars_file: { type: 'string' },
    limit: { type: 'string' },
    tags: { type: 'string' },
    check: { type: 'boolean', description: 'run with --check --diff' },
  },
  paths: [
    { key: 'playbook', kind: 'file', base: 'app' },
    { key: 'vault_password_file', kind: 'file', base: 'app' },
    { key: 'extra_vars_file', kind: 'file', base: 'app' },
  ],
  // An inventory is a file or folder, or a host list with a comma ("localhost,"), which is no path.
  resolve(c, resolvePath) {
    if (typeof c.inventory === 'string' && !c.inventory.includes(',')) c.inventory = resolvePath(c.inventory);
  },
  impliedPaths: (c) => (typeof c.inventory === 'string' && !c.inventory.includes(',') ? [['inventory', c.inventory, 'file or folder']] : []),
  missing: (c) => (c.playbook ? undefined : 'an ansible app needs playbook:'),
};
