import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerDiff(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('diff <src_env> <dst_env> [app]')
        .description('versions and resolved config that differ between two environments, and how to bring dst up to src')
        .option('--exit-code', 'exit 2 when an app runs a different version in dst than in src, 0 when not (like helm diff --detailed-exitcode)'),
    )
    .action(
      app.action(async (ctx, src: string, dst: string, appName: string | undefined, opts: { exitCode?: boolean }) => {
        const { assertName } = await import('../names.js');
        const { loadConfig, resolveApp } = await import('../config/load.js');
        const { openHistory } = await import('../state/open.js');
        const { maskDeep, sealSecrets, secretsOfConfig } = await import('../engine/secrets.js');
        const { durationsAsWritten } = await import('./duration-view.js');
        const { unifiedDiff } = await import('../engine/text-diff.js');
        const { gitCommitsBetween } = await import('../engine/git-log.js');
        const { UsageError } = await import('../errors.js');
        const { stringify } = await import('../vendor/yaml.js');
        assertName('environment', src);
        assertName('environment', dst);
        if (appName) assertName('app', appName);
        const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
        const envs = loaded.environments.map((e) => e.name);
        for (const env of [src, dst]) if (!envs.includes(env)) throw new UsageError(`unknown environment "${env}"`, `environments.yaml defines: ${envs.join(', ')}`);
        if (appName && !loaded.apps.includes(appName)) throw new UsageError(`unknown app "${appName}"`, `deployments.yaml defines: ${loaded.apps.join(', ')}`);
        const history = await openHistory(ctx.home);
        // Along the promotion order dst is brought up to src by a promotion; against it, by a deploy.
        const forward = envs.indexOf(dst) > envs.indexOf(src);
        const sortKeys = (value: unknown): unknown =>
          Array.isArray(value) ? value.map(sortKeys) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)])) : value;
        const apps = [];
        for (const name of appName ? [appName] : loaded.apps) {
          const side = async (env: string) => {
            const record = (await history.list({ app: name, env, status: 'succeeded', limit: 1 }))[0];
            let config: unknown;
            try {
              const resolved = await resolveApp(loaded, name, env, { version: record?.version ?? '0.0.0-undeployed', processEnv: ctx.io.env });
              const sealed = sealSecrets(resolved.config, secretsOfConfig(resolved.config.secrets, resolved.config.variables, ctx.io.env)).sealed;
              config = durationsAsWritten(maskDeep(sealed, resolved.secretValues) as unknown as Record<string, unknown>).config;
            } catch (error) {
              config = { error: (error as Error).message };
            }
            return { version: record?.version ?? null, at: record?.finishedAt ?? null, by: record?.user ?? null, config };
          };
          const a = await side(src);
          const b = await side(dst);
          const configDiff = unifiedDiff(stringify(sortKeys(b.config)), stringify(sortKeys(a.config)), { fromLabel: `${name} in ${dst}`, toLabel: `${name} in ${src}` });
          const repo = (await resolveApp(loaded, name, src, { version: a.version ?? '0.0.0', processEnv: ctx.io.env }).catch(() => undefined))?.config.repo;
          const commits = repo && a.version && b.version && a.version !== b.version ? gitCommitsBetween(String(repo), b.version, a.version) : undefined;
          const sameVersion = a.version === b.version;
          apps.push({
            app: name,
            src: { version: a.version, at: a.at, by: a.by },
            dst: { version: b.version, at: b.at, by: b.by },
            sameVersion,
            same: sameVersion && !configDiff,
            configDiff,
            commits: commits ?? null,
            command:
              a.version && a.version !== b.version
                ? forward
                  ? `deployctl promote ${name} --from ${src} --to ${dst}`
                  : `deployctl deploy ${name} -e ${dst} --version ${a.version}`
                : null,
          });
        }
        const { reportWarnings } = await import('./context.js');
        reportWarnings(ctx, history);
        const lines: string[] = [];
        for (const a of apps) {
          lines.push(`${a.app}: ${src} ${a.src.version ?? '(not deployed)'}${a.src.by ? ` (by ${a.src.by}, ${a.src.at})` : ''}  ${dst} ${a.dst.version ?? '(not deployed)'}${a.dst.by ? ` (by ${a.dst.by}, ${a.dst.at})` : ''}`);
          if (a.same) lines.push('  same version and config');
          else if (a.sameVersion) lines.push(`  same version${a.src.version ? ` (${a.src.version})` : ''}; the config of the two environments differs:`);
          if (a.commits?.length) lines.push(`  commits from ${a.dst.version} to ${a.src.version}:`, ...a.commits.map((c) => `    ${c}`));
          if (a.configDiff) lines.push(...a.configDiff.trimEnd().split('\n').map((l) => `  ${l}`));
          if (a.command) lines.push(`  to bring ${dst} up to ${src}: ${a.command}`);
        }
        // Environments differ in their settings by design (ports, replicas): the exit code says whether
        // dst runs what src runs, that is whether a promotion would change anything.
        const differs = apps.some((a) => !a.sameVersion);
        return {
          exitCode: opts.exitCode && differs ? 2 : 0,
          data: { schemaVersion: 1, src, dst, differs, apps },
          text: lines.join('\n'),
        };
      }),
    );
}
