// kubernetes: render the manifests (${version} and friends) into the record, `kubectl apply -f -` with
// the rendered text on stdin, then `kubectl rollout status` for every workload applied. A rollback
// re-applies the stored rendered text, byte for byte, not today's files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from '../vendor/yaml.js';
import { ConfigError } from '../errors.js';
import { interpolateString } from '../config/interpolate.js';
import type { Command, Executor, PlanInput } from './types.js';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** The manifests with ${version}, ${app}, ${env}, ${namespace} and the variables filled in. */
export function renderManifests(input: PlanInput): string {
  const config = input.config;
  const values: Record<string, string> = {
    ...config.variables,
    app: input.app,
    env: input.env,
    version: input.version,
    ...(config.namespace ? { namespace: String(config.namespace) } : {}),
  };
  const parts: string[] = [];
  for (const file of manifestFiles(String(config.manifests))) {
    const result = interpolateString(readFileSync(file, 'utf8'), (name) => values[name]);
    if (result.missing.length) {
      throw new ConfigError([{ file, message: `${result.missing.map((n) => `\${${n}}`).join(', ')} is not defined: set it in variables, or write $\${...} for a literal` }]);
    }
    parts.push(result.value.trim());
  }
  return `${parts.join('\n---\n')}\n`;
}

export function workloadsOf(rendered: string): Array<{ kind: string; name: string; namespace?: string }> {
  return parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
    .filter((d): d is { kind: string; metadata: { name: string; namespace?: string } } => Boolean(d?.kind && WORKLOADS.has(d.kind) && d.metadata?.name))
    .map((d) => ({ kind: d.kind, name: d.metadata.name, namespace: d.metadata.namespace }));
}

export function planKubernetesDeploy(input: PlanInput, rendered: string | undefined): Command[] {
  const config = input.config;
  const kubectl = input.tools.kubectl ?? 'kubectl';
  const target = (namespace?: string) => [
    ...(config.context ? ['--context', String(config.context)] : []),
    ...(namespace ?? config.namespace ? ['-n', String(namespace ?? config.namespace)] : []),
  ];
  const base = { cwd: config.path, env: input.childEnv, timeoutMs: config.timeout, mutates: true, phase: 'deploy' as const };
  if (rendered === undefined) {
    return [{ ...base, file: kubectl, args: [...target(), 'apply', '-k', String(config.kustomize)], label: 'kubectl apply -k' }];
  }
  const seconds = Math.max(1, Math.round(((config.rollout_timeout as number | undefined) ?? config.timeout) / 1000));
  return [
    { ...base, file: kubectl, args: [...target(), 'apply', '-f', '-'], input: rendered, label: 'kubectl apply' },
    ...workloadsOf(rendered).map((w) => ({
      ...base,
      file: kubectl,
      args: [...target(w.namespace), 'rollout', 'status', `${w.kind.toLowerCase()}/${w.name}`, `--timeout=${seconds}s`],
      label: `rollout status ${w.kind.toLowerCase()}/${w.name}`,
    })),
  ];
}

export const kubernetesExecutor: Executor = {
  type: 'kubernetes',
  tools: () => ['kubectl'],
  async plan(input) {
    const stored = input.artifacts?.manifests;
    const rendered = typeof stored === 'string' ? stored : input.config.manifests ? renderManifests(input) : undefined;
    const notes = rendered === undefined ? ['kustomize: the rendered output is not stored; a rollback re-applies the folder as it is then'] : [];
    return { commands: planKubernetesDeploy(input, rendered), artifacts: rendered === undefined ? {} : { manifests: rendered }, notes };
  },
};
