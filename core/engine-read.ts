/**
 * Plain Engine reads on `node:http`: a GET with no body, no extra headers and no stream, over a
 * Unix socket or plain TCP, answered with parsed JSON. This is what docker-modem's `dial` does for
 * such a call, without its per-call costs: it formats every request's options with
 * `util.inspect` for its debug log even when that log is off, and it adds an abort listener to
 * the response. Those cost ~0.2-0.4 ms a call on this project's machine, about a fifth of a
 * filtered container list. core/engine.ts sends every other call (writes, streams, TLS, SSH)
 * through docker-modem. The answers and errors are the same as docker-modem's, so
 * `translateError` (core/engine-errors.ts) reads both alike.
 *
 * @example
 * const list = await plainRead({ socketPath: '/var/run/docker.sock' }, '/v1.41/containers/json', { all: true }, S_READ, { timeoutMs: 30_000 });
 *
 * @module
 */
import { request, type Agent } from 'node:http';
import { stringify } from 'node:querystring';
import { StringDecoder } from 'node:string_decoder';
import type { CallFailure, StatusTable } from './engine-errors.ts';

/** Where plain reads go: a Unix socket, or a host and port without TLS; the connection's agent. */
export interface PlainTarget {
  socketPath?: string;
  host?: string;
  port?: string | number;
  agent?: Agent;
}

/**
 * The target for plain reads from docker-modem's connection options (core/engine-connection.ts
 * `modemOptions`), or undefined where docker-modem must do them (TLS, SSH).
 */
export function plainTarget(modemOpts: Record<string, unknown>): PlainTarget | undefined {
  const agent = modemOpts.agent as Agent | undefined;
  if (typeof modemOpts.socketPath === 'string') return { socketPath: modemOpts.socketPath, agent };
  if (modemOpts.protocol === 'http' && typeof modemOpts.host === 'string') return { host: modemOpts.host, port: modemOpts.port as string, agent };
  return undefined;
}

/** The query string as docker-modem writes it: objects (not arrays) as JSON, the rest as they are. */
export function engineQuery(query: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = v && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v;
  return stringify(out as Record<string, string>);
}

/**
 * One `GET path?query`. Resolves with the parsed JSON body (the raw bytes when it is not JSON, as
 * docker-modem) for a status `statusCodes` marks `true`.
 * @param opts.timeoutMs the whole call's limit; `opts.signal` the caller's cancellation
 * @throws (through `onError`, which turns it into the thrown error) docker-modem's shapes: an Error
 *   with `statusCode`, `reason` and `json` for other statuses; the transport's error otherwise
 */
export function plainRead(
  target: PlainTarget,
  path: string,
  query: Record<string, unknown>,
  statusCodes: StatusTable,
  opts: { timeoutMs: number; signal?: AbortSignal },
  onError: (err: unknown, how: CallFailure) => Error,
): Promise<unknown> {
  const qs = engineQuery(query);
  const signal = opts.signal;
  return new Promise((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    const settle = (err: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(value);
      else reject(onError(err, { timedOut, clientLeft: !!signal?.aborted }));
    };
    const req = request({ socketPath: target.socketPath, host: target.host, port: target.port, agent: target.agent, method: 'GET', path: qs ? `${path}?${qs}` : path }, (res) => {
      // The answer is decoded chunk by chunk and joined lazily (a rope that JSON.parse flattens
      // once): no Buffer.concat copy of it first. A 500-container list is ~800 KB; its one large
      // copy cost ~2 ms a read here, mostly page faults on the fresh memory.
      const decoder = new StringDecoder('utf8');
      const chunks: Buffer[] = [];
      let text = '';
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        text += decoder.write(chunk);
      });
      res.on('error', (e) => settle(e));
      res.on('close', () => {
        if (!res.complete) settle(new Error('The Engine closed the connection before its answer was complete'));
      });
      res.on('end', () => {
        text += decoder.end();
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the bytes, as docker-modem answers them
        }
        body ??= chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (statusCodes[status] === true) return settle(undefined, body);
        const reason = statusCodes[status];
        const message = body && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : String(body);
        settle(Object.assign(new Error(`(HTTP code ${status}) ${reason || 'unexpected'} - ${message} `), { statusCode: status, reason, json: body }));
      });
    });
    const onAbort = () => req.destroy(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(Object.assign(new Error('The operation timed out'), { name: 'TimeoutError' }));
    }, opts.timeoutMs);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => settle(e));
    req.end();
  });
}
