// `deployctl state info|migrate|import|export`: the state backend, its schema, and moving a history
// between a state folder and a database.
import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerState(program: Command, app: CliApp): void {
  const state = program.command('state').description('the state backend: what it holds, its schema, moving a history between backends');

  app.globals(state.command('info').description('the backend, its schema version, targets, records and who holds a lock now')).action(
    app.action(async (ctx) => {
      const { openContextState } = await import('./context.js');
      const store = await openContextState(ctx);
      const info = await describeState(store);
      const { renderTable } = await import('../ui/table.js');
      const lines = [
        `backend: ${info.backend}`,
        `location: ${info.location}`,
        `schema version: ${info.stateSchemaVersion}`,
        `targets: ${info.targets}`,
        `records: ${info.records}`,
        ...(info.auditEntries !== undefined ? [`audit entries: ${info.auditEntries}`] : []),
        info.locks.length
          ? `locks:\n${renderTable(
              ['APP', 'ENV', 'HOLDER', 'SINCE', 'COMMAND', 'STATE'],
              info.locks.map((l) => [l.app, l.env, `${l.holder.user}@${l.holder.host} (pid ${l.holder.pid})`, l.holder.startedAt, l.holder.command, l.state]),
            )}`
          : 'locks: none held',
      ];
      return { exitCode: 0, data: { schemaVersion: 1, ...info }, text: lines.join('\n') };
    }),
  );

  app.globals(state.command('migrate').description('bring the database schema up to date (versioned, idempotent, safe while others use it)')).action(
    app.action(async (ctx) => {
      const { chooseStateUrl } = await import('./state-url.js');
      const { parseStateUrl } = await import('../state/open.js');
      const { url, cwd } = await chooseStateUrl(ctx);
      const location = parseStateUrl(url, cwd);
      if (location.kind === 'file') {
        return { exitCode: 0, data: { schemaVersion: 1, backend: 'file', from: 1, to: 1, applied: [] }, text: `file state in ${location.dir}: nothing to migrate` };
      }
      const { createPostgresState } = await import('../state/postgres/store.js');
      const store = await createPostgresState(location.url, { migrate: 'never' });
      try {
        const result = await store.migrate();
        const text = result.applied.length
          ? `migrated ${store.location} from schema version ${result.from} to ${result.to}`
          : `${store.location} is at schema version ${result.to}: nothing to migrate`;
        return { exitCode: 0, data: { schemaVersion: 1, backend: 'postgres', ...result }, text };
      } finally {
        await store.close();
      }
    }),
  );

  app
    .globals(
      state
        .command('import')
        .description('copy a state folder\'s history and audit log into the database (idempotent: what is there already is skipped)')
        .requiredOption('--from <url>', 'the state folder, as file:DIR'),
    )
    .action(
      app.action(async (ctx, opts: { from: string }) => {
        const { openContextState } = await import('./context.js');
        const target = await openContextState(ctx);
        const { UsageError } = await import('../errors.js');
        if (target.backend !== 'postgres') {
          throw new UsageError('state import copies a state folder into a database, and the state here is a folder', 'pass --state postgres://USER@HOST/DB (or set DEPLOYCTL_STATE)');
        }
        const source = await openFolder(opts.from, ctx.io.cwd, '--from');
        const records = await allRecords(source);
        const { readAudit } = await import('../state/audit.js');
        const audit = (await readAudit(source.location, { limit: Number.MAX_SAFE_INTEGER })).reverse();
        const pg = target as import('../state/postgres/store.js').PostgresState;
        const added = await pg.importRecords(records);
        const auditAdded = await pg.importAudit(audit);
        return {
          exitCode: 0,
          data: { schemaVersion: 1, from: source.location, to: target.location, records: { found: records.length, imported: added }, audit: { found: audit.length, imported: auditAdded } },
          text: `imported ${added} of ${records.length} records and ${auditAdded} of ${audit.length} audit entries from ${source.location} into ${target.location}`,
        };
      }),
    );

  app
    .globals(
      state
        .command('export')
        .description('copy the history and audit log into a state folder (records already there are skipped)')
        .requiredOption('--to <url>', 'the state folder, as file:DIR'),
    )
    .action(
      app.action(async (ctx, opts: { to: string }) => {
        const { openContextState } = await import('./context.js');
        const source = await openContextState(ctx);
        const folder = await openFolder(opts.to, ctx.io.cwd, '--to');
        if (folder.location === source.location) {
          const { UsageError } = await import('../errors.js');
          throw new UsageError('state export would copy the state folder onto itself', 'pass --state postgres://... to export a database, and --to file:DIR for another folder');
        }
        let exported = 0;
        const records = await allRecords(source);
        for (const record of records.reverse()) {
          if (await folder.history.get(record.id)) continue;
          await folder.history.write(record);
          exported++;
        }
        const { readFile } = await import('node:fs/promises');
        const { auditPath } = await import('../state/audit.js');
        const present = new Set((await readFile(auditPath(folder.location), 'utf8').catch(() => '')).split('\n').filter(Boolean));
        const entries = (await source.audit.read({ limit: Number.MAX_SAFE_INTEGER })).reverse();
        let auditExported = 0;
        for (const entry of entries) {
          if (present.has(JSON.stringify(entry))) continue;
          await folder.audit.append(entry);
          auditExported++;
        }
        return {
          exitCode: 0,
          data: { schemaVersion: 1, from: source.location, to: folder.location, records: { found: records.length, exported }, audit: { found: entries.length, exported: auditExported } },
          text: `exported ${exported} of ${records.length} records and ${auditExported} of ${entries.length} audit entries from ${source.location} to ${folder.location}`,
        };
      }),
    );
}

/** A state folder named by --from/--to: `file:DIR` (or a plain folder path). */
async function openFolder(url: string, cwd: string, flag: string) {
  const { parseStateUrl, openState } = await import('../state/open.js');
  const { UsageError } = await import('../errors.js');
  const location = parseStateUrl(url, cwd);
  if (location.kind !== 'file') throw new UsageError(`${flag} must name a state folder (file:DIR), not a database`, `for example ${flag} file:~/.deployctl`);
  if (flag === '--from') {
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    if (!existsSync(join(location.dir, 'history'))) {
      throw new UsageError(`${location.dir} is not a deployctl state folder (it has no history/ folder)`, 'pass the folder deployctl used, for example --from file:~/.deployctl');
    }
  }
  return openState(`file:${location.dir}`, cwd);
}

/** Every record of a store, newest first per target. */
async function allRecords(store: import('../state/port.js').StateStore): Promise<import('../state/types.js').DeployRecord[]> {
  const records = [];
  for (const { app, env } of await store.history.targets()) records.push(...(await store.history.list({ app, env })));
  return records;
}

interface StateDescription {
  backend: string;
  location: string;
  stateSchemaVersion: number;
  targets: number;
  records: number;
  auditEntries?: number;
  locks: Array<{ app: string; env: string; holder: import('../state/types.js').LockInfo; state: string; backendPid?: number }>;
}

async function describeState(store: import('../state/port.js').StateStore): Promise<StateDescription> {
  if (store.backend === 'postgres') {
    const info = await (store as import('../state/postgres/store.js').PostgresState).info();
    return {
      backend: 'postgres',
      location: store.location,
      stateSchemaVersion: info.schemaVersion,
      targets: info.targets,
      records: info.records,
      auditEntries: info.auditEntries,
      locks: info.locks.map((l) => ({ app: l.app, env: l.env, holder: l.holder as import('../state/types.js').LockInfo, state: l.alive ? 'alive' : 'stale', backendPid: l.backendPid ?? undefined })),
    };
  }
  const targets = await store.history.targets();
  let records = 0;
  const locks: StateDescription['locks'] = [];
  for (const { app, env } of targets) {
    records += (await store.history.entries({ app, env })).length;
    const held = await store.locks.inspect(app, env);
    if (held) locks.push({ app, env, holder: held.holder, state: held.state });
  }
  return { backend: store.backend, location: store.location, stateSchemaVersion: 1, targets: targets.length, records, locks };
}
