// The health check: attempts with a per-attempt time limit, retried by p-retry (the only retry layer:
// got's own retry is off) with exponential backoff and jitter, a grace period before the first try,
// consecutive successes required, and an overall deadline. An unhealthy target is a result, not a throw.
import type { HealthCheckConfig } from '../config/types.js';
import type { Runner } from '../executors/types.js';
import type { HealthAttempt, HealthResult } from '../state/types.js';
import { formatDuration } from '../config/duration.js';
import { nextDelay } from './backoff.js';
import { probeCommand, probeHttp, probeTcp, type ProbeResult } from './probes.js';

/**
 * Defaults chosen so a check notices a server soon after it comes up: delays 100ms, then 250ms (with
 * jitter), so "time reported healthy / time the server took" stays near 1.1 for 1-5 s start-ups. The
 * overall deadline bounds a check whose every attempt times out (121 × 5 s would be 10 minutes).
 */
export const HEALTH_DEFAULTS = { retries: 120, interval: 100, max_interval: 250, timeout: 5000, start_period: 0, success_threshold: 1, deadline: 300_000 };

interface HealthDeps {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  random(): number;
}

interface HealthOptions {
  onAttempt?: (attempt: HealthAttempt) => void;
  signal?: AbortSignal;
  /** For `type: command` checks. */
  runner?: Runner;
  cwd?: string;
  /** The environment of a command check, on top of the runner's: DEPLOY_APP, DEPLOY_VERSION..., the variables. */
  env?: Record<string, string>;
  deps?: Partial<HealthDeps>;
  /** Replaces the real probes (tests of the retry logic). */
  probe?: (check: HealthCheckConfig, timeoutMs: number) => Promise<ProbeResult>;
}

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

class NotYet extends Error {}

export async function runHealthCheck(check: HealthCheckConfig, options: HealthOptions = {}): Promise<HealthResult> {
  const { pRetry, AbortError } = await import('../vendor/p-retry.js');
  const sleep = options.deps?.sleep ?? realSleep;
  const now = options.deps?.now ?? Date.now;
  const random = options.deps?.random ?? Math.random;
  const retries = check.retries ?? HEALTH_DEFAULTS.retries;
  const interval = check.interval ?? HEALTH_DEFAULTS.interval;
  const maxInterval = Math.max(interval, check.max_interval ?? HEALTH_DEFAULTS.max_interval);
  const timeout = check.timeout ?? HEALTH_DEFAULTS.timeout;
  const threshold = Math.max(1, check.success_threshold ?? HEALTH_DEFAULTS.success_threshold);
  const start = now();
  const deadline = start + (check.deadline ?? HEALTH_DEFAULTS.deadline);

  const probe =
    options.probe ??
    ((c: HealthCheckConfig, ms: number): Promise<ProbeResult> => {
      if (c.type === 'tcp') return probeTcp(c, ms);
      if (c.type === 'command') {
        if (!options.runner) throw new Error('a command health check needs a runner');
        return probeCommand(c, ms, options.runner, options.cwd ?? process.cwd(), options.env);
      }
      return probeHttp(c, ms);
    });

  const attempts: HealthAttempt[] = [];
  let consecutive = 0;
  let lastFailure = '';
  let failedInARow = 0;
  let pastDeadline = false;

  if (check.start_period) await sleep(check.start_period, options.signal);

  const attemptOnce = async () => {
    if (options.signal?.aborted) throw new AbortError('interrupted');
    const began = now();
    const budget = Math.max(1, Math.min(timeout, deadline - began));
    // A probe that throws (an unreadable ca_file, a bad URL) is a failed attempt that says why.
    const result = await probe(check, budget).catch((error: Error): ProbeResult => ({ ok: false, message: error.message }));
    const attempt: HealthAttempt = {
      attempt: attempts.length + 1,
      ok: result.ok,
      message: result.message,
      latencyMs: Math.round(now() - began),
      at: new Date().toISOString(),
    };
    attempts.push(attempt);
    options.onAttempt?.(attempt);
    if (!result.ok) {
      consecutive = 0;
      lastFailure = result.message;
      throw new Error(result.message);
    }
    consecutive += 1;
    if (consecutive < threshold) throw new NotYet(`${consecutive} of ${threshold} consecutive successes`);
  };

  let ok = false;
  try {
    await pRetry(attemptOnce, {
      // `retries` are the attempts allowed after failures: the successes success_threshold asks for come on top.
      retries: retries + threshold - 1,
      // Delays come from backoff.ts through the injected sleep, so tests control time: p-retry waits 0.
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      // p-retry calls this after every failed attempt, the last one too: wait only when another attempt
      // follows, and give up now when that attempt would start at or after the deadline.
      onFailedAttempt: async ({ error, retriesLeft }) => {
        failedInARow = error instanceof NotYet ? 0 : failedInARow + 1;
        if (retriesLeft <= 0 || options.signal?.aborted) return;
        const delay = error instanceof NotYet ? interval : nextDelay(failedInARow, { interval, maxInterval, random });
        if (now() + delay >= deadline) {
          pastDeadline = true;
          return;
        }
        await sleep(delay, options.signal);
      },
      shouldRetry: () => !pastDeadline && !options.signal?.aborted && now() < deadline,
    });
    ok = true;
  } catch {
    ok = false;
  }

  const durationMs = Math.round(now() - start);
  const count = `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`;
  const message = ok
    ? `healthy after ${count}`
    : options.signal?.aborted
      ? `interrupted after ${count}`
      : `unhealthy after ${count} over ${formatDuration(durationMs)}: ${lastFailure || 'not enough consecutive successes'}`;
  return { ok, message, attempts, durationMs };
}
