import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerList(program: Command, app: CliApp): void {
  app
    .globals(program.command('list').description('apps × environments from the config, with the version deployed in each'))
    .action(
      app.action(async (ctx) => {
        const { loadConfig } = await import('../config/load.js');
        const { openContextState } = await import('./context.js');
        const { renderTable, STATUS_SYMBOL } = await import('../ui/table.js');
        const { loadBoardData } = await import('../ui/board-data.js');
        const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
        const history = (await openContextState(ctx)).history;
        const board = await loadBoardData(loaded, history);
        const { reportWarnings } = await import('./context.js');
        reportWarnings(ctx, history);
        const envs = board.envs.map((e) => e.name);
        const apps = board.apps.map((name) => ({
          app: name,
          environments: Object.fromEntries(envs.map((e) => {
            const c = board.cells[name]![e]!;
            return [e, { version: c.version, status: c.status, lastVersion: c.lastVersion }];
          })),
        }));
        const text = renderTable(
          ['APP', ...envs.map((e) => e.toUpperCase())],
          apps.map((a) =>
            [a.app, ...envs.map((e) => {
              const c = a.environments[e]!;
              if (!c.status) return '-';
              const flag = c.status === 'succeeded' ? '' : ` ${STATUS_SYMBOL[c.status] ?? '?'}${c.lastVersion !== c.version ? c.lastVersion : ''}`;
              return `${c.version ?? '-'}${flag}`;
            })],
          ),
        );
        return { exitCode: 0, data: { schemaVersion: 1, environments: envs, apps }, text };
      }),
    );
}
