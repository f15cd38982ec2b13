/**
 * Per-request observation shared by the logs and the metrics: the request's scope (its ID and
 * the time it spent waiting on Engines, summed over every Engine call made on its behalf,
 * node Engines included), carried through async calls with `AsyncLocalStorage` (Node and Deno),
 * and the hook every Engine call reports to (core/engine.ts).
 *
 * @example
 * const scope = newScope(requestId);
 * const res = await inScope(scope, () => handler(ctx));
 * log('http').info('request', { requestId, engineMs: Math.round(scope.engineMs) });
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { observeEngineCall, observeRequest } from './metrics.ts';
import type { Identity } from './identity.ts';
import { log } from './log.ts';

/** What one request accumulates while it runs. */
export interface RequestScope {
  requestId: string;
  /** Milliseconds spent in Engine calls (overlapping calls add up). */
  engineMs: number;
  /** Engine calls made. */
  engineCalls: number;
}

const store = new AsyncLocalStorage<RequestScope>();

/** A fresh scope for request `requestId`. */
export function newScope(requestId: string): RequestScope {
  return { requestId, engineMs: 0, engineCalls: 0 };
}

/** Runs `fn` with `scope` as the current request's. */
export function inScope<T>(scope: RequestScope, fn: () => Promise<T>): Promise<T> {
  return store.run(scope, fn);
}

/** The current request's scope, if any. */
export function currentScope(): RequestScope | undefined {
  return store.getStore();
}

/**
 * The Engine path as a template without IDs or names: `/containers/{id}/json`,
 * `/images/{name}/json`; list and create paths as they are. The metrics' `endpoint` label.
 */
export function engineEndpoint(method: string, path: string): string {
  let p = path.split('?')[0];
  if (p.startsWith('/images/') && !/^\/images\/(json|create|search|load|get|prune)$/.test(p)) {
    const m = p.match(/^\/images\/.+?\/(json|push|tag|history|get)$/);
    p = m ? `/images/{name}/${m[1]}` : '/images/{name}';
  } else {
    p = p.replace(/^\/(containers|services|nodes|tasks|networks|volumes|secrets|configs)\/([^/]+)/, (all, kind: string, id: string) =>
      ['json', 'create', 'prune'].includes(id) ? all : `/${kind}/{id}`,
    );
  }
  return `${method} ${p}`;
}

/** Called by core/engine.ts after every Engine call: request's Engine time, and the latency histogram. */
export function engineCallDone(method: string, path: string, ms: number, ok: boolean): void {
  const scope = store.getStore();
  if (scope) {
    scope.engineMs += ms;
    scope.engineCalls += 1;
  }
  observeEngineCall(engineEndpoint(method, path), ms / 1000, ok);
}

/** What {@link requestDone} reports about one request. */
export interface RequestFacts {
  req: Request;
  route: string;
  facility: string;
  identity: Identity | undefined;
  res: Response;
  /** `Date.now()` when it arrived. */
  started: number;
  scope: RequestScope;
}

/**
 * Ends one request's observation: the request metrics, and its log line (`info`; `warning` for
 * 5xx) with the request ID, method, route, facility, who called (token name and ID, role, the
 * user acted for), status, error code, duration and Engine time. Never the token, the URL's
 * query or a body: secrets stay out of the log.
 */
export async function requestDone(f: RequestFacts): Promise<void> {
  const durationMs = Date.now() - f.started;
  observeRequest(f.route, f.req.method, f.res.status, durationMs / 1000);
  let code: string | undefined;
  if (f.res.status >= 400 && (f.res.headers.get('content-type') ?? '').includes('problem+json')) {
    code = (
      (await f.res
        .clone()
        .json()
        .catch(() => ({}))) as { code?: string }
    ).code;
  }
  const id = f.identity;
  const props = {
    requestId: f.scope.requestId,
    method: f.req.method,
    route: f.route,
    facility: f.facility.slice(0, 64),
    tokenId: id?.subject,
    tokenName: id?.name,
    role: id?.role,
    user: id?.scopeUser,
    onBehalfOf: id?.onBehalfOf,
    status: f.res.status,
    code,
    durationMs,
    engineMs: Math.round(f.scope.engineMs * 10) / 10,
    engineCalls: f.scope.engineCalls,
  };
  // the message is plain text (a route name has no braces); the fields are the record's properties
  const message = `${props.method} ${props.route} ${props.status} ${durationMs}ms ${props.requestId}`;
  const logger = log('http');
  if (f.res.status >= 500) logger.warn(message, props);
  else logger.info(message, props);
}
