/**
 * The Docker Engine client: one typed method per Engine endpoint we use, on docker-modem
 * (Unix socket, TCP with TLS, or SSH). The API version is negotiated from `GET /version`
 * (works with Engine 20.10 / API 1.41 and with current Engines whose minimum is 1.44).
 *
 * Every method carries the Engine's documented status codes for its endpoint (the tables
 * below, as dockerode does) and turns transport failures into `DomainError`s:
 * unreachable -> 503 `engine_unavailable`, timeout -> 504 `engine_timeout`,
 * an undocumented answer or 5xx -> 502 `engine_error`. Documented non-2xx answers are thrown as
 * `EngineError` (with `.statusCode` and the Engine's message) for the caller to interpret.
 *
 * @module
 */
import Modem from 'docker-modem';
import { DomainError } from './errors.ts';
import {
  EngineError,
  translateError,
  S_CONTAINER_CREATE,
  S_CONTAINER_KILL,
  S_CONTAINER_LOGS,
  S_CONTAINER_PAUSE,
  S_CONTAINER_READ,
  S_CONTAINER_REMOVE,
  S_CONTAINER_RENAME,
  S_CONTAINER_RESTART,
  S_CONTAINER_START,
  S_CONTAINER_STOP,
  S_CONTAINER_WAIT,
  S_NETWORK_CREATE,
  S_NETWORK_READ,
  S_NETWORK_REMOVE,
  S_EVENTS,
  S_IMAGE_PULL,
  S_IMAGE_PUSH,
  S_IMAGE_READ,
  S_IMAGE_REMOVE,
  S_IMAGE_TAG,
  S_READ,
  S_SERVICE_CREATE,
  S_SERVICE_READ,
  S_SERVICE_REMOVE,
  S_SWARM_READ,
  type StatusTable,
} from './engine-errors.ts';
import { parseEventLines, type EngineEvent } from './engine-events.ts';

export * from './engine-connection.ts';
export * from './engine-errors.ts';
export * from './engine-events.ts';
import { type EngineEndpoint, modemOptions, negotiateApiVersion, registryAuthHeader } from './engine-connection.ts';
import { engineCallDone, type RequestScope } from './observe.ts';
import { plainRead, plainTarget, type PlainTarget } from './engine-read.ts';

/** What one Engine endpoint's clients share: the modem and the negotiated API version. */
interface Connection {
  modemOpts: Record<string, unknown>;
  raw: Modem;
  versioned?: Modem;
  negotiating?: Promise<Modem>;
  apiVersion?: string;
  /** Identical plain reads in flight, by {@link coalesceKey}: one Engine call each (see {@link Engine.call}). */
  inflight: Map<string, SharedRead>;
  /** `performance.now()` when the latest write (any non-GET call) on this connection ended. */
  lastWriteEnd: number;
  /** Where plain JSON reads go without docker-modem (core/engine-read.ts); undefined for TLS and SSH. */
  plain?: PlainTarget;
}

/** One Engine read shared by the callers who asked for it while it was in flight. */
interface SharedRead {
  /** `performance.now()` when it was sent: joinable by callers whose `notBefore` and latest write came before. */
  sentAt: number;
  waiters: Set<ReadWaiter>;
  /** Aborts the Engine call once every waiter has left (never because one did). */
  abort: AbortController;
}
interface ReadWaiter {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * The key of a coalescable call, or undefined: plain JSON reads only (GET, no stream, no body, no
 * extra headers). Same path, same query (in order) and same timeout: same key.
 */
function coalesceKey(c: EngineCall): string | undefined {
  if (c.method !== 'GET' || c.stream || c.body !== undefined || c.headers) return undefined;
  return `${c.timeoutMs ?? ''} ${c.path} ${JSON.stringify(c.query ?? {})}`;
}

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

/**
 * A client for one Engine. Cheap to construct; negotiates the API version on first use and
 * again after the Engine was unreachable (it may have been upgraded meanwhile).
 *
 * @example
 * const engine = new Engine({ host: 'unix:///var/run/docker.sock' });
 * const list = await engine.listContainers({ all: true });
 */
export class Engine {
  private readonly conn: Connection;
  /**
   * The caller's cancellation (a request's `signal`): reads made through this client stop when
   * it aborts; writes run to their end (they are audited). See {@link Engine.withSignal}.
   */
  readonly signal?: AbortSignal;
  /**
   * The oldest in-flight read this client's reads may join (`performance.now()` ms; see
   * {@link Engine.withSignal}). Without it (a process-wide client) reads are never shared.
   */
  private readonly notBefore?: number;
  /** The request this client works for: each call's time and count are added to it (core/observe.ts). */
  readonly scope?: RequestScope;

  constructor(
    readonly endpoint: EngineEndpoint,
    opts: { signal?: AbortSignal; conn?: Connection; notBefore?: number; scope?: RequestScope } = {},
  ) {
    this.signal = opts.signal;
    this.scope = opts.scope;
    if (opts.conn) {
      this.conn = opts.conn;
    } else {
      const modemOpts = modemOptions(endpoint);
      this.conn = { modemOpts, raw: new Modem(modemOpts as Modem.ConstructorOptions), inflight: new Map(), lastWriteEnd: 0, plain: plainTarget(modemOpts) };
    }
    this.notBefore = opts.notBefore;
  }

  /** The negotiated API version, once known. */
  get apiVersion(): string | undefined {
    return this.conn.apiVersion;
  }

  /**
   * The same Engine (same connection and negotiated version) with `signal` as the caller's
   * cancellation: each read (GET) then ends when either `signal` aborts or its timeout passes
   * (`AbortSignal.any`), and fails with `client_closed`. As moby's client methods take a context.
   * Its plain reads may join identical ones in flight that were sent at or after `notBefore`
   * (`performance.now()` ms; default: now, i.e. only calls sent after this client was made),
   * see {@link Engine.call}. Calls are counted in `scope` (default: this client's).
   * @example const engine = facilityEngine.withSignal(request.signal, requestStart - 1000, scope);
   */
  withSignal(signal: AbortSignal | undefined, notBefore: number = performance.now(), scope: RequestScope | undefined = this.scope): Engine {
    return new Engine(this.endpoint, { signal, conn: this.conn, notBefore, scope });
  }

  /**
   * The same client (cancellation and sharing unchanged) whose calls are counted in `scope`, the
   * request it works for: a write route's client, which neither shares reads nor is cancelled.
   */
  withScope(scope: RequestScope): Engine {
    return new Engine(this.endpoint, { signal: this.signal, conn: this.conn, notBefore: this.notBefore, scope });
  }

  /** The same Engine with no caller's cancellation or request: for work shared by several requests (mode detection). */
  detached(): Engine {
    return this.signal || this.notBefore !== undefined || this.scope ? new Engine(this.endpoint, { conn: this.conn }) : this;
  }

  private async modem(): Promise<Modem> {
    const conn = this.conn;
    if (conn.versioned) return conn.versioned;
    conn.negotiating ??= (async () => {
      try {
        // at most 5 s, and never longer than the endpoint's own timeout; shared by every caller, so never cancelled by one
        const timeoutMs = Math.min(5000, this.endpoint.timeoutMs ?? 5000);
        const v = (await this.dial(conn.raw, { method: 'GET', path: '/version', statusCodes: S_READ, timeoutMs }, undefined)) as {
          ApiVersion?: unknown;
          MinAPIVersion?: unknown;
        } | null;
        if (typeof v?.ApiVersion !== 'string' || !/^\d+\.\d+$/.test(v.ApiVersion)) {
          throw new DomainError('engine_error', 'Engine answered GET /version without an API version (is it a Docker Engine?)');
        }
        conn.apiVersion = negotiateApiVersion(v.ApiVersion, typeof v.MinAPIVersion === 'string' && /^\d+\.\d+$/.test(v.MinAPIVersion) ? v.MinAPIVersion : undefined);
        conn.versioned = new Modem({ ...conn.modemOpts, version: `v${conn.apiVersion}` } as Modem.ConstructorOptions);
        return conn.versioned;
      } finally {
        conn.negotiating = undefined;
      }
    })();
    return conn.negotiating;
  }

  /**
   * Performs one call. Resolves with parsed JSON (or the stream with `stream: true`). A read
   * (GET) also ends when this client's {@link Engine.signal} aborts.
   *
   * Identical plain reads in flight are coalesced: a client made by {@link Engine.withSignal}
   * (one per request) joins an identical GET (same path, query and timeout; not a stream) that is
   * already in flight on this connection if that call was sent at or after the client's
   * `notBefore` and after the latest write through this process ended, instead of sending its
   * own: an answer then reflects the Engine at most `now - notBefore` ms before the caller asked,
   * and a write through this process is always seen by reads that start after it. Nothing is
   * kept once the call answers. Each caller gets its own copy of the answer (the first the
   * parsed original, the others a deep copy), so callers may mutate what they get; one
   * caller's cancellation rejects only that caller, and the Engine call is cancelled only when
   * every caller has left.
   * @throws EngineError for a documented non-success code; DomainError `engine_unavailable`,
   *   `engine_timeout`, `engine_error` for transport faults, `client_closed` when the caller left
   */
  async call<T = unknown>(c: EngineCall): Promise<T> {
    if (c.method === 'GET' && this.signal?.aborted) throw new DomainError('client_closed', `The client went away before ${c.method} ${c.path}`);
    const modem = await this.modem();
    const key = this.notBefore === undefined ? undefined : coalesceKey(c);
    try {
      if (key !== undefined) return (await this.shared(modem, c, key)) as T;
      return (await this.dial(modem, c, c.method === 'GET' ? this.signal : undefined)) as T;
    } catch (e) {
      if (e instanceof DomainError && e.code === 'engine_unavailable') this.conn.versioned = undefined;
      throw e;
    } finally {
      if (c.method !== 'GET') this.conn.lastWriteEnd = performance.now();
    }
  }

  /** A coalesced read (see {@link Engine.call}): joins the in-flight call under `key` or sends one. */
  private shared(modem: Modem, c: EngineCall, key: string): Promise<unknown> {
    if (this.signal?.aborted) return Promise.reject(new DomainError('client_closed', `The client went away before ${c.method} ${c.path}`));
    const conn = this.conn;
    let read = conn.inflight.get(key);
    if (!read || read.sentAt < (this.notBefore ?? Number.POSITIVE_INFINITY) || read.sentAt <= conn.lastWriteEnd) {
      const fresh: SharedRead = { sentAt: performance.now(), waiters: new Set(), abort: new AbortController() };
      read = fresh;
      conn.inflight.set(key, fresh);
      const done = () => {
        if (conn.inflight.get(key) === fresh) conn.inflight.delete(key);
        const waiters = [...fresh.waiters];
        fresh.waiters.clear();
        for (const w of waiters) if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        return waiters;
      };
      this.dial(modem, c, fresh.abort.signal).then(
        (data) => {
          // every copy is made before any caller runs, so no caller can see another's changes
          const waiters = done();
          const copies = waiters.map((_, i) => (i === 0 ? data : copyJson(data)));
          for (const [i, w] of waiters.entries()) w.resolve(copies[i]);
        },
        (err) => {
          for (const w of done()) w.reject(err);
        },
      );
    }
    const joined = read;
    return new Promise((resolve, reject) => {
      const w: ReadWaiter = { resolve, reject, signal: this.signal };
      if (this.signal) {
        const signal = this.signal;
        w.onAbort = () => {
          joined.waiters.delete(w);
          reject(new DomainError('client_closed', `The client went away during ${c.method} ${c.path}; the Engine read was cancelled`, {}, { cause: signal.reason }));
          if (joined.waiters.size === 0) {
            if (conn.inflight.get(key) === joined) conn.inflight.delete(key);
            joined.abort.abort();
          }
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      joined.waiters.add(w);
    });
  }

  /** Sends one call (see {@link Engine.call}) and reports its time to the request's scope and the metrics. */
  private dial(modem: Modem, c: EngineCall, client: AbortSignal | undefined): Promise<unknown> {
    const timeoutMs = c.timeoutMs ?? this.endpoint.timeoutMs ?? 30_000;
    const plain = this.conn.plain;
    const started = performance.now();
    // a stream's time is until its head arrived; the request log and metrics see every call
    const done = (ok: boolean) => engineCallDone(c.method, c.path, performance.now() - started, ok, this.scope);
    const sent =
      plain && c.method === 'GET' && !c.stream && c.body === undefined && !c.headers
        ? // a plain JSON read: node:http directly (core/engine-read.ts), as docker-modem would send it
          plainRead(plain, (modem === this.conn.versioned ? `/v${this.conn.apiVersion}` : '') + c.path, c.query ?? {}, c.statusCodes, { timeoutMs, signal: client }, (err, how) =>
            translateError(err, how, timeoutMs, c),
          )
        : this.modemDial(modem, c, client, timeoutMs);
    return sent.then(
      (data) => {
        done(true);
        return data;
      },
      (err) => {
        done(false);
        throw err;
      },
    );
  }

  /** One call through docker-modem: writes, streams, and every call over TLS or SSH. */
  private modemDial(modem: Modem, c: EngineCall, client: AbortSignal | undefined, timeoutMs: number): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = client ? AbortSignal.any([timeout, client]) : timeout;
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
        reject(translateError(err, { timedOut: timeout.aborted, clientLeft: !!client?.aborted }, timeoutMs, c));
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

  /**
   * `GET /containers/{id}/stats?stream=false&one-shot=true`: one sample, answered at once
   * (`precpu_stats` empty; take CPU % against an earlier sample's `cpu_stats`).
   */
  containerStatsOneShot(id: string): Promise<any> {
    return this.call({ method: 'GET', path: `/containers/${encodeURIComponent(id)}/stats`, query: { stream: false, 'one-shot': true }, statusCodes: S_CONTAINER_READ, timeoutMs: 15_000 });
  }

  /** `POST /containers/{id}/wait` -> `{StatusCode}` once the container exits (long: up to `timeoutMs`). */
  waitContainer(id: string, timeoutMs = 120_000): Promise<{ StatusCode: number; Error?: { Message?: string } | null }> {
    return this.call({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/wait`, statusCodes: S_CONTAINER_WAIT, timeoutMs });
  }

  // --- Networks -------------------------------------------------------------------------------
  /** `GET /networks` with `filters` (e.g. `{label: ['k=v']}`). */
  listNetworks(q: { filters?: Record<string, string[]> } = {}): Promise<any[]> {
    return this.call({ method: 'GET', path: '/networks', query: { filters: q.filters ? JSON.stringify(q.filters) : undefined }, statusCodes: S_READ });
  }
  /** `GET /networks/{id}` */
  inspectNetwork(id: string): Promise<any> {
    return this.call({ method: 'GET', path: `/networks/${encodeURIComponent(id)}`, statusCodes: S_NETWORK_READ });
  }
  /** `POST /networks/create` -> `{Id, Warning}` (`CheckDuplicate`: 409 for a name in use). */
  createNetwork(body: Record<string, unknown>): Promise<{ Id: string; Warning?: string }> {
    return this.call({ method: 'POST', path: '/networks/create', body: { CheckDuplicate: true, ...body }, statusCodes: S_NETWORK_CREATE });
  }
  /** `DELETE /networks/{id}` (403 while containers are attached). */
  removeNetwork(id: string): Promise<void> {
    return this.call({ method: 'DELETE', path: `/networks/${encodeURIComponent(id)}`, statusCodes: S_NETWORK_REMOVE });
  }

  /**
   * `GET /containers/{id}/logs?stdout=1&stderr=1&tail=&since=&until=&timestamps=&follow=` as the
   * raw stream: frames with an 8-byte header (stream, size) for a container without a TTY, the
   * raw output with one (`docker logs`; read it with core/logs.ts). With `follow` the stream
   * stays open until the container stops or the caller's signal aborts (24 h at most); without,
   * it ends after the lines asked for (2 min at most). `since`/`until` are `SECONDS.NANOS`.
   */
  containerLogs(id: string, q: { tail?: number; since?: string; until?: string; timestamps?: boolean; follow?: boolean }): Promise<ProgressStream> {
    return this.call({
      method: 'GET',
      path: `/containers/${encodeURIComponent(id)}/logs`,
      query: { stdout: true, stderr: true, tail: q.tail ?? 'all', since: q.since, until: q.until, timestamps: q.timestamps || undefined, follow: q.follow || undefined },
      statusCodes: S_CONTAINER_LOGS,
      stream: true,
      timeoutMs: q.follow ? 24 * 3600_000 : 120_000,
    });
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
      {
        method: 'POST',
        path: '/images/create',
        query: { fromImage: q.fromImage, tag: q.tag },
        headers: opts.auth ? { 'X-Registry-Auth': opts.auth } : undefined,
        timeoutMs: opts.timeoutMs ?? 3600_000,
      },
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
    throw new DomainError('engine_error', `Engine answered ${status} to ${c.method} ${c.path}: ${msg}`, { engineStatus: status });
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
        throw new DomainError('engine_timeout', `Engine did not finish GET /events within ${timeoutMs ?? this.endpoint.timeoutMs ?? 30_000} ms`);
      }
      throw new DomainError('engine_unavailable', `Engine unreachable while reading events (${(e as Error)?.message ?? e})`, { retryAfter: 5 });
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

/**
 * A deep copy of parsed JSON (objects, arrays, primitives): ~5x faster than `structuredClone`
 * for the Engine's answers. A `__proto__` key stays an own property, as `JSON.parse` made it.
 */
function copyJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyJson(v[i]);
    return a;
  }
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = copyJson((v as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
    else o[k] = x;
  }
  return o;
}

/** A streamed Engine answer (pull, push): chunks of JSON lines; `destroy()` aborts it. */
export type ProgressStream = AsyncIterable<Uint8Array | string> & { destroy?: (err?: Error) => void };

/** Status codes taken as answers by {@link Engine.progressCall}, which interprets them itself. */
const ANY_STATUS: StatusTable = Object.fromEntries([200, 201, 204, 400, 401, 403, 404, 409, 500, 502, 503].map((c) => [c, true]));

/** An image name or reference as a path segment sequence (`127.0.0.1:5000/a/b:1` keeps its slashes). */
function imagePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
