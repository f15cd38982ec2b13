/**
 * HTTP at the edge: the one table that maps domain error codes to statuses, and the renderers
 * of problem details (RFC 9457, `application/problem+json`) and of batches (200, 207
 * Multi-Status, or a problem carrying every item's result). Nothing below the route layer
 * picks a status.
 *
 * @example
 * try { ... } catch (e) { return errorResponse(e, requestId); }
 * return batchResponse(await backend.start(names));
 *
 * @module
 */
import { DomainError, type ErrorCode } from './errors.ts';
import { EngineError } from './engine-errors.ts';
import { isStoreUnavailable } from './store.ts';
import type { Batch } from './batch.ts';
import { log } from './log.ts';

/** Every domain error code's HTTP status. The only place a status is chosen for an error. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  invalid_parameter: 400,
  unauthorized: 401,
  forbidden: 403,
  no_identity: 403,
  image_not_approved: 403,
  unknown_facility: 404,
  unknown_route: 404,
  app_not_found: 404,
  image_not_found: 404,
  node_not_found: 404,
  method_not_allowed: 405,
  app_exists: 409,
  state_conflict: 409,
  mount_source_missing: 409,
  wrong_mode: 409,
  payload_too_large: 413,
  rate_limited: 429,
  client_closed: 499,
  internal_error: 500,
  engine_error: 502,
  app_unreachable: 502,
  engine_unavailable: 503,
  store_unavailable: 503,
  engine_timeout: 504,
  partial_failure: 207,
  batch_failed: 409,
};

const TITLES: Record<number, string> = {
  207: 'Multi-Status',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Fields of `extra` that become headers, never body fields. */
const HIDDEN = new Set(['wwwAuthenticate']);

/**
 * Any thrown value as a {@link DomainError}: domain errors as they are; an Engine answer no
 * core code interpreted -> `engine_error`; a database that is busy past the retries or
 * unreachable -> `store_unavailable`; anything else -> `internal_error` (a bug; logged by
 * {@link errorResponse}). The original error is kept as `cause`.
 */
export function asDomainError(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  if (e instanceof EngineError) return new DomainError('engine_error', `Engine answered ${e.statusCode}: ${e.message}`, { engineStatus: e.statusCode }, { cause: e });
  if (isStoreUnavailable(e)) return new DomainError('store_unavailable', 'The database is busy or unreachable; retry shortly', { retryAfter: 2 }, { cause: e });
  return new DomainError('internal_error', 'Internal error; see the server log', {}, { cause: e });
}

/** The problem-details body of `e`: `{type, title, status, code, detail, ...extra}`. */
export function problemBody(e: DomainError, status = STATUS_OF[e.code]): Record<string, unknown> {
  const extra = Object.fromEntries(Object.entries(e.extra).filter(([k]) => !HIDDEN.has(k)));
  return {
    type: `https://src-container-api.dev/errors/${e.code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code: e.code,
    detail: e.detail,
    ...extra,
  };
}

/**
 * A problem+json `Response` for `body` (from {@link problemBody}) with `status`; the headers
 * that some problems carry (`Allow`, `WWW-Authenticate`, `Retry-After`) are set from `e.extra`.
 */
function problemResponse(e: DomainError, body: Record<string, unknown>, status: number, headers: Record<string, string> = {}): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/problem+json');
  if (typeof e.extra.wwwAuthenticate === 'string') h.set('www-authenticate', e.extra.wwwAuthenticate);
  if (typeof e.extra.allow === 'string') h.set('allow', e.extra.allow);
  if (typeof e.extra.retryAfter === 'number' && (status >= 500 || status === 409)) h.set('retry-after', String(e.extra.retryAfter));
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * Turns any thrown value into a problem+json `Response` (see {@link asDomainError}; an
 * `internal_error` is logged with its cause and answers the request ID only).
 * @param status overrides the table, for what only the edge knows (414, 431)
 */
export function errorResponse(err: unknown, requestId?: string, status?: number): Response {
  const e = asDomainError(err);
  const headers: Record<string, string> = requestId ? { 'x-request-id': requestId } : {};
  if (e.code === 'internal_error') log('http').error('unexpected error (request {requestId}): {error}', { requestId: requestId ?? '-', error: e.cause ?? e });
  else if (e.code === 'store_unavailable') log('http').error('database unavailable (request {requestId}): {detail}', { requestId: requestId ?? '-', detail: (e.cause as Error)?.message ?? e.detail });
  const body = problemBody(e, status ?? STATUS_OF[e.code]);
  if (e.code === 'internal_error' && requestId) body.requestId = requestId;
  return problemResponse(e, body, status ?? STATUS_OF[e.code], headers);
}

/** Answers at least this long (UTF-16 units) are encoded to UTF-8 once, by {@link json}. */
const ENCODE_ONCE_AT = 16 * 1024;
const utf8 = new TextEncoder();

/**
 * A JSON `Response`. A large body is handed over as UTF-8 bytes: as a string, Node's adapter
 * measures its UTF-8 length and then encodes it again to write it, and a string with any
 * character above U+00FF (the `…` of a truncated `docker ps` command) is two bytes a unit,
 * slow to measure: 500 `docker ps` rows, ~3.5 ms a read saved.
 */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/json; charset=utf-8');
  const text = JSON.stringify(body);
  return new Response(text.length >= ENCODE_ONCE_AT ? utf8.encode(text) : text, { status, headers: h });
}

/** A failed item as it stands in a batch answer: the fields naming it, and its problem. */
function failureEntry(key: Record<string, unknown>, e: DomainError): Record<string, unknown> {
  return { ...key, error: problemBody(e) };
}

/**
 * The answer for a batch:
 * - one named item (`single`): the value itself (200), or its problem;
 * - several: an array in item order: 200 when none failed; 207 Multi-Status when some failed
 *   (a failed item is `{...its key, error: problem}`);
 * - several, all failed: a problem whose `results` holds every item's entry, with the items'
 *   shared code and status, or `batch_failed` and the highest of their statuses when they differ.
 */
export function batchResponse<T>(batch: Batch<T>, headers?: HeadersInit): Response {
  const { outcomes } = batch;
  if (batch.single && outcomes.length === 1) {
    const o = outcomes[0];
    if (o.ok) return json(o.value, 200, headers);
    return errorResponse(o.error);
  }
  const failures = outcomes.filter((o) => !o.ok);
  const body = outcomes.map((o) => (o.ok ? o.value : failureEntry(o.key, o.error)));
  if (failures.length === 0) return json(body, 200, headers);
  if (failures.length < outcomes.length) return json(body, 207, headers);
  const codes = new Set(failures.map((o) => (o.ok ? '' : o.error.code)));
  const first = (failures[0] as { error: DomainError }).error;
  const shared = codes.size === 1;
  const status = shared ? STATUS_OF[first.code] : Math.max(...failures.map((o) => (o.ok ? 0 : STATUS_OF[o.error.code])));
  const e = shared
    ? new DomainError(first.code, `Every item failed (${outcomes.length}); the first: ${first.detail}`, { retryAfter: first.extra.retryAfter })
    : new DomainError('batch_failed', `Every item failed (${outcomes.length}), for different reasons; see results`);
  return problemResponse(e, { ...problemBody(e, status), results: body }, status, Object.fromEntries(new Headers(headers)));
}
