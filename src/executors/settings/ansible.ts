// ansible: the playbook, its inventory, vault password and extra vars files, and how it runs.
import type { ExecutorSettings } from './parts.js';

export interface AnsibleSettings {
  /** A path (file or folder), an inline host list ("web1,web2,"), or a list of them. */
  inventory?: string | string[];
  playbook: string;
  /** The playbook `deployctl destroy` runs, with the same inventory and extra vars. */
  destroy_playbook?: string;
  vault_password_file?: string;
  extra_vars_file?: string;
  /** A map of extra vars, or a list of var files (-e @file). */
  extra_vars?: Record<string, unknown> | string[];
  limit?: string | string[];
  tags?: string | string[];
  skip_tags?: string | string[];
  become?: boolean;
  become_user?: string;
  verbosity?: number;
  diff?: boolean;
  check?: boolean;
  /** The extra var that receives the version (version); false for none. */
  version_var?: string | false;
}

export const ansibleSettings: ExecutorSettings = {
  type: 'ansible',
  schema: {
    inventory: { type: ['string', 'array'], items: { type: 'string' }, description: 'inventory path (relative to path) or inline host list ("web1,web2,"), or a list of them' },
    playbook: { type: 'string', description: 'playbook, relative to path' },
    destroy_playbook: { type: 'string', description: 'the playbook `deployctl destroy` runs (same inventory, extra vars and version variable), relative to path' },
    vault_password_file: { type: 'string' },
    extra_vars_file: { type: 'string' },
    extra_vars: { type: ['object', 'array'], items: { type: 'string' }, description: 'a map of extra vars (passed in a private file), or a list of var files (-e @file), relative to path' },
    limit: { type: ['string', 'array'], items: { type: 'string' }, description: '--limit for this run (not carried into rollbacks)' },
    tags: { type: ['string', 'array'], items: { type: 'string' }, description: '--tags for this run (not carried into rollbacks)' },
    skip_tags: { type: ['string', 'array'], items: { type: 'string' }, description: '--skip-tags for this run (not carried into rollbacks)' },
    become: { type: 'boolean', description: '--become' },
    become_user: { type: 'string', description: '--become-user' },
    verbosity: { type: 'integer', minimum: 0, maximum: 6, description: 'how many -v' },
    diff: { type: 'boolean', description: '--diff' },
    check: { type: 'boolean', description: 'every run is a --check --diff run: it changes nothing and is not recorded as a deploy' },
    version_var: { type: ['string', 'boolean'], description: 'the extra var that receives the version (version); false for none' },
  },
  paths: [
    { key: 'playbook', kind: 'file', base: 'app' },
    { key: 'destroy_playbook', kind: 'file', base: 'app' },
    { key: 'vault_password_file', kind: 'file', base: 'app' },
    { key: 'extra_vars_file', kind: 'file', base: 'app' },
  ],
  // An inventory is a file or folder, or a host list with a comma ("localhost,"), which is no path.
  resolve(c, resolvePath) {
    const one = (v: unknown) => (typeof v === 'string' && !v.includes(',') ? resolvePath(v) : v);
    if (Array.isArray(c.inventory)) c.inventory = c.inventory.map(one);
    else c.inventory = one(c.inventory);
    // extra_vars as a list names var files; as a map it is the variables themselves.
    if (Array.isArray(c.extra_vars)) c.extra_vars = c.extra_vars.map((f: unknown) => (typeof f === 'string' ? resolvePath(f) : f));
  },
  impliedPaths: (c) => {
    const out: Array<[string, string, 'file' | 'file or folder']> = [];
    const inventories = Array.isArray(c.inventory) ? c.inventory : [c.inventory];
    inventories.forEach((v, i) => {
      if (typeof v === 'string' && !v.includes(',')) out.push([Array.isArray(c.inventory) ? `inventory.${i}` : 'inventory', v, 'file or folder']);
    });
    if (Array.isArray(c.extra_vars)) c.extra_vars.forEach((f: unknown, i: number) => typeof f === 'string' && out.push([`extra_vars.${i}`, f, 'file']));
    return out;
  },
  missing: (c) => (c.playbook ? undefined : 'an ansible app needs playbook:'),
  destroyMissing: (c) =>
    c.destroy_playbook ? undefined : { key: 'destroy_playbook', message: 'nothing to destroy it with: add destroy_playbook: (a playbook that tears it down, relative to path:) to this app' },
};
