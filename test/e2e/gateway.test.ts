/**
 * The app gateway in a real browser (Debian's chromium driven by playwright-core): through the
 * runner's embedded gateway and through nginx with the authorize-app function.
 *
 * - open-app's link signs the browser in (a host-only HttpOnly cookie) and shows the httpd app;
 * - a WebSocket echo app (src-test/wsecho) keeps a connection and echoes;
 * - another user cannot open the app (open-app 403; the app's URL without a session is refused);
 * - a revoked token's cookie stops working and its open WebSocket closes (runner);
 * - a deleted app is refused.
 * `*.apps.localhost` resolves to loopback in Chromium (not in Node's resolver: Node-side
 * requests go to 127.0.0.1 with a Host header).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_TOKEN, call, createApp, removeUserApps, uniqueUser } from '../helpers.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { createGateway } from '../../wrangler-local/gateway.ts';
import { freePort, startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import { loadConfig, setConfig } from '../../core/config.ts';
import { resolveGateway } from '../../core/gateway/settings.ts';
import { mintToken, revokeToken } from '../../core/auth.ts';
import { buildForTest, httpCall, tokenCli } from './support.ts';
import { dialFromPage, sendAgain } from './browser-ws.ts';

const CHROMIUM = '/usr/bin/chromium';
const WSECHO = 'src-test/wsecho:latest';
const alice = uniqueUser('gwa');
const bob = uniqueUser('gwb');
const httpd = `httpd--${alice}`;
const wsecho = `wsecho--${alice}`;

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (scripts/ensure-test-deps.sh)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await removeUserApps(alice, bob);
}, 60_000);

/** Opens `link` (an open-app URL) in `page`; answers the final response. */
async function follow(page: Page, link: string) {
  const res = await page.goto(link);
  return res!;
}

/** Opens a WebSocket from the page to its app (relative to the page) and waits for one echo; the socket stays open in `window.ws`. */
async function echoOnce(page: Page, text: string): Promise<string> {
  return page.evaluate(
    (t) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(new URL('echo', location.href).href.replace(/^http/, 'ws')); // under the app's base path
        (window as any).ws = ws;
        (window as any).wsClosed = null;
        ws.onclose = (e) => ((window as any).wsClosed = e.code);
        ws.onopen = () => ws.send(t);
        ws.onmessage = (m) => resolve(String(m.data));
        ws.onerror = () => reject(new Error('websocket error'));
        setTimeout(() => reject(new Error('no echo')), 10_000);
      }),
    text,
  );
}

/** The status of loading `url` in `page`, past the browser's cache (0 when the load failed). */
async function statusOf(page: Page, url: string): Promise<number> {
  return (await page.goto(`${url}?nocache=${Date.now()}`).catch(() => null))?.status() ?? 0;
}

/** A same-origin fetch from the page (the browser resolves *.localhost) asking for JSON. */
function fetchJson(page: Page, url: string): Promise<{ status: number; type: string | null; body: string }> {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { headers: { accept: 'application/json' } });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
  }, url);
}

/** The whole answer (head and body) to one raw GET to 127.0.0.1:`port` with Host `host`; the connection is closed after it. */
function rawText(port: number, host: string, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (!headers.connection) lines.push('Connection: close');
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      text += d;
    });
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
}

/** The status of one request to 127.0.0.1:`port` with Host `host` (Node's resolver knows no *.apps.localhost). */
function rawStatus(port: number, host: string, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('through the runner (embedded gateway)', () => {
  let server: RunnerServer;
  let port: number;
  let aliceToken: string;
  let aliceTokenId: string;
  let bobToken: string;
  const saved = loadConfig();
  let ctx: BrowserContext;

  const api = (method: string, path: string, token: string) => httpCall(`http://127.0.0.1:${port}`, method, path, { token });

  beforeAll(async () => {
    port = await freePort();
    setConfig({ ...saved, gateway: resolveGateway({ url: `http://*.apps.localhost:${port}/`, admins: false, cookieHours: 8, ticketSeconds: 60 }, 'gateway test') });
    server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', port);
    const a = await mintToken({ role: 'user', user: alice, name: 'gateway test alice' });
    aliceToken = a.token;
    aliceTokenId = a.record.id;
    bobToken = (await mintToken({ role: 'user', user: bob, name: 'gateway test bob' })).token;
    for (const image of ['src-test/httpd:latest', WSECHO]) {
      const created = await createApp(image, alice);
      expect(created.url).toMatch(new RegExp(`^http://[a-z0-9-]+\\.apps\\.localhost:${port}/$`));
      expect((await call('POST', `/demo/start-app?name=${created.name}`)).status).toBe(200);
    }
    ctx = await browser.newContext();
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    setConfig(saved);
  });

  it('get-app-url answers the stable URL; create-app told the app its base URL', async () => {
    const r = await api('GET', `/demo/get-app-url?name=${httpd}`, aliceToken);
    expect(r.status).toBe(200);
    expect(r.body.url).toMatch(new RegExp(`^http://httpd-${alice}-demo-[a-z2-7]{10}\\.apps\\.localhost:${port}/$`));
    const info = await call('GET', `/demo/get-app-info?name=${httpd}`);
    expect(info.body.Config.Env).toContain(`SRC_BASE_URL=${r.body.url}`);
  });

  it("open-app's link signs the browser in and shows the app", async () => {
    const open = await api('POST', `/demo/open-app?name=${httpd}`, aliceToken);
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const page = await ctx.newPage();
    const res = await follow(page, open.body.url);
    expect(res.status()).toBe(200);
    expect(page.url()).toBe(open.body.appUrl);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    const cookies = await ctx.cookies(open.body.appUrl);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Lax', domain: new URL(open.body.appUrl).hostname });
    // the link works once
    const again = await (await browser.newContext()).newPage();
    expect((await follow(again, open.body.url)).status()).toBe(401);
    expect(await again.textContent('h1')).toBe('Unauthorized');
    await again.context().close();
    // ... but the browser signed in with it, opening it again (a bookmark, history), goes to the app
    const reopened = await follow(page, open.body.url);
    expect(reopened.status()).toBe(200);
    expect(page.url()).toBe(open.body.appUrl);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    await page.close();
  });

  it('a WebSocket app keeps its connection through the gateway', async () => {
    const open = await api('POST', `/demo/open-app?name=${wsecho}`, aliceToken);
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const page = await ctx.newPage();
    expect((await follow(page, open.body.url)).status()).toBe(200);
    expect(await page.textContent('#base')).toBe(open.body.appUrl);
    expect(await echoOnce(page, 'hello')).toBe('hello');
    expect(await sendAgain(page, 'x'.repeat(70_000))).toHaveLength(70_000);
    await page.close();
  });

  it("another app's page cannot drive this app's WebSocket (CSWSH): all app hosts are one site", async () => {
    // signed in to both apps; a page of one (a hostile app the user visits) dials the other's WebSocket
    const ws = await api('POST', `/demo/open-app?name=${wsecho}`, aliceToken);
    const web = await api('POST', `/demo/open-app?name=${httpd}`, aliceToken);
    const page = await ctx.newPage();
    expect((await follow(page, ws.body.url)).status()).toBe(200);
    expect((await follow(page, web.body.url)).status()).toBe(200);
    const outcome = await dialFromPage(page, `${ws.body.appUrl.replace(/^http/, 'ws')}echo`);
    expect(outcome).toBe('refused');
    // its own page still may
    expect((await follow(page, ws.body.appUrl)).status()).toBe(200);
    expect(await echoOnce(page, 'own')).toBe('own');
    await page.close();
  });

  it("the app never sees the gateway cookie, nor a client's X-Forwarded-Host/Proto, on plain requests and WebSocket upgrades", async () => {
    // a CGI script in the test's own httpd container prints the request headers the app got
    const script = '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv\n';
    execFileSync('docker', ['exec', '-u', '0', httpd, 'sh', '-c', `mkdir -p /www/cgi-bin && printf '${script}' > /www/cgi-bin/env && chmod 755 /www/cgi-bin/env`]);
    const open = await api('POST', `/demo/open-app?name=${httpd}`, aliceToken);
    const page = await ctx.newPage();
    expect((await follow(page, open.body.url)).status()).toBe(200);
    const [c] = await ctx.cookies(open.body.appUrl);
    const host = new URL(open.body.appUrl).host;
    const spoof = { cookie: `a=1; ${c.name}=${c.value}`, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    for (const extra of [{} as Record<string, string>, { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }]) {
      const env = await rawText(port, host, '/cgi-bin/env', { ...spoof, ...extra });
      expect(env, JSON.stringify(extra)).toContain('HTTP_COOKIE=a=1\n');
      expect(env).not.toContain(c.value);
      expect(env).toContain(`HTTP_X_FORWARDED_HOST=${host}\n`);
      expect(env).toContain('HTTP_X_FORWARDED_PROTO=http\n');
    }
    await page.close();
  });

  it("another user gets 403 from open-app, and the app's URL without a session is refused", async () => {
    const r = await api('POST', `/demo/open-app?name=${httpd}`, bobToken);
    expect(r.status).toBe(403);
    const admin = await api('POST', `/demo/open-app?name=${httpd}`, ADMIN_TOKEN);
    expect(admin.status).toBe(403); // gateway.admins is off
    const bobCtx = await browser.newContext();
    const page = await bobCtx.newPage();
    const appUrl = (await api('GET', `/demo/get-app-url?name=${httpd}`, aliceToken)).body.url;
    const res = await page.goto(appUrl);
    expect(res!.status()).toBe(401);
    expect(res!.headers()['content-type']).toMatch(/^text\/html/);
    const json = await fetchJson(page, appUrl);
    expect(json.status).toBe(401);
    expect(json.type).toBe('application/problem+json');
    expect(JSON.parse(json.body).code).toBe('unauthorized');
    await bobCtx.close();
  });

  it("a revoked token's cookie stops working and its WebSocket closes", async () => {
    const page = await ctx.newPage();
    const open = await api('POST', `/demo/open-app?name=${wsecho}`, aliceToken);
    expect((await follow(page, open.body.url)).status()).toBe(200);
    expect(await echoOnce(page, 'before')).toBe('before');
    expect(await revokeToken(aliceTokenId)).toBe(true);
    // the WebSocket closes (the gateway re-checks open sockets every 2 s; checks are cached 1 s)
    await page.waitForFunction(() => (window as any).wsClosed !== null, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).wsClosed)).toBe(1008);
    // and no page loads with the cookie any more
    await expect.poll(() => statusOf(page, open.body.appUrl), { timeout: 10_000 }).toBe(401);
    await page.close();
  });

  it('a deleted app is refused', async () => {
    const t = (await mintToken({ role: 'user', user: alice, name: 'gateway test alice 2' })).token;
    const open = await api('POST', `/demo/open-app?name=${httpd}`, t);
    const page = await ctx.newPage();
    expect((await follow(page, open.body.url)).status()).toBe(200);
    expect((await call('POST', `/demo/delete-app?name=${httpd}`)).status).toBe(200);
    await expect.poll(() => statusOf(page, open.body.appUrl), { timeout: 10_000 }).toBe(404);
    await page.close();
  });
});

describe('path mode on its own host (runner)', () => {
  let server: RunnerServer;
  let port: number;
  let token: string;
  const saved = loadConfig();
  const carol = uniqueUser('gwc');

  beforeAll(async () => {
    port = await freePort();
    setConfig({ ...saved, gateway: resolveGateway({ url: `http://apps.localhost:${port}/`, admins: false, cookieHours: 8, ticketSeconds: 60 }, 'gateway path test') });
    server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', port);
    token = (await mintToken({ role: 'user', user: carol, name: 'gateway path test' })).token;
    const created = await createApp(WSECHO, carol);
    expect(created.url).toBe(`http://apps.localhost:${port}/apps/demo/wsecho--${carol}/`);
    expect((await call('POST', `/demo/start-app?name=${created.name}`)).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    setConfig(saved);
    await removeUserApps(carol);
  });

  it('serves the app under /apps/{facility}/{app}/, tells it that base URL, and keeps a WebSocket', async () => {
    const open = await httpCall(`http://127.0.0.1:${port}`, 'POST', `/demo/open-app?name=wsecho--${carol}`, { token });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    expect(open.body.url).toMatch(new RegExp(`^http://apps\\.localhost:${port}/apps/demo/wsecho--${carol}/_src/auth\\?ticket=`));
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    expect((await follow(page, open.body.url)).status()).toBe(200);
    expect(page.url()).toBe(open.body.appUrl);
    expect(await page.textContent('#base')).toBe(open.body.appUrl);
    expect(await page.textContent('#path')).toBe(`/apps/demo/wsecho--${carol}/`);
    const cookies = await ctx.cookies(open.body.appUrl);
    expect(cookies[0]).toMatchObject({ path: `/apps/demo/wsecho--${carol}/`, httpOnly: true });
    // another app's path on the same host has no session
    expect((await page.goto(`http://apps.localhost:${port}/apps/demo/wsecho--${uniqueUser('gwx')}/`))!.status()).toBe(401);
    await page.goto(open.body.appUrl);
    expect(await echoOnce(page, 'by path')).toBe('by path');
    await ctx.close();
  });

  it('with stripPrefix, the app sees its paths without the prefix', async () => {
    const port2 = await freePort();
    const strip = resolveGateway({ url: `http://apps.localhost:${port2}/`, stripPrefix: true }, 'strip test');
    const server2 = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', port2, createGateway(strip));
    try {
      const open = await httpCall(`http://127.0.0.1:${port}`, 'POST', `/demo/open-app?name=wsecho--${carol}`, { token });
      const link = open.body.url.replace(`:${port}/`, `:${port2}/`); // the same app prefix, on the second gateway
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      expect((await follow(page, link)).status()).toBe(200);
      expect(await page.textContent('#path')).toBe('/');
      await page.goto(`http://apps.localhost:${port2}/apps/demo/wsecho--${carol}/sub/page?q=1`);
      expect(await page.textContent('#path')).toBe('/sub/page?q=1');
      expect(await echoOnce(page, 'stripped')).toBe('stripped');
      await ctx.close();
    } finally {
      await server2.close();
    }
  });

  it('is refused at start on the API host', () => {
    const apiHosts = [`127.0.0.1:${port}`, `localhost:${port}`]; // the runner's default: HOST and localhost on PORT
    expect(() => resolveGateway({ url: `http://127.0.0.1:${port}/`, apiHosts, admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test')).toThrow(/host other than the API/);
    expect(() => resolveGateway({ url: `http://localhost:${port}/`, apiHosts, admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test')).toThrow(/host other than the API/);
  });
});

describe('through nginx (auth_request to authorize-app)', () => {
  let d: LocalDeployment;
  let dist: string;
  let token: string;
  const nginxApp = `httpd--${bob}`;
  const nginxWs = `wsecho--${bob}`;

  beforeAll(async () => {
    ({ dist } = await buildForTest(['outline', 'authorize-app', 'open-app', 'get-app-url', 'create-app', 'start-app']));
    d = await startLocalDeployment({
      dist,
      functions: { outline: ['node'], 'authorize-app': ['node'], 'open-app': ['node'], 'get-app-url': ['node'], 'create-app': ['node'], 'start-app': ['node'] },
      env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN, SRC_GATEWAY_URL: 'http://*.apps.localhost:{PROXY_PORT}/' },
      proxy: { gateway: { serverName: '*.apps.localhost' } },
    });
    token = (await tokenCli(d.dbUrl, ['mint', '--user', bob])).match(/src_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/)![0];
    for (const image of ['src-test/httpd:latest', WSECHO]) {
      const c = await httpCall(d.url, 'POST', `/demo/create-app?image=${image}&user=${bob}`);
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect((await httpCall(d.url, 'POST', `/demo/start-app?name=${c.body.name}`)).status).toBe(200);
    }
  }, 240_000);

  afterAll(async () => {
    await removeUserApps(bob);
    await d?.stop();
    if (dist) (await import('node:fs')).rmSync(dist, { recursive: true, force: true });
  }, 60_000);

  it('opens the httpd app and keeps a WebSocket to the echo app', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const open = await httpCall(d.url, 'POST', `/demo/open-app?name=${nginxApp}`, { token });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    expect(open.body.appUrl).toBe(`http://${new URL(open.body.appUrl).hostname}:${new URL(d.url).port}/`);
    expect((await follow(page, open.body.url)).status()).toBe(200);
    expect(page.url()).toBe(open.body.appUrl);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    const ws = await httpCall(d.url, 'POST', `/demo/open-app?name=${nginxWs}`, { token });
    expect((await follow(page, ws.body.url)).status()).toBe(200);
    expect(await echoOnce(page, 'through nginx')).toBe('through nginx');
    expect(await sendAgain(page, 'again')).toBe('again');
    await ctx.close();
  });

  it("a revoked token's open WebSocket closes (nginx sends upgrades to the gateway process)", async () => {
    const t = (await tokenCli(d.dbUrl, ['mint', '--user', bob, '--name', 'gateway nginx revoke'])).match(/src_([a-z0-9]{12})_[A-Za-z0-9_-]{43}/)!;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const ws = await httpCall(d.url, 'POST', `/demo/open-app?name=${nginxWs}`, { token: t[0] });
    expect(ws.status, JSON.stringify(ws.body)).toBe(200);
    expect((await follow(page, ws.body.url)).status()).toBe(200);
    expect(await echoOnce(page, 'before revocation')).toBe('before revocation');
    await tokenCli(d.dbUrl, ['revoke', t[1]]);
    await page.waitForFunction(() => (window as any).wsClosed !== null, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).wsClosed)).toBe(1008);
    await expect.poll(() => statusOf(page, ws.body.appUrl), { timeout: 10_000 }).toBe(401);
    await ctx.close();
  });

  it("refuses another app's page: a POST with its Origin (auth_request) and its WebSocket (CSWSH)", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const ws = await httpCall(d.url, 'POST', `/demo/open-app?name=${nginxWs}`, { token });
    const web = await httpCall(d.url, 'POST', `/demo/open-app?name=${nginxApp}`, { token });
    expect((await follow(page, ws.body.url)).status()).toBe(200);
    expect((await follow(page, web.body.url)).status()).toBe(200);
    const wsHost = new URL(ws.body.appUrl).host;
    const [c] = await ctx.cookies(ws.body.appUrl);
    const post = (origin: string) => rawStatus(Number(new URL(d.url).port), wsHost, 'POST', '/', { cookie: `${c.name}=${c.value}`, origin });
    // same-origin first: nginx must not answer the cross-origin one from its cached authorization
    expect(await post(`http://${wsHost}`)).toBe(200);
    expect(await post(new URL(web.body.appUrl).origin)).toBe(403);
    // a client posing as nginx's subrequest on the ticket path learns nothing of the app's upstream
    const posed = await rawText(Number(new URL(d.url).port), wsHost, '/_src/auth', { cookie: `${c.name}=${c.value}`, 'x-src-auth-request': '1', 'x-original-uri': '/' });
    expect(posed).toMatch(/^HTTP\/1\.1 [1-5]\d\d/);
    expect(posed.toLowerCase()).not.toContain('x-src-upstream');
    const outcome = await dialFromPage(page, `${ws.body.appUrl.replace(/^http/, 'ws')}echo`);
    expect(outcome).toBe('refused');
    await ctx.close();
  });

  it('refuses without a session: an HTML page, or problem+json', async () => {
    const ctx = await browser.newContext();
    const appUrl = (await httpCall(d.url, 'GET', `/demo/get-app-url?name=${nginxApp}`, { token })).body.url;
    const page = await ctx.newPage();
    const res = await page.goto(appUrl);
    expect(res!.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('Unauthorized');
    const json = await fetchJson(page, appUrl);
    expect(json.status).toBe(401);
    expect(json.type).toBe('application/problem+json');
    expect(JSON.parse(json.body).code).toBe('unauthorized');
    await ctx.close();
  });
});
