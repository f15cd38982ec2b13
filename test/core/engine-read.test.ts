/**
 * Plain Engine reads on node:http (core/engine-read.ts) against a stand-in Engine on a Unix
 * socket of the test's own, answering recorded Engine responses: the same answers and errors as
 * docker-modem gives for the same calls (its query string, parsed JSON or raw bytes, documented
 * statuses as EngineError, undocumented ones, timeouts, a caller who leaves, a cut answer).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Modem from 'docker-modem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineQuery, plainRead, plainTarget } from '../../core/engine-read.ts';
import { EngineError, S_CONTAINER_READ, S_READ, translateError } from '../../core/engine-errors.ts';
import { DomainError } from '../../core/errors.ts';
import { Engine } from '../../core/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'src-engine-read-'));
const socketPath = join(dir, 'engine.sock');
let server: Server;
const seen: string[] = [];

// recorded from Engine 20.10 (API 1.41)
const LIST = [{ Id: 'a1', Names: ['/httpd--alice'], Labels: { 'io.src-container-api.app': 'httpd--alice' }, State: 'running' }];
const NOT_FOUND = { message: 'No such container: nope' };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://engine');
    if (url.pathname === '/version') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12' }));
    if (url.pathname === '/v1.41/containers/json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(LIST)}\n`);
    if (url.pathname === '/v1.41/containers/nope/json') return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(NOT_FOUND));
    if (url.pathname === '/v1.41/_ping') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    if (url.pathname === '/v1.41/info') return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'daemon broke' }));
    if (url.pathname === '/v1.41/split') {
      // a multi-byte character cut between two chunks, and a non-UTF-8 body
      const bytes = Buffer.from(JSON.stringify([{ Command: 'sh -c ‘sleep’ …', Labels: { ü: '🐳' } }]));
      const cut = bytes.indexOf(Buffer.from('…')) + 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 10);
      return;
    }
    if (url.pathname === '/v1.41/binary') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    if (url.pathname === '/v1.41/slow') return; // never answers
    if (url.pathname === '/v1.41/cut') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('[{"Id":');
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const target = { socketPath };
const call = (path: string, statusCodes = S_READ) => ({ method: 'GET', path, statusCodes });
const read = (path: string, query: Record<string, unknown> = {}, opts: { timeoutMs?: number; signal?: AbortSignal; statusCodes?: typeof S_READ } = {}) =>
  plainRead(target, `/v1.41${path}`, query, opts.statusCodes ?? S_READ, { timeoutMs: opts.timeoutMs ?? 5000, signal: opts.signal }, (err, how) =>
    translateError(err, how, opts.timeoutMs ?? 5000, call(path, opts.statusCodes)),
  );
const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

describe('plain Engine reads', () => {
  it('writes the query string as docker-modem does', () => {
    const modem = new Modem({ socketPath }) as unknown as { buildQuerystring(q: Record<string, unknown>): string };
    const q = { all: true, size: false, limit: 5, filters: JSON.stringify({ label: ['a=b c'] }), obj: { x: [1, 'é'] }, list: ['p', 'q'] };
    expect(engineQuery(q)).toBe(modem.buildQuerystring(q));
    expect(engineQuery({ a: undefined, b: 1 })).toBe('b=1');
  });

  it('answers parsed JSON, and a body that is not JSON as its bytes', async () => {
    expect(await read('/containers/json', { all: true, filters: '{"label":["x"]}' })).toEqual(LIST);
    expect(seen.at(-1)).toBe('/v1.41/containers/json?all=true&filters=%7B%22label%22%3A%5B%22x%22%5D%7D');
    const ping = await read('/_ping');
    expect(Buffer.isBuffer(ping) && ping.toString()).toBe('OK');
  });

  it('decodes a character cut between two chunks; a body that is not UTF-8 JSON comes back byte for byte', async () => {
    expect(await read('/split')).toEqual([{ Command: 'sh -c ‘sleep’ …', Labels: { ü: '🐳' } }]);
    const bin = await read('/binary');
    expect(Buffer.isBuffer(bin) && [...bin]).toEqual([0xff, 0xfe, 0x00, 0x41]);
  });

  it('a documented status is an EngineError with the Engine message; an undocumented one is engine_error', async () => {
    const e = await caught(read('/containers/nope/json', {}, { statusCodes: S_CONTAINER_READ }));
    expect(e).toBeInstanceOf(EngineError);
    expect(e).toMatchObject({ statusCode: 404, engineMessage: NOT_FOUND.message });
    const broke = await caught(read('/info'));
    expect(broke).toBeInstanceOf(DomainError);
    expect(broke).toMatchObject({ code: 'engine_error' });
    expect((broke as Error).message).toContain('daemon broke');
  });

  it('times out as engine_timeout and a caller who leaves gets client_closed', async () => {
    expect(await caught(read('/slow', {}, { timeoutMs: 50 }))).toMatchObject({ code: 'engine_timeout' });
    const gone = new AbortController();
    const pending = caught(read('/slow', {}, { signal: gone.signal }));
    setTimeout(() => gone.abort(), 20);
    expect(await pending).toMatchObject({ code: 'client_closed' });
    const before = new AbortController();
    before.abort();
    expect(await caught(read('/slow', {}, { signal: before.signal }))).toMatchObject({ code: 'client_closed' });
  });

  it('an answer cut short is engine_unavailable; a socket nobody listens on too', async () => {
    expect(await caught(read('/cut'))).toMatchObject({ code: 'engine_unavailable' });
    const none = plainRead({ socketPath: join(dir, 'none.sock') }, '/version', {}, S_READ, { timeoutMs: 1000 }, (err, how) => translateError(err, how, 1000, call('/version')));
    expect(await caught(none)).toMatchObject({ code: 'engine_unavailable' });
  });

  it('is used for plain reads over a Unix socket or plain TCP, not over TLS or SSH', async () => {
    expect(plainTarget({ socketPath })).toEqual({ socketPath, agent: undefined });
    expect(plainTarget({ host: 'h', port: '2375', protocol: 'http' })).toMatchObject({ host: 'h', port: '2375' });
    expect(plainTarget({ host: 'h', port: '2376', protocol: 'https' })).toBeUndefined();
    expect(plainTarget({ host: 'h', port: '22', protocol: 'ssh' })).toBeUndefined();
    // the Engine client sends its reads there, versioned after negotiation
    const engine = new Engine({ host: `unix://${socketPath}` });
    expect(await engine.listContainers({ all: true })).toEqual(LIST);
    expect(seen.at(-1)).toBe('/v1.41/containers/json?all=true');
  });
});
