/**
 * The runner's limits, in-process and without an Engine (unit lane): oversized URL and body,
 * the rate limit per token (on get-image-requests, which answers from the database alone).
 * The runner process itself (`npm start`) is tested in runner.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildApp, MAX_URL_LENGTH } from '../wrangler-local/app.ts';
import { ADMIN_TOKEN } from './helpers.ts';

describe('runner limits (in-process)', () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('an oversized URL gets a 414 problem+json', async () => {
    const app = buildApp({ log: false });
    const res = await app.fetch(new Request(`http://x/demo/get-app-names?user=${'a'.repeat(MAX_URL_LENGTH)}`, { headers: auth }));
    expect(res.status).toBe(414);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await res.json()).code).toBe('payload_too_large');
  });

  it('an oversized body gets a 413 problem+json', async () => {
    const app = buildApp({ log: false });
    const res = await app.fetch(new Request('http://x/demo/start-app?name=a--b', { method: 'POST', headers: { ...auth, 'content-length': String(1 << 20) }, body: 'x'.repeat(1 << 20) }));
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('payload_too_large');
  });

  it('rate-limits per token with 429 problem+json and RateLimit headers', async () => {
    const app = buildApp({ log: false, rateLimit: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.fetch(new Request('http://x/demo/get-image-requests', { headers: auth }))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await app.fetch(new Request('http://x/demo/get-image-requests', { headers: { authorization: 'Bearer src_otherxxxxxxx_' + 'b'.repeat(43) } }));
    expect(other.status).toBe(401); // another token has its own budget
    // knowing a token's ID (shown in listings and the audit log) does not spend its budget
    const id = ADMIN_TOKEN.split('_')[1];
    const fresh = buildApp({ log: false, rateLimit: 2 });
    for (let i = 0; i < 3; i++) await fresh.fetch(new Request('http://x/demo/get-image-requests', { headers: { authorization: `Bearer src_${id}_${'z'.repeat(43)}` } }));
    expect((await fresh.fetch(new Request('http://x/demo/get-image-requests', { headers: auth }))).status).toBe(200);
    const limited = await app.fetch(new Request('http://x/demo/get-image-requests', { headers: auth }));
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect((await limited.json()).code).toBe('rate_limited');
  });
});
