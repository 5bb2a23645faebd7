// Reading a YAML file so that every later problem can name its line and column.
import { readFile } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from '../vendor/yaml.js';
import type { ConfigProblem } from '../errors.js';

export type KeyPath = (string | number)[];

export interface YamlFile {
  /** The name shown to people: relative to the current directory when inside it. */
  display: string;
  path: string;
  data: unknown;
  doc?: Document;
  lines: LineCounter;
}

export function displayName(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function formatKeyPath(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export async function readYamlFile(path: string, problems: ConfigProblem[]): Promise<YamlFile | undefined> {
  const display = displayName(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({
      file: display,
      message:
        code === 'ENOENT'
          ? 'file not found: run deployctl in the folder that holds environments.yaml and deployments.yaml, or pass --config-dir DIR (or set DEPLOYCTL_CONFIG_DIR)'
          : `cannot read: ${(error as Error).message}`,
    });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    for (const error of doc.errors) {
      const pos = lines.linePos(error.pos[0]);
      problems.push({ file: display, line: pos.line, column: pos.col, message: `invalid YAML: ${error.message.split('\n')[0]}` });
    }
    return undefined;
  }
  return { display, path, data: doc.toJS() ?? {}, doc, lines };
}

/** Line and column of the value at `path` (or of its key, for a key that should not be there). */
export function locate(file: YamlFile, path: KeyPath, options: { key?: boolean } = {}): { line?: number; column?: number } {
  if (!file.doc) return {};
  let node: unknown = file.doc.contents;
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
  const pos = file.lines.linePos(offset);
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
