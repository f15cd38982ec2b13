/**
 * The embedded app gateway of the local runner (`npm start`): requests whose host is an app's
 * (`<label>.apps.localhost:8080` by default; in path mode the gateway's host) are decided by
 * core/gateway/gate.ts and then forwarded to the app, HTTP and WebSocket, streamed both ways
 * (http-proxy: no buffering; upstream connections kept alive). The gateway cookie is taken out
 * of the request the app sees. Solo apps are reached at their address, swarm apps through their
 * connector's Unix socket (node:http `socketPath`).
 *
 * Open WebSockets are checked again every {@link SWEEP_MS}: when the token that opened the app
 * is revoked, or the app is gone or stopped, they get a close frame (1008) and are cut, within
 * about 3 s (the check's cache is 1 s).
 *
 * Node only (the production gateway is nginx with the `authorize-app` function).
 * @module
 */
import httpProxy from 'http-proxy';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { loadConfig } from '../core/config.ts';
import { DomainError } from '../core/errors.ts';
import { cookieName, decide, refusal, stripGatewayCookie } from '../core/gateway/gate.ts';
import { checkAccess } from '../core/gateway/access.ts';
import { isGatewayHost } from '../core/gateway/url.ts';
import type { GatewaySettings } from '../core/gateway/settings.ts';
import type { Upstream } from '../core/gateway/upstream.ts';

/** How long connecting to an app may take before the gateway answers 502 `app_unreachable` (ms). */
export const CONNECT_TIMEOUT_MS = 5000;

/** How often open WebSockets are checked again (ms). */
export const SWEEP_MS = 2000;

/** The runner's gateway: which requests it takes, and its handlers for them. */
export interface EmbeddedGateway {
  settings: GatewaySettings;
  /** Whether the request is for an app (by its Host header). */
  handles(req: IncomingMessage): boolean;
  web(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open WebSocket connections. */
  openSockets(): number;
  close(): void;
}

interface Tunnel {
  client: Duplex;
  upstream?: Duplex;
}

function requestUrl(s: GatewaySettings, req: IncomingMessage): URL {
  return new URL(`${s.scheme}://${req.headers.host ?? 'invalid'}${req.url ?? '/'}`);
}

function requestHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const k of ['host', 'cookie', 'accept', 'origin', 'sec-fetch-site', 'upgrade'] as const) {
    const v = req.headers[k];
    if (typeof v === 'string') h.set(k, v);
  }
  return h;
}

async function writeResponse(res: ServerResponse, r: Response): Promise<void> {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    headers[k] = v;
  });
  res.writeHead(r.status, headers);
  res.end(r.body ? Buffer.from(await r.arrayBuffer()) : undefined);
}

async function writeRaw(socket: Duplex, r: Response): Promise<void> {
  const body = r.body ? Buffer.from(await r.arrayBuffer()) : Buffer.alloc(0);
  let head = `HTTP/1.1 ${r.status} ${r.statusText || 'Refused'}\r\n`;
  r.headers.forEach((v, k) => {
    head += `${k}: ${v}\r\n`;
  });
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/** Headers of one connection, never forwarded (RFC 9110 7.6.1); Node frames the body itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A WebSocket close frame (server to client, unmasked): 1008 policy violation. */
const CLOSE_1008 = Buffer.from([0x88, 0x02, 0x03, 0xf0]);

/** Creates the runner's gateway. */
export function createGateway(settings: GatewaySettings = loadConfig().gateway): EmbeddedGateway {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ xfwd: false });
  const cookie = cookieName(settings);
  const tunnels = new Map<string, { grant: { tokenId: string; facility: string; app: string; onBehalfOf?: string }; set: Set<Tunnel> }>();

  const proxyError = (err: Error, _req: IncomingMessage, target: ServerResponse | Duplex | undefined) => {
    const e = new DomainError('app_unreachable', `The app did not answer (${(err as NodeJS.ErrnoException).code ?? err.message})`, {}, { cause: err });
    if (target && 'writeHead' in target) {
      const res = target as ServerResponse;
      if (!res.headersSent) void writeResponse(res, refusal(e, (_req as IncomingMessage).headers.accept ?? null));
      else res.destroy();
    } else (target as Duplex | undefined)?.destroy();
  };
  proxy.on('error', (err, req, target) => proxyError(err, req as IncomingMessage, target as ServerResponse | Duplex | undefined));

  /** Takes the gateway's cookie out of the request the app sees. */
  const dropGatewayCookie = (req: IncomingMessage) => {
    const c = stripGatewayCookie(req.headers.cookie, cookie);
    if (c === undefined) delete req.headers.cookie;
    else req.headers.cookie = c;
  };

  /** Sets X-Forwarded-For (the client appended), -Proto and -Host (the gateway's, never the client's) in `headers`. */
  const forwardedHeaders = (req: IncomingMessage, headers: IncomingMessage['headers']) => {
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = settings.scheme;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    delete headers['x-forwarded-port'];
  };

  /** Streams one HTTP exchange to the app and back (no buffering; X-Forwarded-* added). */
  const forward = (req: IncomingMessage, res: ServerResponse, up: Upstream, path: string) => {
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    forwardedHeaders(req, headers);
    // swarm apps: the connector's Unix socket (core/gateway/connector.ts); solo: the app's address
    const where = up.socketPath ? { socketPath: up.socketPath } : { host: up.host, port: up.port };
    const out = request({ ...where, method: req.method, path, headers, agent }, (answer) => {
      const raw: string[] = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase())) raw.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, raw);
      answer.pipe(res);
    });
    out.on('error', (err) => proxyError(err, req, res));
    // an app that vanished leaves an address nobody answers: give up connecting after a while
    out.on('socket', (sock) => {
      if (!sock.connecting) return;
      const timer = setTimeout(() => out.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
      sock.once('connect', () => clearTimeout(timer));
      sock.once('close', () => clearTimeout(timer));
    });
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  // the upstream socket of each tunnel, to cut both sides on revocation
  const tunnelOf = new WeakMap<IncomingMessage, Tunnel>();
  proxy.on('proxyReqWs', (proxyReq, req) => {
    proxyReq.on('upgrade', (_res, upstream) => {
      const t = tunnelOf.get(req);
      if (t) t.upstream = upstream;
    });
  });

  const sweep = setInterval(() => {
    for (const [key, entry] of tunnels) {
      const g = entry.grant;
      checkAccess(g.tokenId, g.facility, g.app, g.onBehalfOf).catch(() => {
        for (const t of entry.set) {
          t.upstream?.destroy();
          if (t.client.writable) t.client.end(CLOSE_1008);
          setTimeout(() => t.client.destroy(), 500).unref();
        }
        tunnels.delete(key);
      });
    }
  }, SWEEP_MS);
  sweep.unref();

  return {
    settings,
    handles: (req) => isGatewayHost(settings, req.headers.host),
    web(req, res) {
      decide(requestUrl(settings, req), requestHeaders(req), settings, req.method).then(
        (d) => {
          if (!d.ok) return writeResponse(res, d.response);
          dropGatewayCookie(req);
          forward(req, res, d.upstream, d.path);
        },
        (e) => writeResponse(res, refusal(e, req.headers.accept ?? null)),
      );
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      decide(requestUrl(settings, req), requestHeaders(req), settings, req.method).then(
        (d) => {
          if (!d.ok) return writeRaw(socket, d.response);
          dropGatewayCookie(req);
          const g = d.grant;
          const key = `${g.tokenId}\0${g.facility}\0${g.app}\0${g.onBehalfOf ?? ''}`;
          let entry = tunnels.get(key);
          if (!entry) tunnels.set(key, (entry = { grant: g, set: new Set() }));
          const tunnel: Tunnel = { client: socket };
          entry.set.add(tunnel);
          socket.on('close', () => {
            tunnel.upstream?.destroy();
            const e = tunnels.get(key);
            e?.set.delete(tunnel);
            if (e && e.set.size === 0) tunnels.delete(key);
          });
          tunnelOf.set(req, tunnel);
          req.url = d.path;
          forwardedHeaders(req, req.headers); // as for plain requests (http-proxy's xfwd would keep a client's X-Forwarded-Host)
          const u = d.upstream;
          proxy.ws(req, socket, head, { xfwd: false, target: u.socketPath ? { host: u.host, port: u.port, socketPath: u.socketPath } : { host: u.host, port: u.port } });
        },
        (e) => writeRaw(socket, refusal(e, null)),
      );
    },
    openSockets: () => [...tunnels.values()].reduce((n, e) => n + e.set.size, 0),
    close() {
      clearInterval(sweep);
      for (const e of tunnels.values()) for (const t of e.set) t.client.destroy();
      tunnels.clear();
      proxy.close();
      agent.destroy();
    },
  };
}
