// --set goes through the same checks as the files, for the app's type, before anything runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveApp } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';

const dir = tempDir('deployctl-set-');
writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
writeFileSync(join(dir, 'deployments.yaml'), 'secrets: [DB_PW]\ndeployments:\n  web:\n    type: shell\n    commands: [[echo, hi]]\n    health_check: { url: "http://127.0.0.1:1/" }\n');

async function refusal(set: string[]): Promise<string> {
  const loaded = await loadConfig({ configDir: dir, env: { DB_PW: 'pw' } });
  try {
    await resolveApp(loaded, 'web', 'dev', { version: '1', set, processEnv: { DB_PW: 'pw' } });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('accepted');
}

describe('--set', () => {
  it.each([
    [['comands=x'], '--set "comands=x": unknown key "comands" for a shell app (did you mean "commands"?)'],
    [['health_check.retries=abc'], '--set "health_check.retries=abc": must be integer'],
    [['health_check=x'], '--set "health_check=x": must be a map'],
    [['hooks.pre_deploy=x'], '--set "hooks.pre_deploy=x": must be a list'],
    [['image=nginx'], '--set "image=nginx": "image" is a setting of docker apps, not of a shell app'],
    [['variables.9X=1'], '--set "variables.9X=1": "9X" is not an environment variable name'],
    [['variables.API_TOKEN=s3cr3t'], 'would put the secret API_TOKEN on the command line'],
    [['variables.DB_PW=x'], 'export DB_PW=... in the environment that runs deployctl'],
    [['variables.X=a\0b'], 'NUL'],
    [['type=docker'], 'type cannot be set from the command line'],
    [['novalue'], 'write it as key.path=value'],
  ])('refuses %j, naming it', async (set, message) => {
    expect(await refusal(set)).toContain(message);
  });

  it.each(['__proto__.polluted=yes', 'variables.__proto__.polluted=yes', 'constructor.prototype.polluted=yes', 'health_check.prototype=1'])('refuses %s and never touches Object.prototype', async (set) => {
    expect(await refusal([set])).toMatch(/is not a setting and cannot be set/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes what the file would take: numbers, booleans, text where text is wanted', async () => {
    const loaded = await loadConfig({ configDir: dir, env: { DB_PW: 'pw' } });
    const { config } = await resolveApp(loaded, 'web', 'dev', { version: '1', set: ['health_check.retries=4', 'rollback.auto=false', 'version=2', 'variables.PORT=9000', 'timeout=5m'], processEnv: { DB_PW: 'pw' } });
    expect(config).toMatchObject({ version: '2', timeout: 300_000, rollback: { auto: false }, variables: { PORT: '9000' } });
    expect(config.health_check?.retries).toBe(4);
  });

  it('takes a flow list where the setting is a list, and keeps bracketed text where text is wanted', async () => {
    const loaded = await loadConfig({ configDir: dir, env: { DB_PW: 'pw' } });
    const { config } = await resolveApp(loaded, 'web', 'dev', { version: '1', set: ['hooks.pre_deploy=[echo pre, echo again]', 'variables.LABEL=[beta]'], processEnv: { DB_PW: 'pw' } });
    expect(config.hooks.pre_deploy).toEqual(['echo pre', 'echo again']);
    expect(config.variables).toMatchObject({ LABEL: '[beta]' });
  });
});
