// Reading a YAML file so that every later problem can name its line and column.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, isAbsolute } from 'node:path';
import type { Document, LineCounter, Node } from '../vendor/yaml.js';
import type { ConfigProblem } from '../errors.js';
import { jsonSafe, type ParseCache } from './parse-cache.js';

type YamlLib = typeof import('../vendor/yaml.js');
let yamlLib: YamlLib | undefined;

/**
 * The YAML library, loaded on first use: a file found in the parse cache needs none (until a problem
 * needs its line). Built, it is dist/vendor/yaml.cjs; from source, the package.
 */
export function yaml(): YamlLib {
  if (yamlLib) return yamlLib;
  const load = createRequire(import.meta.url);
  try {
    yamlLib = load('../vendor/yaml.cjs') as YamlLib;
  } catch {
    yamlLib = load('yaml') as YamlLib;
  }
  return yamlLib;
}

export type KeyPath = (string | number)[];

export interface YamlFile {
  /** The name shown to people: relative to the current directory when inside it. */
  display: string;
  path: string;
  data: unknown;
  /** The parsed document and its line counter, for positions (parsed on first use when `data` came from the parse cache). */
  tree(): { doc: Document; lines: LineCounter };
  /** The schema checks this very text has passed (known from the parse cache): not run again. */
  checked: ReadonlySet<string>;
  /** Record that this text passed a schema check (kept in the parse cache, when there is one). */
  passed(check: string): void;
}

function displayName(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function formatKeyPath(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The largest config file deployctl reads. */
const MAX_CONFIG_BYTES = 5 * 1024 * 1024;
/** Aliases a document may expand, in all: enough for any config, never an alias bomb. */
const MAX_ALIAS_COUNT = 1000;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Byte offset of the first invalid UTF-8 sequence, or -1. Linear. */
function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length + (need === 0 ? 1 : 0)) return i;
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1]!;
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Linear checks over the parsed tree, with positions: duplicate keys (yaml's own check is quadratic in
 * the size of a map), keys that would reach Object.prototype, NUL characters in values, and the first alias.
 */
function treeProblems(doc: Document): { problems: Array<{ node: Node | undefined; path: KeyPath; message: string }>; firstAlias?: Node } {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yaml();
  const problems: Array<{ node: Node | undefined; path: KeyPath; message: string }> = [];
  let firstAlias: Node | undefined;
  const stack: Array<[unknown, KeyPath]> = [[doc.contents, []]];
  while (stack.length) {
    const [node, path] = stack.pop()!;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key as Node | undefined;
        const key = isScalar(keyNode) ? String(keyNode.value) : keyNode ? String(keyNode) : '';
        if (key === '<<' && isScalar(keyNode)) {
          stack.push([item.value, path]);
          continue;
        }
        if (seen.has(key)) problems.push({ node: keyNode, path: [...path, key], message: 'invalid YAML: Map keys must be unique' });
        seen.add(key);
        if (FORBIDDEN_KEYS.has(key)) problems.push({ node: keyNode, path: [...path, key], message: `"${key}" cannot be a key: it is no setting, and JavaScript objects treat it specially` });
        stack.push([item.value, [...path, key]]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push([item, [...path, i]]));
    } else if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('\0')) problems.push({ node: node as Node, path, message: 'holds a NUL character, which no command or file name can take: remove it' });
    } else if (isAlias(node)) {
      if (!firstAlias || ((node as Node).range?.[0] ?? 0) < (firstAlias.range?.[0] ?? 0)) firstAlias = node as Node;
    }
  }
  return { problems, firstAlias };
}

export async function readYamlFile(path: string, problems: ConfigProblem[], cache?: ParseCache): Promise<YamlFile | undefined> {
  const display = displayName(path);
  let bytes: Buffer;
  try {
    // Synchronous calls: two small reads that a start-up waits for anyway (each async call is a round
    // trip through libuv's thread pool, four for a readFile).
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) {
      problems.push({ file: display, message: `is ${(size / 1024 / 1024).toFixed(1)} MB: deployctl reads config files of at most ${MAX_CONFIG_BYTES / 1024 / 1024} MB; split it, or move generated data out of it` });
      return undefined;
    }
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({
      file: display,
      message:
        code === 'ENOENT'
          ? 'file not found: run deployctl in the folder that holds environments.yaml and deployments.yaml, or pass --config-dir DIR (or set DEPLOYCTL_CONFIG_DIR)'
          : code === 'EISDIR'
            ? 'is a folder, not a file: put the YAML file in its place, or pass --config-dir DIR naming the folder that holds it'
            : `cannot read: ${(error as Error).message}`,
    });
    return undefined;
  }
  const bad = invalidUtf8At(bytes);
  if (bad >= 0) {
    const before = bytes.subarray(0, bad);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const column = before.subarray(before.lastIndexOf(0x0a) + 1).toString('utf8').length + 1;
    problems.push({ file: display, line, column, message: `is not valid UTF-8 at byte ${bad} (0x${bytes[bad]!.toString(16).padStart(2, '0')}): save the file as UTF-8` });
    return undefined;
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  // The same text read again in this process (a deploy reads deployments.yaml for its config and for
  // `state:`) is not parsed again. Readers only read what they get.
  const known = parsed.get(path);
  if (known?.text === text && known.file.display === display) return known.file;
  const kept = cache?.get(text);
  if (kept) return remember(path, text, { display, path, data: kept.data, checked: new Set(kept.checked) }, cache);
  const { doc, lines } = parseTree(text);
  if (doc.errors.length) {
    // The parser may report one mistake twice at the same place (an unclosed flow sequence): say it once.
    const said = new Set<string>();
    for (const error of doc.errors) {
      const where = syntaxErrorPlace(text, lines.linePos(error.pos[0]));
      const problem = { file: display, ...where, message: `invalid YAML: ${error.message.split('\n')[0]}` };
      const key = JSON.stringify(problem);
      if (said.has(key)) continue;
      said.add(key);
      problems.push(problem);
    }
    return undefined;
  }
  const at = (node: Node | undefined) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const tree = treeProblems(doc);
  if (tree.problems.length) {
    for (const p of tree.problems.sort((a, b) => (at(a.node).line ?? 0) - (at(b.node).line ?? 0))) {
      problems.push({ file: display, ...at(p.node), ...(p.path.length ? { path: formatKeyPath(p.path) } : {}), message: p.message });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = (error as Error).message;
    const bomb = /Excessive alias count/.test(message);
    const unresolved = /Unresolved alias[^:]*: (.*)$/.exec(message);
    const place = unresolved ? at(findAlias(doc, unresolved[1]!) ?? tree.firstAlias) : at(tree.firstAlias);
    problems.push({
      file: display,
      ...place,
      message: bomb
        ? `invalid YAML: its aliases expand to more than ${MAX_ALIAS_COUNT} copies (an alias bomb): write the values out, or use fewer nested aliases`
        : unresolved
          ? `invalid YAML: alias *${unresolved[1]} refers to no anchor before it: define &${unresolved[1]} first`
          : `invalid YAML: ${message}`,
    });
    return undefined;
  }
  // An alias gives one object in two places; the parse cache gives two copies: copies here too, so
  // that the data is the same whether it was parsed or kept.
  if (tree.firstAlias && jsonSafe(data)) data = JSON.parse(JSON.stringify(data)) as unknown;
  return remember(path, text, { display, path, data: data ?? {}, checked: new Set(), tree: { doc, lines } }, cache);
}

function parseTree(text: string): { doc: Document; lines: LineCounter } {
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  // uniqueKeys off: its check is quadratic in a map's size; treeProblems does it in linear time.
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: true }), lines };
}

/** A file read without a problem, kept for this process (and its passed checks in the parse cache). */
function remember(
  path: string,
  text: string,
  parts: { display: string; path: string; data: unknown; checked: Set<string>; tree?: { doc: Document; lines: LineCounter } },
  cache: ParseCache | undefined,
): YamlFile {
  let tree = parts.tree;
  const file: YamlFile = {
    display: parts.display,
    path: parts.path,
    data: parts.data,
    checked: parts.checked,
    tree: () => (tree ??= parseTree(text)),
    passed(check) {
      if (parts.checked.has(check)) return;
      parts.checked.add(check);
      cache?.put(text, parts.data, [...parts.checked]);
    },
  };
  parsed.set(path, { text, file });
  return file;
}

/** The last file parsed without a problem, by path, with the text it was parsed from. */
const parsed = new Map<string, { text: string; file: YamlFile }>();

function findAlias(doc: Document, name: string): Node | undefined {
  const { visit } = yaml();
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.source === name) {
        found = node as unknown as Node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Where to send someone for a YAML syntax error. One found at the end of the file is most likely a
 * quote or bracket left open: it points there (else at the last line with content). The key path is
 * read from the indentation of the lines above, since a document that does not parse has no tree.
 */
function syntaxErrorPlace(text: string, at: { line: number; col: number }): { line: number; column: number; path?: string } {
  const textLines = text.split('\n');
  let line = Math.min(at.line, textLines.length);
  let column = at.col;
  const atEnd = !textLines.slice(line - 1).some((l, i) => (i === 0 ? l.slice(at.col - 1) : l).trim());
  if (atEnd) {
    while (line > 1 && !textLines[line - 1]!.trim()) line--;
    column = textLines[line - 1]!.search(/\S|$/) + 1;
    for (let i = line; i >= 1; i--) {
      const l = textLines[i - 1]!.replace(/#.*$/, '');
      const count = (re: RegExp) => (l.match(re) ?? []).length;
      const opener = count(/"/g) % 2 === 1 ? l.lastIndexOf('"') : count(/\[/g) > count(/\]/g) ? l.indexOf('[') : count(/\{/g) > count(/\}/g) ? l.indexOf('{') : -1;
      if (opener >= 0) {
        line = i;
        column = opener + 1;
        break;
      }
    }
  }
  const keys: string[] = [];
  let indent = Infinity;
  for (let i = line - 1; i >= 0; i--) {
    const match = /^(\s*)(?:- )?([^\s#'"{[\]}-][^:#]*?|"[^"]*"|'[^']*')\s*:(?:\s|$)/.exec(textLines[i]!);
    if (!match || match[1]!.length >= indent) continue;
    indent = match[1]!.length;
    keys.unshift(match[2]!.replace(/^["']|["']$/g, ''));
    if (indent === 0) break;
  }
  return { line, column, ...(keys.length ? { path: keys.join('.') } : {}) };
}

/** Line and column of the value at `path` (or of its key, for a key that should not be there). */
export function locate(file: YamlFile, path: KeyPath, options: { key?: boolean } = {}): { line?: number; column?: number } {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  const { doc, lines } = file.tree();
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair || !isPair(pair)) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      keyNode = undefined;
      node = node.items[part];
    } else {
      break;
    }
  }
  const target = (options.key && keyNode) || (node as Node | undefined) || keyNode;
  const offset = target?.range?.[0];
  if (offset === undefined) return {};
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

export function has(data: unknown, path: KeyPath): boolean {
  let node: unknown = data;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || !(part in (node as object))) return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return true;
}
