// ansible: ansible-playbook with the version as an extra var; a dry run is a real --check --diff run.
// The PLAY RECAP is kept in the record, also of a failed run; any failed or unreachable host fails
// the deployment.
import type { Command, Executor, PlanInput, RunResult } from './types.js';

export function planAnsibleDeploy(input: PlanInput): Command[] {
  const c = input.config;
  const check = input.dryRun || c.check === true;
  const args = [
    ...(c.inventory ? ['-i', String(c.inventory)] : []),
    String(c.playbook),
    '-e',
    `version=${input.version}`,
    ...(c.extra_vars_file ? ['-e', `@${String(c.extra_vars_file)}`] : []),
    ...(c.vault_password_file ? ['--vault-password-file', String(c.vault_password_file)] : []),
    ...(c.limit ? ['--limit', String(c.limit)] : []),
    ...(c.tags ? ['--tags', String(c.tags)] : []),
    ...(check ? ['--check', '--diff'] : []),
  ];
  return [
    {
      file: input.tools['ansible-playbook'] ?? 'ansible-playbook',
      args,
      cwd: c.path,
      env: { ...input.childEnv, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_RETRY_FILES_ENABLED: '0' },
      timeoutMs: c.timeout,
      mutates: !input.dryRun,
      label: check ? 'ansible-playbook --check' : 'ansible-playbook',
      phase: 'deploy',
    },
  ];
}

export type Recap = Record<string, Record<string, number>>;

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

const recapOf = (results: RunResult[]) => parseRecap(results.map((r) => r.output).join('\n'));

export const ansibleExecutor: Executor = {
  type: 'ansible',
  tools: () => ['ansible-playbook'],
  async plan(input) {
    return { commands: planAnsibleDeploy(input), artifacts: {}, notes: input.dryRun ? ['dry run: ansible-playbook runs with --check --diff'] : [] };
  },
  collect(results: RunResult[]) {
    const recap = recapOf(results);
    return Object.keys(recap).length ? { recap } : {};
  },
  async verify(_input, _runner, results: RunResult[]) {
    const recap = recapOf(results);
    const bad = Object.entries(recap).filter(([, c]) => (c.failed ?? 0) > 0 || (c.unreachable ?? 0) > 0);
    if (bad.length) return { ok: false, message: `failed on ${bad.map(([h]) => h).join(', ')}` };
    return { ok: true, message: `${Object.keys(recap).length} host(s) ok` };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { ansibleSettings, type AnsibleSettings } from './settings/ansible.js';
