/**
 * The runner's HTTP server: the API app (wrangler-local/app.ts) and the embedded app gateway
 * (wrangler-local/gateway.ts) on one port, told apart by the Host header; WebSocket upgrades
 * go to the gateway only. `npm start` and the browser tests start it.
 * @module
 */
import { getRequestListener } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Hono } from 'hono';
import { DomainError } from '../core/errors.ts';
import { problemBody } from '../core/http.ts';
import { MAX_HEADER_BYTES } from './app.ts';
import { createGateway, type EmbeddedGateway } from './gateway.ts';

/** A started runner server. */
export interface RunnerServer {
  server: Server;
  gateway: EmbeddedGateway;
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

/** Starts the API `app` and the gateway on `host:port` (0: any free port). */
export async function startServer(app: Hono, host: string, port: number, gateway: EmbeddedGateway = createGateway()): Promise<RunnerServer> {
  const api = getRequestListener(app.fetch);
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => (gateway.handles(req) ? gateway.web(req, res) : void api(req, res)));
  server.on('upgrade', (req, socket, head) => {
    if (gateway.handles(req)) return gateway.upgrade(req, socket, head);
    const body = JSON.stringify(problemBody(new DomainError('unknown_route', 'The API takes no WebSocket connections; apps do, on their own host')));
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  // Requests Node refuses before they reach the app (oversized headers, bad HTTP) get JSON too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const problem =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? problemBody(new DomainError('payload_too_large', `Request headers larger than ${MAX_HEADER_BYTES / 1024} KiB`), 431)
        : problemBody(new DomainError('invalid_parameter', 'Malformed HTTP request'));
    const body = JSON.stringify(problem);
    socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    gateway,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        gateway.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
