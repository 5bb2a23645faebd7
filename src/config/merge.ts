// Deep merge of config layers: maps merge key by key, everything else (lists included) is replaced.

export type Layer = Record<string, unknown>;

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function deepMerge(...layers: Array<Layer | undefined>): Layer {
  const out: Layer = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      out[key] = isMap(value) && isMap(out[key]) ? deepMerge(out[key] as Layer, value) : structuredClone(value);
    }
  }
  return out;
}

/** `--set a.b.c=value`, the value read as a YAML scalar (numbers, booleans) when it looks like one. */
export function setLayer(assignments: string[], parseScalar: (text: string) => unknown): { layer: Layer; errors: string[] } {
  const layer: Layer = {};
  const errors: string[] = [];
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    const key = eq > 0 ? assignment.slice(0, eq) : '';
    if (!key || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) {
      errors.push(`--set ${JSON.stringify(assignment)}: write it as key.path=value, e.g. --set variables.PORT=9000`);
      continue;
    }
    const parts = key.split('.');
    let node = layer;
    for (const part of parts.slice(0, -1)) {
      if (!isMap(node[part])) node[part] = {};
      node = node[part] as Layer;
    }
    node[parts[parts.length - 1]!] = parseScalar(assignment.slice(eq + 1));
  }
  return { layer, errors };
}
