import { describe, expect, it } from 'vitest';
import { call } from './helpers.ts';
import { routes } from '../functions/index.ts';

describe('GET /', () => {
  it('answers a plaintext outline naming every endpoint', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    for (const fn of routes) expect(r.body).toContain(`${fn.meta.method.padEnd(5)} /{facility}/${fn.meta.route}`);
  });

  it('unknown routes get a 404 problem+json', async () => {
    const r = await call('GET', '/demo/no-such-route');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 404, code: 'unknown_route' });
  });
});
