// A connection pooler between deployctl and PostgreSQL. A session advisory lock needs one server
// session for the whole deployment: a direct connection, or a pooler in session mode, which pins a
// server session to each client. PgBouncer in transaction mode hands each statement to whichever
// server session is free, so the lock would be taken in a session that other clients then use (and
// could take again: advisory locks are re-entrant in a session). Detected when the lock is taken:
//
// - the backend key the server sent at start-up names the session's pid; a pooler sends its own key,
//   so a key that is not pg_backend_pid() means a pooler sits in between;
// - then a statement on another connection through the same pooler: in transaction mode it gets the
//   server session the lock connection just used (PgBouncer hands out the most recently freed one),
//   in session mode never, since that session is pinned to the lock connection.
//
// What the heartbeat checks on top (the session pid unchanged) catches what slips through here.
import { UsageError } from '../../errors.js';

type PoolerVerdict = 'direct' | 'session-pooler' | 'transaction-pooler';

/**
 * What the answers say: `keyPid` from the start-up's backend key (undefined when none came),
 * `sessionPid` from pg_backend_pid() on the lock connection, `otherPid` from pg_backend_pid() on
 * another connection right after (only asked when the first two differ).
 */
export function poolerVerdict(answers: { keyPid: number | undefined; sessionPid: number; otherPid?: number }): PoolerVerdict {
  if (answers.keyPid === answers.sessionPid) return 'direct';
  return answers.otherPid === answers.sessionPid ? 'transaction-pooler' : 'session-pooler';
}

export function transactionPoolerError(shown: string, app: string, env: string): UsageError {
  return new UsageError(
    `the state database ${shown} is reached through a connection pooler in transaction mode (PgBouncer with pool_mode = transaction): the database session that would hold the lock of ${app} in ${env} is handed to other clients between statements, so two deployments could both hold it`,
    'connect deployctl directly to PostgreSQL, or through a pool in session mode (pool_mode = session); nothing was run',
  );
}
