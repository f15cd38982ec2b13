/**
 * The nginx server of the app gateway (deployment `gateway`): every request to an app's host
 * is authorized by the `authorize-app` function (`auth_request`), which answers where the app
 * is (`X-Src-Upstream`: `host:port`, or for a swarm app its connector's socket `unix:/path.sock:`,
 * which the variable `proxy_pass` takes as a Unix socket upstream; nginx's workers (`nobody`)
 * connect to the connector's 0600 socket owned by 65534), whether to strip the path prefix (`X-Src-Strip`) and the cookies to pass
 * on (`X-Src-Cookie`); nginx keeps that answer for `authCacheSeconds` per app host, path-mode app,
 * method, Upgrade, Origin, Sec-Fetch-Site and cookies (it depends on nothing else), then proxies to the app, HTTP and WebSocket (Upgrade headers),
 * unbuffered both ways. The ticket exchange (`…/_src/auth`) and refusals (401/403 from the
 * subrequest) are answered by the function itself: a cookie and redirect, or the refusal page
 * (HTML, or problem+json) with its real status.
 *
 * nginx authorizes a request once, so it cannot cut a WebSocket that stays open after its token
 * is revoked. With `websockets` set (the addresses of dist/serve-gateway.mjs processes), upgrade
 * requests go there instead: the same gateway as the runner's, which authorizes them itself and
 * re-checks open WebSockets every 2 s (closed within about 3 s of a revocation or delete).
 * Without it, a revoked token's pages stop at once, its open WebSockets at their next reconnect.
 *
 * @module
 */

/** The deployment's `gateway` object. */
export interface GatewayDeployment {
  /** nginx `server_name` of the apps: `*.apps.example.org` (subdomain mode) or the path-mode host. */
  serverName: string;
  /** `host:port` (default: the API's `listen`, told apart by `server_name`). */
  listen?: string;
  /** Largest request body to an app (nginx size, default `1g`; `0`: no limit). */
  maxBody?: string;
  /** How long a quiet proxied connection (a WebSocket) is kept, seconds (default 3600). */
  idleSeconds?: number;
  /** `host:port` of each gateway process (dist/serve-gateway.mjs) that takes the WebSocket upgrades. */
  websockets?: string[];
  /**
   * How long nginx keeps an `authorize-app` answer for the same app host (and path-mode app) and
   * the same cookies, seconds (default 1, as the runner's access cache; 0: ask every request).
   */
  authCacheSeconds?: number;
  /** Directory of that cache (default /var/cache/nginx/src-gateway-auth; nginx creates it). */
  authCacheDir?: string;
}

/** Checks the deployment's `gateway`. @throws Error naming the setting */
export function checkGateway(g: GatewayDeployment, deployed: string[]): void {
  if (!/^(\*\.)?[a-z0-9.-]+$|^~\S+$/i.test(g.serverName)) throw new Error(`gateway.serverName: ${JSON.stringify(g.serverName)} must be a host name, *.domain or ~regex`);
  if (g.maxBody !== undefined && !/^\d+[kmg]?$/i.test(g.maxBody)) throw new Error('gateway.maxBody: must be an nginx size such as 1g, 100m or 0');
  if (g.idleSeconds !== undefined && (!Number.isInteger(g.idleSeconds) || g.idleSeconds < 1)) throw new Error('gateway.idleSeconds: must be a whole number of seconds >= 1');
  if (!deployed.includes('authorize-app')) throw new Error('gateway: the authorize-app function must be deployed');
  if (g.authCacheSeconds !== undefined && (!Number.isInteger(g.authCacheSeconds) || g.authCacheSeconds < 0 || g.authCacheSeconds > 60))
    throw new Error('gateway.authCacheSeconds: must be a whole number of seconds from 0 to 60');
  if (g.authCacheDir !== undefined && !/^\/[^\s;{}'"]*$/.test(g.authCacheDir)) throw new Error('gateway.authCacheDir: must be an absolute path without spaces, quotes, braces or semicolons');
  if (g.websockets !== undefined) {
    if (!Array.isArray(g.websockets) || g.websockets.length === 0) throw new Error('gateway.websockets: must be a non-empty list of host:port');
    for (const a of g.websockets)
      if (typeof a !== 'string' || !/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(a)) throw new Error(`gateway.websockets: ${JSON.stringify(a)} is not host:port`);
  }
}

/** The gateway's maps and server block, for the http context. */
export function renderGateway(g: GatewayDeployment, apiListen: string, upstream: string): string[] {
  const o: string[] = [];
  const idle = g.idleSeconds ?? 3600;
  const cacheSeconds = g.authCacheSeconds ?? 1;
  o.push('# --- the app gateway ------------------------------------------------------------------');
  if (cacheSeconds > 0) o.push(`proxy_cache_path ${g.authCacheDir ?? '/var/cache/nginx/src-gateway-auth'} levels=1 keys_zone=src_gw_auth:1m max_size=16m inactive=10s use_temp_path=off;`);
  o.push('# Which app a request is for: its host, and in path mode its /apps/{facility}/{app}/ (the cache key).');
  o.push('map $request_uri $src_gw_app_prefix {');
  o.push('    ~^(?<p>/apps/[^/]+/[^/]+/) $p;');
  o.push("    default '';");
  o.push('}');
  o.push('# What the app is asked: the request URI, or without the path prefix when the function says strip (1).');
  o.push('map "$src_gw_strip$request_uri" $src_gw_uri {');
  o.push('    "~^1/apps/[^/]+/[^/]+(?<rest>/.*)$" $rest;');
  o.push('    "~^[01]?(?<all>.*)$" $all;');
  o.push('}');
  o.push('map $http_upgrade $src_gw_connection {');
  o.push('    default upgrade;');
  o.push("    '' '';");
  o.push('}');
  if (g.websockets) {
    o.push('upstream src_gateway_websockets {');
    for (const a of g.websockets) o.push(`    server ${a};`);
    o.push('}');
  }
  o.push('server {');
  o.push(`    listen ${g.listen ?? apiListen};`);
  o.push(`    server_name ${g.serverName};`);
  o.push('    server_tokens off;');
  o.push(`    client_max_body_size ${g.maxBody ?? '1g'};`);
  o.push('    proxy_http_version 1.1;');
  o.push('    proxy_buffering off;');
  o.push('    proxy_request_buffering off;');
  o.push('    proxy_connect_timeout 5s;');
  o.push(`    proxy_read_timeout ${idle}s;`);
  o.push(`    proxy_send_timeout ${idle}s;`);
  o.push('');
  o.push('    # The subrequest: the function answers 200 + X-Src-Upstream, or 401/403.');
  o.push('    location = /_src/authorize {');
  o.push('        internal;');
  o.push(`        proxy_pass http://${upstream};`);
  o.push('        proxy_pass_request_body off;');
  o.push('        proxy_set_header Content-Length "";');
  o.push('        proxy_set_header Connection "";');
  o.push('        proxy_set_header Host $http_host;');
  o.push('        proxy_set_header X-Original-URI $request_uri;');
  o.push('        proxy_set_header X-Src-Auth-Request 1;');
  o.push('        # a subrequest is a GET without Upgrade: the origin check needs the original method and Upgrade');
  o.push('        proxy_set_header X-Original-Method $request_method;');
  o.push('        proxy_set_header X-Src-Upgrade $http_upgrade;');
  o.push('        proxy_buffering on;');
  if (cacheSeconds > 0) {
    o.push(`        # one answer per app and cookies, for ${cacheSeconds} s (a revoked token or deleted app is refused within that)`);
    o.push('        proxy_cache src_gw_auth;');
    o.push('        proxy_cache_key "$http_host$src_gw_app_prefix|$request_method|$http_upgrade|$http_origin|$http_sec_fetch_site|$http_cookie";');
    o.push(`        proxy_cache_valid 200 ${cacheSeconds}s;`);
    o.push('        proxy_cache_lock on;');
    o.push('        proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires;');
  }
  o.push('    }');
  o.push('    # Refused: the function answers the page (HTML or problem+json) with the real status.');
  o.push('    location @src_gw_refused {');
  o.push(`        proxy_pass http://${upstream};`);
  o.push('        proxy_pass_request_body off;');
  o.push('        proxy_set_header Content-Length "";');
  o.push('        proxy_set_header Connection "";');
  o.push('        proxy_set_header Host $http_host;');
  o.push('        proxy_set_header Upgrade "";');
  o.push('        proxy_set_header X-Src-Upgrade $http_upgrade;');
  o.push('        proxy_set_header X-Src-Auth-Request "";');
  o.push('        proxy_set_header X-Original-URI "";');
  o.push('        proxy_set_header X-Original-Method "";');
  o.push('        proxy_buffering on;');
  o.push('    }');
  o.push('    # The ticket exchange (subdomain: /_src/auth; path mode: /apps/{facility}/{app}/_src/auth).');
  o.push('    location ~ /_src/auth$ {');
  o.push(`        proxy_pass http://${upstream};`);
  o.push('        proxy_set_header Connection "";');
  o.push('        proxy_set_header Host $http_host;');
  o.push("        # a client's own X-Src-Auth-Request would make this a subrequest (answering the app's upstream address)");
  o.push('        proxy_set_header X-Src-Auth-Request "";');
  o.push('        proxy_set_header X-Original-URI "";');
  o.push('        proxy_set_header X-Original-Method "";');
  o.push('        proxy_buffering on;');
  o.push('    }');
  if (g.websockets) {
    o.push('    # WebSocket upgrades: to the gateway processes, which authorize them and cut them on revocation.');
    o.push('    location @src_gw_websocket {');
    o.push('        proxy_pass http://src_gateway_websockets;');
    o.push('        proxy_set_header Host $http_host;');
    o.push('        proxy_set_header Upgrade $http_upgrade;');
    o.push('        proxy_set_header Connection $src_gw_connection;');
    o.push('        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    o.push('        proxy_set_header X-Forwarded-Proto $scheme;');
    o.push('    }');
  }
  o.push('    location / {');
  if (g.websockets) {
    // `return` runs in the rewrite phase, before auth_request's access phase
    o.push('        error_page 418 = @src_gw_websocket;');
    o.push("        if ($http_upgrade != '') { return 418; }");
  }
  o.push('        auth_request /_src/authorize;');
  o.push('        auth_request_set $src_gw_upstream $upstream_http_x_src_upstream;');
  o.push('        auth_request_set $src_gw_cookie $upstream_http_x_src_cookie;');
  o.push('        auth_request_set $src_gw_strip $upstream_http_x_src_strip; # 1: the app is asked without the path prefix (gateway.stripPrefix)');
  o.push('        error_page 401 403 = @src_gw_refused;');
  o.push('        proxy_pass http://$src_gw_upstream$src_gw_uri;');
  o.push('        proxy_set_header Host $http_host;');
  o.push('        proxy_set_header Cookie $src_gw_cookie; # without the gateway cookie');
  o.push('        proxy_set_header Upgrade $http_upgrade;');
  o.push('        proxy_set_header Connection $src_gw_connection;');
  o.push('        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  o.push('        proxy_set_header X-Forwarded-Proto $scheme;');
  o.push('        proxy_set_header X-Forwarded-Host $http_host;');
  o.push('    }');
  o.push('}');
  return o;
}
