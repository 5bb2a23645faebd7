// What counts as a secret besides the names in `secrets:`: a process environment variable whose name
// says it is one. Its value is masked wherever deployctl writes or shows text.

/**
 * The words of a name (split at `_`, `-`, `.` and camelCase: `githubToken` is github + token,
 * `APIKey` api + key), lower case, trailing digits dropped (`KEY2` is key).
 */
function nameWords(name: string): string[] {
  return name
    .split(/[_\-.\s]+/)
    .flatMap((part) => part.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
    .map((word) => word.toLowerCase().replace(/\d+$/, ''))
    .filter(Boolean);
}

/** Words that are a secret's name by themselves; `key` only whole (MONKEY, KEYBOARD are not keys). */
const SECRET_WORDS = new Set(['key', 'keys', 'private', 'creds', 'apikey', 'secretkey', 'accesskey', 'privatekey', 'masterkey', 'signingkey', 'encryptionkey']);
/** Words that end a secret's name, alone or joined to another (`authtoken`, `dbpassword`), plural too; never a longer word (TOKENIZER). */
const SECRET_ENDINGS = /(token|secret|password|passwd|passphrase|credential)s?$/;

/** Shorter values, and these, are too common to mask: masking them would hide ordinary words in every line. */
const MIN_LENGTH = 6;
const ORDINARY = new Set(['enabled', 'disabled', 'secret', 'password']);

/**
 * Whether a variable's name says it holds a secret: one of its words (nameWords) is a token, a
 * secret, a password (passwd, passphrase), a key, a credential (creds) or private, in any case:
 * GITHUB_TOKEN, aws_secret_access_key, DB_PASSWORD, githubToken, API_KEY, APIKey, SECRET. A word that
 * merely contains one is not: MONKEY_COUNT, KEYBOARD_LAYOUT, TOKENIZER_MODEL. The one rule of the
 * whole project: what the environment's secrets are, what compose env files keep as ***, what --set refuses.
 */
export function looksSecret(name: string): boolean {
  let secret = judged.get(name);
  if (secret === undefined) {
    secret = nameWords(name).some((word) => SECRET_WORDS.has(word) || SECRET_ENDINGS.test(word));
    if (judged.size < 10_000) judged.set(name, secret);
  }
  return secret;
}

/** Names judged so far: a command looks through the environment's names many times (each app, each environment). */
const judged = new Map<string, boolean>();

/** The process environment's variables whose name says they hold a secret, by name (values of 6 characters or more). */
export function environmentSecrets(env: NodeJS.ProcessEnv): Map<string, string> {
  const found = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.length < MIN_LENGTH || ORDINARY.has(value.toLowerCase())) continue;
    if (looksSecret(name) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) found.set(name, value);
  }
  return found;
}

/** A --set of a secret's value is refused: it would be on the command line, in the shell history and in ps. */
export function secretSetProblem(sets: readonly string[], secretNames: readonly string[]): { message: string; hint: string } | undefined {
  for (const set of sets) {
    const key = set.split('=')[0]!.trim();
    const match = /^(?:variables|env_vars|env|vars)\.(.+)$/.exec(key);
    const name = match?.[1];
    if (name && (secretNames.includes(name) || looksSecret(name))) {
      return {
        message: `--set "${key}=...": would put the secret ${name} on the command line (shell history, ps, the lock file)`,
        hint: `export ${name}=... in the environment that runs deployctl${secretNames.includes(name) ? '' : ` and name it in secrets: [${name}]`} (or refer to it as \${${name}})`,
      };
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replace every secret value in the text by ***. Longest first, so a secret inside another is masked
 * whole. A secret of several lines (a private key) is also masked line by line, since output is shown
 * a line at a time. A secret with a quote is also masked as a command shown quoted for a shell holds
 * it (`it's` as `it'\''s`).
 */
export function maskValues(text: string, values: Iterable<string>): string {
  let out = text;
  const forms = (v: string) => (v.includes("'") ? [v, v.replace(/'/g, `'\\''`)] : [v]);
  const all = [...values].flatMap((v) => (v.includes('\n') ? [v, ...v.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 8)] : [v])).flatMap(forms);
  for (const value of [...new Set(all)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    if (out.includes(value)) out = out.replace(new RegExp(escapeRegExp(value), 'g'), '***');
  }
  return out;
}

/** Every string inside a value (an event, a problem list) with the secrets masked; the value itself when there are none. */
export function maskDeep<T>(value: T, values: readonly string[]): T {
  if (!values.length) return value;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return maskValues(node, values);
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    }
    return node;
  };
  return walk(value) as T;
}
