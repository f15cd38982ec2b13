import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, countingEngine, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { appStatuses } from '../core/app-reads.ts';
import { getFacility } from '../core/facility.ts';
import { betweenInTime, cliJsonLines } from './cli.ts';
import { LABELS } from '../core/naming.ts';

const user = uniqueUser('st');
const names = { created: `created--${user}`, running: `httpd--${user}`, paused: `paused--${user}`, exited: `busybox--${user}` };
const tagged: string[] = [];

beforeAll(async () => {
  // one app per state; extra IMAGE names come from local tags of the test image
  for (const n of ['created', 'paused']) {
    await engine.call({ method: 'POST', path: `/images/${IMAGES.busybox}/tag`, query: { repo: `src-test/${n}`, tag: user }, statusCodes: { 201: true } });
    tagged.push(`src-test/${n}:${user}`);
    await createApp(`src-test/${n}:${user}`, user);
  }
  await createApp(IMAGES.httpd, user);
  await createApp(IMAGES.busybox, user);
  for (const n of [names.running, names.paused, names.exited]) expect((await call('POST', `/demo/start-app?name=${n}`)).status).toBe(200);
  expect((await call('POST', `/demo/pause-app?name=${names.paused}`)).status).toBe(200);
  expect((await call('POST', `/demo/stop-app?name=${names.exited}`)).status).toBe(200);
});
afterAll(async () => {
  await removeUserApps(user);
  for (const t of tagged) await engine.call({ method: 'DELETE', path: `/images/${t}`, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
});

const TIME_FIELDS = ['RunningFor', 'Status', 'CreatedAt'];

describe('GET /{facility}/get-app-status', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York'])('equals `docker ps -a --format json` field by field (TZ=%s)', async (tz) => {
    const oldTz = process.env.TZ;
    process.env.TZ = tz;
    try {
      const before = await call('GET', '/demo/get-app-status');
      const cli = await cliJsonLines(['ps', '-a', '--format', 'json', '--filter', `label=${LABELS.user}=${user}`], { TZ: tz });
      const after = await call('GET', '/demo/get-app-status');
      expect(cli).toHaveLength(4);
      for (const expected of cli) {
        const a = before.body.find((x: any) => x.ID === expected.ID);
        const b = after.body.find((x: any) => x.ID === expected.ID);
        expect(a, `app ${expected.Names} listed`).toBeDefined();
        expect(Object.keys(a).sort()).toEqual(Object.keys(expected).sort());
        for (const k of Object.keys(expected)) {
          if (TIME_FIELDS.includes(k)) expect(betweenInTime(expected[k], a[k], b[k]), `${expected.Names}.${k}: ${expected[k]} vs ${a[k]} .. ${b[k]}`).toBe(true);
          else expect(a[k], `${expected.Names}.${k}`).toEqual(expected[k]);
        }
      }
    } finally {
      process.env.TZ = oldTz;
    }
  });

  it('shows the published port as the CLI does and the state of each app', async () => {
    const r = await call('GET', `/demo/get-app-status?name=${names.running}`);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(false);
    expect(r.body.Ports).toMatch(/^127\.0\.0\.1:\d+->80\/tcp$/);
    const states = await call('GET', `/demo/get-app-status?name=${Object.values(names).join(',')}`);
    expect(states.body.map((s: any) => s.State)).toEqual(['created', 'running', 'paused', 'exited']);
    expect(states.body[2].Status).toMatch(/\(Paused\)$/);
  });

  it('several names with one unknown: 207, each name its own result, as the actions answer', async () => {
    const unknown = `nope--${user}`;
    const r = await call('GET', `/demo/get-app-status?name=${names.running},${unknown}`);
    expect(r.status).toBe(207);
    expect(r.body).toHaveLength(2);
    expect(r.body[0]).toMatchObject({ Names: names.running, State: 'running' });
    expect(r.body[1]).toMatchObject({ name: unknown, error: { status: 404, code: 'app_not_found' } });
    const none = await call('GET', `/demo/get-app-status?name=${unknown},other--${user}`);
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    expect(none.body.results.map((x: any) => x.name)).toEqual([unknown, `other--${user}`]);
  });

  it('one name: one Engine list filtered by that app (not every app of the facility); several names: one list of all', async () => {
    const f = getFacility('demo');
    const one = countingEngine(f.engine);
    const b = await appStatuses({ ...f, engine: one.engine }, [names.running]);
    expect(b.outcomes).toMatchObject([{ ok: true, value: { Names: names.running, State: 'running' } }]);
    expect(one.calls).toEqual(['GET /containers/json']);
    expect(JSON.parse(String(one.queries[0]?.filters)).label).toContain(`${LABELS.app}=${names.running}`);
    const missing = countingEngine(f.engine);
    const m = await appStatuses({ ...f, engine: missing.engine }, [`nothere--${user}`]);
    expect(m.outcomes).toMatchObject([{ ok: false }]);
    expect(missing.calls).toEqual(['GET /containers/json']);
    const two = countingEngine(f.engine);
    expect((await appStatuses({ ...f, engine: two.engine }, [names.running, names.exited])).outcomes.every((o) => o.ok)).toBe(true);
    expect(two.calls).toEqual(['GET /containers/json']);
    expect(JSON.parse(String(two.queries[0]?.filters)).label.some((l: string) => l.startsWith(`${LABELS.app}=`))).toBe(false);
  });

  it('404 for an unknown app, 400 for an invalid name', async () => {
    expect((await call('GET', `/demo/get-app-status?name=nope--${user}`)).status).toBe(404);
    expect((await call('GET', `/demo/get-app-status?name=${encodeURIComponent('a;b')}`)).status).toBe(400);
  });
});
