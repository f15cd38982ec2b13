/**
 * POST /{facility}/request-image on the real Engine and a real registry (Debian's
 * docker-registry on 127.0.0.1:5001, scripts/registry.sh), with images built here from random
 * layers and pushed through the Engine API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, setConfig } from '../core/config.ts';
import { engineTimestamp } from '../core/engine.ts';
import { resetFacilities } from '../core/facility.ts';
import { imagesDb, settlePulls } from '../core/images.ts';
import { engine, removeUserApps, uniqueUser } from './helpers.ts';
import { api, assertNoCredentials, buildImage, hasImage, push, record, REG, removeImages, RUN, seenBodies, useRegistries, waitForState } from './image-helpers.ts';

useRegistries();

// One more facility, on an Engine that does not exist, auto-approving everything.
const cfg = loadConfig();
setConfig({
  ...cfg,
  facilities: {
    ...cfg.facilities,
    nowhere: { ...cfg.facilities.demo, id: 'nowhere', engine: { host: 'unix:///tmp/src-no-such-engine.sock', timeoutMs: 2000 }, images: { approved: [], autoApprove: ['**'], registries: {}, pullStallSeconds: 120 } },
  },
});
resetFacilities();

const user = uniqueUser('ri');
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
}, 180_000);

afterAll(async () => {
  await settlePulls();
  await removeUserApps(user, `${user}x`);
  await removeImages(APP, BROKEN, LATE, AUTO, RACE, LEASE, LOCAL, ...pulled);
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

  it('requesting again counts the request and keeps its history (who, when, as written)', async () => {
    const bob = uniqueUser('rb');
    const r = await api('POST', `/demo/request-image?image=${enc(APP)}`, { headers: { 'x-on-behalf-of': bob } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ state: 'pulled', requests: 2, requestedBy: 'anonymous' });
    const rec = await record('demo', APP);
    expect(rec.history.map((h: any) => h.by)).toEqual(['anonymous', bob]);
    expect(rec.history.every((h: any) => h.given === APP)).toBe(true);
  });

  it("the facility's autoApprove patterns approve (and pull) at once, without an admin", async () => {
    const r = await api('POST', `/demo/request-image?image=${enc(AUTO)}`, { token: null });
    expect(r.status).toBe(202);
    expect(r.body.approvedBy).toBe('auto');
    expect(['pulling', 'pulled']).toContain(r.body.state);
    const rec = await waitForState('demo', AUTO, ['pulled', 'failed']);
    pulled.push(AUTO);
    expect(rec.state).toBe('pulled');
    // The same pattern means nothing in a facility that does not list it.
    const other = await api('POST', `/other/request-image?image=${enc(AUTO)}`, { token: null });
    expect(other.body.state).toBe('pending');
  });

  it('an approved image the Engine already has (built here) is not pulled', async () => {
    const r = await api('POST', `/demo/request-image?image=${enc(LOCAL)}`);
    expect(r.body.state).toBe('pending');
    const a = await api('POST', `/demo/approve-image?image=${enc(LOCAL)}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ state: 'pulled', pull: { attempts: 0, alreadyPresent: true, progress: null } });
    expect(a.body.imageId).toBe((await engine.inspectImage(LOCAL)).Id);
  });

  it('a missing tag ends as a failed request carrying the registry\'s message; create-app then says 404', async () => {
    await api('POST', `/demo/request-image?image=${enc(MISSING_TAG)}`);
    await api('POST', `/demo/approve-image?image=${enc(MISSING_TAG)}`);
    const rec = await waitForState('demo', MISSING_TAG, ['pulled', 'failed']);
    expect(rec.state).toBe('failed');
    expect(rec.error).toContain('manifest unknown');
    expect(rec.error).toContain(`${REG.open}/${RUN}/app:no-such-tag`);
    const c = await api('POST', `/demo/create-app?image=${enc(MISSING_TAG)}&user=${user}x`);
    expect(c.status).toBe(404); // approved (the gate passes), but not on the Engine
    expect(c.body.code).toBe('image_not_found');
  });

  it('an {"error"} inside the 200 stream is a failure with the registry\'s message', async () => {
    await api('POST', `/demo/approve-image?image=${enc(BROKEN)}`);
    const rec = await waitForState('demo', BROKEN, ['pulled', 'failed']);
    expect(rec.state).toBe('failed');
    expect(rec.error).toBe('unknown blob');
    expect(rec.pull.progress.layers.total).toBe(2);
    expect(await hasImage(BROKEN)).toBe(false);
  });

  it('a failed pull is retried by requesting again', async () => {
    await api('POST', `/demo/approve-image?image=${enc(LATE)}`);
    const first = await waitForState('demo', LATE, ['pulled', 'failed']);
    expect(first.state).toBe('failed');
    await pushAndForget(LATE, 64);
    const again = await api('POST', `/demo/request-image?image=${enc(LATE)}`, { token: null });
    expect(again.status).toBe(202);
    const rec = await waitForState('demo', LATE, ['pulled', 'failed']);
    pulled.push(LATE);
    expect(rec).toMatchObject({ state: 'pulled', error: null, pull: { attempts: 2 } });
  });

  it('simultaneous requests for one reference pull it once', async () => {
    const since = engineTimestamp(BigInt(Date.now() - 1000) * 1_000_000n);
    const answers = await Promise.all(Array.from({ length: 8 }, () => api('POST', `/demo/request-image?image=${enc(RACE)}`, { token: null })));
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
    await api('POST', `/demo/request-image?image=${enc(LEASE)}`, { token: null });
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
