/**
 * The dashboard (/ui/) in a real browser: Debian's chromium driven by playwright-core, against
 * the runner over HTTP on loopback (embedded gateway included).
 *
 * - one whole flow by keyboard alone: sign in with a token, create, start, open through the
 *   gateway, the app's page with its log, stop, delete, sign out;
 * - axe-core finds no serious or critical issue on any view (admin and user);
 * - a user sees only their own apps and cannot act on another's (the API's 403 shown as an error);
 * - a batch with a failed item shows the failure, never success;
 * - a revoked token ends the session; a forged POST without the CSRF token is refused;
 * - images: a user requests, an admin approves, the state shows.
 * Screenshots of each view go to .tmp/dashboard-shots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_TOKEN, call, createApp, removeUserApps, uniqueUser } from '../helpers.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { freePort } from '../../scripts/local-deploy.ts';
import { loadConfig, setConfig } from '../../core/config.ts';
import { resolveGateway } from '../../core/gateway/settings.ts';
import { mintToken, revokeToken } from '../../core/auth.ts';
import { buildLogImage, removeLogImage } from '../log-image.ts';
import { runUptimeJob } from '../../core/uptime-job.ts';

const CHROMIUM = '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SHOTS = '.tmp/dashboard-shots';
const alice = uniqueUser('uia');
const bob = uniqueUser('uib');
const app = `httpd--${alice}`;
const bobApp = `busybox--${bob}`;
const tickImage = `src-test/uitick-${alice}:latest`;
const tickApp = `uitick-${alice}--${alice}`;

let browser: Browser;
let server: RunnerServer;
let base: string;
let aliceToken: string;
let bobToken: string;
const saved = loadConfig();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (scripts/ensure-test-deps.sh)`);
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  setConfig({ ...saved, gateway: resolveGateway({ url: `http://*.apps.localhost:${port}/`, admins: false, cookieHours: 8, ticketSeconds: 60 }, 'dashboard test') });
  server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', port);
  base = `http://127.0.0.1:${port}`;
  aliceToken = (await mintToken({ role: 'user', user: alice, name: 'dashboard test alice' })).token;
  bobToken = (await mintToken({ role: 'user', user: bob, name: 'dashboard test bob' })).token;
  await createApp('src-test/busybox:latest', bob);
  buildLogImage(tickImage, 'trap "exit 0" TERM INT; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.3 & wait $!; done');
  await createApp(tickImage, alice);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  setConfig(saved);
  await removeUserApps(alice, bob);
  removeLogImage(tickImage);
}, 60_000);

/** Presses Tab until the focused element matches `selector` (at most 120 times). */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Serious and critical axe-core violations of the page. */
async function axeProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await (window as any).axe.run(document, { resultTypes: ['violations'] })).violations);
  return (violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function signIn(ctx: BrowserContext, token: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${base}/ui/`);
  await page.fill('#token', token);
  await page.click('button:has-text("Sign in with token")');
  await page.waitForURL(/\/ui\/demo\/apps$/);
  return page;
}

/** Does `act` and waits for the page it leads to (a form's 303 lands on the same URL). */
async function navigates(page: Page, act: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForNavigation(), act()]);
}

/** Signs in with `token` in a new context; answers the page it lands on (any facility). */
async function signIn2(token: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/ui/`);
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign in with token")')]);
  return page;
}

function flash(page: Page, kind: 'ok' | 'error') {
  return page.locator(`.msg[data-kind="${kind}"]`);
}

describe('dashboard through the runner', () => {
  it('one whole flow by keyboard alone: sign in, create, start, open, log, stop, delete, sign out', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/ui/`);
    await tabTo(page, '#token');
    await page.keyboard.type(aliceToken);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/demo\/apps$/);
    await expect(page.locator('[data-who]').textContent()).resolves.toContain(alice);
    // cookie: HttpOnly, SameSite=Strict, path /ui
    const cookie = (await ctx.cookies()).find((c) => c.name === 'src_ui')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });

    await tabTo(page, '#create-image');
    await page.keyboard.type('src-test/httpd');
    expect(await page.locator('#create-image').inputValue()).toContain('src-test/httpd');
    await tabTo(page, 'form[aria-labelledby="create-h"] button[type=submit]');
    await navigates(page, () => page.keyboard.press('Enter'));
    await expect(flash(page, 'ok').textContent()).resolves.toContain(`Created ${app}`);
    await page.screenshot({ path: `${SHOTS}/apps.png`, fullPage: true });

    await tabTo(page, `input[name=name][value="${app}"]`);
    await page.keyboard.press('Space');
    await tabTo(page, 'button[value=start]');
    await navigates(page, () => page.keyboard.press('Enter'));
    await expect(flash(page, 'ok').textContent()).resolves.toContain('start: done');
    await expect(page.locator(`tr[data-app="${app}"] [data-state]`).textContent()).resolves.toContain('running');

    // the app's page: live stats and log
    await tabTo(page, `a[href*="app?name=${app}"]`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/app\?name=/);
    await page.waitForFunction(() => /%/.test(document.querySelector('[data-cpu]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    await expect(page.locator('#log-state').textContent()).resolves.toContain('Following');
    await expect(page.locator('.chart [data-ratio]').count()).resolves.toBe(1);
    await page.screenshot({ path: `${SHOTS}/app.png`, fullPage: true });

    // open through the gateway (a new page in the same context, so the app page stays)
    await tabTo(page, 'button[formaction*="/open?name="]');
    await Promise.all([page.waitForURL(/apps\.localhost/), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).hostname).toMatch(/\.apps\.localhost$/);
    expect(await page.textContent('h1')).toBe('src-test httpd');
    await page.goBack();
    await page.goto(`${base}/ui/demo/app?name=${app}`);

    await tabTo(page, 'button[value=stop]');
    await navigates(page, () => page.keyboard.press('Enter'));
    await expect(flash(page, 'ok').textContent()).resolves.toContain('stop: done');
    await expect(page.locator('dd[data-state]').textContent()).resolves.toContain('exited');

    await tabTo(page, 'button[value=delete]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/demo\/apps$/);
    await expect(flash(page, 'ok').textContent()).resolves.toContain('delete: done');
    expect(await page.locator(`tr[data-app="${app}"]`).count()).toBe(0);

    await tabTo(page, 'header button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/\?why=out$/);
    expect((await ctx.cookies()).find((c) => c.name === 'src_ui')).toBeUndefined();
    await ctx.close();
  }, 120_000);

  it('start, pause, unpause show each state; stats and the log update live; the uptime chart shows its windows', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, aliceToken);
    const state = () => page.locator(`tr[data-app="${tickApp}"] [data-state]`).textContent();
    for (const [action, want] of [
      ['start', 'running'],
      ['pause', 'paused'],
      ['unpause', 'running'],
    ] as const) {
      await page.check(`input[name=name][value="${tickApp}"]`);
      await navigates(page, () => page.click(`button[value=${action}]`));
      await expect(flash(page, 'ok').textContent()).resolves.toContain(`${action}: done`);
      await expect(state()).resolves.toContain(want);
    }
    // stats: the table's cells fill in and refresh
    await page.waitForFunction((n) => /%/.test(document.querySelector(`tr[data-app="${n}"] [data-cpu]`)?.textContent ?? ''), tickApp, { timeout: 20_000 });
    const first = await page.locator('table[data-stats]').getAttribute('data-updated');
    await page.waitForFunction((f) => document.querySelector('table[data-stats]')?.getAttribute('data-updated') !== f, first, { timeout: 20_000 });
    // the log grows while we watch
    await page.goto(`${base}/ui/demo/app?name=${tickApp}`);
    await page.waitForFunction(() => /tick-\d+/.test(document.querySelector('pre.log')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const n = (await page.locator('pre.log').textContent())!.split('\n').length;
    await page.waitForFunction((k) => (document.querySelector('pre.log')?.textContent ?? '').split('\n').length > k + 2, n, { timeout: 20_000 });
    // the uptime job records the app (as the runner's schedule would): running, the rest unknown
    await runUptimeJob({ facilities: ['demo'] });
    await new Promise((r) => setTimeout(r, 1500)); // a second run: a recorded interval between the two
    const report = await runUptimeJob({ facilities: ['demo'] });
    expect(report.facilities[0].outcome, JSON.stringify(report)).toBe('recorded');
    for (const d of ['hour', 'day', 'week', 'month']) {
      await page.goto(`${base}/ui/demo/app?name=${tickApp}&duration=${d}`);
      await expect(page.locator('.chart [data-ratio]').textContent()).resolves.toMatch(/^(\d+\.\d%|unknown)$/);
      expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(0);
      expect(await page.locator('.chart svg rect[data-state=running]').count()).toBeGreaterThan(0);
      await expect(page.locator('.chart').textContent()).resolves.toContain('unknown');
    }
    await page.screenshot({ path: `${SHOTS}/app-uptime.png`, fullPage: true });
    await ctx.close();
  }, 120_000);

  it('axe-core finds no serious or critical issue on any view, admin and user; 360 px has no horizontal scroll', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 800 }, bypassCSP: true }); // CSP would refuse the injected axe script
    const anon = await ctx.newPage();
    await anon.goto(`${base}/ui/`);
    expect(await axeProblems(anon)).toEqual([]);
    await anon.screenshot({ path: `${SHOTS}/sign-in.png` });
    const page = await signIn(ctx, ADMIN_TOKEN);
    // no view asks for anything that fails (a missing asset or script)
    const failed: string[] = [];
    ctx.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    for (const view of ['apps', `app?name=${bobApp}`, 'images', 'nodes', 'audit', 'tokens']) {
      await page.goto(`${base}/ui/demo/${view}`);
      expect(await axeProblems(page), view).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${view} scrolls sideways`).toBe(true);
      await page.screenshot({ path: `${SHOTS}/admin-${view.replace(/\W.*/, '')}.png`, fullPage: true });
    }
    const user = await signIn(await browser.newContext({ bypassCSP: true }), bobToken);
    for (const view of ['apps', 'images', 'tokens']) {
      await user.goto(`${base}/ui/demo/${view}`);
      expect(await axeProblems(user), view).toEqual([]);
    }
    expect(failed).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('a user sees only their own apps and cannot act on another user’s; a 207 shows its failures', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, aliceToken);
    expect(await page.locator(`tr[data-app="${bobApp}"]`).count()).toBe(0);
    // a forged checkbox for bob's app: the API's 403 comes back as an error
    await page.evaluate((n) => {
      const i = document.createElement('input');
      i.type = 'checkbox';
      i.name = 'name';
      i.value = n;
      i.checked = true;
      document.getElementById('apps-form')!.appendChild(i);
    }, bobApp);
    await navigates(page, () => page.click('button[value=start]'));
    await expect(flash(page, 'error').textContent()).resolves.toContain(`does not belong to user '${alice}'`);
    expect(await flash(page, 'ok').count()).toBe(0);
    // admin: one existing app and one missing: 207, shown as a failure
    const admin = await signIn(await browser.newContext(), ADMIN_TOKEN);
    await admin.check(`input[name=name][value="${bobApp}"]`);
    await admin.evaluate(() => {
      const i = document.createElement('input');
      i.type = 'hidden';
      i.name = 'name';
      i.value = 'nothere--nobody';
      document.getElementById('apps-form')!.appendChild(i);
    });
    await navigates(admin, () => admin.click('button[value=stop]'));
    await expect(flash(admin, 'error').textContent()).resolves.toContain('1 of 2 failed');
    await expect(flash(admin, 'error').textContent()).resolves.toContain('nothere--nobody');
    expect(await flash(admin, 'ok').count()).toBe(0);
    await ctx.close();
  }, 120_000);

  it('audit log (admins): filtered by route and outcome; a user has no audit page', async () => {
    const admin = await signIn(await browser.newContext(), ADMIN_TOKEN);
    await admin.goto(`${base}/ui/demo/audit?route=start-app&failed=true&user=${bob}`); // alice's forged start on bob's app
    const routes = await admin.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(routes.length).toBeGreaterThan(0);
    expect(new Set(routes)).toEqual(new Set(['start-app']));
    const statuses = await admin.locator('tbody tr td:nth-child(6)').allTextContents();
    expect(statuses.every((x) => Number(x) >= 400)).toBe(true);
    const user = await signIn(await browser.newContext(), aliceToken);
    expect(await user.locator('nav a[href$="/audit"]').count()).toBe(0);
    const r = await user.goto(`${base}/ui/demo/audit`);
    expect(r?.status()).toBe(403);
    await expect(user.locator('.msg.error').textContent()).resolves.toContain('admins only');
  }, 60_000);

  it('a revoked token ends the session; a POST without the CSRF token is refused', async () => {
    const t = await mintToken({ role: 'user', user: bob, name: 'dashboard revoke test' });
    const ctx = await browser.newContext();
    const page = await signIn(ctx, t.token);
    const forged = await page.evaluate(async () => (await fetch('/ui/demo/apps/action', { method: 'POST', body: new URLSearchParams({ action: 'stop', name: 'x--y' }) })).status);
    expect(forged).toBe(403);
    // an admin token limited to another facility does not reach this one's pages
    const limited = await mintToken({ role: 'admin', name: 'dashboard limited admin', facilities: ['other'] });
    const lp = await signIn2(limited.token);
    expect(lp.url()).toBe(`${base}/ui/other/apps`);
    expect((await lp.goto(`${base}/ui/demo/apps`))?.status()).toBe(404);
    await revokeToken(t.record.id);
    await page.goto(`${base}/ui/demo/apps`);
    expect(page.url()).toMatch(/\/ui\/\?why=ended$/);
    await expect(flash(page, 'error').textContent()).resolves.toContain('session ended');
    await ctx.close();
  }, 60_000);

  it('tokens: a user mints one (shown once) and revokes it', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, bobToken);
    await page.goto(`${base}/ui/demo/tokens`);
    await page.fill('#tok-name', 'ui minted');
    await page.click('button:has-text("Mint a token")');
    const minted = await page.locator('[data-minted]').inputValue();
    expect((await call('GET', '/demo/get-app-names', { token: minted })).status).toBe(200);
    await page.goto(`${base}/ui/demo/tokens`);
    await navigates(page, () => page.click('button[aria-label="Revoke ui minted"]'));
    await expect(flash(page, 'ok').textContent()).resolves.toContain('Revoked ui minted');
    expect((await call('GET', '/demo/get-app-names', { token: minted })).status).toBe(401);
    await ctx.close();
  }, 60_000);

  it('images: a user requests, an admin denies with a reason and the user sees it', async () => {
    const image = `nonexistent-${alice}:1`;
    const userPage = await signIn(await browser.newContext(), aliceToken);
    await userPage.goto(`${base}/ui/demo/images`);
    await userPage.fill('#req-image', image);
    await navigates(userPage, () => userPage.click('button:has-text("Request")'));
    await expect(flash(userPage, 'ok').textContent()).resolves.toContain('Requested');
    expect(await userPage.locator('button:has-text("Approve")').count()).toBe(0);
    const admin = await signIn(await browser.newContext(), ADMIN_TOKEN);
    await admin.goto(`${base}/ui/demo/images`);
    const row = admin.locator(`tr[data-image="${image}"]`);
    await row.locator('input[name=reason]').fill('not here');
    await navigates(admin, () => row.locator('button:has-text("Deny")').click());
    await expect(flash(admin, 'ok').textContent()).resolves.toContain('Denied');
    await userPage.reload();
    await expect(userPage.locator(`tr[data-image="${image}"] [data-state]`).textContent()).resolves.toBe('denied');
    await expect(userPage.locator(`tr[data-image="${image}"]`).textContent()).resolves.toContain('not here');
  }, 60_000);
});
