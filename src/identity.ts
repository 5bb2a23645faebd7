// Who is deploying from where, the one definition for every layer: the record, the lock (on every
// backend) and the audit log name the same user (DEPLOYCTL_USER, then the CI actor, then the login).
import { hostname, userInfo } from 'node:os';

export interface Identity {
  user: string;
  host: string;
  pid: number;
}

export function currentIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  let user = env.DEPLOYCTL_USER ?? env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = env.USER ?? env.USERNAME ?? 'unknown';
    }
  }
  return { user, host: hostname(), pid: process.pid };
}
