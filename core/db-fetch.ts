/**
 * The `fetch` the libSQL client speaks to a libSQL server with (`SRC_DB_URL=http://…`): on Node,
 * one request on `node:http`/`node:https` with a keep-alive agent; on Deno, the global `fetch`.
 * Both ask for uncompressed answers.
 *
 * Why not Node's global `fetch` (undici): on this project's machine it cost ~0.6 ms more per
 * query than `node:http` (a sqld query after 20 ms idle: 3.6 -> 3.0 ms median of 101, the raw
 * pipeline request on `node:http` 2.1 ms), on every read that touches the database. Why
 * uncompressed: undici and Deno ask for gzip or br by default, sqld then compresses every answer,
 * and inflating one cost another ~0.8 ms. Answers are small next to a LAN's bandwidth (the
 * largest, a month of uptime samples, is ~1.2 MiB).
 *
 * @example
 * createClient({ url: 'http://127.0.0.1:8081', fetch: databaseFetch });
 *
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** How long a request may wait for the server's next bytes before it fails (ms). */
export const DATABASE_SOCKET_TIMEOUT_MS = 60_000;

let agents: { http: HttpAgent; https: HttpsAgent } | undefined;

/**
 * A web-standard `fetch` for @libsql/client's `fetch` option.
 * @param input what @libsql/hrana-client passes: a `Request`, or a URL with `init`
 * @returns the server's answer as a `Response`, its body read in full
 * @throws (rejects) the transport's Error: `ECONNREFUSED`, `ECONNRESET`, or `ETIMEDOUT` after
 *   {@link DATABASE_SOCKET_TIMEOUT_MS} of silence; store.ts `isStoreUnavailable` reads them
 */
export function databaseFetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
  const req = input instanceof Request ? input : new Request(input, init);
  req.headers.set('accept-encoding', 'identity');
  if ('Deno' in globalThis) return fetch(req);
  return req.arrayBuffer().then((body) => send(req, new Uint8Array(body)));
}

function send(req: Request, body: Uint8Array): Promise<Response> {
  const url = new URL(req.url);
  const tls = url.protocol === 'https:';
  const agent = (agents ??= { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) });
  const headers: Record<string, string> = {};
  req.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (body.byteLength) headers['content-length'] = String(body.byteLength);
  const options = { method: req.method, hostname: url.hostname, port: url.port || undefined, path: url.pathname + url.search, headers, timeout: DATABASE_SOCKET_TIMEOUT_MS };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        // a null-body status (204, 304) cannot carry a body in a Response
        const bytes = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(bytes, { status, statusText: res.statusMessage, headers: out }));
      });
    };
    const r = tls ? httpsRequest({ ...options, agent: agent.https }, onResponse) : httpRequest({ ...options, agent: agent.http }, onResponse);
    r.on('timeout', () => r.destroy(Object.assign(new Error(`The database server at ${url.host} sent nothing for ${DATABASE_SOCKET_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    r.end(body.byteLength ? body : undefined);
  });
}
