/**
 * `store_unavailable` as the OpenAPI document describes it: a process whose libSQL server
 * cannot be reached answers 503 with the problem, through the typed client. Unit lane (no Engine).
 */
import { expect, it } from 'vitest';
import { createSrcClient } from '../client/index.ts';
import { ADMIN_TOKEN, app } from './helpers.ts';
import { checkingFetch } from './openapi-check.ts';

it('503 store_unavailable when the database cannot be reached', async () => {
  process.env.SRC_DB_URL = 'http://127.0.0.1:9'; // nothing listens on the discard port
  const api = createSrcClient('http://api.test', ADMIN_TOKEN, { fetch: checkingFetch((req) => app.fetch(req)) });
  const r = await api.GET('/{facility}/get-audit-log', { params: { path: { facility: 'demo' } } });
  expect(r.response.status).toBe(503);
  expect(r.error?.code).toBe('store_unavailable');
  expect(r.response.headers.get('retry-after')).toBe('2');
});
