// The production engine parts: the runner over execa, the executors, hooks, health checks, tool
// lookup and notifications, each module imported when a deployment first needs it, never at start-up.
import type { EngineParts } from './deps.js';

async function loadEngineParts(env: NodeJS.ProcessEnv): Promise<EngineParts> {
  const [runner, executors, shell, tools, health, notify] = await Promise.all([
    import('../engine/runner.js'),
    import('../executors/index.js'),
    import('../executors/shell.js'),
    import('../executors/tools.js'),
    import('../health/check.js'),
    import('../notify/notify.js'),
  ]);
  return {
    createRunner: (options) => runner.createRunner({ dryRun: options.dryRun, env: options.env ?? env, onSpawn: options.onSpawn, onExit: options.onExit }),
    getExecutor: (type) => executors.getExecutor(type),
    planHooks: (input, phase) => shell.planHooks(input, phase),
    runHealthCheck: (check, options) => health.runHealthCheck(check, options),
    resolveTools: (names, overrides) => tools.resolveTools(names, overrides, env),
    probeTool: (file, args) => runner.probeTool(file, args, env),
    notify: (record, config, options) => notify.sendNotifications(record, config as Parameters<typeof notify.sendNotifications>[1], options),
  };
}

/** The engine parts loaded once per container, however many requests use them. */
export function lazyEngineParts(env: NodeJS.ProcessEnv): () => Promise<EngineParts> {
  let loading: Promise<EngineParts> | undefined;
  return () => {
    loading ??= loadEngineParts(env);
    loading.catch(() => (loading = undefined));
    return loading;
  };
}
