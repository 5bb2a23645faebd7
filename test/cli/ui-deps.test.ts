// The board's actions are the core's functions, with the board's own emit: nothing written to the
// terminal under it, and a rollback that walks back (never "back" to a newer version).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { createBoardDeps } from '../../src/cli/ui-deps.js';
import { createCoreDeps } from '../../src/cli/core-deps.js';
import { deploy } from '../../src/core/deploy.js';
import type { DeployEvent } from '../../src/engine/events.js';
import { cleanEnv, tempDir } from '../support/cli.js';

describe('the ui board over the core', () => {
  it('offers and runs rollbacks that walk back, and says when there is nothing older', async () => {
    const dir = tempDir('deployctl-board-');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      `deployments:\n  svc:\n    type: shell\n    commands: [[node, -e, "require('fs').writeFileSync(process.env.OUT, process.env.DEPLOY_VERSION)"]]\n`,
    );
    const out = join(tempDir(), 'running');
    let written = '';
    const stderr = new Writable({ write: (chunk, _e, cb) => ((written += String(chunk)), cb()) });
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, OUT: out }), cwd: dir };
    const ctx = createContext({}, io, 'deployctl ui');
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await deploy({ app: 'svc', env: 'dev', version }, createCoreDeps(ctx))).exitCode).toBe(0);

    const board = await createBoardDeps(ctx);
    const events: DeployEvent[] = [];
    expect(await board.previewRollback('svc', 'dev')).toEqual({ version: '1.1.0' });
    expect(await board.rollback('svc', 'dev', (e) => events.push(e))).toMatchObject({ exitCode: 0 });
    expect(readFileSync(out, 'utf8')).toBe('1.1.0');
    expect(events.some((e) => e.type === 'finished' && e.record.action === 'rollback' && e.record.version === '1.1.0')).toBe(true);
    expect(await board.previewRollback('svc', 'dev')).toEqual({ version: '1.0.0' });
    expect(await board.rollback('svc', 'dev', () => {})).toMatchObject({ exitCode: 0 });
    expect((await board.loadBoard()).cells.svc!.dev).toMatchObject({ version: '1.0.0', status: 'succeeded' });
    expect((await board.previewRollback('svc', 'dev')).reason).toContain('no good version of svc in dev older than 1.0.0, which runs now');
    expect(written).toBe('');
  });
});
