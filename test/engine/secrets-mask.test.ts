// Which values are secrets, and how they are masked.
import { describe, expect, it } from 'vitest';
import { environmentSecrets, maskDeep, maskText } from '../../src/engine/secrets.js';

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

  it('masks longest first, every occurrence, and a secret of several lines line by line too', () => {
    expect(maskText('a s3cr3t-long b s3cr3t', ['s3cr3t', 's3cr3t-long'])).toBe('a *** b ***');
    const key = '-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----';
    expect(maskText(`got ${key}`, [key])).toBe('got ***');
    expect(maskText('line: EEEEFFFFGGGG', [key])).toBe('line: ***');
    expect(maskDeep({ a: ['x hunter22'], n: 1 }, ['hunter22'])).toEqual({ a: ['x ***'], n: 1 });
  });
});
