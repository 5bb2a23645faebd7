// deploy: the request checked, the target resolved from the config, then the engine's lifecycle.
import { deployTarget, type DeployOutcome } from '../engine/deploy.js';
import type { CoreDeps } from './deps.js';
import { engineRequest, runEngine } from './engine-request.js';
import { loadTargetConfig, resolveTarget } from './target.js';
import { assertVersion } from '../names.js';

interface DeployRequest {
  app: string;
  env: string;
  /** Default: the app's version: setting, else the git short SHA of its checkout. */
  version?: string;
  /** --set key=value overrides. */
  set?: string[];
  dryRun?: boolean;
  /** --no-rollback: no automatic rollback after a failure. */
  noRollback?: boolean;
  /** The time limit of each command, overriding timeout: in the config. */
  timeoutMs?: number;
  /** How long to wait for another deployment of the target to finish. */
  waitLockMs?: number;
}

/** A deployment's outcome: the engine's, with why its rollbacks stopped early, if they did. */
export type DeploymentOutcome = DeployOutcome;

/** A deployment checked and resolved, ready to run: what the request names is known before anything starts. */
interface PreparedDeployment {
  app: string;
  env: string;
  version: string;
  run(): Promise<DeploymentOutcome>;
}

export async function prepareDeploy(request: DeployRequest, core: CoreDeps): Promise<PreparedDeployment> {
  // A version given is checked first: a hostile one is refused as such, whatever else is wrong.
  if (request.version !== undefined) assertVersion(request.version);
  const loaded = await loadTargetConfig(core, request.app, request.env, request.set);
  const target = await resolveTarget(core, loaded, request.app, request.env, { version: request.version, set: request.set });
  if (request.timeoutMs !== undefined) target.config.timeout = request.timeoutMs;
  return {
    app: target.app,
    env: target.env,
    version: target.version,
    run: () =>
      runEngine(core, (deps) =>
        deployTarget(
          engineRequest(core, request, {
            target,
            action: 'deploy' as const,
            autoRollback: !request.noRollback && target.config.rollback?.auto !== false,
            tools: loaded.tools,
          }),
          deps,
        ),
      ),
  };
}

export async function deploy(request: DeployRequest, core: CoreDeps): Promise<DeploymentOutcome> {
  return (await prepareDeploy(request, core)).run();
}
