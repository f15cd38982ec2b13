/**
 * The local runner's application: every function mounted on one Hono app, plus `GET /`,
 * `GET /openapi.json` and `GET /docs` (functions/openapi.ts), `/healthz`, `/readyz` and `/metrics`
 * (core/ops.ts), a structured log line per call (core/log.ts), request limits, a per-token rate limit, and the same 404
 * problem for unknown routes as each function gives. Web-standard: `app.fetch(Request) ->
 * Response`, used in-process by the tests.
 * @module
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { rateLimiter } from 'hono-rate-limiter';
import { routes } from '../functions/index.ts';
import outlineFn from '../functions/outline.ts';
import openApiFn from '../functions/openapi.ts';
import uiFn from '../functions/ui.ts';
import { unknownRoute } from '../core/route.ts';
import { errorResponse, problemBody } from '../core/http.ts';
import { DomainError } from '../core/errors.ts';
import { bearerToken } from '../core/identity.ts';
import { sha256Hex } from '../core/auth.ts';
import { log } from '../core/log.ts';
import { afterResponse } from '../core/runtime.ts';
import { observeRequest } from '../core/metrics.ts';
import { healthz, metrics, readyz } from '../core/ops.ts';

/** Longest request URL accepted (bytes); longer ones get 414. */
export const MAX_URL_LENGTH = 8192;
/** Largest request body accepted (bytes); no route takes a body, so this is small. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest request head (request line and headers) Node accepts; beyond: 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The runner's own paths and their `route` in logs and metrics. */
const OWN_PATHS: Record<string, string> = { '/ui': 'ui', '/': 'outline', '/healthz': 'healthz', '/readyz': 'readyz', '/metrics': 'metrics' };

/** Options of {@link buildApp}. */
export interface RunnerOptions {
  /** Request log lines (default true). */
  log?: boolean;
  /** Requests per minute per token (per client address without a token); 0 disables. Default 600. */
  rateLimit?: number;
  /** Client address for the rate-limit key of anonymous calls. */
  clientAddress?: (req: Request, env: unknown) => string | undefined;
}

/** The rate-limit key of each recent token: hashed once, not on every request. */
const rateKeys = new Map<string, string>();

/**
 * The rate-limit key: a hash of the whole bearer token (never the secret itself), else the
 * client address. Keyed on the full token, a caller who only knows a token's ID (it is shown in
 * listings and the audit log) cannot spend that token's budget.
 */
async function rateKey(req: Request, env: unknown, opts: RunnerOptions): Promise<string> {
  const token = bearerToken(req.headers.get('authorization') ?? '');
  if (token) {
    let key = rateKeys.get(token);
    if (key === undefined) {
      key = `token:${(await sha256Hex(token)).slice(0, 32)}`;
      if (rateKeys.size >= 10_000) rateKeys.clear(); // bounded: a flood of made-up tokens cannot grow it
      rateKeys.set(token, key);
    }
    return key;
  }
  return `addr:${opts.clientAddress?.(req, env) ?? 'unknown'}`;
}

/** Requests a route function answered: it logs and observes them itself (core/observe.ts). */
const routeServed = new WeakSet<object>();

/** Builds the runner app. */
export function buildApp(opts: RunnerOptions = {}): Hono {
  const app = new Hono();
  // Route functions log their own line (core/observe.ts); this one logs what no route answered.
  app.use(async (c, next) => {
    const started = Date.now();
    await next();
    if (routeServed.has(c)) return;
    const path = new URL(c.req.url).pathname;
    const route = OWN_PATHS[path] ?? (path.startsWith('/ui/') ? 'ui' : 'unmatched');
    observeRequest(route, c.req.method, c.res.status, (Date.now() - started) / 1000);
    if (opts.log !== false && route !== 'healthz') {
      const durationMs = Date.now() - started;
      const { method } = c.req;
      const { status } = c.res;
      afterResponse(() => log('http').info(`${method} ${route} ${status} ${durationMs}ms`, { method, route, status, durationMs }));
    }
  });
  // Probes and metrics are not rate limited (a scraper or systemd must not be refused).
  app.get('/healthz', () => healthz());
  app.get('/readyz', () => readyz());
  app.all('/metrics', (c) => metrics(c.req.raw, { shared: true }));
  app.use(async (c, next) => {
    if (c.req.url.length > MAX_URL_LENGTH) {
      return errorResponse(new DomainError('payload_too_large', `Request URL is ${c.req.url.length} bytes; at most ${MAX_URL_LENGTH} are accepted`), undefined, 414);
    }
    await next();
  });
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => errorResponse(new DomainError('payload_too_large', `Request body larger than ${MAX_BODY_BYTES} bytes`)),
  });
  // GET and HEAD carry no body (fetch drops it); asking for one would build a whole Request (~0.2 ms)
  app.use((c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  const limit = opts.rateLimit ?? 600;
  if (limit > 0) {
    app.use(
      rateLimiter({
        windowMs: 60_000,
        limit,
        standardHeaders: 'draft-6',
        keyGenerator: (c) => rateKey(c.req.raw, c.env, opts),
        // c.body keeps the RateLimit-* headers the limiter set on the context
        handler: (c) =>
          c.body(JSON.stringify(problemBody(new DomainError('rate_limited', `More than ${limit} requests in a minute from this token (or, without one, this address); slow down`))), 429, {
            'content-type': 'application/problem+json',
          }),
      }),
    );
  }
  app.all('/', (c) => outlineFn.fetch(c.req.raw));
  app.all('/openapi.json', (c) => openApiFn.fetch(c.req.raw));
  app.all('/docs', (c) => openApiFn.fetch(c.req.raw));
  app.all('/ui', (c) => uiFn.fetch(c.req.raw));
  app.all('/ui/*', (c) => uiFn.fetch(c.req.raw));
  // routed once: the route's own handler gets this context (its `fetch` would route again)
  for (const fn of routes)
    app.all(`/:facility/${fn.meta.route}`, (c) => {
      routeServed.add(c);
      return fn.serve(c);
    });
  app.notFound((c) => errorResponse(unknownRoute(c.req.method, new URL(c.req.url).pathname)));
  app.onError((e) => errorResponse(e));
  return app;
}
