// ${name} and ${name:-fallback} in config values; $${x} stays a literal ${x}.

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::-([^}]*))?\}/g;

interface InterpolationResult {
  value: string;
  missing: string[];
}

export function interpolateString(text: string, lookup: (name: string) => string | undefined): InterpolationResult {
  const missing: string[] = [];
  const value = text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const found = lookup(name!);
    if (found !== undefined) return found;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return match;
  });
  return { value, missing };
}

export interface InterpolationProblem {
  path: (string | number)[];
  missing: string[];
}

/** Interpolate every string inside `value`, except where `skip(path)` says the string runs as written. */
export function interpolateDeep<T>(
  value: T,
  lookup: (name: string) => string | undefined,
  skip: (path: (string | number)[]) => boolean,
  problems: InterpolationProblem[],
  path: (string | number)[] = [],
): T {
  if (typeof value === 'string') {
    if (skip(path)) return value;
    const result = interpolateString(value, lookup);
    if (result.missing.length) problems.push({ path, missing: result.missing });
    return result.value as T;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateDeep(item, lookup, skip, problems, [...path, i])) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, lookup, skip, problems, [...path, k])])) as T;
  }
  return value;
}
