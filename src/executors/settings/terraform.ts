// terraform: the var file, extra variables, the variable receiving the version, the workspace.
import { duration, names, scalar, type ExecutorSettings } from './parts.js';

export interface TerraformSettings {
  var_file?: string;
  var_files?: string[];
  vars?: Record<string, unknown>;
  /** The variable that receives the version; false for none. */
  version_var?: string | false;
  targets?: string | string[];
  backend_config?: string | string[] | Record<string, string | number | boolean>;
  lock_timeout?: string | number;
  auto_approve?: boolean;
  workspace?: string;
}

export const terraformSettings: ExecutorSettings = {
  type: 'terraform',
  schema: {
    var_file: { type: 'string', description: 'a .tfvars file, relative to path' },
    var_files: names('.tfvars files, in order, relative to path; their content is kept in the record and a rollback plans from it'),
    vars: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'array', 'object'] }, description: 'terraform variables (strings, numbers, lists, maps), passed as TF_VAR_<name>' },
    // Checked by the executor (a name, or false).
    version_var: { type: ['string', 'boolean'], description: 'the variable that receives the version (app_version when declared); false for none' },
    targets: { type: ['string', 'array'], items: { type: 'string' }, description: '-target addresses for this run (not carried into rollbacks)' },
    backend_config: { type: ['string', 'array', 'object'], items: { type: 'string' }, additionalProperties: scalar, description: 'init -backend-config: a file, a list of files or KEY=VALUE, or a map' },
    lock_timeout: { ...duration, description: '-lock-timeout for plan and apply' },
    auto_approve: { type: 'boolean', description: 'apply the plan without asking' },
    workspace: { type: 'string' },
  },
  paths: [
    { key: 'var_file', kind: 'file', base: 'app' },
    { key: 'var_files', kind: 'file', base: 'app' },
  ],
};
