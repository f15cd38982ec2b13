/**
 * The OpenAPI 3.1 document of the API, generated from the route definitions themselves
 * (functions/index.ts: each route's method, summary, access, modes and query parameters with
 * their valibot schemas), the answer schemas (core/answers.ts), the error codes and their
 * statuses (core/http.ts STATUS_OF). `npm run openapi` writes it to openapi/openapi.json and
 * generates the typed client (client/); `GET /openapi.json` serves it (functions/openapi.ts).
 *
 * @example
 * const doc = openApiDocument(routeMetas());
 * doc.paths['/{facility}/start-app'].post.responses['200']
 *
 * @module
 */
import * as v from 'valibot';
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig } from '@valibot/to-json-schema';
import type { RouteMeta } from './route.ts';
import type { ErrorCode } from './errors.ts';
import { STATUS_OF } from './http.ts';
import { facilityIdSchema, userSchema } from './schemas.ts';
import * as A from './answers.ts';

type Schema = v.GenericSchema;
type Json = Record<string, any>;

/** One successful answer of a route: its schema, description and headers beyond `x-request-id`. */
interface OkAnswer {
  schema: Schema;
  doc: string;
  headers?: Record<string, string>;
  /** A `text/event-stream` answer too (Server-Sent Events), described so. */
  events?: string;
}

/** What a route answers: its successes by status, and the error codes it raises beyond the common ones. */
export interface RouteAnswers {
  ok: Record<number, OkAnswer>;
  errors: ErrorCode[];
  /** Whether it asks the Engine (then `engine_*` and `client_closed` may answer). */
  engine: boolean;
  tag: 'apps' | 'nodes' | 'images' | 'uptime' | 'audit';
}

const names = (doc: string) => v.pipe(v.array(v.string()), v.description(doc));
const NAME_ORDER = 'one name: the object; several (or none given): an array in name order, a failed name as `{name, error}` only with 207';

/** A batch answer of `item`: the object for one name, an array for several; 207 when some failed. */
function batch(item: Schema, doc: string): Record<number, OkAnswer> {
  const list = v.array(v.union([item, A.BatchFailure]));
  return {
    200: { schema: v.union([item, list]), doc: `${doc} (${NAME_ORDER})` },
    207: { schema: list, doc: '`partial_failure`: several names, some failed: the array, failed entries `{name, error: Problem}`' },
  };
}

const ACTION_ERRORS: ErrorCode[] = ['app_not_found', 'state_conflict', 'batch_failed'];
const action = (doc: string, item: Schema = A.AppState, more: ErrorCode[] = []): RouteAnswers => ({ ok: batch(item, doc), errors: [...ACTION_ERRORS, ...more], engine: true, tag: 'apps' });
const imageRecord = (doc: string, status = 200): Record<number, OkAnswer> => ({ [status]: { schema: A.ImageRequest, doc } });

/** Every route's answers. A route missing here fails the document's generation. */
export const ROUTE_ANSWERS: Record<string, RouteAnswers> = {
  'start-app': action('`{name, id, state}`'),
  'stop-app': action('`{name, id, state}`'),
  'pause-app': action('`{name, id, state}`'),
  'unpause-app': action('`{name, id, state}`'),
  'restart-app': action('`{name, id, state}`'),
  'kill-app': action('`{name, id, state}` (swarm: the service removed, state `removed`)'),
  'delete-app': action('`{name, id, state: "deleted"}`'),
  'hard-reset-app': action('the new container, the one it replaced, and the image used', A.HardReset, ['image_not_approved', 'image_not_found', 'mount_source_missing']),
  'create-app': {
    ok: { 201: { schema: v.union([A.CreatedContainer, A.CreatedService]), doc: 'the app created (solo: a container, not started; swarm: a service, started at once)' } },
    errors: ['image_not_approved', 'image_not_found', 'app_exists', 'mount_source_missing'],
    engine: true,
    tag: 'apps',
  },
  'get-users': { ok: { 200: { schema: names('user names, sorted'), doc: 'the users that have apps' } }, errors: [], engine: true, tag: 'apps' },
  'get-app-names': { ok: { 200: { schema: names('app names IMAGE--USER'), doc: 'app names' } }, errors: [], engine: true, tag: 'apps' },
  'get-app-status': {
    ok: batch(v.union([A.ContainerStatus, A.ServiceStatus]), '`docker ps -a --format json` objects (swarm: `docker service ls --format json` plus tasks)'),
    errors: ['app_not_found', 'batch_failed'],
    engine: true,
    tag: 'apps',
  },
  'get-app-stats': {
    ok: batch(v.union([A.ContainerStats, A.TaskStats]), '`docker stats --no-stream --format json` objects (swarm: one per running task, always an array)'),
    errors: ['app_not_found', 'batch_failed'],
    engine: true,
    tag: 'apps',
  },
  'get-app-info': { ok: { 200: { schema: A.AppInfo, doc: "the Engine's inspect JSON, unchanged" } }, errors: ['app_not_found'], engine: true, tag: 'apps' },
  'get-app-logs': {
    ok: {
      200: {
        schema: A.AppLogs,
        doc: 'the last `tail` lines (default 200) of stdout and stderr, at most 10 MiB',
        headers: { 'x-logs-truncated': '`true` when the 10 MiB cap was hit' },
        events:
          'with follow=true: Server-Sent Events, `event: log` with one line\'s JSON (`stream`, `line`, `time`, `task`) each, `: keep-alive` comments every 15 s, `event: end` with `{"reason"}` when the app stops',
      },
    },
    errors: ['app_not_found'],
    engine: true,
    tag: 'apps',
  },
  'get-node-names': { ok: { 200: { schema: names('hostnames'), doc: "the swarm's node hostnames (solo: the Engine host's)" } }, errors: [], engine: true, tag: 'nodes' },
  'get-node-status': {
    ok: {
      200: {
        schema: v.union([A.NodeStatus, v.array(A.NodeStatus)]),
        doc: '`docker node ls --format json`: one object with `hostname`, else an array; solo mode: always one object, the Engine host (as the CLI prints one line for one node)',
      },
    },
    errors: ['node_not_found', 'state_conflict'],
    engine: true,
    tag: 'nodes',
  },
  'get-node-info': { ok: { 200: { schema: A.NodeInfo, doc: "the node's inspect JSON (solo: the Engine's GET /info)" } }, errors: ['node_not_found', 'state_conflict'], engine: true, tag: 'nodes' },
  'get-uptime-summary': {
    ok: {
      200: {
        schema: v.union([A.UptimeMap, A.UptimeDetail]),
        doc: '`{UTC second: running}`, or with `detail=true` the ratio, intervals, transitions and samples; `{}` (an empty detail) for an app without history yet',
      },
    },
    errors: ['app_not_found'],
    // an app without history: whether it exists is asked of the Engine
    engine: true,
    tag: 'uptime',
  },
  'request-image': { ok: imageRecord('the request record (state pending, approved, pulling, pulled, failed or denied)', 202), errors: ['rate_limited'], engine: true, tag: 'images' },
  'get-images': { ok: { 200: { schema: v.array(A.ImageRow), doc: '`docker images --format json` rows, with app counts and approval' } }, errors: [], engine: true, tag: 'images' },
  'get-image-requests': {
    ok: {
      200: {
        schema: v.array(v.union([A.ImageRequest, A.ImageRequestDetail])),
        doc: 'request records, newest first (with `image`: its record with `history`)',
        headers: { 'x-total-count': 'how many records match in all' },
      },
    },
    errors: [],
    engine: false,
    tag: 'images',
  },
  'approve-image': {
    ok: { ...imageRecord('the record when nothing is left to do (`pulled`)'), ...imageRecord('the record while its pull runs (`pulling`)', 202) },
    errors: [],
    engine: true,
    tag: 'images',
  },
  'deny-image': { ok: imageRecord('the record, `state: "denied"` with the reason'), errors: [], engine: false, tag: 'images' },
  'get-audit-log': { ok: { 200: { schema: v.array(A.AuditEntry), doc: 'audit entries, newest first' } }, errors: [], engine: false, tag: 'audit' },
  'get-app-url': { ok: { 200: { schema: A.AppUrl, doc: "the app's URL behind the gateway" } }, errors: ['app_not_found'], engine: true, tag: 'apps' },
  'open-app': {
    ok: { 200: { schema: A.AppLink, doc: 'a single-use link (about 60 s) that signs a browser in to the app' } },
    errors: ['app_not_found', 'state_conflict', 'app_unreachable'],
    engine: true,
    tag: 'apps',
  },
};

const CONVERT: ConversionConfig = { target: 'draft-2020-12', errorMode: 'ignore', definitions: A.COMPONENTS };

/** `$ref`s to `#/$defs/X` become `#/components/schemas/X`; `$schema` and inline `$defs` go. */
function fixRefs(x: any): any {
  if (Array.isArray(x)) return x.map(fixRefs);
  if (x && typeof x === 'object') {
    const out: Json = {};
    for (const [k, val] of Object.entries(x)) {
      if (k === '$schema' || k === '$defs') continue;
      out[k] = k === '$ref' && typeof val === 'string' ? val.replace('#/$defs/', '#/components/schemas/') : fixRefs(val);
    }
    return out;
  }
  return x;
}

const jsonSchema = (s: Schema, typeMode: 'input' | 'output' = 'output'): Json => fixRefs(toJsonSchema(s, { ...CONVERT, typeMode }));

/** The route name as an operationId: `start-app` -> `startApp`. */
export const operationId = (route: string): string => route.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The error codes a route may answer, by status. */
export function routeErrors(m: RouteMeta, a: RouteAnswers): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>([
    'invalid_parameter',
    'unauthorized',
    'forbidden',
    'no_identity',
    'unknown_facility',
    'method_not_allowed',
    'payload_too_large',
    'rate_limited',
    'internal_error',
    'store_unavailable',
  ]);
  if (m.modes.length < 2) codes.add('wrong_mode');
  if (a.engine) for (const c of ['engine_error', 'engine_unavailable', 'engine_timeout', 'client_closed'] as const) codes.add(c);
  for (const c of a.errors) codes.add(c);
  const by = new Map<number, ErrorCode[]>();
  const add = (status: number, c: ErrorCode) => by.set(status, [...(by.get(status) ?? []), c]);
  for (const c of Object.keys(STATUS_OF) as ErrorCode[]) {
    if (!codes.has(c)) continue;
    if (c === 'payload_too_large') for (const st of [413, 414, 431]) add(st, c);
    else if (c === 'batch_failed')
      for (const st of [409, 404, 502, 503, 504]) add(st, c); // the highest of the items' statuses
    else add(STATUS_OF[c], c);
  }
  return new Map([...by.entries()].sort(([x], [y]) => x - y));
}

const ERROR_HEADERS: Record<number, Record<string, string>> = {
  401: { 'www-authenticate': 'Bearer realm="src-container-api"' },
  405: { allow: 'the method the route takes' },
  429: { 'ratelimit-limit': 'requests per minute', 'ratelimit-remaining': 'left in this window', 'ratelimit-reset': 'seconds until the window resets' },
  503: { 'retry-after': 'seconds' },
};

/** Response headers: `x-request-id` (every answer of a route) by reference, the others inline. */
function headersOf(h: Record<string, string>): Json {
  return { 'x-request-id': { $ref: '#/components/headers/requestId' }, ...Object.fromEntries(Object.entries(h).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }])) };
}

function problemResponse(status: number, codes: ErrorCode[]): Json {
  return {
    description: codes.map((c) => `\`${c}\``).join(', '),
    headers: headersOf({ ...ERROR_HEADERS[status] }),
    content: { 'application/problem+json': { schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { code: { enum: codes } } }] } } },
  };
}

/** One route's operation object. */
function operation(m: RouteMeta): Json {
  const a = ROUTE_ANSWERS[m.route];
  if (!a) throw new Error(`core/openapi.ts ROUTE_ANSWERS has no entry for route '${m.route}'`);
  const parameters: Json[] = [{ $ref: '#/components/parameters/facility' }];
  for (const [name, p] of Object.entries(m.query)) {
    parameters.push({ name, in: 'query', required: p.required, description: p.doc, schema: jsonSchema(p.schema, 'input') });
  }
  if (m.access !== 'admin') parameters.push({ $ref: '#/components/parameters/onBehalfOf' });
  const responses: Json = {};
  for (const [status, ok] of Object.entries(a.ok)) {
    responses[status] = {
      description: ok.doc,
      headers: headersOf({ ...ok.headers }),
      content: { 'application/json': { schema: jsonSchema(ok.schema) }, ...(ok.events ? { 'text/event-stream': { schema: { type: 'string', description: ok.events } } } : {}) },
    };
  }
  for (const [status, codes] of routeErrors(m, a)) responses[String(status)] = problemResponse(status, codes);
  const access = m.access === 'admin' ? 'Admins only.' : m.access === 'public' ? 'Anyone, with or without a token.' : 'Any token; a user token only for its own apps.';
  return {
    operationId: operationId(m.route),
    summary: m.summary,
    description: `${access} Modes: ${m.modes.join(', ')}${m.modes.length < 2 ? ' (else 409 `wrong_mode`)' : ''}.`,
    tags: [a.tag],
    'x-modes': m.modes,
    'x-access': m.access,
    ...(m.access === 'public' ? { security: [{}, { bearer: [] }] } : {}),
    parameters,
    responses,
  };
}

/** The API's version in the document. */
export const API_VERSION = '0.1.0';

/**
 * The OpenAPI 3.1 document for `metas` (functions/index.ts routeMetas()): `/`, `/openapi.json`,
 * `/docs` and every route as `/{facility}/{route}`.
 * @throws Error when a route has no entry in {@link ROUTE_ANSWERS}
 */
export function openApiDocument(metas: RouteMeta[]): Json {
  const schemas = fixRefs(toJsonSchemaDefs(A.COMPONENTS, { target: 'draft-2020-12', errorMode: 'ignore' }));
  const paths: Json = {
    '/': {
      get: {
        operationId: 'outline',
        summary: 'A plain-text outline of every endpoint',
        tags: ['meta'],
        security: [{}],
        responses: { 200: { description: 'the outline', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['meta'],
        security: [{}],
        responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness: the process serves',
        tags: ['meta'],
        security: [{}],
        responses: { 200: { description: '`{"status":"ok"}`', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: "Readiness: the database takes writes (each facility's Engine state in the body, never failing it)",
        tags: ['meta'],
        security: [{}],
        responses: {
          200: { description: '`{"status":"ready","database":{"writable":true},"facilities":{ID:{"engine":"up"|"down"}}}`', content: { 'application/json': { schema: { type: 'object' } } } },
          503: { description: '`{"status":"not_ready",…}`: the database cannot be written', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: "Prometheus metrics (admin token): this process's series and gauges computed at scrape time",
        tags: ['meta'],
        responses: {
          200: { description: 'the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: { description: '`unauthorized`: no token, or an unknown one', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
          403: { description: '`forbidden`: not an admin token', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        },
      },
    },
    '/docs': {
      get: {
        operationId: 'docs',
        summary: 'A reference page rendering this document (no external assets)',
        tags: ['meta'],
        security: [{}],
        responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  };
  for (const m of metas) paths[`/{facility}/${m.route}`] = { [m.method.toLowerCase()]: operation(m) };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'SRC Container API',
      version: API_VERSION,
      description:
        "Runs each SRC user's apps as Docker containers (solo mode) or Swarm services (swarm mode). Every route is `/{facility}/{route}`; answers are the docker CLI's JSON shapes; every error is `application/problem+json` (RFC 9457) with a stable `code`.",
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'apps', description: 'App lifecycle and reads' },
      { name: 'nodes', description: 'Nodes (admins)' },
      { name: 'images', description: 'Image requests and approval' },
      { name: 'uptime', description: 'Uptime history' },
      { name: 'audit', description: 'Audit log (admins)' },
      { name: 'meta', description: 'This description' },
    ],
    paths,
    components: {
      headers: { requestId: { description: 'the request ID (also in the audit log)', schema: { type: 'string' } } },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'src_<id>_<secret>', description: 'an API token (npm run token)' } },
      parameters: {
        facility: { name: 'facility', in: 'path', required: true, description: 'a configured facility ID', schema: jsonSchema(facilityIdSchema, 'input') },
        onBehalfOf: {
          name: 'X-On-Behalf-Of',
          in: 'header',
          required: false,
          description: "admin tokens only: act as this user (limited to the user's apps)",
          schema: jsonSchema(userSchema, 'input'),
        },
      },
      schemas,
    },
  };
}
