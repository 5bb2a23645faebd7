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
      // Never a way to Object.prototype: load and --set refuse these keys before they get here.
      if (value === undefined || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      out[key] = isMap(value) && isMap(out[key]) ? deepMerge(out[key] as Layer, value) : structuredClone(value);
    }
  }
  return out;
}

