/**
 * The token check cache (core/auth.ts verifyToken): a verified token is trusted for
 * TOKEN_CACHE_MS; a revocation in this process is at once, one in another process (the
 * database row changed behind this one's back) within TOKEN_CACHE_MS; an expiry on every call.
 * Tokens in use are confirmed again in the background (refreshTokenCache): a confirmation
 * extends the trust from its own start, and one that finds the row revoked ends it at once.
 * The clock is moved with fake timers: no waiting, no timed assertion.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authDb, mintToken, refreshTokenCache, revokeToken, TOKEN_CACHE_MS, verifyToken } from '../../core/auth.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('verifyToken cache', () => {
  it('a revocation in this process takes effect at once, even right after a verified call', async () => {
    const { token, record } = await mintToken({ role: 'user', user: 'cachealice', name: 'cache test' });
    expect(await verifyToken(token)).toMatchObject({ id: record.id, user: 'cachealice' });
    expect(await revokeToken(record.id)).toBe(true);
    expect(await verifyToken(token)).toBeNull();
  });

  it('a revocation by another process (the row changed directly) takes effect within TOKEN_CACHE_MS', async () => {
    const { token, record } = await mintToken({ role: 'user', user: 'cachebob', name: 'cache test' });
    vi.useFakeTimers({ toFake: ['Date'] });
    expect(await verifyToken(token)).toMatchObject({ id: record.id });
    const db = await authDb();
    await db.execute({ sql: 'UPDATE tokens SET revoked_at = ? WHERE id = ?', args: [new Date().toISOString(), record.id] });
    expect(await verifyToken(token)).toMatchObject({ id: record.id }); // still trusted: this process has not asked again
    expect(TOKEN_CACHE_MS).toBeLessThanOrEqual(1000);
    vi.setSystemTime(Date.now() + TOKEN_CACHE_MS + 1);
    expect(await verifyToken(token)).toBeNull();
  });

  it('an unknown token is never cached: minted afterwards, it works at once', async () => {
    const { token } = await mintToken({ role: 'user', user: 'cachecarol', name: 'cache test' });
    const other = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(await verifyToken(other)).toBeNull();
    expect(await verifyToken(other)).toBeNull();
    expect(await verifyToken(token)).not.toBeNull();
  });

  it('an expiry is checked on every call, cached or not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { token } = await mintToken({ role: 'user', user: 'cachedave', name: 'cache test', expiresAt: new Date(Date.now() + 200) });
    expect(await verifyToken(token)).not.toBeNull();
    vi.setSystemTime(Date.now() + 201); // within the cache window, past the expiry
    expect(await verifyToken(token)).toBeNull();
  });

  it('a background confirmation keeps a token in use trusted from its start, and ends the trust when it finds the row revoked', async () => {
    // background timers faked too: only the confirmations the test runs happen
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const db = await authDb();
    const revokeElsewhere = (id: string) => db.execute({ sql: 'UPDATE tokens SET revoked_at = ? WHERE id = ?', args: [new Date().toISOString(), id] });
    const a = await mintToken({ role: 'user', user: 'cacheerin', name: 'cache test' });
    const t0 = Date.now();
    expect(await verifyToken(a.token)).not.toBeNull(); // a database read: trusted until t0 + TOKEN_CACHE_MS
    vi.setSystemTime(t0 + TOKEN_CACHE_MS - 100);
    await refreshTokenCache(); // confirmed now: trusted until then + TOKEN_CACHE_MS
    await revokeElsewhere(a.record.id);
    vi.setSystemTime(t0 + TOKEN_CACHE_MS + 500);
    expect(await verifyToken(a.token)).toMatchObject({ id: a.record.id }); // past the first read's window, within the confirmation's
    vi.setSystemTime(t0 + 2 * TOKEN_CACHE_MS);
    expect(await verifyToken(a.token)).toBeNull(); // the confirmation's window is over

    const b = await mintToken({ role: 'user', user: 'cachefrank', name: 'cache test' });
    expect(await verifyToken(b.token)).not.toBeNull();
    await revokeElsewhere(b.record.id);
    await refreshTokenCache();
    expect(await verifyToken(b.token)).toBeNull(); // at once, well within TOKEN_CACHE_MS
  });
});
