/**
 * What Engine answers mean: one status table per endpoint (the Engine API reference's
 * documented codes, as dockerode keeps them), {@link EngineError} for a documented non-success
 * answer, and the translation of transport faults into domain errors (unreachable ->
 * `engine_unavailable`, timeout -> `engine_timeout`, undocumented answer or 5xx ->
 * `engine_error`; the caller hanging up -> `client_closed`).
 * @module
 */
import { DomainError } from './errors.ts';

/** A table of an endpoint's documented status codes: `true` = success, string = its meaning. */
export type StatusTable = Readonly<Record<number, true | string>>;

/** A documented non-success answer from the Engine (e.g. 404 "no such container"). */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    readonly engineMessage: string,
  ) {
    super(`${reason}: ${engineMessage}`);
    this.name = 'EngineError';
  }
}

/**
 * Resolves to `null` where the Engine answers 404 (no such container, image, service...);
 * every other error passes through.
 * @example const image = await orNotFound(engine.inspectImage('busybox'));
 */
export async function orNotFound<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) return null;
    throw e;
  }
}

// --- Status tables (Engine API reference, v1.41..v1.47) --------------------------------------
/** `GET /version`, `GET /info`, `GET /_ping`, list endpoints: 200 ok, 500 server error. */
export const S_READ: StatusTable = { 200: true, 400: 'bad parameter', 500: 'server error' };
/** `GET /containers/{id}/json`, `/stats`: 404 no such container. */
export const S_CONTAINER_READ: StatusTable = { 200: true, 404: 'no such container', 500: 'server error' };
/** `POST /containers/create`: 400 bad parameter, 404 no such image, 409 name in use. */
export const S_CONTAINER_CREATE: StatusTable = { 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' };
/** `POST /containers/{id}/start`: 304 already started, 404 no such container. */
export const S_CONTAINER_START: StatusTable = { 204: true, 304: 'container already started', 404: 'no such container', 500: 'server error' };
/** `POST /containers/{id}/stop`: 304 already stopped, 404 no such container. */
export const S_CONTAINER_STOP: StatusTable = { 204: true, 304: 'container already stopped', 404: 'no such container', 500: 'server error' };
/** `POST /containers/{id}/restart`: 404 no such container. */
export const S_CONTAINER_RESTART: StatusTable = { 204: true, 404: 'no such container', 500: 'server error' };
/** `POST /containers/{id}/kill`: 404 no such container, 409 container is not running. */
export const S_CONTAINER_KILL: StatusTable = { 204: true, 404: 'no such container', 409: 'container is not running', 500: 'server error' };
/** `POST /containers/{id}/pause` and `/unpause`: 404 no such container, 409 wrong state (newer Engines). */
export const S_CONTAINER_PAUSE: StatusTable = { 204: true, 404: 'no such container', 409: 'conflict', 500: 'server error' };
/** `DELETE /containers/{id}`: 400 bad parameter, 404 no such container, 409 conflict (removal in progress). */
export const S_CONTAINER_REMOVE: StatusTable = { 204: true, 400: 'bad parameter', 404: 'no such container', 409: 'conflict', 500: 'server error' };
/** `POST /containers/{id}/rename`: 404 no such container, 409 name already in use. */
export const S_CONTAINER_RENAME: StatusTable = { 204: true, 404: 'no such container', 409: 'name already in use', 500: 'server error' };
/** `GET /containers/{id}/logs`: 200 the log stream (multiplexed frames, or raw with a TTY), 404 no such container. */
export const S_CONTAINER_LOGS: StatusTable = { 200: true, 404: 'no such container', 500: 'server error' };
/** `GET /images/{name}/json`: 404 no such image. */
export const S_IMAGE_READ: StatusTable = { 200: true, 404: 'no such image', 500: 'server error' };
/** `POST /images/create` (pull): 404 repository does not exist or no read access. */
export const S_IMAGE_PULL: StatusTable = { 200: true, 404: 'repository does not exist or no read access', 500: 'server error' };
/** `POST /images/{name}/push` (a progress stream like pulls): 404 no such image. */
export const S_IMAGE_PUSH: StatusTable = { 200: true, 404: 'no such image', 500: 'server error' };
/** `POST /images/{name}/tag`: 400 bad parameter, 404 no such image, 409 conflict. */
export const S_IMAGE_TAG: StatusTable = { 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' };
/** `DELETE /images/{name}`: 404 no such image, 409 conflict (in use by a container, or several repositories without force). */
export const S_IMAGE_REMOVE: StatusTable = { 200: true, 404: 'no such image', 409: 'conflict', 500: 'server error' };
/** `GET /nodes`, `GET /nodes/{id}`, `GET /services`, `GET /tasks`: 503 node is not part of a swarm. */
export const S_SWARM_READ: StatusTable = { 200: true, 400: 'bad parameter', 404: 'not found', 500: 'server error', 503: 'node is not part of a swarm' };
/** `GET /events`: 200 a stream of JSON messages, 400 bad parameter (e.g. `until` before `since`), 500 server error. */
export const S_EVENTS: StatusTable = { 200: true, 400: 'bad parameter', 500: 'server error' };

/** `POST /services/create`: 400 bad parameter, 403 network not eligible, 409 name conflicts with an existing service. */
export const S_SERVICE_CREATE: StatusTable = {
  201: true,
  400: 'bad parameter',
  403: 'network is not eligible for services',
  409: 'name conflicts with an existing service',
  500: 'server error',
  503: 'node is not part of a swarm',
};
/** `GET /services/{id}`: 404 no such service. */
export const S_SERVICE_READ: StatusTable = { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' };
/** `DELETE /services/{id}`: 404 no such service. */
export const S_SERVICE_REMOVE: StatusTable = { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' };

/** `GET /networks/{id}`: 404 no such network. */
export const S_NETWORK_READ: StatusTable = { 200: true, 404: 'no such network', 500: 'server error' };
/** `POST /networks/create`: 400 bad parameter, 403 operation not supported (e.g. an overlapping pool), 404 plugin not found, 409 name in use (`CheckDuplicate`). */
export const S_NETWORK_CREATE: StatusTable = { 201: true, 400: 'bad parameter', 403: 'operation not supported', 404: 'plugin not found', 409: 'network name in use', 500: 'server error' };
/** `DELETE /networks/{id}`: 403 operation not supported (active endpoints), 404 no such network. */
export const S_NETWORK_REMOVE: StatusTable = { 204: true, 403: 'operation not supported', 404: 'no such network', 409: 'conflict', 500: 'server error' };
/** `POST /containers/{id}/wait`: 400 bad parameter, 404 no such container. */
export const S_CONTAINER_WAIT: StatusTable = { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' };

/** The parts of an Engine call that error translation reads. */
export interface CallForError {
  method: string;
  path: string;
  statusCodes: StatusTable;
}

/** How an Engine call ended without an answer, as far as the caller's clock and signal tell. */
export interface CallFailure {
  /** The call's `timeoutMs` passed. */
  timedOut: boolean;
  /** The caller's own signal aborted. */
  clientLeft: boolean;
}

const TRANSPORT_UNAVAILABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTSOCK']);

/**
 * An error of an Engine call (docker-modem's, or core/engine-read.ts's in the same shapes) as an
 * {@link EngineError} (a documented answer) or a {@link DomainError} (a transport fault), keeping
 * the original as `cause`.
 * @param how `timedOut`: the call's `timeoutMs` passed (`engine_timeout`); `clientLeft`: the
 *   caller's own signal aborted (the request's, when the client hung up: `client_closed`)
 */
export function translateError(err: any, how: CallFailure, timeoutMs: number, c: CallForError): Error {
  const cause = { cause: err };
  if (typeof err?.statusCode === 'number') {
    const msg = err.json && typeof err.json === 'object' && 'message' in err.json ? String(err.json.message) : String(err.json ?? err.reason ?? '').trim();
    const documented = c.statusCodes[err.statusCode];
    if (typeof documented === 'string' && err.statusCode < 500) return new EngineError(err.statusCode, documented, msg);
    if (err.statusCode === 503 && typeof documented === 'string') return new EngineError(503, documented, msg);
    return new DomainError('engine_error', `Engine answered ${err.statusCode} to ${c.method} ${c.path}: ${msg}`, { engineStatus: err.statusCode }, cause);
  }
  if (how.clientLeft) return new DomainError('client_closed', `The client went away during ${c.method} ${c.path}; the Engine read was cancelled`, {}, cause);
  if (how.timedOut || err?.name === 'AbortError' || err?.name === 'TimeoutError' || err?.code === 'ABORT_ERR') {
    return new DomainError('engine_timeout', `Engine did not answer ${c.method} ${c.path} within ${timeoutMs} ms`, {}, cause);
  }
  if (err?.code && TRANSPORT_UNAVAILABLE.has(err.code)) {
    return new DomainError('engine_unavailable', `Engine unreachable (${err.code})`, { retryAfter: 5 }, cause);
  }
  return new DomainError('engine_unavailable', `Engine unreachable (${err?.message ?? String(err)})`, { retryAfter: 5 }, cause);
}
