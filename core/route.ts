/**
 * `defineRoute`: the one place where a route becomes a function. It builds a small Hono app
 * for `/{facility}/{route}` that runs the core middleware in order:
 *
 * request id -> method check (405) -> authentication (401) -> facility lookup (404) -> access (403) -> query
 * validation (400, naming the parameter and rule) -> target authorization (403) -> the facility
 * bound to the request's signal, its mode and app backend (each resolved once, on first use) ->
 * mode check (409 `wrong_mode` for a route limited to solo or swarm mode, core/mode.ts) ->
 * handler -> domain errors as problem+json (core/http.ts, the one status table).
 *
 * @example functions/get-app-info.ts
 * export default defineRoute({
 *   method: 'GET', route: 'get-app-info', summary: 'Inspect JSON of one app',
 *   query: { name: { schema: appNameSchema, required: true, doc: 'app name' } },
 *   handler: async ({ apps, query }) => json(await (await apps()).info(query.name)),
 * });
 *
 * @module
 */
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { DomainError, invalidParameter } from './errors.ts';
import { errorResponse, json } from './http.ts';
import { getFacility, type Facility } from './facility.ts';
import { backendFor, type AppBackend } from './backend.ts';
import { authenticate, authorizeAccess, authorizeTargets, type Access, type Identity } from './identity.ts';
import { completeAudit, recordAudit, recordIntent, type AuditEntry } from './audit.ts';
import { assertMode, facilityMode, type Mode } from './mode.ts';
import { splitAppName } from './naming.ts';
import { newScope, requestDone, type RequestScope } from './observe.ts';
import { log } from './log.ts';
import { manyListeners } from './runtime.ts';

/**
 * How long before a GET request arrived an identical Engine read in flight may have been sent for
 * the request to share its answer (ms; core/engine.ts `Engine.call`): the staleness a read may see
 * beyond its own Engine call, between processes (within one, a read never shares a call sent
 * before a write ended). 10 ms shares as well as 1 s under 50 clients; 0 shares nothing.
 */
export const SHARED_READ_WINDOW_MS = 10;

/** One query parameter of a route. */
export interface ParamSpec<S extends v.GenericSchema = v.GenericSchema> {
  schema: S;
  required?: boolean;
  /** One-line description for `GET /` and the README. */
  doc: string;
}

type QueryOf<Q extends Record<string, ParamSpec>> = {
  [K in keyof Q]: Q[K]['required'] extends true ? v.InferOutput<Q[K]['schema']> : v.InferOutput<Q[K]['schema']> | undefined;
};

/** What a handler receives. */
export interface RouteContext<Q extends Record<string, ParamSpec>> {
  req: Request;
  /** The facility; for a GET route its Engine client is bound to the request's `signal` (a client that hangs up cancels the reads). */
  facility: Facility;
  /** The facility's mode, resolved once per request (configured, or detected from the Engine). */
  mode: () => Promise<Mode>;
  /** The facility's app backend for its mode, resolved once per request (core/backend.ts). */
  apps: () => Promise<AppBackend>;
  identity: Identity;
  query: QueryOf<Q>;
  requestId: string;
}

/** Describes a route for the outline at `GET /` and the local runner. */
export interface RouteMeta {
  method: 'GET' | 'POST';
  route: string;
  access: Access;
  summary: string;
  modes: ('solo' | 'swarm')[];
  /** Each query parameter: required, its doc line, and the valibot schema that validates it (for the OpenAPI document). */
  query: Record<string, { required: boolean; doc: string; schema: v.GenericSchema }>;
}

/** A deployable function: web-standard `fetch` plus its metadata. */
export interface RouteFunction {
  fetch: (req: Request, env?: unknown, ctx?: unknown) => Response | Promise<Response>;
  /**
   * Answers a request a Hono app has already routed to `/:facility/{route}` (its context, with
   * the `facility` parameter): what `fetch` does after its own routing, without routing again.
   */
  serve: (c: Context) => Promise<Response>;
  meta: RouteMeta;
}

/** Validates the query string of `url` against `spec`: unknown names ignored, repeats refused. */
export function parseQuery<Q extends Record<string, ParamSpec>>(url: URL, spec: Q): QueryOf<Q> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec)) {
    const all = url.searchParams.getAll(name);
    if (all.length > 1) throw invalidParameter(name, 'must be given at most once');
    if (all.length === 0) {
      if (p.required) throw invalidParameter(name, 'is required');
      continue;
    }
    const r = v.safeParse(p.schema, all[0]);
    if (!r.success) {
      const issue = r.issues[0];
      const idx = issue.path?.find((x) => typeof x.key === 'number')?.key;
      throw invalidParameter(name, issue.message, idx === undefined ? all[0] : all[0].split(',')[idx as number]);
    }
    out[name] = r.output;
  }
  return out as QueryOf<Q>;
}

export { errorResponse, json };

/**
 * Defines one route as an independent function.
 * @returns `{ fetch, meta }`: `fetch` answers `/{facility}/{route}` and 404/405 problems otherwise
 */
export function defineRoute<Q extends Record<string, ParamSpec>>(def: {
  method: 'GET' | 'POST';
  route: string;
  summary: string;
  modes?: ('solo' | 'swarm')[];
  /** Who may call it (default `user`: any token, limited to its own apps). */
  access?: Access;
  query: Q;
  handler: (ctx: RouteContext<Q>) => Promise<Response>;
}): RouteFunction {
  const access = def.access ?? 'user';
  const app = new Hono();
  const path = `/:facility/${def.route}`;
  const serve = (c: Context): Promise<Response> => {
    const requestId = crypto.randomUUID(); // ours, never the client's: audit entries stay unique
    return handle(c, requestId, newScope(requestId));
  };
  app.all(path, serve);
  const handle = async (c: Context, requestId: string, scope: RequestScope): Promise<Response> => {
    const started = Date.now();
    // this request's reads may join identical Engine reads in flight sent at most SHARED_READ_WINDOW_MS
    // before it arrived (and after the latest write of this process ended: core/engine.ts)
    const notBefore = performance.now() - SHARED_READ_WINDOW_MS;
    let identity: Identity | undefined;
    let res: Response;
    let intent: number | undefined;
    try {
      if (c.req.method !== def.method && !(def.method === 'GET' && c.req.method === 'HEAD')) {
        throw new DomainError('method_not_allowed', `${def.route} takes ${def.method}, not ${c.req.method}`, { allow: def.method });
      }
      identity = await authenticate(c.req.raw, def.route, access);
      const configured = getFacility(c.req.param('facility') ?? '');
      await authorizeAccess(identity, def.route, access, configured);
      const query = parseQuery(new URL(c.req.url), def.query);
      authorizeTargets(identity, query);
      // a read stops when its client hangs up; a write (POST) runs to its end, reads included, and is audited
      const engine = def.method === 'GET' ? configured.engine.withSignal(manyListeners(c.req.raw.signal), notBefore, scope) : configured.engine.withScope(scope);
      const facility: Facility = { ...configured, engine };
      let mode: Promise<Mode> | undefined;
      let apps: Promise<AppBackend> | undefined;
      const ctx: RouteContext<Q> = {
        req: c.req.raw,
        facility,
        identity,
        query,
        requestId,
        mode: () => (mode ??= facilityMode(facility)),
        apps: () => (apps ??= ctx.mode().then((m) => backendFor(facility, m))),
      };
      if (def.modes && def.modes.length < 2) assertMode(facility, await ctx.mode(), def.modes, def.route);
      // the intent is on record before the action (a crash leaves `pending`, never an unrecorded change)
      if (def.method === 'POST') intent = await recordIntent(auditBase(c.req.raw, facility.id, def.route, requestId, identity, started));
      res = await def.handler(ctx);
      res.headers.set('x-request-id', requestId);
    } catch (e) {
      res = errorResponse(e, requestId);
    }
    if (def.method === 'POST' && c.req.method === 'POST') await audit(c.req.raw, c.req.param('facility') ?? '', def.route, requestId, identity, res, started, intent);
    await requestDone({ req: c.req.raw, route: def.route, facility: c.req.param('facility') ?? '', identity, res, started, scope });
    return res;
  };
  app.notFound((c) => errorResponse(unknownRoute(c.req.method, new URL(c.req.url).pathname)));
  app.onError((e) => errorResponse(e));
  return {
    fetch: (req: Request, env?: unknown, ctx?: unknown) => app.fetch(req, env as any, ctx as any),
    serve,
    meta: {
      method: def.method,
      route: def.route,
      access,
      summary: def.summary,
      modes: def.modes ?? ['solo', 'swarm'],
      query: Object.fromEntries(Object.entries(def.query).map(([k, p]) => [k, { required: !!p.required, doc: p.doc, schema: p.schema }])),
    },
  };
}

/** Records a mutating call in the audit log; a failing audit write is logged, never answered. */
async function audit(req: Request, facility: string, route: string, requestId: string, identity: Identity | undefined, res: Response, started: number, intent?: number): Promise<void> {
  let result = 'ok';
  if (res.status === 207) result = 'partial';
  else if (res.status >= 300) {
    const body = (await res
      .clone()
      .json()
      .catch(() => ({}))) as { code?: string };
    result = body.code ?? String(res.status);
  }
  const outcome = { status: res.status, result, durationMs: Date.now() - started };
  try {
    if (intent !== undefined) await completeAudit(intent, outcome);
    else await recordAudit({ ...auditBase(req, facility, route, requestId, identity, started), ...outcome });
  } catch (e) {
    log('audit').error('audit write failed (request {requestId}): {error}', { requestId, error: e });
  }
}

/** The audit entry of a mutating call without its outcome: who, for whom, where, what. */
function auditBase(req: Request, facility: string, route: string, requestId: string, identity: Identity | undefined, started: number): Omit<AuditEntry, 'status' | 'result' | 'durationMs'> {
  const url = new URL(req.url);
  const name = url.searchParams.get('name') ?? undefined;
  const target = (name ?? url.searchParams.get('image') ?? undefined)?.slice(0, 512);
  // every user a call touched: the user parameter, or the USER part of each app name
  const users =
    url.searchParams.get('user') ??
    [
      ...new Set(
        (name ?? '')
          .split(',')
          .filter((n) => n.includes('--'))
          .map((n) => splitAppName(n).user),
      ),
    ].join(',');
  const targetUser = users || undefined;
  return {
    at: new Date(started).toISOString(),
    requestId,
    facility: facility.slice(0, 64),
    route,
    subject: identity?.subject ?? 'unidentified',
    subjectName: identity?.name ?? 'unidentified',
    role: identity?.role ?? 'unidentified',
    onBehalfOf: identity?.onBehalfOf,
    target,
    targetUser: targetUser?.slice(0, 2048),
  };
}

/** The 404 problem for a path no function serves. */
export function unknownRoute(method: string, path: string): DomainError {
  return new DomainError('unknown_route', `No route ${method} ${path.length > 100 ? path.slice(0, 100) + '…' : path}; GET / lists every endpoint`);
}
