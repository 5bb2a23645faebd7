// validate fills every kubernetes manifest in once per environment, from one parse of its text: each
// fill still gets its own values, and a manifest that is not valid YAML is refused every time.
import { describe, expect, it } from 'vitest';
import { fillManifest } from '../../src/executors/kubernetes.js';

describe('filling the same manifest text again', () => {
  const text = 'metadata:\n  name: web-${env}\nspec:\n  replicas: ${replicas}\n  image: "app:${version}"\n';

  it('gives each environment its own values, never the previous fill', () => {
    const dev = fillManifest(text, { env: 'dev', replicas: '1', version: '1.0.0' }, 'm.yaml');
    const prod = fillManifest(text, { env: 'prod', replicas: '3', version: '1.0.0' }, 'm.yaml');
    const devAgain = fillManifest(text, { env: 'dev', replicas: '1', version: '1.0.0' }, 'm.yaml');
    expect(dev).toBe('metadata:\n  name: web-dev\nspec:\n  replicas: 1\n  image: "app:1.0.0"\n');
    expect(prod).toBe('metadata:\n  name: web-prod\nspec:\n  replicas: 3\n  image: "app:1.0.0"\n');
    expect(devAgain).toBe(dev);
  });

  it('refuses a manifest that is not valid YAML on every fill', () => {
    const broken = 'a: [${env}\nb: c\n';
    for (const env of ['dev', 'prod']) expect(() => fillManifest(broken, { env }, 'bad.yaml')).toThrow(/not valid YAML/);
  });

  it('collects the ${...} left as written on every fill', () => {
    const shell = 'command: echo ${POD_NAME:-unknown} ${env}\n';
    for (const env of ['dev', 'prod']) {
      const left = new Set<string>();
      expect(fillManifest(shell, { env }, 'm.yaml', left)).toBe(`command: "echo \${POD_NAME:-unknown} ${env}"\n`);
      expect([...left]).toEqual(['${POD_NAME:-unknown}']);
    }
  });
});
