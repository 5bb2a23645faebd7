// Secrets are stored as *** in records. So that a rollback can re-apply a stored config and its
// artifacts (rendered manifests, terraform variables), the record also keeps where each secret stood
// (`secretRefs`), by name, never by value.
import { UsageError } from '../errors.js';
import { environmentSecrets, maskValues } from '../config/secret-env.js';

export { environmentSecrets, looksSecret, maskDeep } from '../config/secret-env.js';
import type { DeployRecord } from '../state/types.js';

interface SecretRef {
  /** Key path inside the config, e.g. ["env_vars", "TOKEN"]; in a record's artifacts, it starts with "artifacts". */
  path: (string | number)[];
  /** The original string with each secret replaced by ${secret:NAME}. */
  template: string;
}

const MASK = '***';

function secretsByName(names: readonly string[], variables: Record<string, string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const name of names) {
    const value = variables[name];
    if (value) map.set(name, value);
  }
  return map;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replace every secret value in the text by ***. Longest first, so a secret inside another is masked whole. */
export function maskText(text: string, values: readonly string[]): string {
  return maskValues(text, values);
}

/** What a record seals by name: the `secrets:` of its config, and the process environment's variables named like secrets. */
export function secretsOfConfig(names: readonly string[], variables: Record<string, string>, env: NodeJS.ProcessEnv): Map<string, string> {
  return new Map([...environmentSecrets(env), ...secretsByName(names, variables)]);
}

/** A deep copy with secrets masked, and where they stood. */
export function sealSecrets<T>(value: T, secrets: Map<string, string>): { sealed: T; refs: SecretRef[] } {
  const refs: SecretRef[] = [];
  const entries = [...secrets.entries()].filter(([, v]) => v.length > 0).sort((a, b) => b[1].length - a[1].length);
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      let template = node;
      let hit = false;
      for (const [name, secret] of entries) {
        if (template.includes(secret)) {
          template = template.replace(new RegExp(escapeRegExp(secret), 'g'), `\${secret:${name}}`);
          hit = true;
        }
      }
      if (!hit) return node;
      refs.push({ path, template });
      return template.replace(/\$\{secret:[^}]+\}/g, MASK);
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { sealed: walk(value, []) as T, refs };
}

/** Put the secrets back from the process environment into a stored config. */
function unsealSecrets<T>(sealed: T, refs: readonly SecretRef[], env: NodeJS.ProcessEnv): { value: T; values: string[] } {
  const value = structuredClone(sealed) as T;
  const values = new Set<string>();
  for (const ref of refs) {
    const text = ref.template.replace(/\$\{secret:([^}]+)\}/g, (_, name: string) => {
      const secret = env[name];
      if (secret === undefined || secret === '') {
        throw new UsageError(
          `secret ${name} is not set in the environment`,
          `export ${name}=... before re-applying a stored deployment that uses it`,
        );
      }
      values.add(secret);
      return secret;
    });
    let node: any = value;
    for (const key of ref.path.slice(0, -1)) node = node?.[key];
    if (node && typeof node === 'object') node[ref.path[ref.path.length - 1]!] = text;
  }
  return { value, values: [...values] };
}

/** The refs of secrets in a record's artifacts start with this; those in its config with the config's own keys. */
const IN_ARTIFACTS = 'artifacts';
const inArtifacts = (ref: SecretRef) => ref.path[0] === IN_ARTIFACTS;

/** Artifacts as a record keeps them, secrets as ***; and the record's `refs` with those of its artifacts replaced by theirs. */
export function sealArtifacts<T>(artifacts: T, secrets: Map<string, string>, refs: readonly SecretRef[] = []): { sealed: T; refs: SecretRef[] } {
  const sealed = sealSecrets(artifacts, secrets);
  return {
    sealed: sealed.sealed,
    refs: [...refs.filter((ref) => !inArtifacts(ref)), ...sealed.refs.map((ref) => ({ ...ref, path: [IN_ARTIFACTS, ...ref.path] }))],
  };
}

/** A stored record's config and artifacts with the secrets put back from the process environment. */
export function unsealRecord<C>(
  record: Pick<DeployRecord, 'config' | 'artifacts' | 'secretRefs'>,
  env: NodeJS.ProcessEnv,
): { config: C; artifacts: DeployRecord['artifacts']; values: string[] } {
  const refs = record.secretRefs ?? [];
  const config = unsealSecrets(record.config as unknown as C, refs.filter((ref) => !inArtifacts(ref)), env);
  const artifacts = unsealSecrets(record.artifacts, refs.filter(inArtifacts).map((ref) => ({ ...ref, path: ref.path.slice(1) })), env);
  return { config: config.value, artifacts: artifacts.value, values: [...new Set([...config.values, ...artifacts.values])] };
}
