// Delays between health check attempts: exponential from `interval`, capped by `max_interval`, with
// "equal jitter" (half the delay fixed, half random) so checks of many targets do not march in step
// while no delay ever drops below half its nominal value.

interface BackoffOptions {
  interval: number;
  maxInterval: number;
  factor?: number;
  random?: () => number;
}

/** The delay after the failed attempt number `attempt` (1-based). */
export function nextDelay(attempt: number, options: BackoffOptions): number {
  const nominal = Math.min(options.maxInterval, options.interval * (options.factor ?? 2) ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}
