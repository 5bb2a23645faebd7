// Loads the Ink side (the `ui` board): the bundle (one file, ~half the start-up time) when the build made it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type InkEntry = typeof import('./ink-entry.js');

async function importInk(): Promise<InkEntry> {
  const bundle = new URL('../ui-bundle/ink-entry.js', import.meta.url);
  if (existsSync(fileURLToPath(bundle))) return (await import(bundle.href)) as InkEntry;
  return import('./ink-entry.js');
}

// Ink decides once, when it is first imported, whether it runs in CI (CI or CONTINUOUS_INTEGRATION set)
// and then draws no live frames at all. `deployctl ui` only runs in a terminal, so a CI variable left in
// someone's shell must not blank the board: hide it while Ink loads, then put it back.
export async function loadInteractive(env: NodeJS.ProcessEnv = process.env): Promise<InkEntry> {
  const hidden = (['CI', 'CONTINUOUS_INTEGRATION'] as const).filter((key) => key in env).map((key) => [key, env[key]] as const);
  for (const [key] of hidden) delete env[key];
  try {
    return await importInk();
  } finally {
    for (const [key, value] of hidden) env[key] = value;
  }
}
