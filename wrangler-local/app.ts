/**
 * The local runner's application: every function mounted on one Hono app, plus `GET /`,
 * a request log line per call, and the same 404 problem for unknown routes as each function
 * gives. Web-standard: `app.fetch(Request) -> Response`, used in-process by the tests.
 * @module
 */
import { Hono } from 'hono';
import { logger } from 'hono/logger';
import { routes } from '../functions/index.ts';
import outlineFn from '../functions/outline.ts';
import { errorResponse, unknownRoute } from '../core/route.ts';

/** Builds the runner app. `log: false` silences the request log (tests). */
export function buildApp(opts: { log?: boolean } = {}): Hono {
  const app = new Hono();
  if (opts.log !== false) app.use(logger());
  app.all('/', (c) => outlineFn.fetch(c.req.raw));
  for (const fn of routes) app.all(`/:facility/${fn.meta.route}`, (c) => fn.fetch(c.req.raw));
  app.notFound((c) => errorResponse(unknownRoute(c.req.method, new URL(c.req.url).pathname)));
  app.onError((e) => errorResponse(e));
  return app;
}
