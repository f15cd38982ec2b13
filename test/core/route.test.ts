import { describe, expect, it } from 'vitest';
import { LibsqlError } from '@libsql/client';
import { errorResponse } from '../../core/http.ts';
import { DomainError } from '../../core/errors.ts';

describe('errorResponse', () => {
  it('a database busy past the retries, or an unreachable libSQL server, is a 503 with Retry-After', async () => {
    for (const e of [new LibsqlError('database is locked', 'SQLITE_BUSY'), Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') })]) {
      const r = errorResponse(e, 'rid');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('2');
      expect((await r.json()).code).toBe('store_unavailable');
    }
  });

  it('domain errors take their status from the table and keep their headers; anything else is a 500 that points at the log', async () => {
    const u = errorResponse(new DomainError('unauthorized', 'no', { wwwAuthenticate: 'Bearer' }));
    expect(u.status).toBe(401);
    expect(u.headers.get('www-authenticate')).toBe('Bearer');
    expect(await u.json()).not.toHaveProperty('wwwAuthenticate');
    const orig = console.error;
    console.error = () => undefined;
    try {
      const r = errorResponse(new Error('bug'), 'rid');
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({ code: 'internal_error', requestId: 'rid' });
    } finally {
      console.error = orig;
    }
  });
});
