/**
 * Conformance: every route called on the real Engine through the typed client (client/index.ts),
 * every answer checked against the OpenAPI document (test/openapi-check.ts: a status, media
 * type or field the document does not describe fails), and every code of the README's error
 * table produced at least once. Solo mode on the machine's Engine (the node routes answer their
 * solo shapes); the swarm shapes are checked by the swarm lab's tests through the same schemas.
 *
 * Own facilities (setConfig): `demo` on the main Engine, `swarmy` configured as swarm (409
 * `wrong_mode` for solo-only routes, asked of no Engine), `down` (no Engine at its socket:
 * 503), `hang` (accepts, never answers: 504), `teapot` (answers 418 to everything: 502).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { parseConfig, setConfig } from '../core/config.ts';
import { resetFacilities } from '../core/facility.ts';
import { runUptimeJob } from '../core/uptime-job.ts';
import { Problem } from '../core/answers.ts';
import { buildApp } from '../wrangler-local/app.ts';
import { createSrcClient } from '../client/index.ts';
import { ADMIN_TOKEN, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { checkingFetch, DOC, SEEN, SEEN_CODES } from './openapi-check.ts';

const user = uniqueUser('oa');
const other = uniqueUser('ob');
const tagRepo = `src-test/oa${user.toLowerCase()}`;
const SOCKS = mkdtempSync(join(tmpdir(), 'src-openapi-'));
const sock = (n: string) => join(SOCKS, `${n}.sock`);
const images = { approved: ['docker.io/src-test/*'] };
const mainEngine = { host: 'unix:///var/run/docker.sock' };
setConfig(
  parseConfig(
    {
      facilities: {
        demo: { engine: mainEngine, mode: 'solo', publishHost: '127.0.0.1', images },
        swarmy: { engine: mainEngine, mode: 'swarm', images },
        down: { engine: { host: `unix://${sock('down')}`, timeoutMs: 10_000 }, mode: 'solo', images },
        hang: { engine: { host: `unix://${sock('hang')}`, timeoutMs: 300 }, mode: 'solo', images },
        teapot: { engine: { host: `unix://${sock('teapot')}`, timeoutMs: 10_000 }, mode: 'solo', images },
        // users without identity refused (403 no_identity); a mount source that does not exist (409 mount_source_missing)
        strictid: {
          engine: mainEngine,
          mode: 'solo',
          images,
          policy: { userMap: { [user]: '54321:54321' }, identity: { missing: 'refuse', cacheSeconds: 0 }, mounts: [{ source: `${SOCKS}/absent/{user}`, target: '/data' }] },
        },
      },
    },
    'test/openapi-conformance.test.ts',
  ),
);
resetFacilities();

const runner = buildApp({ log: false, rateLimit: 0 });
const limited = buildApp({ log: false, rateLimit: 1 });
const through = (a: { fetch: (r: Request) => Response | Promise<Response> }) => checkingFetch((req) => a.fetch(req));
/** The typed client on the in-process runner, every answer checked against the document. */
const api = createSrcClient('http://api.test', ADMIN_TOKEN, { fetch: through(runner) });
const anonymous = createSrcClient('http://api.test', null, { fetch: through(runner) });
const onBehalf = createSrcClient('http://api.test', ADMIN_TOKEN, { fetch: through(runner), headers: { 'X-On-Behalf-Of': user } });
const limitedApi = createSrcClient('http://api.test', ADMIN_TOKEN, { fetch: through(limited) });
const demo = { facility: 'demo' };

let hang: Server;
let teapot: HttpServer;
const held: Socket[] = [];

beforeAll(async () => {
  hang = createNetServer((s) => held.push(s.on('error', () => undefined)));
  teapot = createHttpServer((_req, res) => res.writeHead(418, { 'content-type': 'application/json' }).end('{"message":"I am a teapot"}'));
  await Promise.all([new Promise<void>((r) => hang.listen(sock('hang'), r)), new Promise<void>((r) => teapot.listen(sock('teapot'), r))]);
  await engine.call({ method: 'POST', path: `/images/${IMAGES.busybox}/tag`, query: { repo: tagRepo, tag: '1' }, statusCodes: { 201: true } });
});

afterAll(async () => {
  await removeUserApps(user, other);
  await engine.call({ method: 'DELETE', path: `/images/${tagRepo}:1`, query: { force: true }, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
  for (const s of held) s.destroy();
  await Promise.all([new Promise((r) => hang.close(r)), new Promise((r) => teapot.close(r))]);
  rmSync(SOCKS, { recursive: true, force: true });
});

/** The answer's status, failing the test on a transport error. */
const status = (r: { response: Response }) => r.response.status;

describe('every route on the real Engine, through the typed client, matches the OpenAPI document', () => {
  const busybox = `busybox--${user}`;
  const httpd = `httpd--${user}`;

  it('creates, reads and acts on apps', async () => {
    const created = await api.POST('/{facility}/create-app', { params: { path: demo, query: { image: IMAGES.busybox, user } } });
    expect(status(created)).toBe(201);
    expect(status(await api.POST('/{facility}/create-app', { params: { path: demo, query: { image: IMAGES.httpd, user, memory: '64m', cpus: '0.5', pids: '100' } } }))).toBe(201);
    expect(status(await api.POST('/{facility}/start-app', { params: { path: demo, query: { name: `${busybox},${httpd}` } } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-users', { params: { path: demo } }))).toBe(200);
    const names = await api.GET('/{facility}/get-app-names', { params: { path: demo, query: { user } } });
    expect(names.data).toEqual([busybox, httpd]);
    expect(status(await api.GET('/{facility}/get-app-status', { params: { path: demo, query: { name: busybox } } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-app-status', { params: { path: demo, query: { name: `${busybox},${httpd}` } } }))).toBe(200);
    expect(status(await onBehalf.GET('/{facility}/get-app-status', { params: { path: demo } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-app-stats', { params: { path: demo, query: { name: busybox } } }))).toBe(200);
    expect(status(await onBehalf.GET('/{facility}/get-app-stats', { params: { path: demo } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-app-info', { params: { path: demo, query: { name: httpd } } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-app-logs', { params: { path: demo, query: { name: busybox, tail: '5', timestamps: 'true' } } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-app-url', { params: { path: demo, query: { name: httpd } } }))).toBe(200);
    expect(status(await onBehalf.POST('/{facility}/open-app', { params: { path: demo, query: { name: httpd } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/pause-app', { params: { path: demo, query: { name: httpd } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/unpause-app', { params: { path: demo, query: { name: httpd } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/restart-app', { params: { path: demo, query: { name: httpd, timeout: '1' } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/stop-app', { params: { path: demo, query: { name: httpd, timeout: '1' } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/kill-app', { params: { path: demo, query: { name: busybox } } }))).toBe(200);
    expect(status(await api.POST('/{facility}/hard-reset-app', { params: { path: demo, query: { name: busybox } } }))).toBe(200);
    // a batch where one name fails: 207 with the failure in place
    expect(status(await api.POST('/{facility}/start-app', { params: { path: demo, query: { name: `${busybox},nothere--${user}` } } }))).toBe(207);
  });

  it('reads the uptime of an app (after one pass of the uptime job)', async () => {
    await runUptimeJob({ facilities: ['demo'] });
    const map = await api.GET('/{facility}/get-uptime-summary', { params: { path: demo, query: { name: busybox, duration: 'hour' } } });
    expect(status(map)).toBe(200);
    const detail = await api.GET('/{facility}/get-uptime-summary', { params: { path: demo, query: { name: busybox, duration: 'day', detail: 'true' } } });
    expect(status(detail)).toBe(200);
  });

  it('reads nodes (solo: the Engine host as the one node)', async () => {
    const names = await api.GET('/{facility}/get-node-names', { params: { path: demo } });
    expect(status(names)).toBe(200);
    const hostname = names.data![0];
    expect(status(await api.GET('/{facility}/get-node-status', { params: { path: demo } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-node-status', { params: { path: demo, query: { hostname } } }))).toBe(200);
    expect(status(await api.GET('/{facility}/get-node-info', { params: { path: demo, query: { hostname } } }))).toBe(200);
  });

  it('requests, denies, approves and lists images', async () => {
    const wanted = `127.0.0.1:5998/${user}/wanted:1`;
    expect(status(await anonymous.POST('/{facility}/request-image', { params: { path: demo, query: { image: wanted } } }))).toBe(202);
    expect(status(await api.POST('/{facility}/request-image', { params: { path: demo, query: { image: wanted } } }))).toBe(202);
    expect(status(await api.POST('/{facility}/deny-image', { params: { path: demo, query: { image: wanted, reason: 'not for this facility' } } }))).toBe(200);
    const approved = await api.POST('/{facility}/approve-image', { params: { path: demo, query: { image: `${tagRepo}:1` } } });
    expect([200, 202]).toContain(status(approved));
    const list = await api.GET('/{facility}/get-image-requests', { params: { path: demo, query: { state: 'denied,pulled,pulling', limit: '10', offset: '0' } } });
    expect(status(list)).toBe(200);
    expect(Number(list.response.headers.get('x-total-count'))).toBeGreaterThan(0);
    const one = await api.GET('/{facility}/get-image-requests', { params: { path: demo, query: { image: wanted } } });
    expect(one.data?.[0]).toHaveProperty('history');
    expect(status(await api.GET('/{facility}/get-images', { params: { path: demo } }))).toBe(200);
  });

  it('reads the audit log', async () => {
    const r = await api.GET('/{facility}/get-audit-log', { params: { path: demo, query: { route: 'start-app', user, failed: 'false', limit: '5', since: '2020-01-01T00:00:00Z' } } });
    expect(status(r)).toBe(200);
    expect(r.data!.length).toBeGreaterThan(0);
  });

  it('deletes apps', async () => {
    expect(status(await api.POST('/{facility}/delete-app', { params: { path: demo, query: { name: `${busybox},${httpd}` } } }))).toBe(200);
  });
});

describe("every code of the README's error table, as documented", () => {
  const code = async (p: Promise<{ error?: unknown; response: Response }>, expected: string, st?: number) => {
    const r = await p;
    expect((r.error as { code?: string })?.code, JSON.stringify(r.error)).toBe(expected);
    if (st) expect(r.response.status).toBe(st);
  };
  const paused = `busybox--${other}`;

  beforeAll(async () => {
    await api.POST('/{facility}/create-app', { params: { path: demo, query: { image: IMAGES.busybox, user: other } } });
    await api.POST('/{facility}/start-app', { params: { path: demo, query: { name: paused } } });
    await api.POST('/{facility}/pause-app', { params: { path: demo, query: { name: paused } } });
  });

  it('400, 401, 403, 404, 405, 409', async () => {
    await code(api.POST('/{facility}/create-app', { params: { path: demo, query: { image: IMAGES.busybox, user: 'a--b' } } }), 'invalid_parameter', 400);
    await code(anonymous.GET('/{facility}/get-app-names', { params: { path: demo } }), 'unauthorized', 401);
    await code(onBehalf.GET('/{facility}/get-users', { params: { path: demo } }), 'forbidden', 403);
    await code(api.POST('/{facility}/create-app', { params: { path: demo, query: { image: 'busybox:latest', user } } }), 'image_not_approved', 403);
    await code(api.GET('/{facility}/get-users', { params: { path: { facility: 'nowhere' } } }), 'unknown_facility', 404);
    await code(api.GET('/{facility}/get-app-info', { params: { path: demo, query: { name: `ghost--${user}` } } }), 'app_not_found', 404);
    await code(api.POST('/{facility}/create-app', { params: { path: demo, query: { image: `src-test/absent-${user.toLowerCase()}:1`, user } } }), 'image_not_found', 404);
    await code(api.GET('/{facility}/get-node-info', { params: { path: demo, query: { hostname: 'no-such-node.invalid' } } }), 'node_not_found', 404);
    await code(api.POST('/{facility}/create-app', { params: { path: demo, query: { image: IMAGES.busybox, user: other } } }), 'app_exists', 409);
    await code(api.POST('/{facility}/start-app', { params: { path: demo, query: { name: paused } } }), 'state_conflict', 409);
    await code(api.POST('/{facility}/start-app', { params: { path: { facility: 'swarmy' }, query: { name: paused } } }), 'wrong_mode', 409);
    await code(api.POST('/{facility}/start-app', { params: { path: demo, query: { name: `${paused},ghost--${other}` } } }), 'batch_failed', 409);
    await code(api.POST('/{facility}/create-app', { params: { path: { facility: 'strictid' }, query: { image: IMAGES.busybox, user: other } } }), 'no_identity', 403);
    await code(api.POST('/{facility}/create-app', { params: { path: { facility: 'strictid' }, query: { image: IMAGES.busybox, user } } }), 'mount_source_missing', 409);
    // a wrong method is refused with the method the route takes (raw fetch: the typed client cannot send it)
    // (the document has no GET on a POST route, so it is checked against the Problem schema)
    const wrong = await runner.fetch(new Request('http://api.test/demo/start-app?name=x--y', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const wb = await wrong.json();
    expect(v.is(Problem, wb) && wb.code).toBe('method_not_allowed');
    SEEN_CODES.add(wb.code);
    // no route: the 404 problem (not an operation of the document, so checked against its Problem schema)
    const none = await runner.fetch(new Request('http://api.test/demo/no-such-route'));
    expect(none.status).toBe(404);
    const body = await none.json();
    expect(v.is(Problem, body) && body.code).toBe('unknown_route');
    SEEN_CODES.add(body.code);
  });

  it('413, 414, 429', async () => {
    const big = await through(runner)(new Request('http://api.test/demo/start-app?name=x--y', { method: 'POST', body: 'x'.repeat(70_000), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(big.status).toBe(413);
    await code(api.GET('/{facility}/get-app-names', { params: { path: demo, query: { user: 'u'.repeat(9000) } } }), 'payload_too_large', 414);
    expect(status(await limitedApi.GET('/{facility}/get-node-names', { params: { path: demo } }))).toBe(200);
    await code(limitedApi.GET('/{facility}/get-node-names', { params: { path: demo } }), 'rate_limited', 429);
  });

  it('499, 502, 503, 504', async () => {
    await code(api.GET('/{facility}/get-app-names', { params: { path: { facility: 'teapot' } } }), 'engine_error', 502);
    await code(api.GET('/{facility}/get-app-names', { params: { path: { facility: 'down' } } }), 'engine_unavailable', 503);
    await code(api.GET('/{facility}/get-app-names', { params: { path: { facility: 'hang' } } }), 'engine_timeout', 504);
    // a client that hangs up: the Engine reads end, answered 499 (nobody reads it but the log)
    const ac = new AbortController();
    const gone = runner.fetch(new Request('http://api.test/hang/get-app-names', { signal: ac.signal, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    ac.abort();
    const closed = await gone;
    expect(closed.status).toBe(499);
    const cb = await closed.json();
    expect(v.is(Problem, cb) && cb.code).toBe('client_closed');
    SEEN_CODES.add(cb.code);
  });

  it('covered every route and every code of the README table', async () => {
    for (const [path, item] of Object.entries<any>(DOC.paths)) {
      if (!path.startsWith('/{facility}/')) continue;
      const method = Object.keys(item)[0];
      expect(
        [...SEEN].some((k) => k.startsWith(`${method} ${path} 2`)),
        `${method} ${path}: no 2xx answer seen`,
      ).toBe(true);
    }
    const readme = (await import('node:fs')).readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('### Errors'), readme.indexOf('## Naming'));
    const codes = [...table.matchAll(/^\|[^|]*\| (.+?) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]));
    expect(codes.length).toBeGreaterThan(15);
    // store_unavailable: test/openapi-store.test.ts (a process whose database was never reachable);
    // app_unreachable: answered by the app gateway on an app's own host, never by an API route
    expect(codes.filter((c) => !SEEN_CODES.has(c) && c !== 'store_unavailable' && c !== 'app_unreachable')).toEqual([]);
  });
});
