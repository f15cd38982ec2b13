/**
 * POST /{facility}/approve-image and /deny-image, GET /{facility}/get-image-requests on the real
 * Engine and real registries: the open one on 127.0.0.1:5001 (also behind a throttling proxy, to
 * watch a pull's progress), and the htpasswd one on 127.0.0.1:5002 whose credentials only the
 * facility `demo` has right (`other` has a wrong password, `strict` none).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../core/auth.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { engine, removeUserApps, uniqueUser } from './helpers.ts';
import { api, assertNoCredentials, buildImage, hasImage, push, record, REG, REG_AUTH, removeImages, RUN, seenBodies, throttledProxy, useRegistries, waitForState } from './image-helpers.ts';

useRegistries();

const enc = encodeURIComponent;
const alice = uniqueUser('aa');
const users = [alice, uniqueUser('ab'), uniqueUser('ac'), uniqueUser('ad')];
const SECRET = `${REG.auth}/${RUN}/secret:1`;
const SLOW_REPO = `${RUN}/slow`;
const STOPPED_REPO = `${RUN}/stopped`;
const DENIED = `${REG.open}/${RUN}/denied:1`;
const PINNED_REPO = `${REG.open}/${RUN}/pinned`;
let pinnedDigest = '';
let proxy: Awaited<ReturnType<typeof throttledProxy>>;
let slow = ''; // SLOW_REPO:1 through the proxy
let stopped = '';
let aliceToken = '';
const pulled: string[] = [];

beforeAll(async () => {
  buildImage(SECRET, 200);
  await push(SECRET.slice(0, -2), '1', REG_AUTH);
  buildImage(`${REG.open}/${SLOW_REPO}:1`, 1536, 1536); // 3 MB of random layers
  await push(`${REG.open}/${SLOW_REPO}`, '1');
  buildImage(`${REG.open}/${STOPPED_REPO}:1`, 2048, 2048);
  await push(`${REG.open}/${STOPPED_REPO}`, '1');
  buildImage(DENIED, 32);
  await push(DENIED.slice(0, -2), '1');
  buildImage(`${PINNED_REPO}:1`, 64);
  pinnedDigest = await push(PINNED_REPO, '1');
  await removeImages(SECRET, `${REG.open}/${SLOW_REPO}:1`, `${REG.open}/${STOPPED_REPO}:1`, DENIED, `${PINNED_REPO}:1`);
  proxy = await throttledProxy(5001, 512 * 1024); // 512 KB/s per connection: a 3 MB pull takes seconds
  slow = `127.0.0.1:${proxy.port}/${SLOW_REPO}:1`;
  stopped = `127.0.0.1:${proxy.port}/${STOPPED_REPO}:1`;
  aliceToken = (await mintToken({ role: 'user', user: alice, name: 'approve-image test' })).token;
}, 180_000);

afterAll(async () => {
  await settlePulls();
  await removeUserApps(...users);
  await proxy?.close();
  await removeImages(SECRET, slow, stopped, DENIED, `${PINNED_REPO}@${pinnedDigest}`, ...pulled);
}, 120_000);

describe('approve-image, deny-image: admins only', () => {
  it('401 without a token, 403 for a user token; request-image and get-image-requests are theirs', async () => {
    for (const route of [`approve-image?image=${enc(DENIED)}`, `deny-image?image=${enc(DENIED)}&reason=no`]) {
      expect((await api('POST', `/demo/${route}`, { token: null })).status).toBe(401);
      const u = await api('POST', `/demo/${route}`, { token: aliceToken });
      expect(u.status).toBe(403);
      expect(u.body.code).toBe('forbidden');
    }
    const r = await api('POST', `/demo/request-image?image=${enc(DENIED)}`, { token: aliceToken });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ state: 'pending', requestedBy: alice });
    const list = await api('GET', `/demo/get-image-requests?state=pending`, { token: aliceToken });
    expect(list.status).toBe(200);
    expect(list.body.map((x: any) => x.image)).toContain(DENIED);
  });
});

describe('POST /{facility}/approve-image', () => {
  it('answers 202 while the pull runs; the request list shows its progress (layers, bytes) until it is pulled', async () => {
    const a = await api('POST', `/demo/approve-image?image=${enc(slow)}`);
    expect(a.status).toBe(202);
    expect(a.body).toMatchObject({ state: 'pulling', image: slow, pull: { attempts: 1 } });
    // Partway: some bytes, not all.
    const partway = await (async () => {
      for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        const rec = await record('demo', slow);
        const p = rec.pull?.progress;
        if (rec.state !== 'pulling') throw new Error(`ended before any progress was seen: ${JSON.stringify(rec)}`);
        if (p && p.bytes.done > 0 && p.bytes.done < 3 * 1024 * 1024) return rec;
      }
      throw new Error('no partial progress seen');
    })();
    expect(partway.pull.progress.layers.total).toBe(3);
    expect(partway.pull.progress.layers.done).toBeLessThan(3);
    // Approving again while it runs starts no second pull.
    const again = await api('POST', `/demo/approve-image?image=${enc(slow)}`);
    expect(again.body).toMatchObject({ state: 'pulling', pull: { attempts: 1 } });
    const rec = await waitForState('demo', slow, ['pulled', 'failed'], 60_000);
    pulled.push(slow);
    expect(rec.state).toBe('pulled');
    expect(rec.pull.progress.layers).toEqual({ done: 3, total: 3 });
    expect(rec.pull.progress.bytes.done).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(Date.parse(rec.pull.finishedAt) - Date.parse(rec.pull.startedAt)).toBeGreaterThan(1500);
  });

  it("the htpasswd registry: no credentials, or a wrong password, fail with the registry's message", async () => {
    const none = await api('POST', `/strict/approve-image?image=${enc(SECRET)}`);
    expect(none.status).toBe(202);
    const n = await waitForState('strict', SECRET, ['pulled', 'failed']);
    expect(n.state).toBe('failed');
    expect(n.error).toContain('no basic auth credentials');
    await api('POST', `/other/approve-image?image=${enc(SECRET)}`);
    const w = await waitForState('other', SECRET, ['pulled', 'failed']);
    expect(w.state).toBe('failed');
    expect(w.error).toContain('unauthorized');
    expect(await hasImage(SECRET)).toBe(false);
  });

  it("the htpasswd registry works with the facility's configured credentials", async () => {
    await api('POST', `/demo/approve-image?image=${enc(SECRET)}`);
    const rec = await waitForState('demo', SECRET, ['pulled', 'failed']);
    pulled.push(SECRET);
    expect(rec).toMatchObject({ state: 'pulled', error: null });
    expect(rec.imageId).toBe((await engine.inspectImage(SECRET)).Id);
    const app = await api('POST', `/demo/create-app?image=${enc(SECRET)}&user=${users[1]}`);
    expect(app.status).toBe(201);
  });

  it('references with a registry port and a digest, or a tag and a digest: request, approve, create-app', async () => {
    const byDigest = `${PINNED_REPO}@${pinnedDigest}`;
    const tagAndDigest = `${PINNED_REPO}:1@${pinnedDigest}`;
    const r = await api('POST', `/demo/request-image?image=${enc(tagAndDigest)}`, { token: null });
    expect(r.body).toMatchObject({ state: 'pending', image: byDigest }); // the digest names the content
    const a = await api('POST', `/demo/approve-image?image=${enc(byDigest)}`);
    expect(a.body.requests).toBe(1); // the same record
    const rec = await waitForState('demo', byDigest, ['pulled', 'failed']);
    expect(rec.state).toBe('pulled');
    const img = await engine.inspectImage(byDigest);
    expect(img.RepoDigests).toContain(byDigest);
    expect(img.RepoTags).toEqual([]); // pulled by digest: no tag
    const c1 = await api('POST', `/demo/create-app?image=${enc(byDigest)}&user=${users[2]}`);
    expect(c1.status).toBe(201);
    expect(c1.body).toMatchObject({ name: `pinned--${users[2]}`, imageId: img.Id });
    const c2 = await api('POST', `/demo/create-app?image=${enc(tagAndDigest)}&user=${users[3]}`);
    expect(c2.status).toBe(201);
    expect(c2.body.imageId).toBe(img.Id);
    // The tag alone is another reference: not approved.
    const tagOnly = await api('POST', `/demo/create-app?image=${enc(`${PINNED_REPO}:1`)}&user=${users[3]}x`);
    expect(tagOnly.status).toBe(403);
    expect(tagOnly.body.requestState).toBeNull();
  });

  it('400 for a bad reference; 405 for GET', async () => {
    expect((await api('POST', `/demo/approve-image?image=${enc('a:b:c')}`)).body.parameter).toBe('image');
    expect((await api('POST', '/demo/approve-image')).body.rule).toContain('required');
    expect((await api('GET', `/demo/approve-image?image=${enc(DENIED)}`)).status).toBe(405);
  });
});

describe('POST /{facility}/deny-image', () => {
  it('denies with a reason; create-app then answers 403 naming the state and the reason; requesting again does not reopen it', async () => {
    const d = await api('POST', `/demo/deny-image?image=${enc(DENIED)}&reason=${enc('not licensed for this site')}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ state: 'denied', reason: 'not licensed for this site', requestedBy: alice, approvedBy: null });
    expect(d.body.decidedBy).toBeTruthy();
    const c = await api('POST', `/demo/create-app?image=${enc(DENIED)}&user=${alice}`, { token: aliceToken });
    expect(c.status).toBe(403);
    expect(c.body).toMatchObject({ code: 'image_not_approved', requestState: 'denied', reason: 'not licensed for this site' });
    expect(c.body.detail).toContain('denied');
    expect(c.body.detail).toContain('not licensed for this site');
    const again = await api('POST', `/demo/request-image?image=${enc(DENIED)}`, { token: aliceToken });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ state: 'denied', requests: 2 });
    const listed = await api('GET', '/demo/get-image-requests?state=denied,failed');
    expect(listed.body.find((x: any) => x.image === DENIED)?.state).toBe('denied');
    expect(listed.body.every((x: any) => ['denied', 'failed'].includes(x.state))).toBe(true);
  });

  it('an admin may approve a denied image later', async () => {
    const a = await api('POST', `/demo/approve-image?image=${enc(DENIED)}`);
    expect(a.body.reason).toBeNull();
    const rec = await waitForState('demo', DENIED, ['pulled', 'failed']);
    pulled.push(DENIED);
    expect(rec.state).toBe('pulled');
    const c = await api('POST', `/demo/create-app?image=${enc(DENIED)}&user=${alice}`, { token: aliceToken });
    expect(c.status).toBe(201);
  });

  it('denying a running pull aborts it and the request stays denied', async () => {
    await api('POST', `/demo/approve-image?image=${enc(stopped)}`);
    await (async () => {
      for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        const rec = await record('demo', stopped);
        if (rec.state === 'pulling' && rec.pull.progress.bytes.done > 0) return;
        if (rec.state !== 'pulling') throw new Error(`not pulling: ${JSON.stringify(rec)}`);
      }
      throw new Error('no progress seen');
    })();
    const d = await api('POST', `/demo/deny-image?image=${enc(stopped)}&reason=${enc('changed my mind')}`);
    expect(d.body.state).toBe('denied');
    await settlePulls();
    const rec = await record('demo', stopped);
    expect(rec).toMatchObject({ state: 'denied', reason: 'changed my mind' });
    expect(await hasImage(stopped)).toBe(false);
  });

  it('400 without a reason, or with control characters in it', async () => {
    const r = await api('POST', `/demo/deny-image?image=${enc(DENIED)}`);
    expect(r.body).toMatchObject({ status: 400, parameter: 'reason' });
    const c = await api('POST', `/demo/deny-image?image=${enc(DENIED)}&reason=${enc('a\nb')}`);
    expect(c.body.rule).toContain('control characters');
  });
});

describe('GET /{facility}/get-image-requests', () => {
  it('filters by state; 400 names an unknown state', async () => {
    const r = await api('GET', '/demo/get-image-requests?state=pulled');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.body.every((x: any) => x.state === 'pulled')).toBe(true);
    const bad = await api('GET', '/demo/get-image-requests?state=pulled,done');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ parameter: 'state' });
    expect(bad.body.rule).toContain("'pending'");
  });

  it('never answers a credential', () => {
    expect(seenBodies.some((b) => b.includes('no basic auth credentials'))).toBe(true);
    assertNoCredentials(seenBodies);
  });
});
