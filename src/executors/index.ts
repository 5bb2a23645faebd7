// The executors by type, each loaded only when a deployment needs it.
import type { AppType } from '../config/types.js';
import type { Executor } from './types.js';

const modules: Record<AppType, [file: string, exported: string]> = {
  shell: ['shell', 'shellExecutor'],
  'docker-compose': ['docker-compose', 'dockerComposeExecutor'],
  docker: ['docker', 'dockerExecutor'],
  kubernetes: ['kubernetes', 'kubernetesExecutor'],
  terraform: ['terraform', 'terraformExecutor'],
  ansible: ['ansible', 'ansibleExecutor'],
};

export async function getExecutor(type: AppType): Promise<Executor> {
  const [file, exported] = modules[type];
  const module = (await import(`./${file}.js`)) as Record<string, Executor>;
  return module[exported]!;
}
