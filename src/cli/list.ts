import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerList(program: Command, app: CliApp): void {
  app
    .globals(program.command('list').description('apps × environments from the config, with the version deployed in each'))
    .action(
      app.action(async (ctx) => {
        const { loadConfig } = await import('../config/load.js');
        const { FileHistoryStore } = await import('../state/history.js');
        const { renderTable, STATUS_SYMBOL } = await import('../ui/table.js');
        const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.io.env });
        const history = new FileHistoryStore(ctx.home);
        const envs = loaded.environments.map((e) => e.name);
        const latest = new Map((await history.current()).map((r) => [`${r.app}\0${r.env}`, r]));
        const apps = [];
        for (const name of loaded.apps) {
          const cells: Record<string, { version: string | null; status: string | null; lastVersion: string | null }> = {};
          for (const env of envs) {
            const last = latest.get(`${name}\0${env}`);
            const running = !last || last.status === 'succeeded' ? last : (await history.list({ app: name, env, status: 'succeeded', limit: 1 }))[0];
            cells[env] = { version: running?.version ?? null, status: last?.status ?? null, lastVersion: last?.version ?? null };
          }
          apps.push({ app: name, environments: cells });
        }
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
