// Each executor type's settings: the JSON Schema fragment of its keys, its paths, what it needs.
import type { AppType } from '../../config/types.js';
import { ansibleSettings } from './ansible.js';
import { dockerComposeSettings } from './docker-compose.js';
import { dockerSettings } from './docker.js';
import { kubernetesSettings } from './kubernetes.js';
import type { ExecutorSettings } from './parts.js';
import { shellSettings } from './shell.js';
import { terraformSettings } from './terraform.js';

export const EXECUTOR_SETTINGS: Record<AppType, ExecutorSettings> = {
  'docker-compose': dockerComposeSettings,
  docker: dockerSettings,
  kubernetes: kubernetesSettings,
  terraform: terraformSettings,
  ansible: ansibleSettings,
  shell: shellSettings,
};

export type { ExecutorSettings, JsonSchema, PathSetting } from './parts.js';
export { commandSchema } from './shell.js';
export { duration, envMap, names, scalar, stringMap } from './parts.js';
