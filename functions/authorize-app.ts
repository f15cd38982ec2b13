/**
 * The app gateway's authorizer behind nginx (scripts/gen-nginx.ts, `gateway` in the
 * deployment): not a `/{facility}/{route}` route, but the function nginx asks about every
 * request to an app's host (core/gateway/gate.ts decides, as the runner's embedded gateway).
 *
 * - `auth_request` subrequests (header `X-Src-Auth-Request: 1`, the original URI in
 *   `X-Original-URI`, the app's `Host`): 200 with `X-Src-Upstream: host:port` (where nginx
 *   proxies to; for a swarm app its connector's socket, `unix:/path/app.sock:`, which nginx's
 *   variable `proxy_pass` reads as a Unix socket upstream), `X-Src-Strip` (`1`: nginx asks the app without the path prefix, under
 *   `gateway.stripPrefix`) and `X-Src-Cookie` (the request's cookies without the gateway's), or 401 / 403
 *   (nginx passes no other status; its `error_page` then asks again without the header). The
 *   answer depends only on the app (host, path-mode prefix), the cookies, and for the origin
 *   check (core/gateway/gate.ts) the method, Upgrade, Origin and Sec-Fetch-Site (nginx tells the
 *   method and Upgrade in `X-Original-Method` and `X-Src-Upgrade`: its subrequest is a GET
 *   without Upgrade): nginx caches it for about a second per those (scripts/nginx/gateway.ts).
 * - Plain requests (the ticket exchange `/_src/auth?ticket=…`, and refusals): the full answer,
 *   a 303 with the cookie, or the refusal page (HTML) or problem+json with its real status.
 */
import { cookieName, decide, stripGatewayCookie } from '../core/gateway/gate.ts';
import { loadConfig } from '../core/config.ts';

export default {
  async fetch(req: Request): Promise<Response> {
    const settings = loadConfig().gateway;
    const sub = req.headers.get('x-src-auth-request') === '1';
    const original = sub ? (req.headers.get('x-original-uri') ?? '/') : undefined;
    const url = new URL(original ?? new URL(req.url).pathname + new URL(req.url).search, `${settings.scheme}://${req.headers.get('host') ?? 'invalid'}`);
    // nginx's subrequest is a GET without Upgrade: it tells the original's (scripts/nginx/gateway.ts)
    const headers = new Headers(req.headers);
    headers.delete('upgrade');
    const upgrade = req.headers.get('x-src-upgrade'); // set by nginx (empty: none); from a client it only makes the check stricter
    if (upgrade) headers.set('upgrade', upgrade);
    const method = (sub ? req.headers.get('x-original-method') : null) ?? req.method;
    const d = await decide(url, headers, settings, method);
    if (!sub) return d.ok ? new Response(null, { status: 204 }) : d.response;
    if (!d.ok) return new Response(null, { status: d.response.status === 401 ? 401 : 403, headers: { 'cache-control': 'no-store' } });
    const u = d.upstream;
    const host = u.host.includes(':') ? `[${u.host}]` : u.host;
    return new Response(null, {
      status: 200,
      headers: {
        'x-src-upstream': u.socketPath ? `unix:${u.socketPath}:` : `${host}:${u.port}`,
        'x-src-strip': d.target.kind === 'path' && settings.stripPrefix ? '1' : '0',
        'x-src-cookie': stripGatewayCookie(req.headers.get('cookie') ?? undefined, cookieName(settings)) ?? '',
      },
    });
  },
};
