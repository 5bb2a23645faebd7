// PgBouncer in transaction mode told apart from a direct connection and a session-mode pooler, from
// the answers the lock connection gets (src/state/postgres/pooler.ts). The same with a real PgBouncer:
// test/e2e/postgres-pgbouncer.test.ts.
import { describe, expect, it } from 'vitest';
import { poolerVerdict, transactionPoolerError } from '../../src/state/postgres/pooler.js';

describe('poolerVerdict', () => {
  it.each([
    [{ keyPid: 4121, sessionPid: 4121 }, 'direct'],
    // A pooler's own backend key, and another client gets another server session: sessions are pinned.
    [{ keyPid: 2047798658, sessionPid: 4121, otherPid: 4122 }, 'session-pooler'],
    // Another client gets the very session the lock connection just used: transaction mode.
    [{ keyPid: 201777588, sessionPid: 4121, otherPid: 4121 }, 'transaction-pooler'],
    // No backend key at all: decided by the second statement alone.
    [{ keyPid: undefined, sessionPid: 4121, otherPid: 4121 }, 'transaction-pooler'],
    [{ keyPid: undefined, sessionPid: 4121, otherPid: 4200 }, 'session-pooler'],
  ] as const)('%o: %s', (answers, verdict) => {
    expect(poolerVerdict(answers)).toBe(verdict);
  });

  it('refuses with exit 2, naming the target and the way out', () => {
    const error = transactionPoolerError('postgres://deployer:***@pgbouncer:6432/deployctl', 'web', 'prod');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      'the state database postgres://deployer:***@pgbouncer:6432/deployctl is reached through a connection pooler in transaction mode (PgBouncer with pool_mode = transaction): the database session that would hold the lock of web in prod is handed to other clients between statements, so two deployments could both hold it',
    );
    expect(error.hint).toBe('connect deployctl directly to PostgreSQL, or through a pool in session mode (pool_mode = session); nothing was run');
  });
});
