import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createApp, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { routes } from '../functions/index.ts';
import { mintToken, parseExpiry, revokeToken, verifyToken } from '../core/auth.ts';
import { authDb } from '../core/auth.ts';

const alice = uniqueUser('al');
const bob = uniqueUser('bo');
const tokens: Record<string, string> = {};

beforeAll(async () => {
  tokens.alice = (await mintToken({ role: 'user', user: alice, name: 'alice test' })).token;
  tokens.bob = (await mintToken({ role: 'user', user: bob, name: 'bob test' })).token;
  tokens.otherAdmin = (await mintToken({ role: 'admin', name: 'admin of other', facilities: ['other'] })).token;
  const revoked = await mintToken({ role: 'user', user: alice, name: 'revoked' });
  await revokeToken(revoked.record.id);
  tokens.revoked = revoked.token;
  await createApp(IMAGES.busybox, alice);
  await createApp(IMAGES.busybox, bob);
});
afterAll(() => removeUserApps(alice, bob));

/** A request for `route` aimed at `owner`'s (possibly missing) app, with valid parameters. */
function requestFor(route: (typeof routes)[number], owner: string): string {
  const values: Record<string, string> = {
    name: `ghost--${owner}`,
    user: owner,
    image: IMAGES.busybox,
    hostname: 'no-such-host',
    duration: 'hour',
    timeout: '1',
    state: 'pending',
    reason: 'test',
  };
  const q = Object.entries(route.meta.query)
    .filter(([k, p]) => p.required || k === 'name' || k === 'user')
    .filter(([k]) => k in values)
    .map(([k]) => `${k}=${encodeURIComponent(values[k])}`)
    .join('&');
  return `/demo/${route.meta.route}${q ? '?' + q : ''}`;
}

const cases = routes.map((r) => [r.meta.route, r] as const);

describe('authorization matrix: each role x each route x own/other app', () => {
  it.each(cases)('%s: no token -> 401 unless public; bad or revoked token -> 401', async (_n, route) => {
    const path = requestFor(route, alice);
    const none = await call(route.meta.method, path, { token: null });
    if (route.meta.access === 'public') expect(none.status).not.toBe(401);
    else {
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      expect(none.body.code).toBe('unauthorized');
    }
    for (const t of ['src_nope00000000_' + 'x'.repeat(43), 'garbage', tokens.revoked]) {
      const r = await call(route.meta.method, path, { token: t });
      expect(r.status, t).toBe(401);
    }
  });

  it.each(cases)("%s: user token on own app passes authorization; on another user's app -> 403", async (_n, route) => {
    const own = await call(route.meta.method, requestFor(route, alice), { token: tokens.alice });
    const other = await call(route.meta.method, requestFor(route, bob), { token: tokens.alice });
    if (route.meta.access === 'admin') {
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('forbidden');
      return;
    }
    expect(own.status).not.toBe(401);
    expect(own.body.code).not.toBe('forbidden');
    const targetsOwner = 'name' in route.meta.query || 'user' in route.meta.query;
    if (targetsOwner) {
      expect(other.status).toBe(403);
      expect(other.body.code).toBe('forbidden');
    }
  });

  it.each(cases)('%s: admin limited to another facility -> 403; on behalf of alice acts as alice', async (_n, route) => {
    const limited = await call(route.meta.method, requestFor(route, alice), { token: tokens.otherAdmin });
    if (route.meta.access !== 'public') expect(limited.status).toBe(403);
    const behalfOwn = await call(route.meta.method, requestFor(route, alice), { headers: { 'x-on-behalf-of': alice } });
    const behalfOther = await call(route.meta.method, requestFor(route, bob), { headers: { 'x-on-behalf-of': alice } });
    if (route.meta.access === 'admin') {
      expect(behalfOwn.status).toBe(403);
      return;
    }
    expect(behalfOwn.body.code).not.toBe('forbidden');
    if ('name' in route.meta.query || 'user' in route.meta.query) expect(behalfOther.status).toBe(403);
  });
});

describe('scoping and tokens', () => {
  it('a user token lists only its own apps', async () => {
    const names = await call('GET', '/demo/get-app-names', { token: tokens.alice });
    expect(names.body).toEqual([`busybox--${alice}`]);
    const status = await call('GET', '/demo/get-app-status', { token: tokens.bob });
    expect(status.body.map((s: any) => s.Names)).toEqual([`busybox--${bob}`]);
  });

  it('a user token acts on its own app', async () => {
    const r = await call('POST', `/demo/start-app?name=busybox--${alice}`, { token: tokens.alice });
    expect(r.status).toBe(200);
    const denied = await call('POST', `/demo/stop-app?name=busybox--${alice},busybox--${bob}`, { token: tokens.alice });
    expect(denied.status).toBe(403);
  });

  it('X-On-Behalf-Of: only admins, and only a valid user name', async () => {
    const r = await call('GET', '/demo/get-app-names', { token: tokens.alice, headers: { 'x-on-behalf-of': bob } });
    expect(r.status).toBe(403);
    const bad = await call('GET', '/demo/get-app-names', { headers: { 'x-on-behalf-of': 'a--b' } });
    expect(bad.status).toBe(400);
    expect(bad.body.parameter).toBe('X-On-Behalf-Of');
  });

  it('stores only a hash: the secret is nowhere in the database', async () => {
    const { token, record } = await mintToken({ role: 'user', user: alice, name: 'hash check' });
    const db = await authDb();
    const row = (await db.execute({ sql: 'SELECT * FROM tokens WHERE id = ?', args: [record.id] })).rows[0];
    // the secret is everything after `src_<id>_` (base64url: it may itself contain `_`)
    const secret = /^src_[a-z0-9]{12}_(.{43})$/.exec(token)![1];
    expect(Object.values(row).some((v) => String(v).includes(secret))).toBe(false);
    expect(String(row.hash)).toMatch(/^[0-9a-f]{64}$/);
    expect((await verifyToken(token))?.user).toBe(alice);
    expect(await verifyToken(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull();
  });
});

describe('token expiry (issue 12)', () => {
  it('an expired token answers 401; one that has not expired yet works', async () => {
    const past = await mintToken({ role: 'user', user: alice, name: 'expired', expiresAt: new Date(Date.now() - 1000) });
    const future = await mintToken({ role: 'user', user: alice, name: 'expiring', expiresAt: parseExpiry('30d') });
    expect(future.record.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const r = await call('GET', `/demo/get-app-names?user=${alice}`, { token: past.token });
    expect(r.status).toBe(401);
    expect(r.body.detail).toMatch(/expired/);
    expect(await verifyToken(past.token)).toBeNull();
    const ok = await call('GET', `/demo/get-app-names?user=${alice}`, { token: future.token });
    expect(ok.status).toBe(200);
  });

  it('lifetimes: 30d, 12h, 90m, 2w or an ISO date; nonsense and the past are refused', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseExpiry('30d', now).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseExpiry('12h', now).toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(parseExpiry('2w', now).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(parseExpiry('2027-01-31', now).toISOString()).toBe('2027-01-31T00:00:00.000Z');
    expect(() => parseExpiry('soon', now)).toThrow(/--expires soon: must be a duration such as 30d/);
    expect(() => parseExpiry('2025-01-01', now)).toThrow(/must be in the future/);
  });
});

describe('audit log', () => {
  it('records every mutating call with who, for whom, target, result and duration', async () => {
    const t0 = new Date().toISOString();
    await call('POST', `/demo/stop-app?name=busybox--${bob}`, { headers: { 'x-on-behalf-of': bob } });
    await call('POST', `/demo/kill-app?name=busybox--${bob}`, { token: tokens.bob });
    const r = await call('GET', `/demo/get-audit-log?user=${bob}&since=${t0}`);
    expect(r.status).toBe(200);
    const [kill, stop] = r.body;
    expect(kill).toMatchObject({ route: 'kill-app', role: 'user', subjectName: 'bob test', target: `busybox--${bob}`, targetUser: bob, status: 409, result: 'state_conflict' });
    expect(stop).toMatchObject({ route: 'stop-app', role: 'admin', onBehalfOf: bob, status: 200, result: 'ok' });
    expect(stop.durationMs).toBeGreaterThanOrEqual(0);
    const failed = await call('GET', `/demo/get-audit-log?user=${bob}&failed=true&since=${t0}`);
    expect(failed.body.map((e: any) => e.route)).toEqual(['kill-app']);
    expect((await call('GET', '/demo/get-audit-log', { token: tokens.bob })).status).toBe(403);
    // refused calls keep who made them; a batch is filed under every user it touched
    await call('POST', `/demo/approve-image?image=${IMAGES.busybox}`, { token: tokens.bob });
    await call('POST', `/demo/stop-app?name=busybox--${alice},busybox--${bob}`, { token: tokens.alice, headers: { 'x-on-behalf-of': bob } });
    await call('POST', `/demo/start-app?name=busybox--${bob},ghost--${bob}`, { headers: { 'x-request-id': 'same-id' } });
    const later = (await call('GET', `/demo/get-audit-log?since=${t0}&limit=1000`)).body as any[];
    expect(later.find((e) => e.route === 'approve-image' && e.subjectName === 'bob test')).toMatchObject({ status: 403, role: 'user' });
    const behalf = later.find((e) => e.route === 'stop-app' && e.subjectName === 'alice test');
    expect(behalf).toMatchObject({ status: 403, onBehalfOf: bob, targetUser: `${alice},${bob}` });
    const forAlice = (await call('GET', `/demo/get-audit-log?user=${alice}&since=${t0}`)).body as any[];
    expect(forAlice.map((e) => e.requestId)).toContain(behalf.requestId);
    const partial = later.find((e) => e.route === 'start-app' && e.target === `busybox--${bob},ghost--${bob}`);
    expect(partial.result).toBe('partial');
    expect(partial.requestId).not.toBe('same-id');
    expect((await call('GET', '/demo/get-audit-log?since=yesterday')).body.parameter).toBe('since');
  });
});
