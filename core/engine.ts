/**
 * The Docker Engine client: one typed method per Engine endpoint we use, on docker-modem
 * (Unix socket, TCP with TLS, or SSH). The API version is negotiated from `GET /version`
 * (works with Engine 20.10 / API 1.41 and with current Engines whose minimum is 1.44).
 *
 * Every method carries the Engine's documented status codes for its endpoint (the tables
 * below, as dockerode does) and turns transport failures into `ApiError`s:
 * unreachable -> 503 `engine_unavailable`, timeout -> 504 `engine_timeout`,
 * an undocumented answer or 5xx -> 502 `engine_error`. Documented non-2xx answers are thrown as
 * `EngineError` (with `.statusCode` and the Engine's message) for the caller to interpret.
 *
 * @module
 */
import Modem from 'docker-modem';
import { ApiError } from './errors.ts';
import { readTextFile } from './runtime.ts';

/** How to reach one Engine. `host` is a DOCKER_HOST-style URL: `unix:///path`, `tcp://h:p`, `ssh://user@h`. */
export interface EngineEndpoint {
  host: string;
  /** PEM file paths for TCP with TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Default per-call timeout in ms (default 30000). */
  timeoutMs?: number;
}

/** A table of an endpoint's documented status codes: `true` = success, string = its meaning. */
export type StatusTable = Readonly<Record<number, true | string>>;

/** A documented non-success answer from the Engine (e.g. 404 "no such container"). */
export class EngineError extends Error {
  constructor(readonly statusCode: number, readonly reason: string, readonly engineMessage: string) {
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

/** Oldest Engine API we speak (Engine 20.10). */
export const MIN_API_VERSION = '1.41';
/** Newest Engine API we know; a newer Engine is spoken to at this version. */
export const MAX_API_VERSION = '1.47';

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
export const S_SERVICE_CREATE: StatusTable = { 201: true, 400: 'bad parameter', 403: 'network is not eligible for services', 409: 'name conflicts with an existing service', 500: 'server error', 503: 'node is not part of a swarm' };
/** `GET /services/{id}`: 404 no such service. */
export const S_SERVICE_READ: StatusTable = { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' };
/** `DELETE /services/{id}`: 404 no such service. */
export const S_SERVICE_REMOVE: StatusTable = { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' };

/** One Engine call. */
export interface EngineCall {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD';
  /** Path without version prefix, e.g. `/containers/json`. */
  path: string;
  query?: Record<string, string | number | boolean | object | undefined>;
  body?: unknown;
  statusCodes: StatusTable;
  /** Overrides the endpoint's default timeout (ms). */
  timeoutMs?: number;
  /** Answer the raw response stream (pulls, events) instead of parsed JSON. */
  stream?: boolean;
  /** Extra headers, e.g. `X-Registry-Auth`. */
  headers?: Record<string, string>;
}

const TRANSPORT_UNAVAILABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTSOCK']);

function versionLess(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am < bm : an < bn;
}

/** Picks the API version to speak: the Engine's own, capped at `MAX_API_VERSION`. */
export function negotiateApiVersion(engineApi: string, engineMin?: string): string {
  if (versionLess(engineApi, MIN_API_VERSION)) {
    throw new ApiError(502, 'engine_error', `Engine API ${engineApi} is older than the minimum supported ${MIN_API_VERSION}`);
  }
  let v = versionLess(MAX_API_VERSION, engineApi) ? MAX_API_VERSION : engineApi;
  if (engineMin && versionLess(v, engineMin)) v = engineMin;
  return v;
}

/**
 * A client for one Engine. Cheap to construct; negotiates the API version on first use and
 * again after the Engine was unreachable (it may have been upgraded meanwhile).
 *
 * @example
 * const engine = new Engine({ host: 'unix:///var/run/docker.sock' });
 * const list = await engine.listContainers({ all: true });
 */
export class Engine {
  private modemOpts: Record<string, unknown>;
  private versioned?: Modem;
  private raw: Modem;
  private negotiating?: Promise<Modem>;
  /** The negotiated API version, once known. */
  apiVersion?: string;

  constructor(readonly endpoint: EngineEndpoint) {
    this.modemOpts = modemOptions(endpoint);
    this.raw = new Modem(this.modemOpts as Modem.ConstructorOptions);
  }

  private async modem(): Promise<Modem> {
    if (this.versioned) return this.versioned;
    this.negotiating ??= (async () => {
      try {
        // at most 5 s, and never longer than the endpoint's own timeout
        const timeoutMs = Math.min(5000, this.endpoint.timeoutMs ?? 5000);
        const v = (await this.dial(this.raw, { method: 'GET', path: '/version', statusCodes: S_READ, timeoutMs })) as {
          ApiVersion?: unknown;
          MinAPIVersion?: unknown;
        } | null;
        if (typeof v?.ApiVersion !== 'string' || !/^\d+\.\d+$/.test(v.ApiVersion)) {
          throw new ApiError(502, 'engine_error', 'Engine answered GET /version without an API version (is it a Docker Engine?)');
        }
        this.apiVersion = negotiateApiVersion(v.ApiVersion, typeof v.MinAPIVersion === 'string' && /^\d+\.\d+$/.test(v.MinAPIVersion) ? v.MinAPIVersion : undefined);
        this.versioned = new Modem({ ...this.modemOpts, version: `v${this.apiVersion}` } as Modem.ConstructorOptions);
        return this.versioned;
      } finally {
        this.negotiating = undefined;
      }
    })();
    return this.negotiating;
  }

  /**
   * Performs one call. Resolves with parsed JSON (or the stream with `stream: true`).
   * @throws EngineError for a documented non-success code; ApiError 503/504/502 for transport faults
   */
  async call<T = unknown>(c: EngineCall): Promise<T> {
    const modem = await this.modem();
    try {
      return (await this.dial(modem, c)) as T;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'engine_unavailable') this.versioned = undefined;
      throw e;
    }
  }

  private dial(modem: Modem, c: EngineCall): Promise<unknown> {
    const timeoutMs = c.timeoutMs ?? this.endpoint.timeoutMs ?? 30_000;
    const signal = AbortSignal.timeout(timeoutMs);
    const query = Object.fromEntries(Object.entries(c.query ?? {}).filter(([, v]) => v !== undefined));
    const hasQuery = Object.keys(query).length > 0;
    const opts: Record<string, unknown> = {
      method: c.method,
      path: c.path + (hasQuery ? '?' : ''),
      statusCodes: c.statusCodes,
      isStream: c.stream ?? false,
      abortSignal: signal,
    };
    if (c.headers) opts.headers = { ...c.headers };
    if (c.body !== undefined) {
      opts.options = { _query: hasQuery ? query : {}, _body: c.body };
      if (!hasQuery) opts.path = c.path + '?';
      opts.allowEmpty = true;
    } else if (hasQuery) {
      opts.options = query;
    } else if (c.method === 'POST') {
      opts.options = {};
    }
    return new Promise((resolve, reject) => {
      modem.dial(opts as unknown as Modem.DialOptions, (err: unknown, data: unknown) => {
        if (!err) return resolve(data);
        reject(translateError(err, signal, timeoutMs, c));
      });
    });
  }

  // --- System ---------------------------------------------------------------------------------
  /** `GET /version` */
  version(): Promise<Record<string, any>> {
    return this.call({ method: 'GET', path: '/version', statusCodes: S_READ });
  }
  /** `GET /info` */
  info(): Promise<Record<string, any>> {
    return this.call({ method: 'GET', path: '/info', statusCodes: S_READ });
  }

  // --- Containers -----------------------------------------------------------------------------
  /** `GET /containers/json` with `filters` (Engine filter map, e.g. `{label: ['k=v']}`). */
  listContainers(q: { all?: boolean; size?: boolean; filters?: Record<string, string[]> } = {}): Promise<any[]> {
    return this.call({
      method: 'GET',
      path: '/containers/json',
      query: { all: q.all ?? true, size: q.size || undefined, filters: q.filters ? JSON.stringify(q.filters) : undefined },
      statusCodes: S_READ,
    });
  }
  /** `GET /containers/{id}/json` (`size=1` adds SizeRw/SizeRootFs). */
  inspectContainer(id: string, size = false): Promise<any> {
    return this.call({ method: 'GET', path: `/containers/${encodeURIComponent(id)}/json`, query: { size: size || undefined }, statusCodes: S_CONTAINER_READ });
  }
  /** `POST /containers/create?name=` -> `{Id, Warnings}` */
  createContainer(name: string, body: Record<string, unknown>): Promise<{ Id: string; Warnings: string[] }> {
    return this.call({ method: 'POST', path: '/containers/create', query: { name }, body, statusCodes: S_CONTAINER_CREATE });
  }
  /** `POST /containers/{id}/start` (304 "already started" is thrown as EngineError). */
  startContainer(id: string): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/start`, statusCodes: S_CONTAINER_START });
  }
  /** `POST /containers/{id}/stop?t=` (seconds of grace before SIGKILL). */
  stopContainer(id: string, t: number): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/stop`, query: { t }, statusCodes: S_CONTAINER_STOP, timeoutMs: (t + 30) * 1000 });
  }
  /** `POST /containers/{id}/restart?t=` */
  restartContainer(id: string, t: number): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/restart`, query: { t }, statusCodes: S_CONTAINER_RESTART, timeoutMs: (t + 30) * 1000 });
  }
  /** `POST /containers/{id}/kill?signal=` */
  killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/kill`, query: { signal }, statusCodes: S_CONTAINER_KILL });
  }
  /** `POST /containers/{id}/pause` */
  pauseContainer(id: string): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/pause`, statusCodes: S_CONTAINER_PAUSE });
  }
  /** `POST /containers/{id}/unpause` */
  unpauseContainer(id: string): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/unpause`, statusCodes: S_CONTAINER_PAUSE });
  }
  /** `DELETE /containers/{id}?v=&force=`: `v` removes anonymous volumes. */
  removeContainer(id: string, q: { force?: boolean; v?: boolean } = {}): Promise<void> {
    return this.call({ method: 'DELETE', path: `/containers/${encodeURIComponent(id)}`, query: { force: q.force || undefined, v: q.v || undefined }, statusCodes: S_CONTAINER_REMOVE });
  }
  /** `POST /containers/{id}/rename?name=` */
  renameContainer(id: string, name: string): Promise<void> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/rename`, query: { name }, statusCodes: S_CONTAINER_RENAME });
  }
  /**
   * `GET /containers/{id}/stats?stream=false` (the Engine samples twice, ~1-2 s, so
   * `precpu_stats` is filled and CPU% can be computed as `docker stats` does).
   */
  containerStats(id: string): Promise<any> {
    return this.call({ method: 'GET', path: `/containers/${encodeURIComponent(id)}/stats`, query: { stream: false }, statusCodes: S_CONTAINER_READ, timeoutMs: 15_000 });
  }

  // --- Images ---------------------------------------------------------------------------------
  /** `GET /images/{name}/json` */
  inspectImage(name: string): Promise<any> {
    return this.call({ method: 'GET', path: `/images/${name.split('/').map(encodeURIComponent).join('/')}/json`, statusCodes: S_IMAGE_READ });
  }
  /** `GET /images/json` */
  listImages(q: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<any[]> {
    return this.call({ method: 'GET', path: '/images/json', query: { all: q.all || undefined, filters: q.filters ? JSON.stringify(q.filters) : undefined }, statusCodes: S_READ });
  }
  /**
   * `POST /images/create?fromImage=&tag=` (pull) as the raw progress stream: JSON messages, one
   * per line, that the caller reads to the end (and destroys to abort). The pull succeeded only
   * if the stream ends cleanly with no `{"error": …}` message in it. `tag` is a tag or a digest
   * (as the CLI sends it); `auth` is the ready `X-Registry-Auth` value (see {@link registryAuthHeader}).
   * @throws EngineError 404 (manifest unknown, no access) or 500 (registry unreachable, refused
   *   credentials) carrying the Engine's message: errors found before the stream starts
   */
  pullImage(q: { fromImage: string; tag?: string }, opts: { auth?: string; timeoutMs?: number } = {}): Promise<ProgressStream> {
    return this.progressCall(
      { method: 'POST', path: '/images/create', query: { fromImage: q.fromImage, tag: q.tag }, headers: opts.auth ? { 'X-Registry-Auth': opts.auth } : undefined, timeoutMs: opts.timeoutMs ?? 3600_000 },
      S_IMAGE_PULL,
    );
  }
  /** `POST /images/{name}/push?tag=` as the raw progress stream (read it as a pull's). */
  pushImage(name: string, tag: string | undefined, opts: { auth?: string; timeoutMs?: number } = {}): Promise<ProgressStream> {
    return this.progressCall(
      { method: 'POST', path: `/images/${imagePath(name)}/push`, query: { tag }, headers: { 'X-Registry-Auth': opts.auth ?? registryAuthHeader({}) }, timeoutMs: opts.timeoutMs ?? 3600_000 },
      S_IMAGE_PUSH,
    );
  }
  /** `POST /images/{name}/tag?repo=&tag=` (`docker tag name repo:tag`). */
  tagImage(name: string, repo: string, tag: string): Promise<void> {
    return this.call({ method: 'POST', path: `/images/${imagePath(name)}/tag`, query: { repo, tag }, statusCodes: S_IMAGE_TAG });
  }
  /** `DELETE /images/{name}?force=&noprune=` → `[{Untagged}|{Deleted}]` (`docker rmi`). */
  removeImage(name: string, q: { force?: boolean; noprune?: boolean } = {}): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.call({ method: 'DELETE', path: `/images/${imagePath(name)}`, query: { force: q.force || undefined, noprune: q.noprune || undefined }, statusCodes: S_IMAGE_REMOVE });
  }

  /**
   * A call answering a progress stream. Every answer is taken as a stream so that an error
   * answer keeps the Engine's message (docker-modem drops the body of streamed errors); the
   * endpoint's own `table` then decides what a non-200 answer means.
   */
  private async progressCall(c: Omit<EngineCall, 'statusCodes' | 'stream'>, table: StatusTable): Promise<ProgressStream> {
    const res = await this.call<ProgressStream & { statusCode?: number }>({ ...c, stream: true, statusCodes: ANY_STATUS });
    const status = res.statusCode ?? 200;
    if (status === 200) return res;
    let text = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      /* the message is what we have */
    }
    let msg = text.trim();
    try {
      msg = String(JSON.parse(msg).message ?? msg);
    } catch {
      /* not JSON */
    }
    const documented = table[status];
    if (typeof documented === 'string') throw new EngineError(status, documented, msg);
    throw new ApiError(502, 'engine_error', `Engine answered ${status} to ${c.method} ${c.path}: ${msg}`, { engineStatus: status });
  }

  // --- Swarm ----------------------------------------------------------------------------------
  /** `GET /nodes` */
  listNodes(): Promise<any[]> {
    return this.call({ method: 'GET', path: '/nodes', statusCodes: S_SWARM_READ });
  }
  /** `GET /nodes/{id}` */
  inspectNode(id: string): Promise<any> {
    return this.call({ method: 'GET', path: `/nodes/${encodeURIComponent(id)}`, statusCodes: S_SWARM_READ });
  }
  /** `GET /services?status=` with `filters` (e.g. `{label: ['k=v'], name: ['x']}`); `status` adds `ServiceStatus` (API 1.41+). */
  listServices(q: { status?: boolean; filters?: Record<string, string[]> } = {}): Promise<any[]> {
    return this.call({ method: 'GET', path: '/services', query: { status: q.status || undefined, filters: q.filters ? JSON.stringify(q.filters) : undefined }, statusCodes: S_SWARM_READ });
  }
  /** `GET /services/{id}` (ID, name or ID prefix); `insertDefaults` fills in the defaults, as `docker service inspect` asks. */
  inspectService(id: string, q: { insertDefaults?: boolean } = {}): Promise<any> {
    return this.call({ method: 'GET', path: `/services/${encodeURIComponent(id)}`, query: { insertDefaults: q.insertDefaults || undefined }, statusCodes: S_SERVICE_READ });
  }
  /**
   * `POST /services/create` -> `{ID, Warning?}`. The Engine never asks a registry here: image
   * resolution (`docker service create` without `--no-resolve-image`) is the CLI's own
   * `GET /distribution/{name}/json` call, which this client does not make.
   */
  createService(spec: Record<string, unknown>, headers?: Record<string, string>): Promise<{ ID: string; Warning?: string }> {
    return this.call({ method: 'POST', path: '/services/create', body: spec, headers, statusCodes: S_SERVICE_CREATE });
  }
  /** `DELETE /services/{id}` */
  removeService(id: string): Promise<void> {
    return this.call({ method: 'DELETE', path: `/services/${encodeURIComponent(id)}`, statusCodes: S_SERVICE_REMOVE });
  }
  /** `GET /tasks` with `filters` (e.g. `{service: ['name'], 'desired-state': ['running']}`). */
  listTasks(q: { filters?: Record<string, string[]> } = {}): Promise<any[]> {
    return this.call({ method: 'GET', path: '/tasks', query: { filters: q.filters ? JSON.stringify(q.filters) : undefined }, statusCodes: S_SWARM_READ });
  }

  // --- Events ---------------------------------------------------------------------------------
  /**
   * `GET /events?since=&until=&filters=` for a past window: the Engine answers from its buffer
   * (only its most recent 256 events, none from before its last start) and closes the stream.
   * `since` and `until` are Engine timestamps (`SECONDS.NANOS`, see {@link engineTimestamp}),
   * both inclusive. `until` must not lie in the Engine's future, or the Engine streams until then.
   * @returns the messages, oldest first, with `timeNano` exact (a decimal string)
   * @example
   * const evs = await engine.events({ since: '0', until: engineTimestamp(nowNs), filters: { type: ['container'] } });
   */
  async events(q: { since: string; until: string; filters?: Record<string, string[]> }, timeoutMs?: number): Promise<EngineEvent[]> {
    const stream = await this.eventStream(q, timeoutMs ?? this.endpoint.timeoutMs ?? 30_000);
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    } catch (e) {
      const err = e as { name?: string; code?: string };
      if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') {
        throw new ApiError(504, 'engine_timeout', `Engine did not finish GET /events within ${timeoutMs ?? this.endpoint.timeoutMs ?? 30_000} ms`);
      }
      throw new ApiError(503, 'engine_unavailable', `Engine unreachable while reading events (${(e as Error)?.message ?? e})`, { retryAfter: 5 });
    }
    return parseEventLines(text + decoder.decode());
  }

  /**
   * `GET /events` as the raw stream of JSON messages, one per line (live when `until` is
   * omitted or in the future; the caller destroys it). Parse lines with {@link parseEventLines}.
   */
  eventStream(q: { since?: string; until?: string; filters?: Record<string, string[]> }, timeoutMs = 24 * 3600_000): Promise<AsyncIterable<Uint8Array | string> & { destroy?: () => void }> {
    return this.call({
      method: 'GET',
      path: '/events',
      query: { since: q.since, until: q.until, filters: q.filters ? JSON.stringify(q.filters) : undefined },
      statusCodes: S_EVENTS,
      stream: true,
      timeoutMs,
    });
  }
}

/** A streamed Engine answer (pull, push): chunks of JSON lines; `destroy()` aborts it. */
export type ProgressStream = AsyncIterable<Uint8Array | string> & { destroy?: (err?: Error) => void };

/** Status codes taken as answers by {@link Engine.progressCall}, which interprets them itself. */
const ANY_STATUS: StatusTable = Object.fromEntries([200, 201, 204, 400, 401, 403, 404, 409, 500, 502, 503].map((c) => [c, true]));

/** An image name or reference as a path segment sequence (`127.0.0.1:5000/a/b:1` keeps its slashes). */
function imagePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/**
 * The `X-Registry-Auth` header value for registry credentials: base64url (with padding, as the
 * Engine decodes it) of `{username, password, serveraddress}` or `{identitytoken}`; `{}` for none.
 * Web-standard (no Buffer), so it runs on Node and Deno.
 */
export function registryAuthHeader(auth: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): string {
  const bytes = new TextEncoder().encode(JSON.stringify(auth));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}

/** One Engine event message. `timeNano` is kept exact as a decimal string (it exceeds 2^53). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch, exact. */
  timeNano: string;
  [extra: string]: unknown;
}

/** An Engine `since`/`until` timestamp (`SECONDS.NANOS`) for nanoseconds since the epoch. */
export function engineTimestamp(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Parses the Engine's event stream text (one JSON message per line), keeping `timeNano` exact:
 * `JSON.parse` alone would round it to a double.
 */
export function parseEventLines(text: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const ev = JSON.parse(t) as EngineEvent;
    // The message's own key is the last one (Engine field order); a label value cannot fake it.
    const all = [...t.matchAll(/"timeNano"\s*:\s*(\d+)/g)];
    ev.timeNano = all.length ? all[all.length - 1][1] : String(BigInt(ev.time ?? 0) * 1_000_000_000n);
    out.push(ev);
  }
  return out;
}

function translateError(err: any, signal: AbortSignal, timeoutMs: number, c: EngineCall): Error {
  if (typeof err?.statusCode === 'number') {
    const msg = err.json && typeof err.json === 'object' && 'message' in err.json ? String(err.json.message) : String(err.json ?? err.reason ?? '').trim();
    const documented = c.statusCodes[err.statusCode];
    if (typeof documented === 'string' && err.statusCode < 500) return new EngineError(err.statusCode, documented, msg);
    if (err.statusCode === 503 && typeof documented === 'string') return new EngineError(503, documented, msg);
    return new ApiError(502, 'engine_error', `Engine answered ${err.statusCode} to ${c.method} ${c.path}: ${msg}`, { engineStatus: err.statusCode });
  }
  if (signal.aborted || err?.name === 'AbortError' || err?.name === 'TimeoutError' || err?.code === 'ABORT_ERR') {
    return new ApiError(504, 'engine_timeout', `Engine did not answer ${c.method} ${c.path} within ${timeoutMs} ms`);
  }
  if (err?.code && TRANSPORT_UNAVAILABLE.has(err.code)) {
    return new ApiError(503, 'engine_unavailable', `Engine unreachable (${err.code})`, { retryAfter: 5 });
  }
  return new ApiError(503, 'engine_unavailable', `Engine unreachable (${err?.message ?? String(err)})`, { retryAfter: 5 });
}

/** docker-modem options from an endpoint (DOCKER_HOST-style URL). */
function modemOptions(ep: EngineEndpoint): Record<string, unknown> {
  const host = ep.host;
  if (host.startsWith('unix://')) return { socketPath: host.slice(7) || '/var/run/docker.sock' };
  const u = new URL(host.includes('//') ? host : `tcp://${host}`);
  if (u.protocol === 'ssh:') {
    return { protocol: 'ssh', host: u.hostname, port: u.port || '22', username: u.username || undefined, sshOptions: { agent: globalThis.process?.env?.SSH_AUTH_SOCK } };
  }
  const tls = ep.tls;
  const o: Record<string, unknown> = { host: u.hostname, port: u.port || (tls ? '2376' : '2375'), protocol: tls ? 'https' : 'http' };
  if (tls) {
    if (tls.ca) o.ca = readTextFile(tls.ca);
    if (tls.cert) o.cert = readTextFile(tls.cert);
    if (tls.key) o.key = readTextFile(tls.key);
  }
  return o;
}
