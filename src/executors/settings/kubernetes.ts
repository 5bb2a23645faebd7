// kubernetes: the manifests (or a kustomize folder), and where they are applied.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { duration, type ExecutorSettings } from './parts.js';

export interface KubernetesSettings {
  manifests?: string;
  kustomize?: string;
  context?: string;
  namespace?: string;
  /** Milliseconds once loaded. */
  rollout_timeout?: number;
  /** false: the manifests are applied as written, nothing filled in. */
  interpolate?: boolean;
}

export const kubernetesSettings: ExecutorSettings = {
  type: 'kubernetes',
  schema: {
    manifests: { type: 'string', description: 'a manifest file or a folder of them, relative to deployments.yaml' },
    kustomize: { type: 'string', description: 'a kustomize folder, relative to deployments.yaml' },
    context: { type: 'string', description: 'kube context' },
    namespace: { type: 'string', description: 'namespace' },
    rollout_timeout: duration,
    interpolate: { type: 'boolean', description: "fill ${app}, ${env}, ${version}, ${namespace} and the variables into the manifests (true); false applies them as written" },
  },
  paths: [
    { key: 'manifests', kind: 'file or folder', base: 'config' },
    { key: 'kustomize', kind: 'folder', base: 'config' },
  ],
  // Seed 004's shape: a kubernetes app whose `path` is its manifests folder (or a kustomize folder).
  resolve(c, _resolvePath, pathGiven) {
    if (c.manifests || c.kustomize || !pathGiven || !existsSync(c.path)) return;
    const isKustomize = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => existsSync(join(c.path, f)));
    c[isKustomize ? 'kustomize' : 'manifests'] = c.path;
  },
  missing: (c) => (c.manifests || c.kustomize ? undefined : 'a kubernetes app needs manifests: (a file or folder), kustomize: (a folder) or a path: holding either'),
};
