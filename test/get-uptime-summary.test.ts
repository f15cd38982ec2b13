/**
 * GET /{facility}/get-uptime-summary on history the uptime job recorded from the real Engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, setConfig } from '../core/config.ts';
import { engineTimestamp } from '../core/engine.ts';
import { getFacility, resetFacilities } from '../core/facility.ts';
import { runUptimeJob } from '../core/uptime-job.ts';
import { uptimeSummary, type UptimeDetail } from '../core/uptime-summary.ts';
import { isoToNs } from '../core/uptime-model.ts';
import { uptimeDb } from '../core/uptime-store.ts';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

/** The test images, approved for this file's facilities (create-app needs an approved image). */
const APPROVED = { approved: ['docker.io/src-test/*'] };

// One facility per attempt at the recorded scenario (see beforeAll), each starting empty.
const RUN = Math.random().toString(36).slice(2, 8);
const FACS = [1, 2, 3].map((i) => `ups${RUN}${i}`);
const facility = { description: 'uptime summary test', publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' };
setConfig(
  parseConfig({ facilities: { demo: { publishHost: '127.0.0.1', images: APPROVED, mode: 'solo' }, ...Object.fromEntries(FACS.map((f) => [f, facility])) } }, 'test/get-uptime-summary.test.ts'),
);
resetFacilities();

let FAC = FACS[0];
let user = '';
const users: string[] = [];
const job = async () => (await runUptimeJob({ facilities: [FAC] })).facilities[0];
const post = async (path: string) => {
  const r = await call('POST', path);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (iso: string) => `${iso.slice(0, 19)}Z`;

let name = '';
let id = '';
let first: Awaited<ReturnType<typeof job>>;
let second: Awaited<ReturnType<typeof job>>;
let stopAt = '';
let startAt = '';

/**
 * The recorded scenario: a first run, a 5-second stop between two samples, a second run. The
 * Engine keeps only its latest 256 events, and other test files' containers can push ours out
 * within these 7 s; then the job (rightly) reconciles from inspect and the exact event times this
 * file checks are gone, so the scenario is tried again, in a fresh facility, up to 3 times.
 */
beforeAll(async () => {
  for (const f of FACS) {
    FAC = f;
    user = uniqueUser('us');
    users.push(user);
    const a = await createApp(IMAGES.busybox, user, FAC);
    name = a.name;
    id = a.id;
    await post(`/${FAC}/start-app?name=${name}`);
    first = await job();
    // a 5-second stop that falls between two samples
    await sleep(1000);
    await post(`/${FAC}/stop-app?name=${name}&timeout=1`);
    await sleep(5000);
    await post(`/${FAC}/start-app?name=${name}`);
    await sleep(1000);
    second = await job();
    const evs = await engine.events({ since: engineTimestamp(isoToNs(first.checkpoint!)!), until: engineTimestamp(isoToNs(second.checkpoint!)!), filters: { container: [id] } });
    const die = evs.find((e) => e.Action === 'die');
    const start = evs.find((e) => e.Action === 'start');
    if (!second.covered || !die || !start) continue;
    stopAt = new Date(Number(BigInt(die.timeNano) / 1_000_000n)).toISOString();
    startAt = new Date(Number(BigInt(start.timeNano) / 1_000_000n)).toISOString();
    return;
  }
  throw new Error(`the Engine's event buffer lost this file's events in ${FACS.length} attempts`);
}, 120_000);

afterAll(async () => {
  await removeUserApps(...users);
  const db = await uptimeDb();
  for (const t of ['uptime_transitions', 'uptime_samples', 'uptime_checkpoints', 'uptime_leases']) {
    for (const f of FACS) await db.execute({ sql: `DELETE FROM ${t} WHERE facility = ?`, args: [f] });
  }
});

describe('GET /{facility}/get-uptime-summary', () => {
  it('default: {UTC second: running}, and a 5-second stop between two samples shows', async () => {
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=hour`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body).toEqual({
      [key(first.checkpoint!)]: true, // sample (first run)
      [key(stopAt)]: false, // the stop, at the Engine's event time
      [key(startAt)]: true, // the start
      [key(second.checkpoint!)]: true, // sample (second run)
    });
    for (const k of Object.keys(r.body)) expect(k).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // keys are in time order
    expect(Object.keys(r.body)).toEqual(Object.keys(r.body).sort());
  });

  it('detail=true: uptime ratio from the transitions, intervals and samples', async () => {
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=day&detail=true`);
    expect(r.status).toBe(200);
    const d = r.body as UptimeDetail;
    expect(d).toMatchObject({ facility: FAC, name, duration: 'day', recordedUntil: second.checkpoint, engineUnreachableSince: null });
    expect(d.intervals.map((i) => i.state)).toEqual(['running', 'not-running', 'running']);
    expect(d.intervals[0].from).toBe(first.checkpoint);
    expect(d.intervals[2].to).toBe(second.checkpoint);
    const down = Number(isoToNs(d.intervals[1].to)! - isoToNs(d.intervals[1].from)!) / 1e9;
    expect(down).toBeGreaterThanOrEqual(5);
    expect(down).toBeLessThan(30);
    expect(d.seconds.notRunning).toBeCloseTo(down, 6);
    const total = Number(isoToNs(second.checkpoint!)! - isoToNs(first.checkpoint!)!) / 1e9;
    expect(d.seconds.running + d.seconds.notRunning).toBeCloseTo(total, 5);
    expect(d.uptimeRatio).toBeCloseTo((total - down) / total, 5);
    expect(d.seconds.unrecorded).toBeGreaterThan(86_000);
    expect(d.transitions.map((t) => [t.state, t.source])).toEqual([
      ['running', 'first-run'],
      ['not-running', 'event'],
      ['running', 'event'],
    ]);
    expect(d.samples).toEqual([
      { at: first.checkpoint, state: 'running' },
      { at: second.checkpoint, state: 'running' },
    ]);
  });

  it('every duration answers; a month is 30 days', async () => {
    for (const [duration, secs] of [
      ['hour', 3600],
      ['day', 86_400],
      ['week', 604_800],
      ['month', 2_592_000],
    ] as const) {
      const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=${duration}&detail=true`);
      expect(r.status).toBe(200);
      expect(Number(isoToNs(r.body.to)! - isoToNs(r.body.from)!) / 1e9).toBe(secs);
    }
  });

  it('paused counts as not running', async () => {
    await post(`/${FAC}/pause-app?name=${name}`);
    const r3 = await job();
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=hour`);
    expect(r.body[key(r3.checkpoint!)]).toBe(false);
    await post(`/${FAC}/unpause-app?name=${name}`);
  });

  it('answers the same under any time zone', async () => {
    const saved = process.env.TZ;
    const nowMs = Date.now();
    const answers: string[] = [];
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Kathmandu', 'Pacific/Chatham']) {
        process.env.TZ = tz;
        const plain = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=hour`);
        const detail = await uptimeSummary(getFacility(FAC), name, 'week', { detail: true, nowMs });
        answers.push(JSON.stringify([plain.body, detail]));
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toMatch(/[+-]\d\d:\d\d"/); // no offsets: UTC with Z only
  });

  it('a deleted app keeps its readable history (an admin record until retention)', async () => {
    await post(`/${FAC}/delete-app?name=${name}`);
    await job();
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=hour&detail=true`);
    expect(r.status).toBe(200);
    expect(r.body.intervals[r.body.intervals.length - 1].state).toBe('not-running');
    expect(r.body.transitions[r.body.transitions.length - 1]).toMatchObject({ state: 'not-running', source: 'event' });
  });

  it.each([
    ['year', "must be one of 'hour', 'day', 'week', 'month'"],
    ['HOUR', "must be one of 'hour', 'day', 'week', 'month'"],
    ['', "must be one of 'hour', 'day', 'week', 'month'"],
  ])('400 for duration=%j, naming the parameter and rule', async (duration, rule) => {
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=${duration}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid_parameter', parameter: 'duration', rule });
  });

  it('400 without duration, with a bad name or detail flag', async () => {
    const a = await call('GET', `/${FAC}/get-uptime-summary?name=${name}`);
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ parameter: 'duration', rule: 'is required' });
    const b = await call('GET', `/${FAC}/get-uptime-summary?name=not-an-app&duration=day`);
    expect(b.status).toBe(400);
    expect(b.body.parameter).toBe('name');
    const c = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=day&detail=yes`);
    expect(c.status).toBe(400);
    expect(c.body.parameter).toBe('detail');
  });

  it('404 for an app never recorded, and for an unknown facility', async () => {
    const r = await call('GET', `/${FAC}/get-uptime-summary?name=busybox--${uniqueUser('none')}&duration=day`);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('app_not_found');
    const f = await call('GET', `/nowhere-${FAC}/get-uptime-summary?name=${name}&duration=day`);
    expect(f.status).toBe(404);
    expect(f.body.code).toBe('unknown_facility');
  });

  it('405 for POST', async () => {
    const r = await call('POST', `/${FAC}/get-uptime-summary?name=${name}&duration=day`);
    expect(r.status).toBe(405);
  });
});
