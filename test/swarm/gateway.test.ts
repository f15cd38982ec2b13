/**
 * The app gateway reaches swarm apps (core/gateway/connector.ts), on a real two-node swarm of its
 * own (scripts/swarm-lab.sh, its own lab directory and subnet):
 *
 * - through the runner's embedded gateway: an httpd app whose task runs on the worker opens in
 *   headless Chromium (open-app ticket -> cookie -> the app's page), through a connector on the
 *   manager attached to the user's overlay only; another user's session gets 403; after
 *   kill-app the connector is gone and the user's overlay is released;
 * - through nginx and the built bundles (scripts/local-deploy.ts: authorize-app answers the
 *   connector's Unix socket, nginx's `nobody` workers proxy to it; WebSocket upgrades go to
 *   dist/serve-gateway.mjs), on the same lab with a facility of its own whose connectors
 *   directory the API makes (parents included): the httpd app on the worker opens (200, its
 *   page), a WebSocket echo app on the worker keeps a connection, and another user is refused
 *   (open-app 403; that user's own gateway cookie replayed on the app's host: 401).
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig, parseConfig, setConfig } from '../../core/config.ts';
import { Engine } from '../../core/engine.ts';
import { resetFacilities } from '../../core/facility.ts';
import { resolveGateway } from '../../core/gateway/settings.ts';
import { mintToken } from '../../core/auth.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { freePort, startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import { ADMIN_TOKEN, call, IMAGES, uniqueUser } from '../helpers.ts';
import { buildForTest, httpCall, tokenCli } from '../e2e/support.ts';
import { sendAgain } from '../e2e/browser-ws.ts';

const run = promisify(execFile);
const LAB = process.env.SWARM_LAB_DIR_GATEWAY ?? '/tmp/src-swarm-lab-gw';
const SUBNET = process.env.SWARM_LAB_SUBNET_GATEWAY ?? '192.168.239';
const SOCKETS = `${LAB}-sockets`;
const WSECHO = 'src-test/wsecho:latest';
const ROOT = new URL('../../', import.meta.url).pathname;
const lab = (...args: string[]) =>
  run('bash', [`${ROOT}scripts/swarm-lab.sh`, ...args], { env: { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: SUBNET, SWARM_LAB_IMAGES: WSECHO }, timeout: 180_000, maxBuffer: 16 << 20 });
const alice = uniqueUser('sga');
const bob = uniqueUser('sgb');
const app = `httpd--${alice}`;
let manager: Engine;
let browser: Browser;
let server: RunnerServer;
let port: number;
let labNodes: { manager: string; nodes: Record<string, string> };
const saved = loadConfig();

beforeAll(async () => {
  rmSync(SOCKETS, { recursive: true, force: true });
  await run('bash', [`${ROOT}scripts/build-connector-image.sh`]);
  await lab('up', '--nodes', '2');
  const l = JSON.parse(readFileSync(`${LAB}/facility.json`, 'utf8'));
  labNodes = { manager: l.manager, nodes: l.nodes };
  manager = new Engine({ host: l.manager });
  port = await freePort();
  const cfg = parseConfig(
    {
      facilities: {
        swarmgw: {
          engine: { host: l.manager },
          mode: 'swarm',
          nodes: l.nodes,
          images: { approved: ['docker.io/src-test/*'] },
          swarm: { serviceMode: 'replicated', replicas: 1, connector: { dir: SOCKETS } },
        },
      },
    },
    'test/swarm/gateway.test.ts',
  );
  setConfig({ ...cfg, gateway: resolveGateway({ url: `http://*.apps.localhost:${port}/` }, 'swarm gateway test') });
  resetFacilities();
  server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', port);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await call('POST', `/swarmgw/kill-app?name=${app}`).catch(() => undefined);
  setConfig(saved);
  resetFacilities();
  await lab('down');
  rmSync(SOCKETS, { recursive: true, force: true });
}, 180_000);

const connectors = () =>
  manager.call<any[]>({
    method: 'GET',
    path: '/containers/json',
    query: { all: true, filters: JSON.stringify({ label: ['io.src-container-api.connector.facility=swarmgw'] }) },
    statusCodes: { 200: true },
  });

/** The node (hostname) that runs service `name`'s task, waiting for it to run. */
async function taskNode(name = app): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const tasks = await manager.call<any[]>({ method: 'GET', path: '/tasks', query: { filters: JSON.stringify({ service: [name], 'desired-state': ['running'] }) }, statusCodes: { 200: true } });
    const t = tasks.find((x) => x.Status?.State === 'running');
    if (t) return (await manager.call<any>({ method: 'GET', path: `/nodes/${t.NodeID}`, statusCodes: { 200: true } })).Description.Hostname;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no running task');
}

/** Moves service `name`'s task to the worker (the connector runs on the manager): a placement constraint. */
async function placeOnWorker(name: string): Promise<void> {
  const svc = await manager.call<any>({ method: 'GET', path: `/services/${name}`, statusCodes: { 200: true } });
  svc.Spec.TaskTemplate.Placement = { Constraints: ['node.role==worker'] };
  await manager.call({ method: 'POST', path: `/services/${svc.ID}/update`, query: { version: svc.Version.Index }, body: svc.Spec, statusCodes: { 200: true } });
}

describe('swarm: the gateway opens an app through its connector', () => {
  it('opens an app running on a worker in a browser; another user gets 403; kill-app removes the connector and the overlay', async () => {
    const created = await call('POST', `/swarmgw/create-app?image=${IMAGES.httpd}&user=${alice}`);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await placeOnWorker(app);
    await expect.poll(() => taskNode(app), { timeout: 30_000 }).toBe('src-node2');

    const aliceToken = (await mintToken({ role: 'user', user: alice, name: 'swarm gateway alice' })).token;
    const bobToken = (await mintToken({ role: 'user', user: bob, name: 'swarm gateway bob' })).token;
    const api = (path: string, token: string) => httpCall(`http://127.0.0.1:${port}`, 'POST', path, { token });
    const open = await api(`/swarmgw/open-app?name=${app}`, aliceToken);
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const res = await page.goto(open.body.url);
    expect(res!.status()).toBe(200);
    expect(page.url()).toBe(open.body.appUrl);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    await ctx.close();

    // one connector, on the manager, attached to alice's overlay and no other overlay
    const [c] = await connectors();
    const inspect = await manager.call<any>({ method: 'GET', path: `/containers/${c.Id}/json`, statusCodes: { 200: true } });
    const overlays = [];
    for (const n of Object.keys(inspect.NetworkSettings.Networks)) {
      const net = await manager.call<any>({ method: 'GET', path: `/networks/${n}`, statusCodes: { 200: true } });
      if (net.Driver === 'overlay') overlays.push(n);
    }
    expect(overlays).toEqual([`srcnet--swarmgw--${alice}`]);
    expect([inspect.HostConfig.CapDrop, inspect.HostConfig.ReadonlyRootfs, inspect.Config.User]).toEqual([['ALL'], true, '65534:65534']);

    expect((await api(`/swarmgw/open-app?name=${app}`, bobToken)).status).toBe(403);

    expect((await call('POST', `/swarmgw/kill-app?name=${app}`)).status).toBe(200);
    expect(await connectors()).toEqual([]);
    await expect
      .poll(
        () =>
          manager.call({ method: 'GET', path: `/networks/srcnet--swarmgw--${alice}`, statusCodes: { 200: true, 404: 'gone' } }).then(
            () => 200,
            (e) => e.statusCode,
          ),
        { timeout: 30_000 },
      )
      .toBe(404);
  }, 180_000);
});

/** Opens a WebSocket from the page to its app (`echo` under the page's path), waits for one echo of `text`, keeps the socket in `window.ws`. */
function echoOnce(page: Page, text: string): Promise<string> {
  return page.evaluate(
    (t) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(new URL('echo', location.href).href.replace(/^http/, 'ws'));
        (window as any).ws = ws;
        ws.onopen = () => ws.send(t);
        ws.onmessage = (m) => resolve(String(m.data));
        ws.onerror = () => reject(new Error('websocket error'));
        setTimeout(() => reject(new Error('no echo')), 10_000);
      }),
    text,
  );
}

/** Asks an authorize-app process as nginx's `auth_request` does (node:http: fetch cannot set Host). */
function authorize(base: string, host: string, cookie: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/_src/authorize`, { headers: { host, cookie, 'x-src-auth-request': '1', 'x-original-uri': '/' } }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('swarm: through nginx (authorize-app, the built bundles)', () => {
  const FACILITY = 'swarmngx';
  // like the default /run/src-container-api/connectors/FACILITY: the API makes the parents too,
  // and nginx's `nobody` workers must get through them to the socket
  const TREE = `${LAB}-ngx`;
  const DIR = `${TREE}/connectors/${FACILITY}`;
  const carol = uniqueUser('sgc');
  const dave = uniqueUser('sgd');
  const httpd = `httpd--${carol}`;
  const wsecho = `wsecho--${carol}`;
  const daveApp = `httpd--${dave}`;
  const fns = ['outline', 'authorize-app', 'open-app', 'create-app', 'kill-app'];
  let d: LocalDeployment | undefined;
  let dist: string | undefined;
  let cfgDir: string | undefined;

  beforeAll(async () => {
    rmSync(TREE, { recursive: true, force: true });
    cfgDir = mkdtempSync(join(tmpdir(), 'src-swarm-ngx-'));
    const config = join(cfgDir, 'facilities.json');
    const facility = {
      engine: { host: labNodes.manager },
      mode: 'swarm',
      nodes: labNodes.nodes,
      images: { approved: ['docker.io/src-test/*'] },
      swarm: { serviceMode: 'replicated', replicas: 1, connector: { dir: DIR } },
    };
    writeFileSync(config, JSON.stringify({ facilities: { [FACILITY]: facility } }));
    ({ dist } = await buildForTest(fns));
    d = await startLocalDeployment({
      dist,
      config,
      functions: Object.fromEntries(fns.map((f) => [f, ['node' as const]])),
      env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN, SRC_GATEWAY_URL: 'http://*.apps.localhost:{PROXY_PORT}/' },
      proxy: { gateway: { serverName: '*.apps.localhost' } },
    });
  }, 240_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && d) console.error(d.diagnostics());
  });

  afterAll(async () => {
    // kill-app removes each app's service and connector (the lab goes down after this anyway)
    for (const name of [httpd, wsecho, daveApp]) if (d) await httpCall(d.url, 'POST', `/${FACILITY}/kill-app?name=${name}`).catch(() => undefined);
    await d?.stop();
    for (const p of [dist, cfgDir, TREE]) if (p) rmSync(p, { recursive: true, force: true });
  }, 120_000);

  it('opens an app on a worker and keeps a WebSocket through nginx; another user is refused', async () => {
    const url = d!.url;
    const created = await Promise.all(
      [
        [IMAGES.httpd, carol],
        [WSECHO, carol],
        [IMAGES.httpd, dave],
      ].map(([image, user]) => httpCall(url, 'POST', `/${FACILITY}/create-app?image=${image}&user=${user}`)),
    );
    for (const c of created) expect(c.status, JSON.stringify(c.body)).toBe(201);
    await Promise.all([placeOnWorker(httpd), placeOnWorker(wsecho)]);
    await expect.poll(() => Promise.all([taskNode(httpd), taskNode(wsecho)]), { timeout: 60_000 }).toEqual(['src-node2', 'src-node2']);
    await taskNode(daveApp);

    const token = async (user: string) => (await tokenCli(d!.dbUrl, ['mint', '--user', user])).match(/src_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/)![0];
    const [carolToken, daveToken] = await Promise.all([token(carol), token(dave)]);
    const open = (name: string, t: string) => httpCall(url, 'POST', `/${FACILITY}/open-app?name=${name}`, { token: t });

    // the httpd page, through nginx's proxy_pass to the connector's socket
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const o = await open(httpd, carolToken);
    expect(o.status, JSON.stringify(o.body)).toBe(200);
    expect(new URL(o.body.appUrl).port).toBe(new URL(url).port);
    const res = await page.goto(o.body.url);
    expect(res!.status()).toBe(200);
    expect(page.url()).toBe(o.body.appUrl);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    // what nginx was told: the connector's Unix socket in the facility's directory
    const cookie = (await ctx.cookies(o.body.appUrl)).find((c) => c.name === 'src_gw')!;
    const auth = await authorize(d!.direct('authorize-app'), new URL(o.body.appUrl).host, `src_gw=${cookie.value}`);
    expect(auth.status).toBe(200);
    expect(auth.headers['x-src-upstream']).toBe(`unix:${DIR}/${httpd}.sock:`);
    // the directory's parents stay passable for nginx's workers; the directory is the connector user's alone
    for (const p of [TREE, `${TREE}/connectors`]) expect(statSync(p).mode & 0o005, p).toBe(0o005);
    expect([statSync(DIR).uid, statSync(DIR).mode & 0o777]).toEqual([65534, 0o700]);

    // the WebSocket echo app: its page through nginx, the upgrade through serve-gateway
    const w = await open(wsecho, carolToken);
    expect(w.status, JSON.stringify(w.body)).toBe(200);
    expect((await page.goto(w.body.url))!.status()).toBe(200);
    expect(await page.textContent('#base')).toBe(w.body.appUrl);
    expect(await echoOnce(page, 'swarm through nginx')).toBe('swarm through nginx');
    expect(await sendAgain(page, 'x'.repeat(70_000))).toHaveLength(70_000);
    await ctx.close();

    // another user: open-app refuses, and their own app's cookie does not open carol's app
    const refused = await open(httpd, daveToken);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    const daveCtx = await browser.newContext();
    const davePage = await daveCtx.newPage();
    const own = await open(daveApp, daveToken);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect((await davePage.goto(own.body.url))!.status()).toBe(200);
    const daveCookie = (await daveCtx.cookies(own.body.appUrl)).find((c) => c.name === 'src_gw')!;
    await daveCtx.addCookies([{ name: 'src_gw', value: daveCookie.value, domain: new URL(o.body.appUrl).hostname, path: '/' }]);
    const replay = await davePage.goto(o.body.appUrl);
    expect(replay!.status()).toBe(401);
    expect(await davePage.textContent('h1')).toBe('Unauthorized');
    await daveCtx.close();
  }, 240_000);
});
