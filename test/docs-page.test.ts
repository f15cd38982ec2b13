/**
 * `/docs` renders the OpenAPI document offline: Debian's Chromium (playwright-core) loads the
 * page from the runner over real HTTP on loopback with every request to anywhere else refused,
 * and the page lists every route. Unit lane: no Engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { buildApp } from '../wrangler-local/app.ts';
import { routes } from '../functions/index.ts';

let server: ServerType;
let base: string;
let browser: Browser;

beforeAll(async () => {
  const app = buildApp({ log: false, rateLimit: 0 });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // playwright starts it with a new empty profile of its own
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

it('renders every route from /openapi.json with no request beyond loopback', async () => {
  const page = await browser.newPage();
  const refused: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    refused.push(url.href);
    return route.abort('blockedbyclient');
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const res = await page.goto(`${base}/docs`);
  expect(res?.status()).toBe(200);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  const paths = await page.locator('summary code.path').allTextContents();
  for (const r of routes) expect(paths).toContain(`/{facility}/${r.meta.route}`);
  expect(await page.locator('#schema-ContainerStatus td code').allTextContents()).toContain('RunningFor');
  // an operation opens to its parameters and answers
  await page.locator('#op-startApp > summary').click();
  expect(await page.locator('#op-startApp').textContent()).toContain('wrong_mode');
  expect(errors).toEqual([]);
  expect(refused).toEqual([]);
});
