import { afterAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@libsql/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLease, commitRun, openUptimeDb, pruneFacility, readAppHistory, readCheckpoint, releaseLease, type RunWrite } from '../../core/uptime-store.ts';
import { nsToIso } from '../../core/uptime-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'src-uptime-store-'));
const url = `file:${join(dir, 'u.db')}`;
const clients: Client[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<Client> {
  const db = createClient({ url, timeout: 0 } as Parameters<typeof createClient>[0]);
  clients.push(db);
  await db.execute('PRAGMA journal_mode=WAL');
  return openUptimeDb(db);
}

const S = 1_000_000_000n;
const t = (sec: number) => 1_795_000_000n * S + BigInt(sec) * S;
const NOW = '2026-11-29T00:00:00.000Z';

function write(transitions: RunWrite['transitions'], T: bigint): RunWrite {
  return {
    transitions,
    samples: [...new Set(transitions.map((x) => x.app))].map((app) => ({ app, state: 'running' as const })),
    sampledAt: T,
    checkpoint: { checkpointAt: T, anchor: null, snapshot: {}, unreachableSince: null, lastError: null },
  };
}

describe('lease', () => {
  it('one holder at a time; the holder may renew; expiry or release frees it', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const results = await Promise.all([acquireLease(a, 'L', 'A', 1000, 0), acquireLease(b, 'L', 'B', 1000, 0)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'A' : 'B';
    const loser = winner === 'A' ? 'B' : 'A';
    expect(await acquireLease(a, 'L', winner, 1000, 500)).toBe(true); // renew
    expect(await acquireLease(a, 'L', loser, 1000, 1000)).toBe(false); // renewed until 1500
    expect(await acquireLease(b, 'L', loser, 1000, 1500)).toBe(true); // expired
    await releaseLease(a, 'L', winner); // not the holder any more: no effect
    expect(await acquireLease(a, 'L', winner, 1000, 1600)).toBe(false);
    await releaseLease(b, 'L', loser);
    expect(await acquireLease(a, 'L', winner, 1000, 1600)).toBe(true);
  });
});

describe('commitRun', () => {
  it('writes transitions, samples and the checkpoint together', async () => {
    const db = await open();
    expect(await acquireLease(db, 'C1', 'me', 60_000, Date.now())).toBe(true);
    const r = await commitRun(db, 'C1', 'me', 0, write([{ app: 'x--u', at: t(1), state: 'running', source: 'first-run' }], t(1)), NOW);
    expect(r).toBeNull();
    const cp = await readCheckpoint(db, 'C1');
    expect(cp?.checkpointAt).toBe(t(1));
    expect(cp?.runs).toBe(1);
    const h = await readAppHistory(db, 'C1', 'x--u', nsToIso(t(0)), nsToIso(t(2)));
    expect(h.transitions).toEqual([{ at: nsToIso(t(1)), state: 'running', source: 'first-run', action: null }]);
    expect(h.samples).toEqual([{ at: nsToIso(t(1)), state: 'running' }]);
  });

  it('refuses when the lease was lost or the checkpoint moved, writing nothing', async () => {
    const db = await open();
    await acquireLease(db, 'C2', 'me', 60_000, Date.now());
    expect(await commitRun(db, 'C2', 'other', 0, write([{ app: 'x--u', at: t(1), state: 'running', source: 'event' }], t(1)), NOW)).toBe('lost-lease');
    expect(await commitRun(db, 'C2', 'me', 0, write([{ app: 'x--u', at: t(1), state: 'running', source: 'event' }], t(1)), NOW)).toBeNull();
    expect(await commitRun(db, 'C2', 'me', 0, write([{ app: 'x--u', at: t(2), state: 'not-running', source: 'event' }], t(2)), NOW)).toBe('checkpoint-moved');
    const h = await readAppHistory(db, 'C2', 'x--u', nsToIso(t(0)), nsToIso(t(9)));
    expect(h.transitions.map((x) => x.state)).toEqual(['running']);
    expect((await readCheckpoint(db, 'C2'))?.checkpointAt).toBe(t(1));
  });

  it('a run that fails half-way leaves nothing half-written', async () => {
    const db = await open();
    await acquireLease(db, 'C3', 'me', 60_000, Date.now());
    const dup = { app: 'x--u', at: t(1), state: 'running' as const, source: 'event' as const };
    await expect(commitRun(db, 'C3', 'me', 0, write([{ ...dup, app: 'y--u' }, dup, dup], t(1)), NOW)).rejects.toThrow();
    expect(await readCheckpoint(db, 'C3')).toBeNull();
    expect((await readAppHistory(db, 'C3', 'y--u', nsToIso(t(0)), nsToIso(t(9)))).known).toBe(false);
  });
});

describe('pruneFacility', () => {
  it('drops rows older than the cutoff, keeps the state at the cutoff for apps with later history, forgets the rest', async () => {
    const db = await open();
    await acquireLease(db, 'P', 'me', 60_000, Date.now());
    const w = write(
      [
        { app: 'live--u', at: t(0), state: 'running', source: 'first-run' },
        { app: 'live--u', at: t(10), state: 'not-running', source: 'event' },
        { app: 'gone--u', at: t(0), state: 'running', source: 'first-run' },
        { app: 'gone--u', at: t(5), state: 'not-running', source: 'event', action: 'die' },
      ],
      t(0),
    );
    expect(await commitRun(db, 'P', 'me', 0, w, NOW)).toBeNull();
    expect(await commitRun(db, 'P', 'me', 1, { ...write([], t(100)), samples: [{ app: 'live--u', state: 'not-running' }] }, NOW)).toBeNull();
    const r = await pruneFacility(db, 'P', t(50), NOW);
    expect(r).toEqual({ samples: 2, transitions: 3 });
    const live = await readAppHistory(db, 'P', 'live--u', nsToIso(t(0)), nsToIso(t(200)));
    expect(live.transitions).toEqual([{ at: nsToIso(t(50)), state: 'not-running', source: 'retention', action: 'retention' }]);
    expect(live.samples.map((s) => s.at)).toEqual([nsToIso(t(100))]);
    expect((await readAppHistory(db, 'P', 'gone--u', nsToIso(t(0)), nsToIso(t(200)))).known).toBe(false);
    expect((await readCheckpoint(db, 'P'))?.prunedAt).not.toBeNull();
  });
});
