/**
 * POST /{facility}/request-image on the real Engine and a real registry (Debian's
 * docker-registry on 127.0.0.1:5001, scripts/registry.sh), with images built here from random
 * layers and pushed through the Engine API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../core/auth.ts';
import { loadConfig, setConfig } from '../core/config.ts';
import { engineTimestamp } from '../core/engine.ts';
import { resetFacilities } from '../core/facility.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { imagesDb } from '../core/images/store.ts';
import { engine, removeUserApps, uniqueUser } from './helpers.ts';
import { api, assertNoCredentials, buildImage, hasImage, push, record, REG, removeImages, RUN, seenBodies, useRegistries, waitForState } from './image-helpers.ts';

useRegistries();

// Two more facilities: one on an Engine that does not exist, auto-approving everything, also
// for anonymous requests; and one of this run alone (a clean slate) that lets at most 5
// unresolved records come from anonymous requests.
const cfg = loadConfig();
const FLOOD = `flood-${RUN}`;
const nowhereImages = { approved: [], autoApprove: ['**'], registries: {}, pullStallSeconds: 120, anonymousAutoApprove: true, maxPendingAnonymous: 100 };
setConfig({
  ...cfg,
  facilities: {
    ...cfg.facilities,
    nowhere: { ...cfg.facilities.demo, id: 'nowhere', engine: { host: 'unix:///tmp/src-no-such-engine.sock', timeoutMs: 2000 }, images: nowhereImages },
    [FLOOD]: { ...cfg.facilities.demo, id: FLOOD, images: { ...cfg.facilities.demo.images!, maxPendingAnonymous: 5 } },
  },
});
resetFacilities();

const user = uniqueUser('ri');
let userToken = ''; // a user token of `user`

const APP = `${REG.open}/${RUN}/app:1`; // two random layers on src-test/busybox
const MISSING_TAG = `${REG.open}/${RUN}/app:no-such-tag`;
const BROKEN = `${REG.open}/${RUN}/broken:1`; // its manifest is there, a layer blob is not
const LATE = `${REG.open}/${RUN}/late:1`; // pushed only after a first, failed request
const AUTO = `${REG.open}/auto/${RUN}/auto:1`; // demo auto-approves 127.0.0.1:5001/auto/**
const RACE = `${REG.open}/auto/${RUN}/race:1`;
const LEASE = `${REG.open}/auto/${RUN}/lease:1`;
const LOCAL = `src-it-${RUN}/local:1`; // built here, never pushed: on the Engine already
const enc = encodeURIComponent;
const pulled: string[] = [];

async function pushAndForget(ref: string, ...layersKB: number[]): Promise<string> {
  buildImage(ref, ...layersKB);
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  const digest = await push(repo, tag);
  await removeImages(ref);
  return digest;
}

beforeAll(async () => {
  await pushAndForget(APP, 300, 200);
  await pushAndForget(BROKEN, 150);
  await pushAndForget(AUTO, 100);
  await pushAndForget(RACE, 400);
  await pushAndForget(LEASE, 50);
  // Delete BROKEN's own layer blob from the registry: the manifest still resolves, so the Engine
  // answers 200 and the error arrives inside the stream.
  const name = `${RUN}/broken`;
  const manifest = await fetch(`http://${REG.open}/v2/${name}/manifests/1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } }).then((r) => r.json());
  const blob = manifest.layers.at(-1).digest;
  const del = await fetch(`http://${REG.open}/v2/${name}/blobs/${blob}`, { method: 'DELETE' });
  expect(del.status).toBe(202);
  buildImage(LOCAL, 10);
  userToken = (await mintToken({ role: 'user', user, name: 'request-image test' })).token;
}, 180_000);

afterAll(async () => {
  await settlePulls();
  await removeUserApps(user, `${user}x`);
  await removeImages(APP, BROKEN, LATE, AUTO, RACE, LEASE, LOCAL, ...pulled);
  // The records of this run's references and facility: the test database outlives the run.
  const db = await imagesDb();
  for (const table of ['image_requests', 'image_request_requesters']) {
    await db.execute({ sql: `DELETE FROM ${table} WHERE facility = ? OR reference LIKE ?`, args: [FLOOD, `%/${RUN}/%`] });
  }
}, 120_000);

describe('POST /{facility}/request-image', () => {
  it('the old web client: no token, answered 2xx with the request record, pending', async () => {
    const r = await api('POST', `/demo/request-image?image=${enc(APP)}`, { token: null });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ facility: 'demo', image: APP, familiar: APP, state: 'pending', requestedBy: 'anonymous', requests: 1, approvedBy: null, pull: null });
    expect(Date.parse(r.body.requestedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(await hasImage(APP)).toBe(false); // nothing is pulled before an admin approves
  });

  it('an unapproved image cannot run: 403 image_not_approved naming the image and its request state', async () => {
    const r = await api('POST', `/demo/create-app?image=${enc(APP)}&user=${user}`);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'image_not_approved', image: APP, normalized: APP, requestState: 'pending' });
    expect(r.body.detail).toContain(APP);
    expect(r.body.detail).toContain('pending');
  });

  it('403 comes before 404: a never-requested image that is not on the Engine either', async () => {
    const ghost = `${REG.open}/${RUN}/never-requested:1`;
    const r = await api('POST', `/demo/create-app?image=${enc(ghost)}&user=${user}`);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'image_not_approved', requestState: null });
    expect(r.body.detail).toContain('not been requested');
  });

  it('request -> pending -> approve -> pulled (progress: layers, bytes) -> create-app works', async () => {
    const a = await api('POST', `/demo/approve-image?image=${enc(APP)}`);
    expect([200, 202]).toContain(a.status);
    expect(a.body.approvedBy).toBeTruthy();
    const rec = await waitForState('demo', APP, ['pulled', 'failed']);
    pulled.push(APP);
    expect(rec.state).toBe('pulled');
    expect(rec.error).toBeNull();
    const img = await engine.inspectImage(APP);
    expect(rec.imageId).toBe(img.Id);
    expect(rec.pull).toMatchObject({ attempts: 1, alreadyPresent: false });
    // src-test/busybox's layer is on the Engine already; the two random ones are downloaded.
    expect(rec.pull.progress.layers).toEqual({ done: 3, total: 3 });
    expect(rec.pull.progress.bytes.done).toBeGreaterThan(500 * 1024);
    expect(rec.pull.progress.bytes.done).toBe(rec.pull.progress.bytes.total);
    expect(rec.pull.progress.status).toMatch(/^Status: Downloaded newer image/);
    const c = await api('POST', `/demo/create-app?image=${enc(APP)}&user=${user}`);
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name: `app--${user}`, imageId: img.Id });
  });

  it('requesting again counts the request and keeps its history: one entry per requester (first, last, count, as written)', async () => {
    const bob = uniqueUser('rb');
    const r = await api('POST', `/demo/request-image?image=${enc(APP)}`, { headers: { 'x-on-behalf-of': bob } });
    expect(r.status).toBe(202);
    // Acting for bob, the admin sees what bob would: not who asked first.
    expect(r.body).toMatchObject({ state: 'pulled', requests: 2, requestedBy: null });
    const rec = await record('demo', APP);
    expect(rec.requestedBy).toBe('anonymous');
    expect(rec.history.map((h: any) => [h.by, h.anonymous, h.count])).toEqual([
      ['anonymous', true, 1],
      [bob, false, 1],
    ]);
    expect(rec.history.every((h: any) => h.given === APP && h.firstAt <= h.lastAt)).toBe(true);
  });

  it('300 repeats of one request grow a count, not the history', async () => {
    for (let i = 0; i < 300; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => api('POST', `/demo/request-image?image=${enc(APP)}`, (i + j) % 3 === 0 ? { token: userToken } : { token: null })));
      expect(batch.every((a) => a.status === 202)).toBe(true);
    }
    const rec = await record('demo', APP);
    expect(rec.requests).toBe(302);
    expect(rec.history).toHaveLength(3); // anonymous, bob, user
    const byName = Object.fromEntries(rec.history.map((h: any) => [h.by, h]));
    expect(byName.anonymous.count).toBe(1 + 200);
    expect(byName[user].count).toBe(100);
    expect(Date.parse(byName[user].lastAt)).toBeGreaterThanOrEqual(Date.parse(byName[user].firstAt));
  });

  it("the facility's autoApprove patterns approve (and pull) a token's request at once, without an admin; an anonymous one stays pending", async () => {
    const anon = await api('POST', `/demo/request-image?image=${enc(AUTO)}`, { token: null });
    expect(anon.status).toBe(202);
    expect(anon.body).toMatchObject({ state: 'pending', approvedBy: null, pull: null });
    const r = await api('POST', `/demo/request-image?image=${enc(AUTO)}`, { token: userToken });
    expect(r.status).toBe(202);
    expect(r.body.approvedBy).toBe('auto');
    expect(['pulling', 'pulled']).toContain(r.body.state);
    const rec = await waitForState('demo', AUTO, ['pulled', 'failed']);
    pulled.push(AUTO);
    expect(rec).toMatchObject({ state: 'pulled', requests: 2, pull: { attempts: 1 } });
    // The same pattern means nothing in a facility that does not list it.
    const other = await api('POST', `/other/request-image?image=${enc(AUTO)}`, { token: userToken });
    expect(other.body.state).toBe('pending');
  });

  it("an anonymous request of an image the facility's approved list covers is recorded approved, and pulled only once a token asks", async () => {
    const site = `127.0.0.1:5999/${RUN}/site:1`; // demo approves 127.0.0.1:5999/**; no registry listens there
    const anon = await api('POST', `/demo/request-image?image=${enc(site)}`, { token: null });
    expect(anon.status).toBe(202);
    expect(anon.body).toMatchObject({ state: 'approved', approvedBy: 'config', pull: null });
    const again = await api('POST', `/demo/request-image?image=${enc(site)}`, { token: null });
    expect(again.body).toMatchObject({ state: 'approved', requests: 2, pull: null });
    await api('POST', `/demo/request-image?image=${enc(site)}`, { token: userToken });
    const rec = await waitForState('demo', site, ['pulled', 'failed']);
    expect(rec).toMatchObject({ state: 'failed', pull: { attempts: 1 } });
  });

  it('an approved image the Engine already has (built here) is not pulled', async () => {
    const r = await api('POST', `/demo/request-image?image=${enc(LOCAL)}`);
    expect(r.body.state).toBe('pending');
    const a = await api('POST', `/demo/approve-image?image=${enc(LOCAL)}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ state: 'pulled', pull: { attempts: 0, alreadyPresent: true, progress: null } });
    expect(a.body.imageId).toBe((await engine.inspectImage(LOCAL)).Id);
  });

  it("a missing tag ends as a failed request carrying the registry's message; create-app then says 404", async () => {
    await api('POST', `/demo/request-image?image=${enc(MISSING_TAG)}`);
    await api('POST', `/demo/approve-image?image=${enc(MISSING_TAG)}`);
    const rec = await waitForState('demo', MISSING_TAG, ['pulled', 'failed']);
    expect(rec.state).toBe('failed');
    expect(rec.error).toContain('manifest unknown');
    expect(rec.error).toContain(`${REG.open}/${RUN}/app:no-such-tag`);
    expect(rec.pull.progress.status).toBe('Failed'); // not the last stream line
    const c = await api('POST', `/demo/create-app?image=${enc(MISSING_TAG)}&user=${user}x`);
    expect(c.status).toBe(404); // approved (the gate passes), but not on the Engine
    expect(c.body.code).toBe('image_not_found');
  });

  it('an {"error"} inside the 200 stream is a failure with the registry\'s message', async () => {
    await api('POST', `/demo/approve-image?image=${enc(BROKEN)}`);
    const rec = await waitForState('demo', BROKEN, ['pulled', 'failed']);
    expect(rec.state).toBe('failed');
    expect(rec.error).toBe('unknown blob');
    expect(rec.pull.progress).toMatchObject({ status: 'Failed', layers: { total: 2 } });
    expect(await hasImage(BROKEN)).toBe(false);
  });

  it('a failed pull is retried by requesting again with a token; an anonymous request is only recorded (2xx)', async () => {
    await api('POST', `/demo/approve-image?image=${enc(LATE)}`);
    const first = await waitForState('demo', LATE, ['pulled', 'failed']);
    expect(first.state).toBe('failed');
    await pushAndForget(LATE, 64);
    const anon = await api('POST', `/demo/request-image?image=${enc(LATE)}`, { token: null });
    expect(anon.status).toBe(202);
    expect(anon.body).toMatchObject({ state: 'failed', requests: 1, pull: { attempts: 1 } });
    await settlePulls();
    expect(await record('demo', LATE)).toMatchObject({ state: 'failed', pull: { attempts: 1 } });
    expect(await hasImage(LATE)).toBe(false);
    const again = await api('POST', `/demo/request-image?image=${enc(LATE)}`, { token: userToken });
    expect(again.status).toBe(202);
    const rec = await waitForState('demo', LATE, ['pulled', 'failed']);
    pulled.push(LATE);
    expect(rec).toMatchObject({ state: 'pulled', error: null, requests: 2, pull: { attempts: 2 } });
  });

  it('simultaneous requests for one reference pull it once', async () => {
    const since = engineTimestamp(BigInt(Date.now() - 1000) * 1_000_000n);
    const answers = await Promise.all(Array.from({ length: 8 }, () => api('POST', `/demo/request-image?image=${enc(RACE)}`, { token: userToken })));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const rec = await waitForState('demo', RACE, ['pulled', 'failed']);
    pulled.push(RACE);
    expect(rec).toMatchObject({ state: 'pulled', requests: 8, pull: { attempts: 1 } });
    const until = engineTimestamp(BigInt(Date.now()) * 1_000_000n);
    const pulls = (await engine.events({ since, until, filters: { type: ['image'], event: ['pull'] } })).filter((e) => e.Actor.ID === RACE);
    expect(pulls).toHaveLength(1);
  });

  it('across processes: a live pull elsewhere (fresh heartbeat) is left alone; a dead one (stale) is failed and retried', async () => {
    const db = await imagesDb();
    const now = new Date().toISOString();
    await db.execute({
      sql: `INSERT INTO image_requests (facility, reference, familiar, state, approved_by, attempts, pull_id, pull_started_at, pull_heartbeat_at, created_at, updated_at)
            VALUES ('demo', ?, ?, 'pulling', 'auto', 1, 'another-process', ?, ?, ?, ?)`,
      args: [LEASE, LEASE, now, now, now, now],
    });
    const r = await api('POST', `/demo/request-image?image=${enc(LEASE)}`, { token: null });
    expect(r.body).toMatchObject({ state: 'pulling', pull: { attempts: 1 } });
    await settlePulls();
    expect(await hasImage(LEASE)).toBe(false);
    // The other process died two minutes ago.
    const stale = new Date(Date.now() - 120_000).toISOString();
    await db.execute({ sql: "UPDATE image_requests SET pull_heartbeat_at = ? WHERE facility = 'demo' AND reference = ?", args: [stale, LEASE] });
    const listed = await record('demo', LEASE);
    expect(listed.state).toBe('failed');
    expect(listed.error).toContain('interrupted');
    await api('POST', `/demo/request-image?image=${enc(LEASE)}`, { token: userToken });
    const rec = await waitForState('demo', LEASE, ['pulled', 'failed']);
    pulled.push(LEASE);
    expect(rec).toMatchObject({ state: 'pulled', pull: { attempts: 2 } });
  });

  it('an Engine that cannot be reached: the request is still recorded (2xx), its pull fails saying why', async () => {
    const r = await api('POST', `/nowhere/request-image?image=${enc(APP)}`, { token: null });
    expect(r.status).toBe(202);
    expect(r.body.approvedBy).toBe('auto');
    const rec = await waitForState('nowhere', APP, ['pulled', 'failed']);
    expect(rec.state).toBe('failed');
    expect(rec.error).toContain('Engine unreachable');
  });

  it('images.anonymousAutoApprove: an anonymous request is auto-approved and starts the first pull, but never retries one', async () => {
    const ref = `${REG.open}/${RUN}/anon-auto:1`;
    const r = await api('POST', `/nowhere/request-image?image=${enc(ref)}`, { token: null });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ approvedBy: 'auto' });
    const failed = await waitForState('nowhere', ref, ['pulled', 'failed']);
    expect(failed).toMatchObject({ state: 'failed', pull: { attempts: 1 } });
    const anon = await api('POST', `/nowhere/request-image?image=${enc(ref)}`, { token: null });
    expect(anon.status).toBe(202);
    expect(anon.body).toMatchObject({ state: 'failed', requests: 2, pull: { attempts: 1 } });
    await settlePulls();
    expect((await record('nowhere', ref)).pull.attempts).toBe(1);
    await api('POST', `/nowhere/request-image?image=${enc(ref)}`, { token: userToken });
    const retried = await waitForState('nowhere', ref, ['failed']);
    expect(retried.pull.attempts).toBe(2);
  });

  it('400 for an invalid reference, naming the grammar rule; 405 for GET', async () => {
    const r = await api('POST', `/demo/request-image?image=${enc('Upper/Case:x')}`, { token: null });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid_parameter', parameter: 'image' });
    expect(r.body.rule).toContain('must be lowercase');
    const m = await api('GET', `/demo/request-image?image=${enc(APP)}`, { token: null });
    expect(m.status).toBe(405);
  });

  it('no answer carried a credential', () => {
    assertNoCredentials(seenBodies);
  });
});

describe('anonymous floods: images.maxPendingAnonymous', () => {
  const ref = (n: string) => `${REG.open}/${RUN}/flood-${n}:1`;

  it('beyond the cap, an anonymous request for a new reference answers 429 rate_limited; re-requests, tokens and decided records are not held back', async () => {
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await api('POST', `/${FLOOD}/request-image?image=${enc(ref(String(i)))}`, { token: null }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    expect(answers[5].body).toMatchObject({ status: 429, code: 'rate_limited', limit: 5 });
    expect(answers[5].body.detail).toContain('images.maxPendingAnonymous');
    const listed = await api('GET', `/${FLOOD}/get-image-requests`);
    expect(listed.body.map((x: any) => x.image).sort()).toEqual([0, 1, 2, 3, 4].map((i) => ref(String(i))));
    // A re-request of an existing record is still counted.
    const again = await api('POST', `/${FLOOD}/request-image?image=${enc(ref('0'))}`, { token: null });
    expect(again).toMatchObject({ status: 202, body: { requests: 2 } });
    // A token's request is never held back, and takes its record out of the anonymous count.
    const tok = await api('POST', `/${FLOOD}/request-image?image=${enc(ref('tok'))}`, { token: userToken });
    expect(tok).toMatchObject({ status: 202, body: { state: 'pending' } });
    await api('POST', `/${FLOOD}/request-image?image=${enc(ref('1'))}`, { token: userToken });
    expect((await api('POST', `/${FLOOD}/request-image?image=${enc(ref('5'))}`, { token: null })).status).toBe(202);
    expect((await api('POST', `/${FLOOD}/request-image?image=${enc(ref('6'))}`, { token: null })).status).toBe(429);
    // An admin's decision frees a place.
    await api('POST', `/${FLOOD}/deny-image?image=${enc(ref('2'))}&reason=flood`);
    expect((await api('POST', `/${FLOOD}/request-image?image=${enc(ref('6'))}`, { token: null })).status).toBe(202);
    expect((await api('POST', `/${FLOOD}/request-image?image=${enc(ref('7'))}`, { token: null })).status).toBe(429);
  });

  it('a concurrent flood of distinct references fills exactly the places left', async () => {
    for (const n of ['0', '3', '4']) await api('POST', `/${FLOOD}/deny-image?image=${enc(ref(n))}&reason=flood`);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => api('POST', `/${FLOOD}/request-image?image=${enc(ref(`c${i}`))}`, { token: null })));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(37);
    const listed = await api('GET', `/${FLOOD}/get-image-requests?state=pending`);
    expect(listed.body.filter((x: any) => x.image.includes('/flood-c'))).toHaveLength(3);
  });
});

describe('GET /{facility}/get-image-requests: pages, and what a user token sees', () => {
  const ref = (n: string) => `${REG.open}/${RUN}/page-${n}:1`;
  const alice = uniqueUser('pa');
  const bob = uniqueUser('pb');
  let aliceToken = '';
  let bobToken = '';

  beforeAll(async () => {
    aliceToken = (await mintToken({ role: 'user', user: alice, name: 'alice' })).token;
    bobToken = (await mintToken({ role: 'user', user: bob, name: 'bob' })).token;
    // alice asks for shared first, then bob; bob alone asks for mine-b.
    for (const [token, image] of [
      [aliceToken, ref('shared')],
      [bobToken, ref('shared')],
      [bobToken, ref('mine-b')],
      [bobToken, ref('shared')],
    ]) {
      expect((await api('POST', `/${FLOOD}/request-image?image=${enc(image)}`, { token })).status).toBe(202);
    }
  });

  it('limit and offset page through the records, newest first; X-Total-Count says how many match', async () => {
    const all = await api('GET', `/${FLOOD}/get-image-requests?limit=1000`);
    expect(all.status).toBe(200);
    const total = Number(all.headers.get('x-total-count'));
    expect(total).toBe(all.body.length);
    expect(total).toBe(13); // flood-0…6, flood-tok, three flood-c…, page-shared, page-mine-b
    const created = all.body.map((x: any) => x.image);
    const pages: string[] = [];
    for (let offset = 0; offset < total; offset += 3) {
      const p = await api('GET', `/${FLOOD}/get-image-requests?limit=3&offset=${offset}`);
      expect(p.body.length).toBe(Math.min(3, total - offset));
      expect(p.headers.get('x-total-count')).toBe(String(total));
      pages.push(...p.body.map((x: any) => x.image));
    }
    expect(pages).toEqual(created);
    expect(all.body[0].image).toBe(ref('mine-b')); // the newest record
    const past = await api('GET', `/${FLOOD}/get-image-requests?offset=${total}`);
    expect(past.body).toEqual([]);
    const denied = await api('GET', `/${FLOOD}/get-image-requests?state=denied&limit=2`);
    expect(denied.body).toHaveLength(2);
    expect(denied.headers.get('x-total-count')).toBe('4');
  });

  it('the default page is 100 records', async () => {
    const db = await imagesDb();
    const now = Date.now();
    await db.batch(
      Array.from({ length: 120 }, (_, i) => ({
        sql: "INSERT INTO image_requests (facility, reference, familiar, state, created_at, updated_at) VALUES (?, ?, ?, 'denied', ?, ?)",
        args: [FLOOD, ref(`bulk${i}`), ref(`bulk${i}`), new Date(now - 86_400_000 - i).toISOString(), new Date(now).toISOString()],
      })),
      'write',
    );
    const r = await api('GET', `/${FLOOD}/get-image-requests`);
    expect(r.body).toHaveLength(100);
    expect(r.headers.get('x-total-count')).toBe('133');
    expect(r.body.some((x: any) => x.image.includes('/page-bulk'))).toBe(true); // 100 = the 13 newest + 87 bulk
  });

  it('400 for a limit or offset that is not a whole number in range', async () => {
    for (const [q, rule] of [
      ['limit=0', 'at least 1'],
      ['limit=1001', 'at most 1000'],
      ['limit=99999999', 'at most 1000'],
      ['limit=ten', 'whole number'],
      ['offset=-1', 'whole number'],
      ['offset=1.5', 'whole number'],
      ['offset=10000000', 'at most 1000000'],
    ]) {
      const r = await api('GET', `/${FLOOD}/get-image-requests?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_parameter', parameter: q.split('=')[0] });
      expect(r.body.rule).toContain(rule);
    }
  });

  it("a user token sees only its own requests, and no other requester's name", async () => {
    const a = await api('GET', `/${FLOOD}/get-image-requests?limit=1000`, { token: aliceToken });
    expect(a.status).toBe(200);
    expect(a.body.map((x: any) => x.image)).toEqual([ref('shared')]);
    expect(a.headers.get('x-total-count')).toBe('1');
    expect(a.body[0]).toMatchObject({ requestedBy: alice, requests: 3 });
    const b = await api('GET', `/${FLOOD}/get-image-requests?limit=1000`, { token: bobToken });
    expect(b.body.map((x: any) => x.image)).toEqual([ref('mine-b'), ref('shared')]);
    expect(b.body.find((x: any) => x.image === ref('shared')).requestedBy).toBeNull(); // alice asked first
    // Histories: one's own entry only.
    const ah = await api('GET', `/${FLOOD}/get-image-requests?image=${enc(ref('shared'))}`, { token: aliceToken });
    expect(ah.body[0].history.map((h: any) => [h.by, h.count])).toEqual([[alice, 1]]);
    const bh = await api('GET', `/${FLOOD}/get-image-requests?image=${enc(ref('shared'))}`, { token: bobToken });
    expect(bh.body[0].history.map((h: any) => [h.by, h.count])).toEqual([[bob, 2]]);
    expect(JSON.stringify(bh.body)).not.toContain(alice);
    // A record they never asked for: not there for them.
    const none = await api('GET', `/${FLOOD}/get-image-requests?image=${enc(ref('mine-b'))}`, { token: aliceToken });
    expect(none).toMatchObject({ status: 200, body: [] });
    expect(none.headers.get('x-total-count')).toBe('0');
    // An admin acting on behalf of alice sees what alice sees.
    const onBehalf = await api('GET', `/${FLOOD}/get-image-requests?limit=1000`, { headers: { 'x-on-behalf-of': alice } });
    expect(onBehalf.body.map((x: any) => x.image)).toEqual([ref('shared')]);
    // The admin sees every requester.
    const admin = await record(FLOOD, ref('shared'));
    expect(admin.requestedBy).toBe(alice);
    expect(admin.history.map((h: any) => [h.by, h.count])).toEqual([
      [alice, 1],
      [bob, 2],
    ]);
    // request-image's answer does not name another requester either.
    const r = await api('POST', `/${FLOOD}/request-image?image=${enc(ref('shared'))}`, { token: bobToken });
    expect(r.body.requestedBy).toBeNull();
    expect(JSON.stringify(r.body)).not.toContain(alice);
    const anon = await api('POST', `/${FLOOD}/request-image?image=${enc(ref('shared'))}`, { token: null });
    expect(anon.status).toBe(202);
    expect(JSON.stringify(anon.body)).not.toContain(alice);
  });
});
