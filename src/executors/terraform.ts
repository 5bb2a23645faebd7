// terraform: init, plan to a file, show the plan, apply exactly that plan (with auto_approve, --yes,
// or a confirmation). The outputs are kept in the record and given to post_deploy hooks as
// TF_OUTPUT_<name>. Values reach terraform through the environment (TF_VAR_<name>), never on its
// command line, where another local user could read them: `vars:` (strings, numbers, lists and maps)
// and the version (`version_var`, default app_version when the configuration declares it; false for
// none). The content of the var files is kept in the record: a rollback plans from that content, not
// from today's files. `targets` narrow one run and are not carried into rollbacks. A dry run runs
// init and plan, which change nothing, and stops there: it neither creates nor selects the workspace
// (plan reads an existing one through TF_WORKSPACE; one that is not there cannot be planned, so the
// dry run says so and ends unverified). The plan file sits in a private folder (mkdtemp, 0700),
// removed at the end.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { AppConfig } from '../config/types.js';
import { parseDuration } from '../config/duration.js';
import { ConfigError } from '../errors.js';
import { checkedVersionVar } from './tools.js';
import { failureReason, type Command, type Executor, type PlanInput, type PrepareResult, type RunResult, type Runner } from './types.js';

/** The private folder of each run's plan file, by record id (a dry run's too); removed by cleanup. */
const planDirs = new Map<string, string>();
function planFileOf(input: PlanInput): string {
  let dir = planDirs.get(input.recordId);
  if (!dir) {
    // mkdtemp: a fresh folder only this user can open, never a path another user could plant first.
    dir = mkdtempSync(join(tmpdir(), 'deployctl-tf-'));
    planDirs.set(input.recordId, dir);
  }
  return join(dir, 'deploy.tfplan');
}
const workspaceOf = (config: AppConfig) => (config.workspace ? String(config.workspace) : undefined);

/** A value as terraform reads it from TF_VAR_name: strings as they are, anything else as an HCL (JSON) expression. */
function tfVarValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Names of the variables the configuration in `dir` declares (`variable "name"` in its .tf files). */
function declaredVariables(dir: string): Set<string> {
  const names = new Set<string>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.tf'));
  } catch {
    return names;
  }
  for (const file of files) {
    try {
      for (const [, name] of readFileSync(join(dir, file), 'utf8').matchAll(/^\s*variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"/gm)) names.add(name!);
    } catch {
      // unreadable: terraform will say why
    }
  }
  return names;
}

/**
 * The variable that receives the version: version_var when set (false: none), else app_version when the
 * configuration declares it, else none.
 */
function versionVarOf(config: AppConfig): string | undefined {
  const setting = config.version_var;
  if (setting === false) return undefined;
  if (setting !== undefined) return checkedVersionVar(setting, 'terraform');
  return declaredVariables(config.path).has('app_version') ? 'app_version' : undefined;
}

const listOf = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** var_file and var_files, in order, as absolute paths. */
function varFilesOf(config: AppConfig): string[] {
  return [...listOf(config.var_file), ...listOf(config.var_files)].map((f) => resolve(config.path, f));
}

/** What a rollback re-applies: each var file's name and content, as it was. */
interface StoredVarFile {
  name: string;
  content: string;
}

function storedVarFiles(input: PlanInput): StoredVarFile[] | undefined {
  const stored = input.artifacts?.var_files;
  if (!Array.isArray(stored)) return undefined;
  return stored.filter((f): f is StoredVarFile => typeof f?.name === 'string' && typeof f?.content === 'string');
}

/** In a folder of its own for this command, which the runner makes before it and removes after it. */
const varFilesDir = (input: PlanInput) => join(tmpdir(), `deployctl-${input.recordId}-${process.pid}-tfvars`);

/** The environment of every terraform command: TF_VAR_ for the version and `vars:`. */
function terraformEnv(input: PlanInput): Record<string, string> {
  const versionVar = versionVarOf(input.config);
  const vars = Object.fromEntries(Object.entries((input.config.vars ?? {}) as Record<string, unknown>).map(([k, v]) => [`TF_VAR_${k}`, tfVarValue(v)]));
  return {
    ...input.childEnv,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    ...(versionVar ? { [`TF_VAR_${versionVar}`]: input.version } : {}),
    ...vars,
  };
}

function base(input: PlanInput) {
  return { file: input.tools.terraform ?? 'terraform', cwd: input.config.path, env: terraformEnv(input), timeoutMs: input.config.timeout, phase: 'deploy' as const };
}

function backendConfigArgs(config: AppConfig): string[] {
  const setting = config.backend_config;
  if (!setting) return [];
  if (Array.isArray(setting)) return setting.map((item) => `-backend-config=${String(item).includes('=') ? String(item) : resolve(config.path, String(item))}`);
  if (typeof setting === 'object') return Object.entries(setting as Record<string, unknown>).map(([k, v]) => `-backend-config=${k}=${tfVarValue(v)}`);
  return [`-backend-config=${resolve(config.path, String(setting))}`];
}

function lockTimeoutArgs(config: AppConfig): string[] {
  if (config.lock_timeout === undefined) return [];
  const ms = parseDuration(config.lock_timeout as string | number);
  if (ms === undefined) throw new ConfigError([{ path: 'lock_timeout', message: `"${String(config.lock_timeout)}" is not a duration: write it like 30s or 5m` }]);
  return [`-lock-timeout=${Math.round(ms / 1000)}s`];
}

// With backend_config, the backend is the one this environment's config names: -reconfigure, so that
// dev and qa deployed from one folder each init their own (without it, terraform refuses the second
// with "Backend configuration changed"). A state is never migrated between them.
const initCommand = (input: PlanInput): Command => ({
  ...base(input),
  args: ['init', '-input=false', '-no-color', ...(input.config.backend_config ? ['-reconfigure'] : []), ...backendConfigArgs(input.config)],
  mutates: false,
  label: 'terraform init',
});

/** A dry run's plan cannot run when the workspace is not there: planning it would create it. */
const workspaceMissing = (input: PlanInput) => input.dryRun && workspaceOf(input.config) !== undefined && input.artifacts?.workspace_exists === false;

/** targets narrow one run: a rollback re-applies the whole configuration. */
const targetsOf = (input: PlanInput) => (input.action === 'rollback' ? [] : listOf(input.config.targets));

/** The var files' arguments: from the content a record stored (written for the command alone), else today's files. */
function varFileArgsOf(input: PlanInput): { files?: Record<string, string>; args: string[] } {
  const stored = storedVarFiles(input);
  const files = stored?.length
    ? Object.fromEntries(stored.map((f, i) => [join(varFilesDir(input), `${i + 1}-${basename(f.name)}`), f.content]))
    : undefined;
  return { ...(files ? { files } : {}), args: (files ? Object.keys(files) : varFilesOf(input.config)).map((f) => `-var-file=${f}`) };
}

/**
 * `destroy`: init (with backend_config), the workspace selected (never created), `plan -destroy` (read-only:
 * what goes, shown before the approval), then `destroy -auto-approve` with the running version's variables:
 * TF_VAR_ for vars: and the version, the var files' content from its record. The destroy itself needs
 * approval like an apply (auto_approve, --yes, or a y in a terminal). A dry run runs init and the plan
 * (reading the workspace through TF_WORKSPACE) and shows the destroy. The state file stays (empty).
 */
function planTerraformDestroy(input: PlanInput): Command[] {
  const config = input.config;
  const common = base(input);
  const workspace = workspaceOf(config);
  const { files, args: varFileArgs } = varFileArgsOf(input);
  const lock = lockTimeoutArgs(config);
  const commands: Command[] = [initCommand(input)];
  if (workspace && !input.dryRun) commands.push({ ...common, args: ['workspace', 'select', '-no-color', workspace], mutates: true, label: 'terraform workspace' });
  const planEnv = input.dryRun && workspace ? { ...common.env, TF_WORKSPACE: workspace } : common.env;
  commands.push(
    {
      ...common,
      env: planEnv,
      args: ['plan', '-destroy', '-input=false', '-no-color', ...lock, ...varFileArgs],
      mutates: workspaceMissing(input),
      label: 'terraform plan -destroy',
      ...(files ? { files } : {}),
    },
    {
      ...common,
      args: ['destroy', '-auto-approve', '-input=false', '-no-color', ...lock, ...varFileArgs],
      mutates: true,
      needsApproval: config.auto_approve !== true,
      label: 'terraform destroy',
      ...(files ? { files } : {}),
    },
  );
  return commands;
}

export function planTerraformDeploy(input: PlanInput): Command[] {
  const config = input.config;
  const planFile = planFileOf(input);
  const common = base(input);
  const workspace = workspaceOf(config);
  const commands: Command[] = [initCommand(input)];
  // It can create the workspace, and it changes which one the folder has selected: a dry run skips it.
  if (workspace) commands.push({ ...common, args: ['workspace', 'select', '-no-color', '-or-create', workspace], mutates: true, label: 'terraform workspace' });
  // A dry run plans the workspace without selecting it.
  const planEnv = input.dryRun && workspace ? { ...common.env, TF_WORKSPACE: workspace } : common.env;
  // A rollback plans from the var files' content it stored, written for the plan command alone.
  const { files, args: varFileArgs } = varFileArgsOf(input);
  const lock = lockTimeoutArgs(config);
  // Without the workspace, plan cannot run in a dry run: shown, not run.
  const readOnly = !workspaceMissing(input);
  commands.push(
    {
      ...common,
      env: planEnv,
      args: ['plan', '-input=false', '-no-color', ...lock, `-out=${planFile}`, ...varFileArgs, ...targetsOf(input).map((t) => `-target=${t}`)],
      mutates: !readOnly,
      label: 'terraform plan',
      ...(files ? { files } : {}),
    },
    { ...common, args: ['show', '-no-color', planFile], mutates: !readOnly, label: 'terraform show' },
    {
      ...common,
      args: ['apply', '-input=false', '-no-color', ...lock, planFile],
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

/** The var files' content, read now, for the record. */
function readVarFiles(input: PlanInput): StoredVarFile[] {
  return varFilesOf(input.config).map((file) => {
    try {
      return { name: basename(file), content: readFileSync(file, 'utf8') };
    } catch (error) {
      throw new ConfigError([{ path: 'var_files', message: `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix var_file/var_files` }]);
    }
  });
}

/** TF_OUTPUT_<name> for each output that is not sensitive: strings as they are, anything else as JSON. */
export function outputEnv(outputs: Record<string, { value: unknown; sensitive?: boolean }>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([name, o]) => !o.sensitive && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      .map(([name, o]) => [`TF_OUTPUT_${name}`, tfVarValue(o.value)]),
  );
}

export const terraformExecutor: Executor = {
  type: 'terraform',
  tools: () => ['terraform'],
  prepare: findWorkspace,
  preflight(config, artifacts) {
    versionVarOf(config);
    lockTimeoutArgs(config);
    if (!Array.isArray(artifacts?.var_files)) {
      for (const file of varFilesOf(config)) {
        if (!existsSync(file)) throw new ConfigError([{ path: 'var_files', message: `${file} does not exist` }], 'fix var_file/var_files (relative to path:)');
      }
    }
  },
  async plan(input) {
    const config = input.config;
    const workspace = workspaceOf(config);
    const versionVar = versionVarOf(config);
    const stored = storedVarFiles(input);
    const varFiles = stored ?? readVarFiles(input);
    const missing = workspaceMissing(input);
    const notes: string[] = [];
    if (input.dryRun) {
      notes.push(
        missing
          ? `dry run: could not plan: workspace ${workspace} does not exist yet, and planning it would create it; only terraform init ran. A real deploy creates it (workspace select -or-create) and plans from its empty state`
          : `dry run: terraform init and plan run (they change nothing${workspace ? `; plan reads workspace ${workspace} through TF_WORKSPACE, without selecting it` : ''}); apply is skipped`,
      );
    }
    if (stored?.length) notes.push(`planning with the var files stored in the record: ${stored.map((f) => f.name).join(', ')}`);
    if (input.action === 'rollback' && listOf(config.targets).length) notes.push(`targets (${listOf(config.targets).join(', ')}) narrowed the deploy; this rollback plans the whole configuration`);
    if (!versionVar) notes.push('the version is not passed to terraform (no app_version variable declared, or version_var: false)');
    return {
      commands: planTerraformDeploy(input),
      artifacts: {
        variables: { ...(versionVar ? { [versionVar]: input.version } : {}), ...((config.vars ?? {}) as object) },
        var_files: varFiles,
      },
      notes,
      ...(missing ? { unverified: `could not plan: workspace ${workspace} does not exist yet` } : {}),
    };
  },
  async planDestroy(input) {
    const stored = storedVarFiles(input);
    const workspace = workspaceOf(input.config);
    const notes = [
      `terraform destroy with the variables of ${input.version}${stored?.length ? ` and the var files stored in its record: ${stored.map((f) => f.name).join(', ')}` : ''}; the state file stays, empty`,
    ];
    if (workspaceMissing(input)) notes.push(`workspace ${workspace} does not exist: there is nothing in it to destroy`);
    if (listOf(input.config.targets).length) notes.push(`targets (${listOf(input.config.targets).join(', ')}) narrowed the deploy; destroy takes down the whole configuration`);
    return { commands: planTerraformDestroy(input), artifacts: { ...(stored ? { var_files: stored } : {}) }, notes };
  },
  async verifyDestroy(input, runner) {
    // What terraform still tracks: nothing, once destroyed.
    const workspace = workspaceOf(input.config);
    const result = await runner.run({
      file: input.tools.terraform ?? 'terraform',
      args: ['state', 'list'],
      cwd: input.config.path,
      env: { ...input.childEnv, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...(workspace ? { TF_WORKSPACE: workspace } : {}) },
      timeoutMs: input.config.timeout,
      mutates: false,
      label: 'terraform state list',
      phase: 'verify',
    });
    if (result.exitCode !== 0) return { ok: false, message: `terraform state list failed: ${failureReason(result)}` };
    const left = result.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    return left.length ? { ok: false, message: `terraform still tracks ${left.join(', ')}` } : { ok: true, message: 'terraform tracks no resource' };
  },
  async cleanup(input) {
    // The plan holds the variables' values: it does not outlive the run.
    const dir = planDirs.get(input.recordId);
    if (dir) rmSync(dir, { recursive: true, force: true });
    planDirs.delete(input.recordId);
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
      return { ok: true, message: `${Object.keys(values).length} outputs`, artifacts: { outputs: values }, env: outputEnv(outputs) };
    } catch {
      return { ok: false, message: 'terraform output -json did not print JSON' };
    }
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { terraformSettings, type TerraformSettings } from './settings/terraform.js';
