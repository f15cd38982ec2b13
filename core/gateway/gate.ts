/**
 * The gateway's decision for one request, web-standard (the runner's embedded proxy and the
 * `authorize-app` function behind nginx share it):
 *
 * - `/_src/auth?ticket=T[&next=/path]` on an app's host (path mode: under its prefix) redeems a
 *   single-use ticket from `open-app` for a cookie valid on that host (or prefix) only:
 *   HttpOnly, SameSite=Lax, Secure under https, `gateway.cookieHours` long; then 303 to `next`.
 * - Any other request needs that cookie; the token it was issued for must still be live and
 *   allowed, and the app must exist and run (core/gateway/access.ts, cached at most 1 s).
 * - Refusals are an HTML page when the request accepts text/html, else problem+json.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import { asDomainError, errorResponse, problemBody, STATUS_OF } from '../http.ts';
import { loadConfig } from '../config.ts';
import { appAddress, gatewayTarget, type GatewayTarget } from './url.ts';
import { checkAccess } from './access.ts';
import { redeemTicket, signCookie, verifyCookie, type CookieGrant } from './session.ts';
import type { GatewaySettings } from './settings.ts';
import type { Upstream } from './upstream.ts';

/** The path (after the app's root) where tickets are exchanged for cookies. */
export const AUTH_PATH = '_src/auth';

/** Forward to `upstream` the request target `path` (path and query; without the prefix when `stripPrefix`), or answer `response`. */
export type GatewayDecision = { ok: true; upstream: Upstream; grant: CookieGrant; target: GatewayTarget; path: string } | { ok: false; response: Response };

/** The cookie name: `__Host-src_gw` under https in subdomain mode (host-only, Path=/), else `src_gw`. */
export function cookieName(s: GatewaySettings): string {
  return s.scheme === 'https' && s.mode === 'subdomain' ? '__Host-src_gw' : 'src_gw';
}

/**
 * Every value of cookie `name` in a `Cookie` header, in order. A browser sends several when
 * another host of the same parent domain (another app, in subdomain mode over http) set one with
 * `Domain=` the parent, or another path-mode app one with a longer `Path`.
 */
export function readCookies(header: string | null, name: string): string[] {
  const out: string[] = [];
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) out.push(part.slice(i + 1).trim());
  }
  return out;
}

/**
 * The grant of the first gateway cookie in `header` that verifies and is for the request's app
 * (`target`); `null` when none. A cookie tossed in by another app (another grant, or junk) is
 * passed over rather than signing the user out.
 */
async function grantFor(header: string | null, name: string, target: GatewayTarget): Promise<CookieGrant | null> {
  for (const value of readCookies(header, name).slice(0, 20)) {
    const g = await verifyCookie(value);
    if (g && sameApp(target, g)) return g;
  }
  return null;
}

/** A `Cookie` header without the gateway's cookie (the app never sees it); `undefined` when nothing is left. */
export function stripGatewayCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return header;
  const kept = header.split(';').filter((p) => p.split('=')[0].trim() !== name);
  return kept.length ? kept.join(';').trim() : undefined;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const HINTS: Partial<Record<string, string>> = {
  unauthorized: 'Open the app again from the dashboard, or ask the API for a new link (POST /{facility}/open-app?name=…).',
  forbidden: 'This app belongs to another user. Sign in as its owner.',
  app_not_found: 'The app does not exist (any more). Create it first.',
  state_conflict: 'Start the app, then reload this page.',
  app_unreachable: 'The app runs but does not answer on its port yet. Reload in a moment.',
};

/**
 * A refusal: an HTML page when `accept` names text/html, else problem+json; `Cache-Control: no-store`.
 */
export function refusal(err: unknown, accept: string | null): Response {
  const e = asDomainError(err);
  let res: Response;
  if (accept && /\btext\/html\b/i.test(accept)) {
    const body = problemBody(e);
    const status = STATUS_OF[e.code];
    const hint = HINTS[e.code] ?? '';
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} ${esc(String(body.title))}</title><meta name="viewport" content="width=device-width"></head><body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${esc(String(body.title))}</h1><p>${esc(e.detail)}</p><p>${esc(hint)}</p><p><small>${esc(e.code)} · ${status}</small></p></body></html>`;
    res = new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } });
    if (typeof e.extra.wwwAuthenticate === 'string') res.headers.set('www-authenticate', e.extra.wwwAuthenticate);
  } else {
    res = errorResponse(e);
  }
  res.headers.set('cache-control', 'no-store');
  return res;
}

function noCookie(): DomainError {
  return new DomainError('unauthorized', 'Not signed in to this app (no valid gateway cookie); open it through the API or the dashboard', { wwwAuthenticate: 'Bearer realm="src-container-api"' });
}

/** Resolves the target's facility and app name from the grant; in path mode they must be the path's. */
function sameApp(t: GatewayTarget, g: { facility: string; app: string; target: string }): boolean {
  if (g.target !== t.target) return false;
  return t.kind === 'label' || (t.facility === g.facility && t.name.toLowerCase() === g.app.toLowerCase());
}

/** Methods a browser sends cross-origin without CORS that change nothing (SameSite=Lax lets top-level GETs through). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `host[:port]` lowercase, without a trailing dot or the scheme's default port. */
function normalHost(host: string, scheme: string): string {
  const h = host.toLowerCase().replace(/\.(?=:\d+$|$)/, '');
  return h.replace(scheme === 'https:' ? /:443$/ : /:80$/, '');
}

/**
 * Refuses a WebSocket upgrade or a state-changing request (not GET, HEAD, OPTIONS) that a
 * browser sent from another origin: `Sec-Fetch-Site` `same-site` or `cross-site`, or an `Origin`
 * whose host is not the request's. All app hosts of a domain are one *site*, so SameSite=Lax
 * sends an app's cookie along with requests from every other app (and `new WebSocket()` has no
 * CORS): without this, another user's app page could drive this app's WebSocket (CSWSH) or post
 * to it as its user. Requests without `Origin` (non-browser clients) pass.
 * @throws DomainError `forbidden`
 */
function assertSameOrigin(headers: Headers, method: string, host: string): void {
  const upgrade = !!headers.get('upgrade');
  if (!upgrade && SAFE_METHODS.has(method.toUpperCase())) return;
  const site = headers.get('sec-fetch-site');
  const origin = headers.get('origin');
  let foreign = site === 'same-site' || site === 'cross-site';
  if (!foreign && origin !== null) {
    try {
      const o = new URL(origin);
      foreign = normalHost(o.host, o.protocol) !== normalHost(host, o.protocol);
    } catch {
      foreign = true; // `null` (sandboxed frames, opaque origins) or garbage
    }
  }
  if (foreign) {
    throw new DomainError('forbidden', `${upgrade ? 'A WebSocket' : `A ${method.toUpperCase()} request`} to this app from another origin (${(origin ?? site ?? '').slice(0, 100)}) is refused`);
  }
}

/**
 * Decides what to do with a request to the gateway.
 * @param url the request URL as the client sent it (host included)
 * @param headers the request's headers: `host`, `cookie`, `accept`, and for the origin check
 *   `origin`, `sec-fetch-site`, `upgrade`
 * @param method the request's method (`GET` when unknown)
 */
export async function decide(url: URL, headers: Headers, settings: GatewaySettings = loadConfig().gateway, method = 'GET'): Promise<GatewayDecision> {
  const accept = headers.get('accept');
  const host = headers.get('host') ?? url.host;
  const target = gatewayTarget(settings, host, url.pathname);
  try {
    if (!target) throw new DomainError('app_not_found', `No app is served at ${host}${url.pathname.slice(0, 100)}`);
    const root = target.kind === 'path' ? target.prefix : '/';
    if (url.pathname === `${root}${AUTH_PATH}`) return { ok: false, response: await exchange(url, headers, target, root, settings) };
    const grant = await grantFor(headers.get('cookie'), cookieName(settings), target);
    if (!grant) throw noCookie();
    assertSameOrigin(headers, method, host);
    const upstream = await checkAccess(grant.tokenId, grant.facility, grant.app, grant.onBehalfOf);
    const path = target.kind === 'path' && settings.stripPrefix ? `/${url.pathname.slice(target.prefix.length)}${url.search}` : `${url.pathname}${url.search}`;
    return { ok: true, upstream, grant, target, path };
  } catch (e) {
    return { ok: false, response: refusal(e, accept) };
  }
}

/**
 * `next` when it is a path on this app (open redirects refused), else the app's root. It is
 * resolved as a browser would (tabs and newlines dropped, `\\` as `/`, `..` and `%2e%2e`
 * applied) against this host; only a result on the same host and under `root` is kept, and then
 * in its resolved, percent-encoded form (path, query, fragment).
 */
export function nextPath(url: URL, root: string): string {
  const next = url.searchParams.get('next');
  if (!next?.startsWith('/') || /[\u0000-\u001f\u007f]/.test(next)) return root;
  let resolved: URL;
  try {
    resolved = new URL(next, url.origin);
  } catch {
    return root;
  }
  if (resolved.origin !== url.origin || !resolved.pathname.startsWith(root) || resolved.pathname.startsWith('//')) return root;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

/**
 * `/_src/auth`: redeems the ticket, sets the cookie, redirects to `next` (a path on this app).
 * A link opened again (its ticket used or expired) by a browser already signed in to this app,
 * with a token still live, just goes to the app (303, no new cookie); otherwise 401.
 */
async function exchange(url: URL, headers: Headers, target: GatewayTarget, root: string, s: GatewaySettings): Promise<Response> {
  const ticket = url.searchParams.get('ticket') ?? '';
  const grant = await redeemTicket(ticket);
  const location = nextPath(url, root);
  const noStore = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
  if (!grant || !sameApp(target, grant)) {
    const signedIn = await grantFor(headers.get('cookie'), cookieName(s), target);
    if (signedIn) {
      await checkAccess(signedIn.tokenId, signedIn.facility, signedIn.app, signedIn.onBehalfOf);
      return new Response(null, { status: 303, headers: { location, ...noStore } });
    }
    throw new DomainError('unauthorized', 'This link is used, expired or not for this app; open the app again (links work once, for about a minute)');
  }
  await checkAccess(grant.tokenId, grant.facility, grant.app, grant.onBehalfOf);
  const expires = Math.floor(Date.now() / 1000 + s.cookieHours * 3600);
  const value = await signCookie({ ...grant, expires });
  const attrs = [`${cookieName(s)}=${value}`, `Path=${root}`, `Max-Age=${Math.floor(s.cookieHours * 3600)}`, 'HttpOnly', 'SameSite=Lax', ...(s.scheme === 'https' ? ['Secure'] : [])];
  return new Response(null, {
    status: 303,
    headers: { location, 'set-cookie': attrs.join('; '), ...noStore },
  });
}

/** The URL that signs a browser in to an app with `ticket`: `<app url>_src/auth?ticket=…`. */
export async function ticketUrl(s: GatewaySettings, facility: string, name: string, ticket: string): Promise<string> {
  const a = await appAddress(s, facility, name);
  return `${a.url}${AUTH_PATH}?ticket=${ticket}`;
}
