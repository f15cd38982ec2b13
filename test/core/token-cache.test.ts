/**
 * The token check cache (core/auth.ts verifyToken): a verified token is trusted for
 * TOKEN_CACHE_MS; a revocation in this process is at once, one in another process (the
 * database row changed behind this one's back) within TOKEN_CACHE_MS; an expiry on every call.
 * The clock is moved with fake timers: no waiting, no timed assertion.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authDb, mintToken, revokeToken, TOKEN_CACHE_MS, verifyToken } from '../../core/auth.ts';

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
});
