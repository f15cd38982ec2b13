/**
 * The nginx recipe for portals written for the original API (config/nginx-portal.conf.example):
 * a real nginx asks a stand-in portal who is signed in (auth_request) and sends the portal's
 * admin token with X-On-Behalf-Of, so each person sees only their own apps; a browser's own
 * Authorization or X-On-Behalf-Of changes nothing; no user named is refused, never an admin.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, createApp, removeUserApps, uniqueUser } from '../helpers.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { freePort } from '../../scripts/local-deploy.ts';

const alice = uniqueUser('pta');
const bob = uniqueUser('ptb');
let api: RunnerServer;
let portal: Server;
let nginx: ChildProcess;
let dir: string;
let base: string;

beforeAll(async () => {
  await createApp('src-test/busybox:latest', alice);
  await createApp('src-test/busybox:latest', bob);
  api = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', 0);
  // the portal's "who is signed in": a cookie names the user; `anon` is signed in without a name
  portal = createServer((req, res) => {
    const who = /(?:^|;\s*)portal=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!who) return void res.writeHead(401).end();
    res.writeHead(200, who === 'anon' ? {} : { 'x-portal-user': who }).end();
  });
  await new Promise<void>((r) => portal.listen(0, '127.0.0.1', r));
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'src-portal-'));
  mkdirSync(join(dir, 'logs'));
  const recipe = readFileSync('config/nginx-portal.conf.example', 'utf8')
    .replaceAll('{LISTEN}', `127.0.0.1:${port}`)
    .replaceAll('{API}', `127.0.0.1:${api.port}`)
    .replaceAll('{PORTAL}', `127.0.0.1:${(portal.address() as { port: number }).port}`)
    .replaceAll('{PORTAL_ADMIN_TOKEN}', ADMIN_TOKEN);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;\nmaster_process off;\nerror_log ${dir}/error.log;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\naccess_log off;\nclient_body_temp_path ${dir}/body;\nproxy_temp_path ${dir}/proxy;\nfastcgi_temp_path ${dir}/fcgi;\nuwsgi_temp_path ${dir}/uwsgi;\nscgi_temp_path ${dir}/scgi;\n${recipe}\n}\n`,
  );
  nginx = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/api/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}, 60_000);

afterAll(async () => {
  nginx?.kill('SIGTERM');
  await new Promise<void>((r) => portal?.close(() => r()));
  await api?.close();
  await removeUserApps(alice, bob);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}/api${path}`, { headers }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));

it('each signed-in person sees only their own apps; without a portal session, 401', async () => {
  expect((await get('/demo/get-app-names')).status).toBe(401);
  const a = await get('/demo/get-app-names', { cookie: `portal=${alice}` });
  expect(a).toEqual({ status: 200, body: [`busybox--${alice}`] });
  const b = await get('/demo/get-app-names', { cookie: `portal=${bob}` });
  expect(b).toEqual({ status: 200, body: [`busybox--${bob}`] });
});

it("the browser's own headers change nothing; another's app and admin routes are refused", async () => {
  const forged = await get('/demo/get-app-names', { cookie: `portal=${alice}`, 'x-on-behalf-of': bob, authorization: 'Bearer nonsense' });
  expect(forged).toEqual({ status: 200, body: [`busybox--${alice}`] });
  const other = await fetch(`${base}/api/demo/stop-app?name=busybox--${bob}`, { method: 'POST', headers: { cookie: `portal=${alice}` } });
  expect(other.status).toBe(403);
  expect((await get('/demo/get-audit-log', { cookie: `portal=${alice}` })).status).toBe(403);
});

it('a portal answer without a user is refused (400), never the admin token on its own', async () => {
  const r = await get('/demo/get-app-names', { cookie: 'portal=anon' });
  expect(r.status).toBe(400);
  expect(r.body.parameter).toBe('X-On-Behalf-Of');
});
