// kubernetes: render the manifests (${version} and friends) into the record, `kubectl apply -f -` with
// the rendered text on stdin, then `kubectl rollout status` for every workload applied. A kustomize
// folder is rendered first by `kubectl kustomize` (read-only), then the same way. A rollback
// re-applies the stored rendered text, byte for byte, not today's files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from '../vendor/yaml.js';
import { ConfigError } from '../errors.js';
import { interpolateString } from '../config/interpolate.js';
import { failureReason, type Command, type Executor, type PlanInput } from './types.js';

/** kustomize output is kept whole: big CRDs included. */
const MAX_RENDERED_BYTES = 64 * 1024 * 1024;

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** `text` with ${version}, ${app}, ${env}, ${namespace} and the variables filled in. */
function fillIn(text: string, input: PlanInput, file: string): string {
  const config = input.config;
  const values: Record<string, string> = {
    ...config.variables,
    app: input.app,
    env: input.env,
    version: input.version,
    ...(config.namespace ? { namespace: String(config.namespace) } : {}),
  };
  const result = interpolateString(text, (name) => values[name]);
  if (result.missing.length) {
    throw new ConfigError([{ file, message: `${result.missing.map((n) => `\${${n}}`).join(', ')} is not defined: set it in variables, or write $\${...} for a literal` }]);
  }
  return result.value;
}

/** The manifests (a file, or a folder's .yaml, .yml and .json files in name order), filled in. */
export function renderManifests(input: PlanInput): string {
  const parts = manifestFiles(String(input.config.manifests)).map((file) => fillIn(readFileSync(file, 'utf8'), input, file).trim());
  return `${parts.join('\n---\n')}\n`;
}

export function workloadsOf(rendered: string): Array<{ kind: string; name: string; namespace?: string }> {
  return parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
    .filter((d): d is { kind: string; metadata: { name: string; namespace?: string } } => Boolean(d?.kind && WORKLOADS.has(d.kind) && d.metadata?.name))
    .map((d) => ({ kind: d.kind, name: d.metadata.name, namespace: d.metadata.namespace }));
}

/**
 * `kubectl apply -f -` with the rendered text on stdin, then `rollout status` per workload. Without the
 * text (a kustomize folder in a dry run without kubectl), the plan shows where it would come from.
 */
export function planKubernetesDeploy(input: PlanInput, rendered: string | undefined): Command[] {
  const config = input.config;
  const kubectl = input.tools.kubectl ?? 'kubectl';
  const target = (namespace?: string) => [
    ...(config.context ? ['--context', String(config.context)] : []),
    ...(namespace ?? config.namespace ? ['-n', String(namespace ?? config.namespace)] : []),
  ];
  const base = { cwd: config.path, env: input.childEnv, timeoutMs: config.timeout, mutates: true, phase: 'deploy' as const };
  if (rendered === undefined) {
    return [
      { ...base, file: kubectl, args: ['kustomize', String(config.kustomize)], mutates: false, label: 'kubectl kustomize' },
      { ...base, file: kubectl, args: [...target(), 'apply', '-f', '-'], label: 'kubectl apply (then rollout status for each workload)' },
    ];
  }
  const rolloutMs = (config.rollout_timeout as number | undefined) ?? config.timeout;
  const seconds = Math.max(1, Math.round(rolloutMs / 1000));
  return [
    { ...base, file: kubectl, args: [...target(), 'apply', '-f', '-'], input: rendered, label: 'kubectl apply' },
    ...workloadsOf(rendered).map((w) => ({
      ...base,
      // kubectl stops at its --timeout and says so; the step limit is only a backstop.
      timeoutMs: Math.max(config.timeout, rolloutMs),
      file: kubectl,
      args: [...target(w.namespace), 'rollout', 'status', `${w.kind.toLowerCase()}/${w.name}`, `--timeout=${seconds}s`],
      label: `rollout status ${w.kind.toLowerCase()}/${w.name}`,
    })),
  ];
}

export const kubernetesExecutor: Executor = {
  type: 'kubernetes',
  tools: () => ['kubectl'],
  async prepare(input, runner) {
    const config = input.config;
    if (typeof input.artifacts?.manifests === 'string' || !config.kustomize) return undefined;
    const dir = String(config.kustomize);
    const result = await runner.run({
      file: input.tools.kubectl ?? 'kubectl',
      args: ['kustomize', dir],
      cwd: config.path,
      env: input.childEnv,
      timeoutMs: config.timeout,
      mutates: false,
      label: 'kubectl kustomize',
      phase: 'deploy',
      maxStdoutBytes: MAX_RENDERED_BYTES,
    });
    if (result.exitCode !== 0) {
      return { ok: false, message: `kubectl kustomize ${dir} failed, nothing was applied: ${failureReason(result)}` };
    }
    if (result.stdoutTruncated) return { ok: false, message: `kubectl kustomize ${dir} printed more than ${MAX_RENDERED_BYTES / 1024 / 1024} MB` };
    const manifests = fillIn(result.stdout, input, dir);
    return { ok: true, artifacts: { manifests }, message: `rendered ${dir} with kubectl kustomize (${workloadsOf(manifests).length} workload(s)); the text is kept in the record` };
  },
  async plan(input) {
    const stored = input.artifacts?.manifests;
    const rendered = typeof stored === 'string' ? stored : input.config.manifests ? renderManifests(input) : undefined;
    const notes = rendered === undefined ? [`kustomize: kubectl kustomize renders ${String(input.config.kustomize)} first; the rendered text is applied and kept in the record`] : [];
    return { commands: planKubernetesDeploy(input, rendered), artifacts: rendered === undefined ? {} : { manifests: rendered }, notes };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { kubernetesSettings, type KubernetesSettings } from './settings/kubernetes.js';
