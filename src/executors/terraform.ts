// terraform: init, plan to a file with the version as a variable, show the plan, apply exactly that
// plan (with auto_approve, --yes, or a confirmation). The outputs are kept in the record. A dry run
// runs init and plan, which change nothing, and stops there. The plan file is removed at the end.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Executor, PlanInput, RunResult } from './types.js';

/** One plan file per run (dry runs, which share a record id, too); removed when the run ends. */
const planFileOf = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}.tfplan`);

export function planTerraformDeploy(input: PlanInput): Command[] {
  const config = input.config;
  const terraform = input.tools.terraform ?? 'terraform';
  const planFile = planFileOf(input);
  const env = { ...input.childEnv, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  const base = { cwd: config.path, env, timeoutMs: config.timeout, phase: 'deploy' as const };
  const versionVar = String(config.version_var ?? 'app_version');
  const vars = Object.entries((config.vars ?? {}) as Record<string, unknown>).flatMap(([k, v]) => ['-var', `${k}=${String(v)}`]);
  const commands: Command[] = [{ ...base, file: terraform, args: ['init', '-input=false', '-no-color'], mutates: false, label: 'terraform init' }];
  if (config.workspace) {
    commands.push({ ...base, file: terraform, args: ['workspace', 'select', '-no-color', '-or-create', String(config.workspace)], mutates: false, label: 'terraform workspace' });
  }
  commands.push(
    {
      ...base,
      file: terraform,
      args: ['plan', '-input=false', '-no-color', `-out=${planFile}`, ...(config.var_file ? [`-var-file=${String(config.var_file)}`] : []), '-var', `${versionVar}=${input.version}`, ...vars],
      mutates: false,
      label: 'terraform plan',
    },
    { ...base, file: terraform, args: ['show', '-no-color', planFile], mutates: false, label: 'terraform show' },
    {
      ...base,
      file: terraform,
      args: ['apply', '-input=false', '-no-color', planFile],
      mutates: true,
      needsApproval: config.auto_approve !== true,
      label: 'terraform apply',
    },
  );
  return commands;
}

export const terraformExecutor: Executor = {
  type: 'terraform',
  tools: () => ['terraform'],
  async plan(input) {
    const config = input.config;
    return {
      commands: planTerraformDeploy(input),
      artifacts: {
        variables: { [String(config.version_var ?? 'app_version')]: input.version, ...((config.vars ?? {}) as object) },
        var_file: config.var_file ?? null,
      },
      notes: input.dryRun ? ['dry run: terraform init and plan run (they change nothing); apply is skipped'] : [],
    };
  },
  async cleanup(input) {
    // The plan holds the variables' values: it does not outlive the run.
    rmSync(planFileOf(input), { force: true });
  },
  async verify(input, runner, _results: RunResult[]) {
    const result = await runner.run({
      file: input.tools.terraform ?? 'terraform',
      args: ['output', '-json', '-no-color'],
      cwd: input.config.path,
      env: { ...input.childEnv, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
      timeoutMs: input.config.timeout,
      mutates: false,
      label: 'terraform output',
      phase: 'verify',
    });
    if (result.exitCode !== 0) return { ok: false, message: `terraform output failed: exit code ${result.exitCode}` };
    try {
      const outputs = JSON.parse(result.stdout || '{}') as Record<string, { value: unknown; sensitive?: boolean }>;
      const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.sensitive ? '***' : v.value]));
      return { ok: true, message: `${Object.keys(values).length} outputs`, artifacts: { outputs: values } };
    } catch {
      return { ok: false, message: 'terraform output -json did not print JSON' };
    }
  },
};
