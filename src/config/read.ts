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
      const where = syntaxErrorPlace(text, lines.linePos(error.pos[0]));
      problems.push({ file: display, ...where, message: `invalid YAML: ${error.message.split('\n')[0]}` });
    }
    return undefined;
  }
  return { display, path, data: doc.toJS() ?? {}, doc, lines };
}

/**
 * Where to send someone for a YAML syntax error. One found at the end of the file is most likely a
 * quote or bracket left open: it points there (else at the last line with content). The key path is
 * read from the indentation of the lines above, since a document that does not parse has no tree.
 */
export function syntaxErrorPlace(text: string, at: { line: number; col: number }): { line: number; column: number; path?: string } {
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
