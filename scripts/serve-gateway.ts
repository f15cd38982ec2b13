/**
 * The app gateway as a process of its own (`npm run build` bundles it to dist/serve-gateway.mjs):
 * the runner's embedded gateway (wrangler-local/gateway.ts) on its own port, for deployments
 * behind nginx. nginx sends it the WebSocket upgrades of app hosts (scripts/nginx/gateway.ts):
 * it authorizes them as the runner does (ticket cookie, token live, app running), proxies them,
 * and re-checks every open WebSocket every 2 s, closing it (1008) when its token is revoked or its
 * app is gone: what nginx cannot do, since `auth_request` runs once per request. It answers plain
 * HTTP requests to app hosts too, so it can also stand alone in front of apps.
 *
 *   HOST=127.0.0.1 PORT=9201 SRC_DB_URL=http://127.0.0.1:8081 SRC_CONFIG=/etc/src-api/facilities.json \
 *     SRC_GATEWAY_URL='https://*.apps.example.org/' node dist/serve-gateway.mjs
 *
 * It checks its database first: without SRC_DB_URL, or with one that does not answer, it prints
 * one line and exits 2. It prints `listening on http://HOST:PORT/ (gateway)` once it accepts
 * connections; `/healthz` answers 200. SIGTERM/SIGINT close it (open WebSockets are cut).
 * Node only (the proxy is node:http).
 * @module
 */
import { createServer } from 'node:http';
import { loadConfig } from '../core/config.ts';
import { checkDatabase } from '../core/store.ts';
import { createGateway } from '../wrangler-local/gateway.ts';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 9201);

let gateway: ReturnType<typeof createGateway>;
try {
  gateway = createGateway(loadConfig().gateway);
  await checkDatabase(true);
} catch (e) {
  console.error(`gateway: not starting: ${(e as Error)?.message ?? e}`);
  process.exit(2);
}

const server = createServer((req, res) => {
  if (req.url === '/healthz' && !gateway.handles(req)) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (gateway.handles(req)) return gateway.web(req, res);
  res
    .writeHead(421, { 'content-type': 'application/problem+json' })
    .end(JSON.stringify({ type: 'about:blank', title: 'Misdirected Request', status: 421, detail: `Not an app host of this gateway: ${req.headers.host ?? '(none)'}` }));
});
server.on('upgrade', (req, socket, head) => {
  if (gateway.handles(req)) return gateway.upgrade(req, socket, head);
  socket.end('HTTP/1.1 421 Misdirected Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
});
server.listen(port, host, () => {
  const a = server.address();
  console.log(`listening on http://${host}:${typeof a === 'object' && a ? a.port : port}/ (gateway)`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    gateway.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
