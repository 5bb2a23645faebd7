// The executors by type, each loaded only when a deployment needs it.
import type { AppType } from '../config/types.js';
import type { Executor } from './types.js';

const loaders: Record<AppType, () => Promise<Executor>> = {
  shell: async () => (await import('./shell.js')).shellExecutor,
  'docker-compose': async () => (await import('./docker-compose.js')).dockerComposeExecutor,
  docker: async () => (await import('./docker.js')).dockerExecutor,
  kubernetes: async () => (await import('./kubernetes.js')).kubernetesExecutor,
  terraform: async () => (await import('./terraform.js')).terraformExecutor,
  ansible: async () => (await import('./ansible.js')).ansibleExecutor,
};

export function getExecutor(type: AppType): Promise<Executor> {
  return loaders[type]();
}
