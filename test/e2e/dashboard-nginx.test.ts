/**
 * The dashboard deployed as its own function (dist/functions/ui.js on Node) behind nginx, in
 * Debian's chromium: sign in with a token, create, start, the app's page with live stats and
 * log (SSE through nginx), stop, delete, sign out. `E2E_RUNTIME=deno` serves the dashboard on Deno.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_TOKEN, removeUserApps, uniqueUser } from '../helpers.ts';
import { startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import { buildForTest, tokenCli } from './support.ts';
import { buildLogImage, removeLogImage } from '../log-image.ts';

const user = uniqueUser('uin');
const image = `src-test/uitick-${user}:latest`;
const app = `uitick-${user}--${user}`;
let d: LocalDeployment;
let dist: string;
let browser: Browser;
let token: string;

beforeAll(async () => {
  buildLogImage(image, 'trap "exit 0" TERM INT; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.3 & wait $!; done');
  ({ dist } = await buildForTest(['outline', 'ui']));
  d = await startLocalDeployment({ dist, functions: { outline: ['node'], ui: [process.env.E2E_RUNTIME === 'deno' ? 'deno' : 'node'] }, env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN } });
  token = (await tokenCli(d.dbUrl, ['mint', '--user', user])).match(/src_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/)![0];
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await removeUserApps(user);
  await d?.stop();
  if (dist) rmSync(dist, { recursive: true, force: true });
  removeLogImage(image);
}, 60_000);

async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

it('signs in, creates, starts, shows stats and log, stops, deletes and signs out through nginx', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  expect((await page.goto(`${d.url}/ui/`))?.status()).toBe(200);
  await page.fill('#token', token);
  await submit(page, 'button:has-text("Sign in with token")');
  expect(page.url()).toBe(`${d.url}/ui/demo/apps`);
  await page.selectOption('#create-image', { label: image });
  await submit(page, 'form[aria-labelledby="create-h"] button[type=submit]');
  expect(await page.locator('.msg[data-kind=ok]').textContent()).toContain(`Created ${app}`);
  await page.check(`input[name=name][value="${app}"]`);
  await submit(page, 'button[value=start]');
  expect(await page.locator(`tr[data-app="${app}"] [data-state]`).textContent()).toContain('running');
  await page.goto(`${d.url}/ui/demo/app?name=${app}`);
  await page.waitForFunction(() => /%/.test(document.querySelector('[data-cpu]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await page.waitForFunction(() => /tick-\d+\n.*tick-\d+/s.test(document.querySelector('pre.log')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await submit(page, 'button[value=stop]');
  expect(await page.locator('dd[data-state]').textContent()).toContain('exited');
  await submit(page, 'button[value=delete]');
  expect(await page.locator(`tr[data-app="${app}"]`).count()).toBe(0);
  await submit(page, 'header button[type=submit]');
  expect(page.url()).toBe(`${d.url}/ui/?why=out`);
  await ctx.close();
}, 120_000);
