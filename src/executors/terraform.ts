// terraform: init, plan to a file with the version as a variable, show the plan, apply exactly that
// plan (with auto_approve, --yes, or a confirmation). The outputs are kept in the record. A dry run
// runs init and plan, which change nothing, and stops there: it neither creates nor selects the
// workspace (plan reads an existing one through TF_WORKSPACE; one that is not there would be created
// by planning it, so then the dry run stops after init). The plan file is removed at the end.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import { failureReason, type Command, type Executor, type PlanInput, type PrepareResult, type RunResult, type Runner } from './types.js';

/** One plan file per run (dry runs, which share a record id, too); removed when the run ends. */
const planFileOf = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}.tfplan`);
const workspaceOf = (config: AppConfig) => (config.workspace ? String(config.workspace) : undefined);

function base(input: PlanInput) {
  const env = { ...input.childEnv, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  return { file: input.tools.terraform ?? 'terraform', cwd: input.config.path, env, timeoutMs: input.config.timeout, phase: 'deploy' as const };
}

const initCommand = (input: PlanInput): Command => ({ ...base(input), args: ['init', '-input=false', '-no-color'], mutates: false, label: 'terraform init' });

/** A dry run's plan cannot run when the workspace is not there: planning it would create it. */
const workspaceMissing = (input: PlanInput) => input.dryRun && workspaceOf(input.config) !== undefined && input.artifacts?.workspace_exists === false;

export function planTerraformDeploy(input: PlanInput): Command[] {
  const config = input.config;
  const planFile = planFileOf(input);
  const common = base(input);
  const versionVar = String(config.version_var ?? 'app_version');
  const vars = Object.entries((config.vars ?? {}) as Record<string, unknown>).flatMap(([k, v]) => ['-var', `${k}=${String(v)}`]);
  const workspace = workspaceOf(config);
  const commands: Command[] = [initCommand(input)];
  // It can create the workspace, and it changes which one the folder has selected: a dry run skips it.
  if (workspace) commands.push({ ...common, args: ['workspace', 'select', '-no-color', '-or-create', workspace], mutates: true, label: 'terraform workspace' });
  // A dry run plans the workspace without selecting it.
  const planEnv = input.dryRun && workspace ? { ...common.env, TF_WORKSPACE: workspace } : common.env;
  const readOnly = !workspaceMissing(input);
  commands.push(
    {
      ...common,
      env: planEnv,
      args: ['plan', '-input=false', '-no-color', `-out=${planFile}`, ...(config.var_file ? [`-var-file=${String(config.var_file)}`] : []), '-var', `${versionVar}=${input.version}`, ...vars],
      mutates: !readOnly,
      label: 'terraform plan',
    },
    { ...common, args: ['show', '-no-color', planFile], mutates: !readOnly, label: 'terraform show' },
    {
      ...common,
      args: ['apply', '-input=false', '-no-color', planFile],
      mutates: true,
      needsApproval: config.auto_approve !== true,
      label: 'terraform apply',
    },
  );
  return commands;
}

/** In a dry run with a workspace: init (listing a backend's workspaces needs it), then whether it is there. */
async function findWorkspace(input: PlanInput, runner: Runner): Promise<PrepareResult | undefined> {
  const workspace = workspaceOf(input.config);
  if (!input.dryRun || !workspace) return undefined;
  const init = await runner.run(initCommand(input));
  if (init.exitCode !== 0) return { ok: false, message: `terraform init failed: ${failureReason(init)}` };
  const list = await runner.run({ ...base(input), args: ['workspace', 'list'], mutates: false, label: 'terraform workspace list' });
  if (list.exitCode !== 0) return { ok: false, message: `terraform workspace list failed: ${failureReason(list)}` };
  const exists = list.stdout.split('\n').some((line) => line.replace(/^\*/, '').trim() === workspace);
  return { ok: true, artifacts: { workspace_exists: exists }, message: `terraform workspace list: ${workspace} ${exists ? 'exists' : 'does not exist'}` };
}

export const terraformExecutor: Executor = {
  type: 'terraform',
  tools: () => ['terraform'],
  prepare: findWorkspace,
  async plan(input) {
    const config = input.config;
    const workspace = workspaceOf(config);
    const dryRunNotes = workspaceMissing(input)
      ? [`dry run: workspace ${workspace} does not exist, and planning it would create it: only terraform init runs. A real deploy creates it (workspace select -or-create) and plans from its empty state`]
      : [`dry run: terraform init and plan run (they change nothing${workspace ? `; plan reads workspace ${workspace} through TF_WORKSPACE, without selecting it` : ''}); apply is skipped`];
    return {
      commands: planTerraformDeploy(input),
      artifacts: {
        variables: { [String(config.version_var ?? 'app_version')]: input.version, ...((config.vars ?? {}) as object) },
        var_file: config.var_file ?? null,
      },
      notes: input.dryRun ? dryRunNotes : [],
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
    if (result.exitCode !== 0) return { ok: false, message: `terraform output failed: ${failureReason(result)}` };
    try {
      const outputs = JSON.parse(result.stdout || '{}') as Record<string, { value: unknown; sensitive?: boolean }>;
      const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.sensitive ? '***' : v.value]));
      return { ok: true, message: `${Object.keys(values).length} outputs`, artifacts: { outputs: values } };
    } catch {
      return { ok: false, message: 'terraform output -json did not print JSON' };
    }
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { terraformSettings, type TerraformSettings } from './settings/terraform.js';
