/**
 * The rules solo and swarm mode share (issue 11), on the real Engine in solo mode: names are
 * case-insensitively unique and a 409 names an app that exists; reads and actions during a hard
 * reset never answer 404; an app without uptime history answers 200 `{}`; apps created before
 * these rules (case twins) stay usable. The swarm side is test/swarm/rules.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { LABELS, LABEL_SCHEMA_VERSION } from '../core/naming.ts';

const base = uniqueUser('r').slice(1);
/** Users that differ only in case (`tR…`, `tr…`, `TR…`). */
const [Alice, alice, ALICE] = [`tR${base}`, `tr${base}`, `TR${base}`];
const racer = uniqueUser('rr').slice(2);
const resetUser = uniqueUser('rh');
const newUser = uniqueUser('rn');
const old = uniqueUser('ro').slice(2);
const allUsers = [
  Alice,
  alice,
  ALICE,
  resetUser,
  newUser,
  `tO${old}`,
  `to${old}`,
  `TO${old}`,
  ...['a', 'b', 'c', 'd'].map((x) => `t${x}${racer}`),
  ...['A', 'B', 'C', 'D'].map((x) => `T${x}${racer}`),
];
afterAll(async () => {
  await removeUserApps(...allUsers);
});

describe('names: case-preserving, unique regardless of case', () => {
  it('busybox--tRx blocks busybox--trx and busybox--TRx: 409 app_exists naming the app that exists', async () => {
    const first = await createApp(IMAGES.busybox, Alice);
    expect(first.name).toBe(`busybox--${Alice}`);
    for (const u of [alice, ALICE]) {
      const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${u}`);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'app_exists', name: `busybox--${Alice}`, requested: `busybox--${u}`, existingImage: IMAGES.busybox });
      expect(r.body.detail).toContain(`App 'busybox--${Alice}' already exists`);
      // the app the 409 names exists
      expect((await call('GET', `/demo/get-app-status?name=${r.body.name}`)).status).toBe(200);
    }
    const list = await engine.listContainers({ all: true, filters: { label: [`${LABELS.app}=busybox--${alice}`] } });
    expect(list).toHaveLength(0);
  });

  it('every route finds an app by its exact name only', async () => {
    for (const route of ['get-app-status', 'get-app-info', 'get-app-stats']) {
      expect((await call('GET', `/demo/${route}?name=busybox--${Alice}`)).status).toBe(200);
      const other = await call('GET', `/demo/${route}?name=busybox--${alice}`);
      expect([route, other.status, other.body.code]).toEqual([route, 404, 'app_not_found']);
    }
    const start = await call('POST', `/demo/start-app?name=busybox--${ALICE}`);
    expect([start.status, start.body.code]).toEqual([404, 'app_not_found']);
    expect((await call('GET', `/demo/get-app-names?user=${alice}`)).body).toEqual([]);
    expect((await call('GET', `/demo/get-app-names?user=${Alice}`)).body).toEqual([`busybox--${Alice}`]);
  });

  it('concurrent creates of names that differ only in case: never two apps; a 409 names the one that stayed', async () => {
    const users = [...['a', 'b', 'c', 'd'].map((x) => `t${x}${racer}`), ...['A', 'B', 'C', 'D'].map((x) => `T${x}${racer}`)];
    // pairs: tarr… / TArr… are the same name regardless of case
    const answers = await Promise.all(users.map((u) => call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${u}`)));
    const left = await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=demo`] } });
    let survivors = 0;
    for (const x of ['a', 'b', 'c', 'd']) {
      const key = `busybox--t${x}${racer}`.toLowerCase();
      const pair = answers.filter((_, i) => users[i].toLowerCase() === `t${x}${racer}`.toLowerCase());
      const ok = pair.filter((a) => a.status === 201);
      expect(ok.length).toBeLessThanOrEqual(1);
      survivors += ok.length;
      for (const lost of pair.filter((a) => a.status !== 201)) {
        // the twin that stayed, or (both stepped back four times) a 409 to retry
        if (ok.length === 1) expect([lost.status, lost.body.code, lost.body.name]).toEqual([409, 'app_exists', ok[0].body.name]);
        else expect([lost.status, lost.body.code, lost.headers.get('retry-after')]).toEqual([409, 'state_conflict', '1']);
      }
      expect(left.filter((c) => (c.Labels[LABELS.app] as string).toLowerCase() === key).map((c) => c.Id)).toEqual(ok.map((a) => a.body.id));
    }
    expect(survivors).toBeGreaterThan(0);
  });
});

describe('hard reset: reads and actions never answer 404', () => {
  it('get-app-status, get-app-info and start-app during hard resets: 200 or 409 state_conflict with Retry-After, never 404; the lists keep the app', async () => {
    const app = await createApp(IMAGES.busybox, resetUser);
    await call('POST', `/demo/start-app?name=${app.name}`);
    let resetting = true;
    const seen: Record<string, number> = {};
    const noRetryAfter: string[] = [];
    const hammer = async (method: string, route: string) => {
      while (resetting) {
        const r = await call(method, `/demo/${route}?name=${app.name}`);
        const key = `${route} ${r.status}${r.status >= 400 ? ` ${r.body.code}` : ''}`;
        seen[key] = (seen[key] ?? 0) + 1;
        if (r.status === 409 && !(Number(r.headers.get('retry-after')) > 0)) noRetryAfter.push(r.body.detail);
      }
    };
    const listed: string[][] = [];
    const lists = async () => {
      while (resetting) {
        const [names, all] = await Promise.all([call('GET', `/demo/get-app-names?user=${resetUser}`), call('GET', `/demo/get-app-status`)]);
        listed.push(
          names.body,
          all.body.filter((s: any) => s.Names === app.name).map((s: any) => s.Names),
        );
      }
    };
    const readers = [hammer('GET', 'get-app-status'), hammer('GET', 'get-app-status'), hammer('GET', 'get-app-info'), hammer('POST', 'start-app'), lists()];
    for (let i = 0; i < 12; i++) {
      const r = await call('POST', `/demo/hard-reset-app?name=${app.name}`);
      expect(r.status).toBe(200);
    }
    resetting = false;
    await Promise.all(readers);
    console.log('[rules] answers during 12 hard resets:', seen);
    expect(Object.keys(seen).filter((k) => / 404/.test(k))).toEqual([]);
    expect(Object.keys(seen).every((k) => / (200|409 state_conflict)$/.test(k))).toBe(true);
    expect(noRetryAfter).toEqual([]);
    // the lists never lose the app either
    expect(listed.filter((l) => l.length !== 1 || l[0] !== app.name)).toEqual([]);
  }, 120_000);
});

describe('get-uptime-summary of an app without history yet', () => {
  it('answers 200 {} (detail=true: an empty detail); an app that does not exist stays 404', async () => {
    const app = await createApp(IMAGES.busybox, newUser);
    const r = await call('GET', `/demo/get-uptime-summary?name=${app.name}&duration=hour`);
    expect([r.status, r.body]).toEqual([200, {}]);
    const d = await call('GET', `/demo/get-uptime-summary?name=${app.name}&duration=day&detail=true`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      name: app.name,
      duration: 'day',
      uptimeRatio: null,
      intervals: [],
      transitions: [],
      samples: [],
      seconds: { running: 0, notRunning: 0, unknown: 0, unrecorded: 86_400 },
    });
    const none = await call('GET', `/demo/get-uptime-summary?name=busybox--${newUser}x&duration=hour`);
    expect([none.status, none.body.code]).toEqual([404, 'app_not_found']);
  });
});

describe('apps created before these rules', () => {
  it('case twins made by earlier versions stay usable one by one; a new create of a third case is 409', async () => {
    const image = await engine.inspectImage(IMAGES.busybox);
    const twins = [`tO${old}`, `to${old}`];
    for (const u of twins) {
      const name = `busybox--${u}`;
      // exactly the labels an earlier version wrote
      await engine.createContainer(name, {
        Image: IMAGES.busybox,
        Labels: {
          [LABELS.schema]: LABEL_SCHEMA_VERSION,
          [LABELS.facility]: 'demo',
          [LABELS.app]: name,
          [LABELS.user]: u,
          [LABELS.imageReference]: IMAGES.busybox,
          [LABELS.imageNormalized]: 'docker.io/src-test/busybox:latest',
          [LABELS.imageId]: image.Id,
          [LABELS.createParams]: JSON.stringify({ publishHost: '127.0.0.1', ports: [] }),
        },
      });
    }
    for (const u of twins) {
      const name = `busybox--${u}`;
      expect((await call('GET', `/demo/get-app-status?name=${name}`)).body.Names).toBe(name);
      expect((await call('POST', `/demo/start-app?name=${name}`)).body).toMatchObject({ name, state: 'running' });
      const reset = await call('POST', `/demo/hard-reset-app?name=${name}`);
      expect([reset.status, reset.body.name, reset.body.state]).toEqual([200, name, 'running']);
    }
    const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=TO${old}`);
    expect(r.status).toBe(409);
    expect(twins.map((u) => `busybox--${u}`)).toContain(r.body.name);
  });
});
