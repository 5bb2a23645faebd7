// Which values are secrets, and how they are masked.
import { describe, expect, it } from 'vitest';
import { environmentSecrets, looksSecret, maskDeep, maskText } from '../../src/engine/secrets.js';

describe('secrets', () => {
  it('a process environment variable named like a secret is one; short and ordinary values are left alone', () => {
    const found = environmentSecrets({
      GITHUB_TOKEN: 'ghp_abcdef',
      aws_secret_access_key: 'wJalrXUtnFEMI',
      DB_PASSWORD: 'hunter22',
      SSH_KEY_PATH: '/home/u/.ssh/id',
      MY_CREDENTIALS: 'c-123456',
      FEATURE_KEY: 'true',
      API_KEY: 'abcde',
      HOME: '/home/u',
      PORT: '8080',
    });
    expect([...found.keys()].sort()).toEqual(['DB_PASSWORD', 'GITHUB_TOKEN', 'MY_CREDENTIALS', 'SSH_KEY_PATH', 'aws_secret_access_key']);
  });

  it.each([
    // A word of the name (split at _ - . and camelCase) is a token, secret, password, key, credential or private.
    ['API_KEY', true],
    ['DB_PASSWORD', true],
    ['githubToken', true],
    ['SECRET', true],
    ['APIKey', true],
    ['x-api-key', true],
    ['client.secret', true],
    ['DB_PASSWD', true],
    ['GPG_PASSPHRASE', true],
    ['GPG_PRIVATE_KEY', true],
    ['AWS_CREDS', true],
    ['GOOGLE_CREDENTIALS', true],
    ['NPM_AUTHTOKEN', true],
    ['dbpassword', true],
    ['STRIPE_API_KEY2', true],
    // A word that merely contains one is not.
    ['MONKEY_COUNT', false],
    ['KEYBOARD_LAYOUT', false],
    ['TOKENIZER_MODEL', false],
    ['TURKEY_FARM', false],
    ['SECRETARY_NAME', false],
    ['PASSWORDLESS_LOGIN', false],
    ['PWD', false],
    ['PATH', false],
  ])('%s: a secret by its name? %s', (name, secret) => {
    expect(looksSecret(name)).toBe(secret);
  });

  it('the environment\'s secrets follow the same rule: MONKEY_COUNT and TOKENIZER_MODEL are shown, API_KEY and githubToken masked', () => {
    const env = { MONKEY_COUNT: '12345678', TOKENIZER_MODEL: 'bpe-large-v2', API_KEY: 'k-abcdef123', githubToken: 'ghp_abcdef123' };
    const found = environmentSecrets(env);
    expect([...found.keys()].sort()).toEqual(['API_KEY', 'githubToken']);
    expect(maskText(Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' '), [...found.values()])).toBe('MONKEY_COUNT=12345678 TOKENIZER_MODEL=bpe-large-v2 API_KEY=*** githubToken=***');
  });

  it('masks longest first, every occurrence, and a secret of several lines line by line too', () => {
    expect(maskText('a s3cr3t-long b s3cr3t', ['s3cr3t', 's3cr3t-long'])).toBe('a *** b ***');
    const key = '-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----';
    expect(maskText(`got ${key}`, [key])).toBe('got ***');
    expect(maskText('line: EEEEFFFFGGGG', [key])).toBe('line: ***');
    expect(maskDeep({ a: ['x hunter22'], n: 1 }, ['hunter22'])).toEqual({ a: ['x ***'], n: 1 });
  });
});
