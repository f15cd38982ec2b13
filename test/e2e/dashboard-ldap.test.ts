/**
 * Dashboard sign-in with site credentials: a facility whose identity sources include a real
 * OpenLDAP directory (slapd, test/ldap-server.ts). The password is checked by a bind as the
 * user; a wrong one is refused; the session acts with a token minted for it (revoked at
 * sign-out); a user removed from the directory loses the session at the next page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { uniqueUser } from '../helpers.ts';
import { buildApp } from '../../wrangler-local/app.ts';
import { startServer, type RunnerServer } from '../../wrangler-local/server.ts';
import { loadConfig, parseConfig, setConfig } from '../../core/config.ts';
import { listTokens } from '../../core/auth.ts';
import { clearIdentityCache } from '../../core/user-identity.ts';
import { LDAP_SUFFIX, type LdapServer, posixUser, startLdap } from '../ldap-server.ts';

const carol = uniqueUser('uil');
const PASSWORD = 'carol-secret-1';
const saved = loadConfig();
let ldap: LdapServer;
let server: RunnerServer;
let base: string;
let browser: Browser;

beforeAll(async () => {
  ldap = await startLdap();
  await ldap.add(posixUser(carol, 54001, 54001).replace(/\n\n$/, `\nuserPassword: ${PASSWORD}\n\n`));
  const parsed = parseConfig(
    {
      facilities: {
        ldapui: {
          mode: 'solo',
          engine: { host: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' },
          publishHost: '127.0.0.1',
          policy: { identity: { ldap: { url: ldap.url, userBase: `ou=people,${LDAP_SUFFIX}` }, cacheSeconds: 0 } },
        },
      },
    },
    'dashboard ldap test',
  );
  setConfig({ ...saved, facilities: { ...saved.facilities, ldapui: parsed.facilities.ldapui } });
  server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', 0);
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  setConfig(saved);
  clearIdentityCache();
  await ldap?.stop();
});

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign in"):not(:has-text("token"))')]);
}

it('signs in with the directory password, refuses a wrong one, and ends when the user leaves the directory', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, carol, 'wrong');
  expect(await page.locator('.msg[data-kind=error]').textContent()).toContain('Wrong user name or password');
  // an empty password is never a sign-in (an unauthenticated bind), whatever the browser lets through
  const empty = await page.evaluate(async (u) => (await fetch('/ui/sign-in', { method: 'POST', body: new URLSearchParams({ username: u, password: '', facility: 'ldapui' }) })).status, carol);
  expect(empty).toBe(401);
  await signIn(page, carol, PASSWORD);
  expect(page.url()).toBe(`${base}/ui/ldapui/apps`);
  expect(await page.locator('[data-who]').textContent()).toContain(carol);
  const minted = (await listTokens()).filter((t) => t.user === carol && !t.revokedAt);
  expect(minted).toHaveLength(1);
  expect(Date.parse(minted[0].expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(8 * 3600_000); // no longer than the session

  // sign out revokes the session's token
  await Promise.all([page.waitForNavigation(), page.click('header button[type=submit]')]);
  expect((await listTokens()).filter((t) => t.user === carol && !t.revokedAt)).toHaveLength(0);

  // signed in again, then removed from the directory: the next page ends the session
  await signIn(page, carol, PASSWORD);
  expect(page.url()).toBe(`${base}/ui/ldapui/apps`);
  await ldap.remove(`uid=${carol},ou=people,${LDAP_SUFFIX}`);
  await page.goto(`${base}/ui/ldapui/images`);
  expect(page.url()).toBe(`${base}/ui/?why=ended`);
  expect((await listTokens()).filter((t) => t.user === carol && !t.revokedAt)).toHaveLength(0);
  await ctx.close();
}, 60_000);
