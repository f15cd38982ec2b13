/**
 * The deployment end to end: the bundles from `npm run build`, copied away from node_modules,
 * each function in its own process (some on Node through dist/serve-function.mjs, some with
 * `deno serve` and the narrowest permissions), two replicas of several routes, sqld as the
 * shared database, nginx (Debian's) in front with the config of scripts/gen-nginx.ts.
 *
 * Checks: a smoke run of every route through nginx on the real Engine; state shared between
 * replicas (tokens, audit log, uptime history); the runner's 404 for unknown routes;
 * problem+json for oversized requests; per-route rate limits; replica failover.
 * `E2E_RUNTIME=deno` (or `node`) runs every function on that one runtime instead.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import type { BuiltFunction } from '../../scripts/build.ts';
import { ADMIN_TOKEN, call, engine, IMAGES, uniqueUser, type Answer, type CallInit } from '../helpers.ts';
import { TOKEN_CACHE_MS } from '../../core/auth.ts';
import { buildForTest, httpCall, tokenCli, useTeardown } from './support.ts';

const user = uniqueUser('px');
const app = `busybox--${user}`;
/** A well-formed but unknown token: its own rate-limit budget at the proxy. */
const RATE_TOKEN = 'src_ratelimit001_' + 'r'.repeat(43);

let d: LocalDeployment;
let built: BuiltFunction[];
let dist: string;
/** Routes the smoke run reached (answered by their function). */
const reached = new Set<string>();

/** Calls through nginx and records which route answered. */
async function px(method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const r = await httpCall(d.url, method, path, init);
  const route = /^\/[^/]+\/([^/?]+)/.exec(path)?.[1];
  if (route && r.body?.code !== 'unknown_route' && r.status !== 502 && r.status !== 504) reached.add(route);
  return r;
}

beforeAll(async () => {
  ({ dist, functions: built } = await buildForTest());
  const routes = built.filter((f) => f.route).map((f) => f.name);
  // Mixed runtimes; several routes with two replicas (one of them mixing Node and Deno).
  const plan: Record<string, ('node' | 'deno')[]> = { outline: ['node'], openapi: ['deno'] };
  for (const r of routes) plan[r] = ['node'];
  Object.assign(plan, {
    'start-app': ['deno'],
    'stop-app': ['deno'],
    'get-app-status': ['deno'],
    'get-users': ['node', 'node'],
    'get-app-names': ['node', 'deno'],
    'get-audit-log': ['deno', 'node'],
    ...(routes.includes('get-uptime-summary') ? { 'get-uptime-summary': ['node', 'deno'] } : {}),
  });
  // E2E_RUNTIME=deno (or node) runs every function process on that runtime instead of the mix.
  const only = process.env.E2E_RUNTIME;
  if (only === 'deno' || only === 'node') for (const k of Object.keys(plan)) plan[k] = plan[k].map(() => only);
  d = await startLocalDeployment({
    dist,
    functions: plan,
    env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN },
    proxy: { rateLimit: { rate: '600r/m', burst: 100, routes: { 'get-node-names': { rate: '30r/m', burst: 4 } } } },
  });
}, 240_000);

useTeardown(user, () => ({ d, dist }));

describe('the bundles', () => {
  it('are one per function and run with no node_modules anywhere above them', () => {
    expect(built.map((f) => f.name)).toContain('outline');
    for (const f of built) expect(f.bytes).toBeGreaterThan(1000);
    for (let p = join(d.dir, 'dist', 'functions'); p !== dirname(p); p = dirname(p)) expect(existsSync(join(p, 'node_modules')), p).toBe(false);
  });
});

describe('smoke run of every route through nginx', () => {
  it('GET /openapi.json is the committed document and /docs the reference page, from the openapi function', async () => {
    const doc = await px('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(JSON.stringify(doc.body, null, 2) + '\n').toBe(readFileSync('openapi/openapi.json', 'utf8'));
    const page = await px('GET', '/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('GET / is the outline, listing every route', async () => {
    const r = await px('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const f of built.filter((x) => x.route)) expect(r.body).toContain(`/{facility}/${f.route}`);
  });

  it('app lifecycle: create, start, reads, pause, unpause, restart, stop, kill, hard reset', async () => {
    const created = await px('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: app, state: 'created' });
    expect((await engine.inspectContainer(created.body.id)).Name).toBe(`/${app}`);

    const started = await px('POST', `/demo/start-app?name=${app}`);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ name: app, state: 'running' });
    expect((await engine.inspectContainer(app)).State.Running).toBe(true);

    expect((await px('GET', '/demo/get-users')).body).toContain(user);
    expect((await px('GET', `/demo/get-app-names?user=${user}`)).body).toEqual([app]);
    const status = await px('GET', `/demo/get-app-status?name=${app}`);
    expect(status.status).toBe(200);
    expect(JSON.stringify(status.body)).toContain(app);
    const stats = await px('GET', `/demo/get-app-stats?name=${app}`);
    expect(stats.status).toBe(200);
    expect(JSON.stringify(stats.body)).toContain(app);
    const info = await px('GET', `/demo/get-app-info?name=${app}`);
    expect(info.status).toBe(200);
    expect(info.body.Name).toBe(`/${app}`);

    expect((await px('POST', `/demo/pause-app?name=${app}`)).body).toMatchObject({ state: 'paused' });
    expect((await px('POST', `/demo/unpause-app?name=${app}`)).body).toMatchObject({ state: 'running' });
    expect((await px('POST', `/demo/restart-app?name=${app}`)).body).toMatchObject({ state: 'running' });
    const stopped = await px('POST', `/demo/stop-app?name=${app}&timeout=1`);
    expect(stopped.status).toBe(200);
    expect((await engine.inspectContainer(app)).State.Running).toBe(false);
    expect((await px('POST', `/demo/start-app?name=${app}`)).status).toBe(200);
    expect((await px('POST', `/demo/kill-app?name=${app}`)).status).toBe(200);
    const reset = await px('POST', `/demo/hard-reset-app?name=${app}`);
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body).toMatchObject({ name: app });
  });

  it('node routes', async () => {
    const names = await px('GET', '/demo/get-node-names');
    expect(names.status).toBe(200);
    expect(names.body).toHaveLength(1);
    expect((await px('GET', '/demo/get-node-status')).status).toBe(200);
    const info = await px('GET', `/demo/get-node-info?hostname=${encodeURIComponent(names.body[0])}`);
    expect(info.status, JSON.stringify(info.body)).toBe(200);
  });

  it('the uptime job bundle writes into sqld; get-uptime-summary reads it back', async () => {
    if (!built.some((f) => f.name === 'uptime-job')) return;
    const report = (await d.runOnce('uptime-job', 'node')) as { facilities: { facility: string; outcome: string }[] };
    expect(report.facilities.find((f) => f.facility === 'demo')?.outcome).not.toBe('failed');
    const r = await px('GET', `/demo/get-uptime-summary?name=${app}&duration=hour`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Object.keys(r.body).length).toBeGreaterThan(0);
  });

  it('the audit log has the calls', async () => {
    const r = await px('GET', `/demo/get-audit-log?user=${user}`);
    expect(r.status).toBe(200);
    expect(r.body.map((e: any) => e.route)).toEqual(expect.arrayContaining(['create-app', 'start-app', 'stop-app', 'kill-app', 'hard-reset-app']));
  });

  it('delete-app', async () => {
    const r = await px('POST', `/demo/delete-app?name=${app}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: app, state: 'deleted' });
  });

  it('every other route is routed to its function (routes added later included)', async () => {
    for (const f of built.filter((x) => x.route && !reached.has(x.route))) {
      const r = await px(f.method ?? 'GET', `/demo/${f.route}`);
      expect(r.headers.get('content-type'), f.route).toMatch(/json/);
      expect(r.body?.code, `${f.route}: ${JSON.stringify(r.body)}`).not.toBe('unknown_route');
      expect(r.status, f.route).toBeLessThan(500);
    }
    expect([...reached].sort()).toEqual(
      built
        .filter((x) => x.route)
        .map((x) => x.route)
        .sort(),
    );
  });
});

describe('state shared between replicas (sqld)', () => {
  const each = async (fn: string, method: string, path: string, init: CallInit = {}) => Promise.all(d.functions[fn].map((_, i) => httpCall(d.direct(fn, i + 1), method, path, init)));

  it('a token minted once is accepted by every replica, and refused by all within TOKEN_CACHE_MS of its revocation', async () => {
    const minted = JSON.parse(await tokenCli(d.dbUrl, ['mint', '--user', user, '--json']));
    const ok = await each('get-app-names', 'GET', `/demo/get-app-names?user=${user}`, { token: minted.token });
    expect(ok.map((r) => r.status)).toEqual([200, 200]);
    const other = await each('get-app-names', 'GET', `/demo/get-app-names?user=${user}x`, { token: minted.token });
    expect(other.map((r) => r.status)).toEqual([403, 403]);
    await tokenCli(d.dbUrl, ['revoke', minted.id]);
    await new Promise((r) => setTimeout(r, TOKEN_CACHE_MS)); // each replica trusts a checked token this long (core/auth.ts)
    const revoked = await each('get-app-names', 'GET', `/demo/get-app-names?user=${user}`, { token: minted.token });
    expect(revoked.map((r) => r.status)).toEqual([401, 401]);
  });

  it('both audit-log replicas read the same entries, written by other functions', async () => {
    const [a, b] = await each('get-audit-log', 'GET', `/demo/get-audit-log?user=${user}`);
    expect(a.status).toBe(200);
    expect(a.body.length).toBeGreaterThanOrEqual(7);
    expect(b.body).toEqual(a.body);
  });

  it('both uptime-summary replicas read the history the job wrote', async () => {
    if (!d.functions['get-uptime-summary']) return;
    const [a, b] = await each('get-uptime-summary', 'GET', `/demo/get-uptime-summary?name=${app}&duration=hour&detail=true`);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    // the window ends "now" on each call; what was recorded is the same
    expect(a.body.samples.length).toBeGreaterThan(0);
    expect(b.body.samples).toEqual(a.body.samples);
    expect(b.body.transitions).toEqual(a.body.transitions);
  });

  it('nginx spreads requests over the replicas', async () => {
    for (let i = 0; i < 6; i++) expect((await px('GET', '/demo/get-users')).status).toBe(200);
    const log = readFileSync(join(d.dir, 'nginx', 'access.log'), 'utf8');
    const ups = new Set([...log.matchAll(/"GET \/demo\/get-users HTTP\/1\.1" 200 .* up=(\S+)/g)].map((m) => m[1]));
    expect(ups).toEqual(new Set(d.functions['get-users'].map((p) => `127.0.0.1:${p.port}`)));
  });
});

describe('what nginx answers itself', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/demo/no-such-route'],
    ['POST', '/demo/get-users/extra'],
    ['GET', '/demo/get-users/'],
    ['GET', `/${'x'.repeat(150)}`],
    ['GET', '/x%22y?a=b'],
    ['GET', '/a/../b'],
    ['GET', '/.well-known/security.txt'],
    ['DELETE', '/demo'],
  ])("an unknown route (%s %s) gets the runner's 404 problem", async (method, path) => {
    const [viaProxy, runner] = await Promise.all([httpCall(d.url, method, path), call(method, path)]);
    expect(runner.status).toBe(404);
    expect(viaProxy.status).toBe(404);
    expect(viaProxy.headers.get('content-type')).toBe('application/problem+json');
    expect(viaProxy.body).toEqual(runner.body);
  });

  it('an oversized URL gets 414 problem+json, as the runner', async () => {
    const path = `/demo/get-app-names?user=${'a'.repeat(9000)}`;
    const [r, runner] = await Promise.all([httpCall(d.url, 'GET', path), call('GET', path)]);
    expect(r.status).toBe(414);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body.code).toBe(runner.body.code);
    expect(r.status).toBe(runner.status);
  });

  it('oversized headers get 431 problem+json', async () => {
    const r = await httpCall(d.url, 'GET', '/demo/get-users', { headers: { 'x-big': 'b'.repeat(9000) } });
    expect(r.status).toBe(431);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 431, code: 'payload_too_large' });
  });

  it('an oversized body gets 413 problem+json, as the runner', async () => {
    const body = 'x'.repeat(70_000);
    const [r, runner] = await Promise.all([
      httpCall(d.url, 'POST', `/demo/start-app?name=${app}`, { body }),
      call('POST', `/demo/start-app?name=${app}`, { body, headers: { 'content-length': String(body.length) } }),
    ]);
    expect(r.status).toBe(413);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body.code).toBe(runner.body.code);
    expect(r.status).toBe(runner.status);
  });

  it('rate limits per route and token: 429 problem+json with Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => httpCall(d.url, 'GET', '/demo/get-node-names', { token: RATE_TOKEN })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThanOrEqual(1); // let through to the function
    expect(limited[0].headers.get('content-type')).toBe('application/problem+json');
    expect(limited[0].headers.get('retry-after')).toBeTruthy();
    expect(limited[0].body).toMatchObject({ status: 429, code: 'rate_limited' });
    // another token has its own budget; another route its own limit
    expect((await httpCall(d.url, 'GET', '/demo/get-node-names')).status).toBe(200);
    expect((await httpCall(d.url, 'GET', '/demo/get-node-status', { token: RATE_TOKEN })).status).toBe(401);
  });

  it('a replica going away is skipped; a route with none left gets 502 problem+json', async () => {
    const [first, second] = d.functions['get-users'];
    await first.stop();
    for (let i = 0; i < 4; i++) expect((await px('GET', '/demo/get-users')).status).toBe(200);
    await second.stop();
    const r = await px('GET', '/demo/get-users');
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 502, code: 'function_unavailable' });
  });
});
