// A holder whose network to the database is cut silently (a proxy on loopback that stops forwarding):
// the lock is freed within the documented bound, and the cut-off holder stops its commands and says it
// lost the lock and could not write its record, never a success.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { LOCK_SESSION_TIMEOUT_MS } from '../../src/state/postgres/locks.js';
import { rows, start, team, until, within } from '../support/postgres-team.js';
import { isPidAlive } from '../../src/state/process.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();

/** A TCP proxy on loopback to the database that can stop forwarding (a silently cut network). */
async function cuttableProxy(port: number): Promise<{ port: number; cut: () => void; close: () => void }> {
  const sockets: Socket[] = [];
  let cut = false;
  const proxy = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (d) => {
        if (!cut) to.write(d);
      });
      from.on('error', () => undefined);
    }
    // Nothing is closed when cut: the two sides see silence, as on a cut cable.
    client.on('close', () => !cut && upstream.destroy());
    upstream.on('close', () => !cut && client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as { port: number }).port,
    cut: () => {
      cut = true;
    },
    close: () => {
      proxy.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe.skipIf(skip)('a network cut between a holder and the database', () => {
  it('the cut-off holder stops its commands and exits 130 saying it lost the lock and could not write the record; the lock is free within the documented bound', async () => {
    const proxy = await cuttableProxy(server.port);
    try {
      const { b, db, gate, machine } = await team(server);
      const cutOff = machine('machine-a', `postgres://postgres@127.0.0.1:${proxy.port}/${db}`);
      cutOff.env = { ...cutOff.env, GATE: gate };
      const holder = start(cutOff, ['deploy', 'svc', '-e', 'dev']);
      await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
      let command = 0;
      await until(async () => {
        const [row] = await server.query<{ pid: number | null }>(`SELECT (holder->'processes'->0->>'pid')::int AS pid FROM deployctl_locks`, [], db);
        command = row?.pid ?? 0;
        return command > 0;
      });
      proxy.cut();
      const cutAt = Date.now();
      const waiter = start(b, ['deploy', 'svc', '-e', 'dev', '--wait-lock', '2m', '--log-format', 'json']);
      // The gate stays shut: the holder stops by itself once its heartbeat goes unanswered.
      const cut = await within(holder.done, 90_000, 'the cut-off holder stopping');
      expect(cut.code, cut.stderr).toBe(130);
      expect(isPidAlive(command)).toBe(false);
      expect(cut.stderr).toMatch(
        /^error: lost the lock of svc in dev: the database did not answer its heartbeat in 5 s \(.*\): the network to it may be cut; its commands were stopped \(interrupted during .*\), and deployctl cannot vouch for how deploy 1\.0\.0 of svc in dev ended; and its record could not be written either: .*$/m,
      );
      expect(cut.stderr).toMatch(/^hint: .*check what runs in dev and who holds its lock now \(deployctl status svc -e dev\)/m);
      expect(cut.stdout + cut.stderr).not.toMatch(/deployed svc|succeeded/);
      const lockLine = () =>
        waiter
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { time: string; phase?: string; status?: string })
          .find((l) => l.phase === 'lock' && l.status === 'done');
      await until(() => lockLine() !== undefined, 60_000);
      const locked = lockLine();
      // The documented bound (README, Team state): the lock session's idle_session_timeout.
      expect(Date.parse(locked!.time) - cutAt).toBeLessThan(LOCK_SESSION_TIMEOUT_MS + 5_000);
      writeFileSync(gate, '');
      const next = await waiter.done;
      expect(next.code, next.stderr).toBe(0);
      // The record the holder could not write is settled by the next deployment, under the lock.
      const records = await rows(server, db);
      expect(records.map((r) => r.status)).toEqual(['interrupted', 'succeeded']);
      expect(records[0]!.error).toContain('could not save how it ended');
    } finally {
      proxy.close();
    }
  }, 180_000);
});
