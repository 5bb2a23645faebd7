// Which CI system runs deployctl, and what to store about the run in the record.
import type { CiInfo } from '../state/types.js';

export function detectCi(env: NodeJS.ProcessEnv): CiInfo | undefined {
  if (env.GITHUB_ACTIONS === 'true') {
    const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
    return { provider: 'github-actions', runUrl, commit: env.GITHUB_SHA, actor: env.GITHUB_ACTOR, ref: env.GITHUB_REF };
  }
  if (env.GITLAB_CI) return { provider: 'gitlab', runUrl: env.CI_JOB_URL ?? env.CI_PIPELINE_URL, commit: env.CI_COMMIT_SHA, actor: env.GITLAB_USER_LOGIN, ref: env.CI_COMMIT_REF_NAME };
  if (env.CIRCLECI) return { provider: 'circleci', runUrl: env.CIRCLE_BUILD_URL, commit: env.CIRCLE_SHA1, actor: env.CIRCLE_USERNAME, ref: env.CIRCLE_BRANCH };
  if (env.BUILDKITE) return { provider: 'buildkite', runUrl: env.BUILDKITE_BUILD_URL, commit: env.BUILDKITE_COMMIT, actor: env.BUILDKITE_BUILD_CREATOR, ref: env.BUILDKITE_BRANCH };
  if (env.JENKINS_URL) return { provider: 'jenkins', runUrl: env.BUILD_URL, commit: env.GIT_COMMIT, ref: env.GIT_BRANCH };
  if (env.TF_BUILD) return { provider: 'azure-pipelines', commit: env.BUILD_SOURCEVERSION, actor: env.BUILD_REQUESTEDFOR, ref: env.BUILD_SOURCEBRANCH };
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return { provider: 'ci' };
  return undefined;
}
