/**
 * The edge: one table from domain error codes to statuses, problem+json bodies that keep the
 * error's fields (never its cause or hidden headers), and batch answers (200, 207, or a problem
 * carrying every item's result).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import { asDomainError, batchResponse, errorResponse, json, STATUS_OF } from '../../core/http.ts';
import { EngineError } from '../../core/engine.ts';
import { failed, ok, settle } from '../../core/batch.ts';

describe('STATUS_OF', () => {
  it('gives every code a status; engine faults are 502/503/504, the caller gone is 499', () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      invalid_parameter: 400,
      unauthorized: 401,
      forbidden: 403,
      app_not_found: 404,
      app_exists: 409,
      wrong_mode: 409,
      rate_limited: 429,
      engine_error: 502,
      engine_unavailable: 503,
      store_unavailable: 503,
      engine_timeout: 504,
      client_closed: 499,
      internal_error: 500,
    };
    for (const [code, status] of Object.entries(expected)) expect(STATUS_OF[code as ErrorCode], code).toBe(status);
    for (const s of Object.values(STATUS_OF)) expect(s).toBeGreaterThanOrEqual(200);
  });
});

describe('errorResponse', () => {
  it('renders problem+json from the table, with Retry-After for 5xx and the cause kept out of the body', async () => {
    const cause = new Error('connect ECONNREFUSED /var/run/docker.sock');
    const e = new DomainError('engine_unavailable', 'Engine unreachable (ECONNREFUSED)', { retryAfter: 5 }, { cause });
    expect(e.cause).toBe(cause);
    const r = errorResponse(e, 'rid');
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.headers.get('x-request-id')).toBe('rid');
    const body = await r.json();
    expect(body).toEqual({
      type: 'https://src-container-api.dev/errors/engine_unavailable',
      title: 'Service Unavailable',
      status: 503,
      code: 'engine_unavailable',
      detail: 'Engine unreachable (ECONNREFUSED)',
      retryAfter: 5,
    });
  });

  it('an Engine answer no core code interpreted is engine_error (502), its EngineError kept as cause', () => {
    const ee = new EngineError(404, 'no such container', 'No such container: x');
    const d = asDomainError(ee);
    expect(d.code).toBe('engine_error');
    expect(d.cause).toBe(ee);
    expect(errorResponse(ee).status).toBe(502);
  });

  it('an edge-only status (414, 431) overrides the table', async () => {
    const r = errorResponse(new DomainError('payload_too_large', 'URL too long'), undefined, 414);
    expect(r.status).toBe(414);
    expect(await r.json()).toMatchObject({ status: 414, title: 'URI Too Long', code: 'payload_too_large' });
  });
});

describe('batchResponse', () => {
  const nf = (name: string) => failed<unknown>(new DomainError('app_not_found', `No app named '${name}'`, { name }), { name });

  it('one named item: the object itself, or its problem', async () => {
    const one = batchResponse({ single: true, outcomes: [ok({ name: 'a--x' })] });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ name: 'a--x' });
    const gone = batchResponse({ single: true, outcomes: [nf('a--x')] });
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe('application/problem+json');
  });

  it('several: 200 when none failed, 207 with per-item problems when some did, [] for none', async () => {
    expect(await batchResponse({ single: false, outcomes: [ok(1), ok(2)] }).json()).toEqual([1, 2]);
    const some = batchResponse({ single: false, outcomes: [ok({ name: 'a--x' }), nf('b--x')] });
    expect(some.status).toBe(207);
    const body = await some.json();
    expect(body[1]).toMatchObject({ name: 'b--x', error: { status: 404, code: 'app_not_found' } });
    const empty = batchResponse({ single: false, outcomes: [] });
    expect([empty.status, await empty.json()]).toEqual([200, []]);
  });

  it('several, all failed: a problem carrying every result; batch_failed with the highest status when the reasons differ', async () => {
    const same = batchResponse({ single: false, outcomes: [nf('a--x'), nf('b--x')] });
    expect(same.status).toBe(404);
    expect(await same.json()).toMatchObject({ code: 'app_not_found', results: [{ name: 'a--x' }, { name: 'b--x' }] });
    const mixed = batchResponse({ single: false, outcomes: [nf('a--x'), failed(new DomainError('engine_timeout', 'slow'), { name: 'b--x' })] });
    expect(mixed.status).toBe(504);
    expect(mixed.headers.get('content-type')).toBe('application/problem+json');
    expect(await mixed.json()).toMatchObject({
      code: 'batch_failed',
      status: 504,
      results: [
        { name: 'a--x', error: { code: 'app_not_found' } },
        { name: 'b--x', error: { code: 'engine_timeout' } },
      ],
    });
  });

  it('settle: domain errors become failed outcomes in order; any other error is a bug and rejects', async () => {
    const b = await settle(
      ['a', 'b'],
      async (x) => {
        if (x === 'b') throw new DomainError('state_conflict', 'no');
        return x.toUpperCase();
      },
      (x) => ({ name: x }),
    );
    expect(b.outcomes).toMatchObject([
      { ok: true, value: 'A' },
      { ok: false, key: { name: 'b' } },
    ]);
    await expect(
      settle(
        ['a'],
        async () => {
          throw new TypeError('bug');
        },
        (x) => ({ name: x }),
      ),
    ).rejects.toThrow('bug');
  });
});

describe('json', () => {
  it('small and large answers (a large one is handed over as UTF-8 bytes) carry the same JSON, characters above U+00FF included', async () => {
    const row = { Command: '"sh -c \'trap…"', Labels: 'ü=🐳,k=v' };
    for (const n of [1, 500]) {
      const body = Array.from({ length: n }, (_, i) => ({ ...row, i }));
      const r = json(body, 207, { 'x-test': '1' });
      expect(r.status).toBe(207);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.headers.get('x-test')).toBe('1');
      const bytes = new Uint8Array(await r.arrayBuffer());
      expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify(body));
    }
  });
});
