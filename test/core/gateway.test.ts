/**
 * The gateway's pure parts and its database (no Engine): DNS labels of app names, the reverse
 * lookup from a request's host or path, the settings' start-up checks, tickets and cookies.
 */
import { describe, expect, it } from 'vitest';
import { appAddress, appLabel, gatewayTarget, isGatewayHost } from '../../core/gateway/url.ts';
import { resolveGateway } from '../../core/gateway/settings.ts';
import { issueTicket, redeemTicket, signCookie, verifyCookie } from '../../core/gateway/session.ts';
import { decide, nextPath, readCookies, stripGatewayCookie } from '../../core/gateway/gate.ts';

const sub = resolveGateway({ url: 'http://*.apps.localhost:8080/', admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test');
const path = resolveGateway({ url: 'https://apps.site.org/', apiHosts: ['api.site.org'], admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test');

describe('app labels', () => {
  it('are readable, at most 63 LDH characters, without "--", the same for any case of a name', async () => {
    const l = await appLabel('demo', 'httpd--alice');
    expect(l).toMatch(/^httpd-alice-demo-[a-z2-7]{10}$/);
    expect(await appLabel('demo', 'HTTPD--Alice')).toBe(l);
    const long = await appLabel('facility_with-a-long-name', `${'j'.repeat(30)}--${'u'.repeat(32)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    expect(long).not.toContain('--');
  });

  it('differ between facilities and between names that read alike', async () => {
    expect(await appLabel('demo', 'httpd--alice')).not.toBe(await appLabel('other', 'httpd--alice'));
    expect(await appLabel('demo', 'a_b--c')).not.toBe(await appLabel('demo', 'a-b--c'));
    const cut = `${'x'.repeat(60)}`;
    expect(await appLabel('demo', `${cut}--a`)).not.toBe(await appLabel('demo', `${cut}--b`));
  });
});

describe('addresses and the reverse lookup', () => {
  it('subdomain mode', async () => {
    const a = await appAddress(sub, 'demo', 'httpd--alice');
    expect(a.url).toBe(`http://${a.label}.apps.localhost:8080/`);
    expect(gatewayTarget(sub, `${a.label}.apps.localhost:8080`, '/x')).toMatchObject({ kind: 'label', label: a.label });
    expect(isGatewayHost(sub, '127.0.0.1:8080')).toBe(false);
    expect(gatewayTarget(sub, 'a.b.apps.localhost', '/')).toBeUndefined();
  });

  it('path mode', async () => {
    const a = await appAddress(path, 'demo', 'httpd--alice');
    expect(a.url).toBe('https://apps.site.org/apps/demo/httpd--alice/');
    expect(gatewayTarget(path, 'apps.site.org', '/apps/demo/httpd--alice/lab/tree')).toMatchObject({ facility: 'demo', name: 'httpd--alice', rest: '/lab/tree' });
    expect(gatewayTarget(path, 'api.site.org', '/apps/demo/httpd--alice/')).toBeUndefined();
  });

  it('path mode on the API host is refused at start', () => {
    expect(() => resolveGateway({ url: 'http://127.0.0.1:8080/', admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test')).toThrow(/host other than the API/);
    expect(() => resolveGateway({ url: 'https://api.site.org/', apiHosts: ['api.site.org'], admins: false, cookieHours: 8, ticketSeconds: 60 }, 'test')).toThrow(/host other than/);
  });
});

describe('tickets and cookies', () => {
  const grant = { facility: 'demo', app: 'httpd--alice', target: 'httpd-alice-demo-aaaaaaaaaa', tokenId: 'abcdefabcdef' };

  it('a ticket is redeemed once', async () => {
    const t = await issueTicket(grant, 60);
    expect(await redeemTicket(t)).toEqual(grant);
    expect(await redeemTicket(t)).toBeNull();
    expect(await redeemTicket('nonsense')).toBeNull();
  });

  it('an expired ticket is refused', async () => {
    const t = await issueTicket(grant, 0);
    expect(await redeemTicket(t)).toBeNull();
  });

  it('a cookie verifies; a changed or expired one does not', async () => {
    const c = await signCookie({ ...grant, expires: Math.floor(Date.now() / 1000) + 60 });
    expect(await verifyCookie(c)).toMatchObject(grant);
    const [body, sig] = c.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), a: 'httpd--bob' })).toString('base64url');
    expect(await verifyCookie(`${forged}.${sig}`)).toBeNull();
    expect(await verifyCookie(await signCookie({ ...grant, expires: Math.floor(Date.now() / 1000) - 1 }))).toBeNull();
  });

  it('the cookie header helpers', () => {
    expect(readCookies('a=1; src_gw=x.y; b=2', 'src_gw')).toEqual(['x.y']);
    expect(stripGatewayCookie('a=1; src_gw=x.y; b=2', 'src_gw')).toBe('a=1; b=2');
    expect(stripGatewayCookie('src_gw=x.y', 'src_gw')).toBeUndefined();
  });

  it('a request without a cookie is refused: HTML for browsers, problem+json otherwise', async () => {
    const label = await appLabel('demo', 'httpd--alice');
    const url = new URL(`http://${label}.apps.localhost:8080/`);
    const html = await decide(url, new Headers({ host: url.host, accept: 'text/html,*/*' }), sub);
    expect(html.ok).toBe(false);
    if (!html.ok) {
      expect(html.response.status).toBe(401);
      expect(html.response.headers.get('content-type')).toMatch(/^text\/html/);
    }
    const json = await decide(url, new Headers({ host: url.host, accept: 'application/json' }), sub);
    if (!json.ok) expect(await json.response.json()).toMatchObject({ code: 'unauthorized', status: 401 });
    // a cookie for another app's host does not open this one
    const other = await signCookie({ ...grant, target: 'elsewhere-demo-aaaaaaaaaa', expires: Math.floor(Date.now() / 1000) + 60 });
    const cross = await decide(url, new Headers({ host: url.host, cookie: `src_gw=${other}` }), sub);
    expect(cross.ok).toBe(false);
  });
});

describe('hostile pages and apps', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const notSignedIn = /Not signed in/;

  it('`next` after the ticket exchange never leaves the app (tab, backslash, scheme, `..` tricks)', () => {
    const at = (next: string, root = '/') => nextPath(new URL(`http://x.apps.localhost/_src/auth?next=${encodeURIComponent(next)}`), root);
    // browsers drop tabs and newlines in URLs: "/\t/evil.example" is "//evil.example", another host
    for (const evil of ['/\t/evil.example', '/\n/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/', '\t//evil.example', '/%2f%2fevil.example/..'])
      expect(new URL(at(evil), 'http://x.apps.localhost/').host, evil).toBe('x.apps.localhost');
    expect(at('/\t/evil.example')).toBe('/');
    expect(at('/lab/tree?a=1#top')).toBe('/lab/tree?a=1#top');
    // path mode: another app's prefix is not this app's, however it is spelled
    const root = '/apps/demo/httpd--alice/';
    for (const evil of ['/apps/demo/httpd--alice/../httpd--bob/', '/apps/demo/httpd--alice/%2e%2e/httpd--bob/', '/apps/demo/httpd--alice/\t/../../httpd--bob/'])
      expect(new URL(at(evil, root), 'https://apps.site.org/').pathname.startsWith(root), evil).toBe(true);
    expect(at('/apps/demo/httpd--alice/lab', root)).toBe('/apps/demo/httpd--alice/lab');
  });

  it("another app's cookie tossed onto the parent domain does not sign this app's user out", async () => {
    const label = await appLabel('demo', 'httpd--alice');
    const url = new URL(`http://${label}.apps.localhost:8080/`);
    const mine = await signCookie({ facility: 'demo', app: 'httpd--alice', target: label, tokenId: 'gbnotatoken1', expires: now() + 60 });
    const tossed = await signCookie({ facility: 'demo', app: 'evil--mallory', target: await appLabel('demo', 'evil--mallory'), tokenId: 'gbnotatoken2', expires: now() + 60 });
    for (const cookie of [`src_gw=${tossed}; src_gw=${mine}`, `src_gw=junk; src_gw=${mine}`]) {
      const d = await decide(url, new Headers({ host: url.host, cookie, accept: 'application/json' }), sub);
      expect(d.ok).toBe(false);
      // past the cookie: refused only because this test's token does not exist
      if (!d.ok) expect((await d.response.json()).detail).not.toMatch(notSignedIn);
    }
  });

  it('a WebSocket or a state-changing request from another app (same site, other origin) is refused', async () => {
    const label = await appLabel('demo', 'httpd--alice');
    const url = new URL(`http://${label}.apps.localhost:8080/echo`);
    const cookie = `src_gw=${await signCookie({ facility: 'demo', app: 'httpd--alice', target: label, tokenId: 'gbnotatoken3', expires: now() + 60 })}`;
    const evil = `http://${await appLabel('demo', 'evil--mallory')}.apps.localhost:8080`;
    const ask = async (extra: Record<string, string>, method = 'GET') => {
      const d = await decide(url, new Headers({ host: url.host, cookie, accept: 'application/json', ...extra }), sub, method);
      return d.ok ? { status: 200, code: 'ok' } : ((await d.response.json()) as { status: number; code: string });
    };
    // CSWSH: an upgrade whose Origin is another app's host
    expect(await ask({ upgrade: 'websocket', origin: evil })).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await ask({ upgrade: 'websocket', origin: 'null' })).toMatchObject({ status: 403 });
    expect(await ask({ origin: evil }, 'POST')).toMatchObject({ status: 403 });
    expect(await ask({ 'sec-fetch-site': 'same-site' }, 'DELETE')).toMatchObject({ status: 403 });
    expect(await ask({ upgrade: 'websocket', 'sec-fetch-site': 'same-site', origin: evil })).toMatchObject({ status: 403 });
    // the app's own pages, a navigation from elsewhere and non-browser clients pass on to the token check
    for (const [extra, method] of [
      [{ upgrade: 'websocket', origin: `http://${label}.apps.localhost:8080` }, 'GET'],
      [{ upgrade: 'websocket', origin: `http://${label.toUpperCase()}.apps.localhost:8080` }, 'GET'],
      [{ origin: `http://${label}.apps.localhost:8080`, 'sec-fetch-site': 'same-origin' }, 'POST'],
      [{ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }, 'GET'],
      [{ upgrade: 'websocket' }, 'GET'],
      [{}, 'PUT'],
    ] as const)
      expect(await ask(extra, method), JSON.stringify(extra)).toMatchObject({ status: 401 });
  });
});

describe('authorize-app (behind nginx)', () => {
  it("takes the original method and Upgrade from nginx's subrequest headers for the origin check", async () => {
    const { default: fn } = await import('../../functions/authorize-app.ts');
    const { loadConfig } = await import('../../core/config.ts');
    const s = loadConfig().gateway;
    const label = await appLabel('demo', 'httpd--alice');
    const host = `${label}.${s.domain}${s.portSuffix}`;
    const cookie = `${s.scheme === 'https' ? '__Host-src_gw' : 'src_gw'}=${await signCookie({ facility: 'demo', app: 'httpd--alice', target: label, tokenId: 'gbnotatoken4', expires: Math.floor(Date.now() / 1000) + 60 })}`;
    const evil = `${s.scheme}://${await appLabel('demo', 'evil--mallory')}.${s.domain}${s.portSuffix}`;
    const sub = (extra: Record<string, string>) =>
      fn.fetch(new Request('http://127.0.0.1/_src/authorize', { headers: { host, cookie, 'x-src-auth-request': '1', 'x-original-uri': '/echo', ...extra } })).then((r) => r.status);
    expect(await sub({ 'x-src-upgrade': 'websocket', origin: evil })).toBe(403);
    expect(await sub({ 'x-original-method': 'POST', origin: evil })).toBe(403);
    // same origin: past the origin check, refused only for this test's unknown token
    expect(await sub({ 'x-src-upgrade': 'websocket', origin: `${s.scheme}://${host}` })).toBe(401);
  });
});
