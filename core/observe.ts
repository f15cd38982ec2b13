/**
 * Per-request observation shared by the logs and the metrics: the request's scope (its ID and
 * the time it spent waiting on Engines, summed over every Engine call made on its behalf,
 * node Engines included), carried by the request's Engine clients (core/engine.ts
 * `withSignal`/`withScope`; not `AsyncLocalStorage`, whose promise hooks cost every request of
 * the process ~0.4 ms on Node 20), and the hook every Engine call reports to.
 *
 * @example
 * const scope = newScope(requestId);
 * const engine = facilityEngine.withScope(scope);
 * await engine.listContainers();
 * log('http').info('request', { requestId, engineMs: Math.round(scope.engineMs) });
 *
 * @module
 */
import { observeEngineCall, observeRequest } from './metrics.ts';
import type { Identity } from './identity.ts';
import { log } from './log.ts';
import { afterResponse } from './runtime.ts';

/** What one request accumulates while it runs. */
export interface RequestScope {
  requestId: string;
  /** Milliseconds spent in Engine calls (overlapping calls add up). */
  engineMs: number;
  /** Engine calls made. */
  engineCalls: number;
}

/** A fresh scope for request `requestId`. */
export function newScope(requestId: string): RequestScope {
  return { requestId, engineMs: 0, engineCalls: 0 };
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

/** Called by core/engine.ts after every Engine call: the Engine time of the request it was made for (`scope`), and the latency histogram. */
export function engineCallDone(method: string, path: string, ms: number, ok: boolean, scope?: RequestScope): void {
  if (scope) {
    scope.engineMs += ms;
    scope.engineCalls += 1;
  }
  observeEngineCall(() => engineEndpoint(method, path), ms / 1000, ok); // the template is made after the answer
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
 * 5xx; written just after the answer, core/runtime.ts `afterResponse`) with the request ID,
 * method, route, facility, who called (token name and ID, role, the user acted for), status,
 * error code, duration and Engine time. Never the token, the URL's
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
  // written after the answer (the line costs ~0.2 ms of formatting, redaction and a write on this machine)
  afterResponse(() => {
    const logger = log('http');
    if (f.res.status >= 500) logger.warn(message, props);
    else logger.info(message, props);
  });
}
