// terraform: the var file, extra variables, the variable receiving the version, the workspace.
import { stringMap, type ExecutorSettings } from './parts.js';

export interface TerraformSettings {
  var_file?: string;
  vars?: Record<string, string | number | boolean>;
  version_var?: string;
  auto_approve?: boolean;
  workspace?: string;
}

export const terraformSettings: ExecutorSettings = {
  type: 'terraform',
  schema: {
    var_file: { type: 'string', description: 'a .tfvars file, relative to path' },
    vars: stringMap('more -var values'),
    version_var: { type: 'string', description: 'the terraform variable that receives the version (app_version)' },
    auto_approve: { type: 'boolean', description: 'apply the plan without asking' },
    workspace: { type: 'string' },
  },
  paths: [{ key: 'var_file', kind: 'file', base: 'app' }],
};
