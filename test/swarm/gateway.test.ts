/**
 * The app gateway reaches swarm apps (core/gateway/connector.ts), on a real two-node swarm of its
 * own (scripts/swarm-lab.sh, its own lab directory and subnet): an httpd app whose task runs on
 * the worker opens in headless Chromium through the runner's embedded gateway (open-app ticket ->
 * cookie -> the app's page), through a connector on the manager attached to the user's overlay
 * only; another user's session gets 403; after kill-app the connector is gone and the user's
 * overlay is released.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig, parseConfig, setConfig } from '../../core/config.ts';
import { Engine } from '../../core/engine.ts';
import { resetFacilities } from '../../core/facility.ts';
import { resolveGateway } from '../../core/gateway/settings.ts';
import { mintToken } from '../../core/auth.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { freePort } from '../../scripts/local-deploy.ts';
import { call, IMAGES, uniqueUser } from '../helpers.ts';
import { httpCall } from '../e2e/support.ts';

const run = promisify(execFile);
const LAB = process.env.SWARM_LAB_DIR_GATEWAY ?? '/tmp/src-swarm-lab-gw';
const SUBNET = process.env.SWARM_LAB_SUBNET_GATEWAY ?? '192.168.239';
const SOCKETS = '/tmp/src-swarm-gw-sockets';
const ROOT = new URL('../../', import.meta.url).pathname;
const lab = (...args: string[]) =>
  run('bash', [`${ROOT}scripts/swarm-lab.sh`, ...args], { env: { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: SUBNET }, timeout: 180_000, maxBuffer: 16 << 20 });
const alice = uniqueUser('sga');
const bob = uniqueUser('sgb');
const app = `httpd--${alice}`;
let manager: Engine;
let browser: Browser;
let server: RunnerServer;
let port: number;
const saved = loadConfig();

beforeAll(async () => {
  rmSync(SOCKETS, { recursive: true, force: true });
  await run('bash', [`${ROOT}scripts/build-connector-image.sh`]);
  await lab('up', '--nodes', '2');
  const l = JSON.parse(readFileSync(`${LAB}/facility.json`, 'utf8'));
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

/** The node (hostname) that runs the app's task, waiting for it to run. */
async function taskNode(): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const tasks = await manager.call<any[]>({ method: 'GET', path: '/tasks', query: { filters: JSON.stringify({ service: [app], 'desired-state': ['running'] }) }, statusCodes: { 200: true } });
    const t = tasks.find((x) => x.Status?.State === 'running');
    if (t) return (await manager.call<any>({ method: 'GET', path: `/nodes/${t.NodeID}`, statusCodes: { 200: true } })).Description.Hostname;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no running task');
}

describe('swarm: the gateway opens an app through its connector', () => {
  it('opens an app running on a worker in a browser; another user gets 403; kill-app removes the connector and the overlay', async () => {
    const created = await call('POST', `/swarmgw/create-app?image=${IMAGES.httpd}&user=${alice}`);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // place the task on the worker (the connector runs on the manager)
    const svc = await manager.call<any>({ method: 'GET', path: `/services/${app}`, statusCodes: { 200: true } });
    svc.Spec.TaskTemplate.Placement = { Constraints: ['node.role==worker'] };
    await manager.call({ method: 'POST', path: `/services/${svc.ID}/update`, query: { version: svc.Version.Index }, body: svc.Spec, statusCodes: { 200: true } });
    await expect.poll(taskNode, { timeout: 30_000 }).toBe('src-node2');

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
