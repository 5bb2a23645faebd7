// ansible: ansible-playbook with the version as an extra var (`version` unless version_var names
// another; false for none); a dry run is a real --check --diff run, and so is every run of an app with
// `check: true`, which is therefore never recorded as a deploy. Inventories are passed as written: a
// path (relative to the app's folder), an inline list of hosts ("web1,web2,"), or a list of either.
// extra_vars as a map reach ansible through a file only this user can read (never its command line),
// or as a list of var files. tags, skip_tags and limit narrow one run: a rollback runs the whole
// playbook. The PLAY RECAP is kept in the record, also of a failed run; any failed or unreachable host,
// or a play that matched no host, fails the deployment.
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { AppConfig } from '../config/types.js';
import { checkedVersionVar } from './tools.js';
import type { Command, Executor, PlanInput, RunResult } from './types.js';

const listOf = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** An inventory as ansible takes it: a comma means an inline host list, passed as written; else a path. */
const isInlineInventory = (inventory: string) => inventory.includes(',');

function inventoriesOf(config: AppConfig): string[] {
  return listOf(config.inventory).map((inv) => (isInlineInventory(inv) ? inv : resolve(config.path, inv)));
}

/** The extra var that receives the version: `version`, another name, or none (false). */
function ansibleVersionVar(config: AppConfig): string | undefined {
  return config.version_var === undefined ? 'version' : checkedVersionVar(config.version_var, 'ansible');
}

/** In a folder of its own for this command, which the runner makes before it and removes after it. */
const extraVarsPath = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}-ansible`, 'extra-vars.json');

const narrowing = (input: PlanInput) => input.action !== 'rollback' && input.action !== 'destroy';

export function planAnsibleDeploy(input: PlanInput): Command[] {
  const c = input.config;
  const check = input.dryRun || c.check === true;
  const versionVar = ansibleVersionVar(c);
  const extraVars = c.extra_vars;
  const varMap = extraVars && typeof extraVars === 'object' && !Array.isArray(extraVars) ? (extraVars as Record<string, unknown>) : undefined;
  const varFiles = [...listOf(c.extra_vars_file), ...(Array.isArray(extraVars) ? extraVars.map(String) : [])].map((f) => resolve(c.path, f));
  const files = varMap ? { [extraVarsPath(input)]: JSON.stringify(varMap) } : undefined;
  const verbosity = typeof c.verbosity === 'number' && c.verbosity > 0 ? [`-${'v'.repeat(Math.min(6, c.verbosity))}`] : [];
  const args = [
    ...inventoriesOf(c).flatMap((inv) => ['-i', inv]),
    resolve(c.path, String(input.action === 'destroy' ? c.destroy_playbook : c.playbook)),
    ...(versionVar ? ['-e', `${versionVar}=${input.version}`] : []),
    ...varFiles.flatMap((f) => ['-e', `@${f}`]),
    ...(files ? ['-e', `@${extraVarsPath(input)}`] : []),
    ...(c.vault_password_file ? ['--vault-password-file', String(c.vault_password_file)] : []),
    ...(narrowing(input) && c.limit ? ['--limit', listOf(c.limit).join(',')] : []),
    ...(narrowing(input) && c.tags ? ['--tags', listOf(c.tags).join(',')] : []),
    ...(narrowing(input) && c.skip_tags ? ['--skip-tags', listOf(c.skip_tags).join(',')] : []),
    ...(c.become === true ? ['--become'] : []),
    ...(c.become_user ? ['--become-user', String(c.become_user)] : []),
    ...verbosity,
    ...(check ? ['--check', '--diff'] : c.diff === true ? ['--diff'] : []),
  ];
  return [
    {
      file: input.tools['ansible-playbook'] ?? 'ansible-playbook',
      args,
      cwd: c.path,
      env: { ...input.childEnv, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_RETRY_FILES_ENABLED: '0' },
      timeoutMs: c.timeout,
      mutates: !check,
      label: `${input.action === 'destroy' ? 'destroy playbook' : 'ansible-playbook'}${check ? ' --check' : ''}`,
      phase: 'deploy',
      ...(files ? { files } : {}),
    },
  ];
}

type Recap = Record<string, Record<string, number>>;

export function parseRecap(output: string): Recap {
  const recap: Recap = {};
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return recap;
  for (const line of output.slice(at).split('\n').slice(1)) {
    const match = /^(\S+)\s*:\s*(.+)$/.exec(line.trim());
    if (!match) continue;
    const counts: Record<string, number> = {};
    for (const [, key, value] of match[2]!.matchAll(/(\w+)=(\d+)/g)) counts[key!] = Number(value);
    if (Object.keys(counts).length) recap[match[1]!] = counts;
  }
  return recap;
}

/** ansible's warning when a play's hosts pattern matched nothing: the play was skipped. */
const NO_HOSTS = /no hosts matched|provided hosts list is empty|Could not match supplied host pattern/i;

const outputOf = (results: RunResult[]) => results.map((r) => r.output).join('\n');

export const ansibleExecutor: Executor = {
  type: 'ansible',
  tools: () => ['ansible-playbook'],
  checkOnly: (config) => config.check === true,
  preflight(config) {
    ansibleVersionVar(config);
  },
  async plan(input) {
    const c = input.config;
    const notes: string[] = [];
    if (input.dryRun) notes.push(c.check === true ? 'check: true: ansible-playbook runs with --check --diff, changes nothing, and is not recorded as a deploy' : 'dry run: ansible-playbook runs with --check --diff');
    const narrowed = ['limit', 'tags', 'skip_tags'].filter((k) => c[k] !== undefined && c[k] !== null);
    if (input.action === 'rollback' && narrowed.length) notes.push(`${narrowed.join(', ')} narrowed the deploy; this rollback runs the whole playbook`);
    return { commands: planAnsibleDeploy(input), artifacts: {}, notes };
  },
  async planDestroy(input) {
    const c = input.config;
    const versionVar = ansibleVersionVar(c);
    const notes = [
      `destroy_playbook ${String(c.destroy_playbook)} with the inventory and extra vars of the deploy${versionVar ? `, ${versionVar}=${input.version}` : ''}`,
      ...(input.dryRun ? ['dry run: the destroy playbook runs with --check --diff'] : []),
    ];
    const narrowed = ['limit', 'tags', 'skip_tags'].filter((k) => c[k] !== undefined && c[k] !== null);
    if (narrowed.length) notes.push(`${narrowed.join(', ')} narrowed the deploy; the destroy playbook runs whole`);
    return { commands: planAnsibleDeploy({ ...input, action: 'destroy' }), artifacts: {}, notes };
  },
  async verifyDestroy(input, runner, results) {
    return ansibleExecutor.verify!(input, runner, results);
  },
  collect(results: RunResult[]) {
    const recap = parseRecap(outputOf(results));
    return Object.keys(recap).length ? { recap } : {};
  },
  async verify(_input, _runner, results: RunResult[]) {
    const output = outputOf(results);
    const recap = parseRecap(output);
    const bad = Object.entries(recap).filter(([, c]) => (c.failed ?? 0) > 0 || (c.unreachable ?? 0) > 0);
    if (bad.length) return { ok: false, message: `failed on ${bad.map(([h]) => h).join(', ')}` };
    if (Object.keys(recap).length === 0) {
      const why = output.split('\n').find((l) => NO_HOSTS.test(l))?.trim();
      const said = why?.replace(/^\[WARNING\]:\s*/, '').split('. ')[0]?.replace(/\.$/, '');
      return { ok: false, message: `the playbook ran on no host${said ? ` (${said})` : ''}: check inventory and limit, and the hosts: of its plays` };
    }
    return { ok: true, message: `${Object.keys(recap).length} host(s) ok` };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { ansibleSettings, type AnsibleSettings } from './settings/ansible.js';
