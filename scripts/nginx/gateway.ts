/**
 * The nginx server of the app gateway (deployment `gateway`): every request to an app's host
 * is authorized by the `authorize-app` function (`auth_request`), which answers where the app
 * is (`X-Src-Upstream`: `host:port`, or for a swarm app its connector's socket `unix:/path.sock:`,
 * which the variable `proxy_pass` below takes as a Unix socket upstream; checked with nginx 1.22,
 * whose workers (`nobody`) connect to the connector's 0600 socket owned by 65534); nginx then proxies to it, HTTP and WebSocket (Upgrade headers),
 * unbuffered both ways. The ticket exchange (`…/_src/auth`) and refusals (401/403 from the
 * subrequest) are answered by the function itself: a cookie and redirect, or the refusal page
 * (HTML, or problem+json) with its real status.
 *
 * Unlike the runner's embedded gateway, nginx does not re-check open WebSockets: a revoked
 * token's pages stop at once, its open WebSockets at their next reconnect.
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
}

/** Checks the deployment's `gateway`. @throws Error naming the setting */
export function checkGateway(g: GatewayDeployment, deployed: string[]): void {
  if (!/^(\*\.)?[a-z0-9.-]+$|^~\S+$/i.test(g.serverName)) throw new Error(`gateway.serverName: ${JSON.stringify(g.serverName)} must be a host name, *.domain or ~regex`);
  if (g.maxBody !== undefined && !/^\d+[kmg]?$/i.test(g.maxBody)) throw new Error('gateway.maxBody: must be an nginx size such as 1g, 100m or 0');
  if (g.idleSeconds !== undefined && (!Number.isInteger(g.idleSeconds) || g.idleSeconds < 1)) throw new Error('gateway.idleSeconds: must be a whole number of seconds >= 1');
  if (!deployed.includes('authorize-app')) throw new Error('gateway: the authorize-app function must be deployed');
}

/** The gateway's maps and server block, for the http context. */
export function renderGateway(g: GatewayDeployment, apiListen: string, upstream: string): string[] {
  const o: string[] = [];
  const idle = g.idleSeconds ?? 3600;
  o.push('# --- the app gateway ------------------------------------------------------------------');
  o.push('map $http_upgrade $src_gw_connection {');
  o.push('    default upgrade;');
  o.push("    '' '';");
  o.push('}');
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
  o.push('        proxy_buffering on;');
  o.push('    }');
  o.push('    # Refused: the function answers the page (HTML or problem+json) with the real status.');
  o.push('    location @src_gw_refused {');
  o.push(`        proxy_pass http://${upstream};`);
  o.push('        proxy_pass_request_body off;');
  o.push('        proxy_set_header Content-Length "";');
  o.push('        proxy_set_header Connection "";');
  o.push('        proxy_set_header Host $http_host;');
  o.push('        proxy_set_header Upgrade "";');
  o.push('        proxy_buffering on;');
  o.push('    }');
  o.push('    # The ticket exchange (subdomain: /_src/auth; path mode: /apps/{facility}/{app}/_src/auth).');
  o.push('    location ~ /_src/auth$ {');
  o.push(`        proxy_pass http://${upstream};`);
  o.push('        proxy_set_header Connection "";');
  o.push('        proxy_set_header Host $http_host;');
  o.push('        proxy_buffering on;');
  o.push('    }');
  o.push('    location / {');
  o.push('        auth_request /_src/authorize;');
  o.push('        auth_request_set $src_gw_upstream $upstream_http_x_src_upstream;');
  o.push('        auth_request_set $src_gw_cookie $upstream_http_x_src_cookie;');
  o.push('        auth_request_set $src_gw_uri $upstream_http_x_src_uri; # the request URI, or without the path prefix (gateway.stripPrefix)');
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
