// kubernetes: render the manifests (${version} and friends) into the record, `kubectl apply -f -` with
// the rendered text on stdin, then `kubectl rollout status` for every workload applied. A kustomize
// folder is rendered first by `kubectl kustomize` (read-only), then the same way. A rollback
// re-applies the stored rendered text, byte for byte, not today's files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parse, parseAllDocuments } from '../vendor/yaml.js';
import { ConfigError } from '../errors.js';
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

/** deployctl's own names: app, env, version, namespace and the merged variables. Never the process environment. */
function ownValues(input: PlanInput): Record<string, string> {
  const config = input.config;
  return {
    ...config.variables,
    app: input.app,
    env: input.env,
    version: input.version,
    ...(config.namespace ? { namespace: String(config.namespace) } : {}),
  };
}

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::-([^}]*))?\}/g;

/** ${name} filled for deployctl's own names; any other ${...} (a shell's ${POD_NAME:-unknown}) left as written; $${x} is ${x}. */
function fillText(text: string, values: Record<string, string>, left: Set<string>): string {
  return text.replace(PLACEHOLDER, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (Object.hasOwn(values, name!)) return values[name!]!;
    left.add(match);
    return match;
  });
}

/** Plain YAML text that reads back as exactly this string (or scalar), and cannot start a key, a comment or another node. */
function isSafePlain(text: string): boolean {
  return /^[A-Za-z0-9_./@+=~-][A-Za-z0-9_./@+=~: -]*$/.test(text) && !text.includes(': ') && !text.includes(' #') && !/[: ]$/.test(text);
}

/**
 * The manifests' text with deployctl's names filled in, scalar by scalar, so that a value can never
 * change the YAML structure (a line break, ": " or "#" in a value stays inside its string): a value
 * that plain YAML cannot hold as written is written as a double-quoted string. Comments are left as
 * they are. `left` collects the ${...} left as written.
 */
/**
 * The parsed documents of a manifest's text, kept for the next fill of the same text: validate fills
 * every manifest in for each environment, and fillManifest only reads the parse. A few texts at most.
 */
const parsedManifests = new Map<string, ReturnType<typeof parseAllDocuments>>();
function parsedManifest(text: string): ReturnType<typeof parseAllDocuments> {
  let docs = parsedManifests.get(text);
  if (!docs) {
    docs = parseAllDocuments(text);
    if (parsedManifests.size >= 16) parsedManifests.clear();
    parsedManifests.set(text, docs);
  }
  return docs;
}

export function fillManifest(text: string, values: Record<string, string>, file: string, left: Set<string> = new Set()): string {
  if (!text.includes('${')) return text;
  const docs = parsedManifest(text);
  const list = Array.isArray(docs) ? docs : [];
  const broken = list.flatMap((d) => d.errors);
  if (broken.length) {
    throw new ConfigError([{ file, message: `not valid YAML, so its \${...} cannot be filled in safely: ${broken[0]!.message.split('\n')[0]}` }], 'fix the manifest, or set interpolate: false to apply it as written');
  }
  const edits: Array<[number, number, string]> = [];
  const visit = (node: unknown): void => {
    if (isPair(node)) {
      visit(node.key);
      visit(node.value);
    } else if (isMap(node) || isSeq(node)) {
      for (const item of node.items) visit(item);
    } else if (isScalar(node) && node.range) {
      const [start, end] = node.range;
      const source = text.slice(start, end);
      if (!source.includes('${')) return;
      const before = String(node.value);
      const filled = fillText(before, values, left);
      if (filled === before && !source.includes('$${')) return;
      if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
        // Inside a block scalar a value holds until a line break: one is refused.
        const inBlock = fillText(source, values, new Set());
        for (const [name, value] of Object.entries(values)) {
          if (/[\r\n]/.test(value) && source.includes(`\${${name}`)) {
            throw new ConfigError([{ file, message: `the value of \${${name}} has a line break, which would end the block scalar it is filled into` }], 'give it a value without line breaks, or set interpolate: false');
          }
        }
        edits.push([start, end, inBlock]);
        return;
      }
      const whole = /^\$\{[A-Za-z_][A-Za-z0-9_.-]*(?::-[^}]*)?\}$/.test(before) && filled !== before;
      let replacement: string;
      if (node.type === 'PLAIN' && isSafePlain(filled)) {
        const read = parse(filled) as unknown;
        // A whole ${replicas} keeps the type its value reads as (3 is a number); part of a string stays a string.
        replacement = (whole ? read !== null && typeof read !== 'object' : typeof read === 'string' && read === filled) ? filled : JSON.stringify(filled);
      } else {
        replacement = JSON.stringify(filled);
      }
      edits.push([start, end, replacement]);
    }
  };
  for (const doc of list) visit(doc.contents);
  let out = text;
  for (const [start, end, replacement] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + replacement + out.slice(end);
  return out;
}

/** `text` filled in, unless interpolate: false. */
function fillIn(text: string, input: PlanInput, file: string, left: Set<string>): string {
  if (input.config.interpolate === false) return text;
  return fillManifest(text, ownValues(input), file, left);
}

/** The manifest files: a file, or a folder's .yaml, .yml and .json files in name order; missing ones are a config error. */
function manifestFilesOf(path: string): string[] {
  try {
    return manifestFiles(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: 'manifests', message: code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (error as Error).message})` }], 'fix manifests: in deployments.yaml (relative to its folder)');
  }
}

/** The manifests (a file, or a folder's .yaml, .yml and .json files in name order), filled in. */
export function renderManifests(input: PlanInput, left: Set<string> = new Set()): string {
  const parts = manifestFilesOf(String(input.config.manifests)).map((file) => fillIn(readFileSync(file, 'utf8'), input, file, left).trim());
  return `${parts.join('\n---\n')}\n`;
}

function workloadsOf(rendered: string): Array<{ kind: string; name: string; namespace?: string }> {
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

/**
 * A dry run's `kubectl diff` of the rendered text against the cluster: read-only; its exit code (1 when
 * there are differences, more when no cluster answers) does not fail the dry run.
 */
function diffCommand(input: PlanInput, rendered: string): Command {
  const config = input.config;
  return {
    file: input.tools.kubectl ?? 'kubectl',
    args: [...(config.context ? ['--context', String(config.context)] : []), ...(config.namespace ? ['-n', String(config.namespace)] : []), 'diff', '-f', '-'],
    input: rendered,
    cwd: config.path,
    env: input.childEnv,
    timeoutMs: Math.min(config.timeout, 120_000),
    mutates: false,
    informational: true,
    label: 'kubectl diff (against the cluster, when it answers)',
    phase: 'deploy',
  };
}

/**
 * `destroy`: `kubectl delete --ignore-not-found -f -` with the rendered text the running version's record
 * keeps on stdin (today's files only for a record without it), with the deploy's context and namespace.
 */
function planKubernetesDestroy(input: PlanInput, rendered: string): Command[] {
  const config = input.config;
  return [
    {
      file: input.tools.kubectl ?? 'kubectl',
      args: [...(config.context ? ['--context', String(config.context)] : []), ...(config.namespace ? ['-n', String(config.namespace)] : []), 'delete', '--ignore-not-found', '-f', '-'],
      input: rendered,
      cwd: config.path,
      env: input.childEnv,
      timeoutMs: config.timeout,
      mutates: true,
      label: 'kubectl delete',
      phase: 'deploy',
    },
  ];
}

export const kubernetesExecutor: Executor = {
  type: 'kubernetes',
  tools: () => ['kubectl'],
  preflight(config, artifacts) {
    if (typeof artifacts?.manifests === 'string' || !config.manifests) return;
    // What deploy will find when it renders them: files missing, or a manifest no value can be filled into safely.
    const values = { ...config.variables, app: 'app', env: 'env', version: '0.0.0', ...(config.namespace ? { namespace: String(config.namespace) } : {}) };
    for (const file of manifestFilesOf(String(config.manifests))) {
      if (config.interpolate !== false) fillManifest(readFileSync(file, 'utf8'), values, file);
    }
  },
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
    const manifests = fillIn(result.stdout, input, dir, new Set());
    return { ok: true, artifacts: { manifests }, message: `rendered ${dir} with kubectl kustomize (${workloadsOf(manifests).length} workload(s)); the text is kept in the record` };
  },
  async planDestroy(input) {
    const stored = input.artifacts?.manifests;
    const rendered = typeof stored === 'string' ? stored : input.config.manifests ? renderManifests(input) : undefined;
    if (rendered === undefined) {
      return { commands: [], artifacts: {}, notes: ['the record keeps no rendered manifests and kustomize output is not rendered again: nothing to delete; delete by hand with kubectl delete -k'] };
    }
    return {
      commands: planKubernetesDestroy(input, rendered),
      artifacts: { manifests: rendered },
      notes: [typeof stored === 'string' ? "deleting the manifests stored in the running version's record" : "the record keeps no rendered manifests: deleting today's, rendered for the running version"],
      ...(input.dryRun ? { preview: `manifests to delete:\n${rendered}` } : {}),
    };
  },
  async plan(input) {
    const stored = input.artifacts?.manifests;
    const left = new Set<string>();
    const rendered = typeof stored === 'string' ? stored : input.config.manifests ? renderManifests(input, left) : undefined;
    const notes = rendered === undefined ? [`kustomize: kubectl kustomize renders ${String(input.config.kustomize)} first; the rendered text is applied and kept in the record`] : [];
    if (left.size) notes.push(`left as written (not deployctl's names: app, env, version, namespace, variables): ${[...left].join(', ')}`);
    const commands = planKubernetesDeploy(input, rendered);
    if (input.dryRun && rendered !== undefined) commands.unshift(diffCommand(input, rendered));
    return {
      commands,
      artifacts: rendered === undefined ? {} : { manifests: rendered },
      notes,
      ...(input.dryRun && rendered !== undefined ? { preview: `rendered manifests:\n${rendered}` } : {}),
    };
  },
};

// The settings of this type (schema fragment, paths), declared beside it in settings/.
export { kubernetesSettings, type KubernetesSettings } from './settings/kubernetes.js';
