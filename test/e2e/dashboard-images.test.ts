/**
 * Images in the dashboard with a real registry (scripts/registry.sh) behind a throttling proxy:
 * a user requests an image, an admin approves it, and the admin's page shows the pull's
 * progress live (the request table refreshes itself, no reload) until it is pulled; then the
 * user can create an app from it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeUserApps, uniqueUser } from '../helpers.ts';
import { buildImage, push, REG, removeImages, RUN, throttledProxy, useRegistries } from '../image-helpers.ts';
import { settlePulls } from '../../core/images/pull-worker.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { mintToken } from '../../core/auth.ts';

useRegistries();
const dave = uniqueUser('uii');
const REPO = `${RUN}/uipull`;
let proxy: Awaited<ReturnType<typeof throttledProxy>>;
let image = '';
let server: RunnerServer;
let base: string;
let browser: Browser;
let daveToken: string;
let adminToken: string;

beforeAll(async () => {
  buildImage(`${REG.open}/${REPO}:1`, 1536, 1536); // 3 MB of random layers
  await push(`${REG.open}/${REPO}`, '1');
  await removeImages(`${REG.open}/${REPO}:1`);
  proxy = await throttledProxy(5001, 512 * 1024); // a few seconds to pull
  image = `127.0.0.1:${proxy.port}/${REPO}:1`;
  server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', 0);
  base = `http://127.0.0.1:${server.port}`;
  daveToken = (await mintToken({ role: 'user', user: dave, name: 'dashboard images dave' })).token;
  adminToken = (await mintToken({ role: 'admin', name: 'dashboard images admin' })).token;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await settlePulls();
  await removeUserApps(dave);
  await server?.close();
  await proxy?.close();
  await removeImages(image);
}, 120_000);

async function signIn(token: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/ui/`);
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign in with token")')]);
  return page;
}

it('a user requests, an admin approves and watches the pull live, the user creates from it', async () => {
  const user = await signIn(daveToken);
  await user.goto(`${base}/ui/demo/images`);
  await user.fill('#req-image', image);
  await Promise.all([user.waitForNavigation(), user.click('button:has-text("Request")')]);
  expect(await user.locator('.msg[data-kind=ok]').textContent()).toContain('Requested');
  const row = (p: Page) => p.locator(`tr[data-image="${image}"]`);
  expect(await row(user).locator('[data-state]').textContent()).toBe('pending');

  const admin = await signIn(adminToken);
  await admin.goto(`${base}/ui/demo/images`);
  await Promise.all([admin.waitForNavigation(), row(admin).locator('button:has-text("Approve")').click()]);
  expect(await admin.locator('.msg[data-kind=ok]').textContent()).toContain('Approved');
  // the table refreshes itself: a partial progress, then pulled, without a reload
  const url = admin.url();
  await admin
    .waitForFunction(
      (img) => {
        const m = /layers (\d+)\/(\d+), (\d+) of/.exec(document.querySelector(`tr[data-image="${img}"] [data-progress]`)?.textContent ?? '');
        return !!m && Number(m[1]) < Number(m[2]) && Number(m[3]) > 0; // partway
      },
      image,
      {
        timeout: 30_000,
      },
    )
    .catch(async (e) => {
      throw new Error(`${e}: ${await admin.locator('#requests').innerHTML()}`);
    });
  await admin.waitForFunction((img) => document.querySelector(`tr[data-image="${img}"] [data-state]`)?.textContent === 'pulled', image, { timeout: 60_000 });
  expect(admin.url()).toBe(url);
  expect(await row(admin).locator('[data-progress]').textContent()).toMatch(/layers (\d)\/\1/);

  await user.goto(`${base}/ui/demo/apps`);
  await user.selectOption('#create-image', { label: image });
  await Promise.all([user.waitForNavigation(), user.click('form[aria-labelledby="create-h"] button[type=submit]')]);
  expect(await user.locator('.msg[data-kind=ok]').textContent()).toContain(`Created`);
}, 150_000);
