// Loads the Ink side: the bundle (one file, ~half the start-up time) when the build made it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type InkEntry = typeof import('./ink-entry.js');

export async function loadProgress(): Promise<InkEntry> {
  const bundle = new URL('../ui-bundle/ink-entry.js', import.meta.url);
  if (existsSync(fileURLToPath(bundle))) return (await import(bundle.href)) as InkEntry;
  return import('./ink-entry.js');
}
