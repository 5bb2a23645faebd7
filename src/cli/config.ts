import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { collect } from './deploy.js';

export function registerConfig(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('config <app>')
        .description('print the resolved config of an app in an environment, secrets shown as ***')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--version <version>', 'version to resolve with')
        .option('--set <key=value>', 'override a config value (repeatable)', collect, []),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; version?: string; set: string[] }) => {
        const { prepareTarget } = await import('./target.js');
        const { maskDeep, sealSecrets, secretsOfConfig } = await import('../engine/secrets.js');
        const { durationsAsWritten } = await import('./duration-view.js');
        const { stringify } = await import('../vendor/yaml.js');
        const { target } = await prepareTarget(ctx, appName, opts.env, { version: opts.version, set: opts.set });
        const { sealed } = sealSecrets(target.config, secretsOfConfig(target.config.secrets, target.config.variables, ctx.io.env));
        const config = maskDeep(sealed, target.secretValues);
        const document = { app: target.app, env: target.env, version: target.version, protected: target.environment.protected, config };
        // JSON keeps durations in ms (with their text in `durations`); the text shows them as written.
        const { config: written, durations } = durationsAsWritten(config as unknown as Record<string, unknown>);
        return { exitCode: 0, data: { schemaVersion: 1, ...document, durations }, text: stringify({ ...document, config: written }, { sortMapEntries: false }) };
      }),
    );
}
