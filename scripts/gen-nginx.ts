/**
 * Generates the nginx configuration that puts the function bundles behind one address:
 *
 * - `/{facility}/{route}` -> the route's upstream (one or more replicas, round robin, keep-alive,
 *   a replica that refuses connections is skipped);
 * - `GET /` -> the `outline` function;
 * - an unknown route -> the same 404 problem+json as the runner (`code: unknown_route`), written
 *   by nginx itself; paths it cannot quote verbatim (dot segments, characters the URL parser
 *   would re-encode) go to the `outline` function, which answers the runner's 404 with the
 *   runner's own code;
 * - oversized requests -> problem+json instead of nginx's HTML pages: URL > 8 KiB (414), one
 *   header line > 8 KiB or all headers > 32 KiB (431), body > 64 KiB (413, as the runner);
 *   malformed requests (400); a function nobody answers for (502/504 `function_unavailable`);
 * - per-route rate limits (`limit_req`, 429 `rate_limited` with `Retry-After`), keyed like the
 *   runner's: the token's ID (never the secret), else the client address.
 *
 * Input: a deployment description (JSON, `--deployment FILE`) or the same through arguments:
 *
 *   {
 *     "listen": "127.0.0.1:8080",
 *     "functions": { "outline": "127.0.0.1:9100", "get-users": ["127.0.0.1:9101", "127.0.0.1:9102"] },
 *     "rateLimit": { "rate": "600r/m", "burst": 100, "routes": { "create-app": { "rate": "60r/m", "burst": 10 } } },
 *     "maxBodyBytes": 65536,
 *     "proxyTimeoutSeconds": 300
 *   }
 *
 *   npx tsx scripts/gen-nginx.ts --deployment deploy.json > /etc/nginx/conf.d/src-api.conf
 *   npx tsx scripts/gen-nginx.ts --listen 127.0.0.1:8080 --fn outline=127.0.0.1:9100 \
 *     --fn get-users=127.0.0.1:9101,127.0.0.1:9102 --rate 600r/m --burst 100 --rate-for create-app=60r/m:10
 *
 * By default the output is http-context configuration (upstreams, maps, zones, one server)
 * for an `include` such as Debian's /etc/nginx/conf.d/. `--full --prefix DIR` writes a
 * complete nginx.conf whose pid, logs and temp files live under DIR (`nginx -p DIR -c …`),
 * e.g. for an unprivileged nginx or the end-to-end test. `--manifest dist/functions/manifest.json`
 * (default when it exists) maps function names to routes and warns about routes left out.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A rate limit: nginx rate (`600r/m`, `10r/s`) and burst (requests queued beyond it, served at once). */
export interface RateLimit {
  rate: string;
  burst?: number;
}

/** What gets deployed where. */
export interface Deployment {
  /** `host:port` nginx listens on (default 127.0.0.1:8080). */
  listen?: string;
  /** Function name (dist/functions/<name>.js) -> its replicas' `host:port`. */
  functions: Record<string, string | string[]>;
  /** Default per-route limit (default 600r/m, burst 100, per token) and per-route overrides. */
  rateLimit?: RateLimit & { routes?: Record<string, RateLimit> };
  /** Largest request body (default 65536, as the runner). */
  maxBodyBytes?: number;
  /** How long nginx waits for a function's answer (default 300 s: create-app may pull an image). */
  proxyTimeoutSeconds?: number;
  /** `server_name` (default `_`). */
  serverName?: string;
}

/** Options of {@link generateNginxConfig}. */
export interface GenerateOptions {
  /** Complete nginx.conf (main context) instead of an http-context include. */
  full?: boolean;
  /** With `full`: directory for pid, logs and temp files (absolute). */
  prefix?: string;
  /** With `full`: `daemon off;` (run in the foreground, e.g. under systemd or a test). */
  foreground?: boolean;
  /** With `full`: worker processes (default 1). */
  workers?: number | 'auto';
  /** Function name -> route, from dist/functions/manifest.json (default: name = route). */
  routeOf?: Record<string, string | undefined>;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const ADDR_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$|^unix:\/[^\s;{}'"]+$/;
const RATE_RE = /^\d+r\/[sm]$/;

/** The problem+json body the proxy itself answers with (same shape as core/errors.ts). */
function problem(status: number, title: string, code: string, detail: string): string {
  const body = JSON.stringify({ type: `https://src-container-api.dev/errors/${code}`, title, status, code, detail });
  if (body.includes("'")) throw new Error(`internal: quote in proxy problem ${code}`);
  return `'${body}'`;
}

function upstreamName(fn: string): string {
  return `src_fn_${fn.replace(/-/g, '_')}`;
}

function checkRate(where: string, r: RateLimit): void {
  if (!RATE_RE.test(r.rate)) throw new Error(`${where}: rate ${JSON.stringify(r.rate)} must look like 600r/m or 10r/s`);
  if (r.burst !== undefined && (!Number.isInteger(r.burst) || r.burst < 0)) throw new Error(`${where}: burst must be an integer >= 0`);
}

/**
 * Renders the configuration.
 * @throws Error naming the first invalid setting (unknown address form, bad rate, no outline)
 */
export function generateNginxConfig(dep: Deployment, opts: GenerateOptions = {}): string {
  const listen = dep.listen ?? '127.0.0.1:8080';
  if (!ADDR_RE.test(listen)) throw new Error(`listen: ${JSON.stringify(listen)} must be host:port`);
  const maxBody = dep.maxBodyBytes ?? 65536;
  const timeout = dep.proxyTimeoutSeconds ?? 300;
  const defRate: RateLimit = { rate: dep.rateLimit?.rate ?? '600r/m', burst: dep.rateLimit?.burst ?? 100 };
  checkRate('rateLimit', defRate);

  const fns = Object.entries(dep.functions).map(([name, addrs]) => {
    if (!NAME_RE.test(name)) throw new Error(`functions: ${JSON.stringify(name)} is not a function name`);
    const list = (Array.isArray(addrs) ? addrs : [addrs]).map((a) => a.trim()).filter(Boolean);
    if (list.length === 0) throw new Error(`functions.${name}: no replica address`);
    for (const a of list) if (!ADDR_RE.test(a)) throw new Error(`functions.${name}: ${JSON.stringify(a)} must be host:port or unix:/path`);
    if (opts.routeOf && !(name in opts.routeOf)) throw new Error(`functions.${name}: no such function in the build manifest`);
    const route = name === 'outline' ? undefined : opts.routeOf ? opts.routeOf[name] : name;
    if (name !== 'outline' && !route) throw new Error(`functions.${name}: serves no HTTP route (a job runs without the proxy)`);
    return { name, route, addrs: list };
  });
  if (!fns.some((f) => f.name === 'outline')) throw new Error('functions: the outline function (GET /, and the catch-all for odd paths) must be deployed');
  for (const r of Object.keys(dep.rateLimit?.routes ?? {})) {
    if (!fns.some((f) => f.route === r)) throw new Error(`rateLimit.routes.${r}: no deployed function serves that route`);
    checkRate(`rateLimit.routes.${r}`, dep.rateLimit!.routes![r]);
  }
  const routed = fns.filter((f) => f.route);
  const limitOf = (route: string): RateLimit => ({ ...defRate, ...(dep.rateLimit?.routes?.[route] ?? {}) });

  const o: string[] = [];
  o.push('# Generated by scripts/gen-nginx.ts; edit the deployment description and regenerate.');
  o.push('');
  o.push('# --- request facts used below ---------------------------------------------------------');
  o.push('# The path as sent (before nginx decodes or merges anything), as the runner reports it.');
  o.push('map $request_uri $src_path {');
  o.push('    "~^(?<p>[^?]*)" $p;');
  o.push('}');
  o.push('# 1 when the path can be quoted verbatim in JSON: characters a URL path keeps as they are, no');
  o.push('# dot segments (the URL parser would resolve them). Other paths go to the outline function.');
  o.push('map $src_path $src_path_plain {');
  o.push('    "~^(?!.*%2[eE])(/([A-Za-z0-9_~!()*+,;=:@%-][A-Za-z0-9._~!()*+,;=:@%-]*)?)+$" 1;');
  o.push('    default 0;');
  o.push('}');
  o.push('# At most 100 characters of it, then an ellipsis (as the runner).');
  o.push('map $src_path $src_path_shown {');
  o.push('    "~^(?<head>.{100})." "${head}…";');
  o.push('    default $src_path;');
  o.push('}');
  o.push("# Rate-limit key: the token's ID part (never the secret), else the client address.");
  o.push('map $http_authorization $src_rate_key {');
  o.push('    "~*^Bearer +src_(?<id>[a-z0-9]{12})_" "token:$id";');
  o.push('    default "addr:$binary_remote_addr";');
  o.push('}');
  o.push('# The caller\'s X-Request-Id, else nginx\'s own request ID (also in the access log).');
  o.push('map $http_x_request_id $src_request_id {');
  o.push('    "" $request_id;');
  o.push('    default $http_x_request_id;');
  o.push('}');
  o.push('');
  o.push('# --- per-route rate limits -------------------------------------------------------------');
  const zones = [...routed.map((f) => f.route!), '_other'];
  for (const z of zones) {
    const l = z === '_other' ? defRate : limitOf(z);
    o.push(`limit_req_zone $src_rate_key zone=src_rl_${z.replace(/-/g, '_')}:1m rate=${l.rate};`);
  }
  o.push('limit_req_status 429;');
  o.push('limit_req_log_level warn;');
  o.push('');
  o.push('# --- one upstream per function, one server line per replica -----------------------------');
  for (const f of fns) {
    o.push(`upstream ${upstreamName(f.name)} {`);
    for (const a of f.addrs) o.push(`    server ${a} max_fails=1 fail_timeout=2s;`);
    o.push('    keepalive 16;');
    o.push('}');
  }
  o.push('');
  o.push('server {');
  o.push(`    listen ${listen};`);
  o.push(`    server_name ${dep.serverName ?? '_'};`);
  o.push('    server_tokens off;');
  o.push(`    client_max_body_size ${maxBody};`);
  o.push('    client_body_buffer_size 64k;');
  o.push('    large_client_header_buffers 4 8k;');
  o.push('');
  o.push('    proxy_http_version 1.1;');
  o.push('    proxy_set_header Connection "";');
  o.push('    proxy_set_header Host $http_host;');
  o.push('    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  o.push('    proxy_set_header X-Forwarded-Proto $scheme;');
  o.push('    proxy_set_header X-Request-Id $src_request_id;');
  o.push('    proxy_connect_timeout 5s;');
  o.push(`    proxy_read_timeout ${timeout}s;`);
  o.push(`    proxy_send_timeout ${timeout}s;`);
  o.push('    proxy_next_upstream error timeout;');
  o.push('');
  o.push('    # Everything nginx itself refuses is problem+json, like the API\'s own errors.');
  o.push('    # (URI locations, not named ones: a request whose request line was refused has no URI.)');
  o.push('    error_page 400 /_src/errors/400;');
  o.push('    error_page 404 /_src/errors/404;');
  o.push('    error_page 413 /_src/errors/413;');
  o.push('    error_page 414 /_src/errors/414;');
  o.push('    error_page 494 =431 /_src/errors/431;');
  o.push('    error_page 429 /_src/errors/429;');
  o.push('    error_page 502 503 /_src/errors/502;');
  o.push('    error_page 504 /_src/errors/504;');
  o.push('    error_page 418 = @src_catchall;');
  o.push('');
  o.push('    location = / {');
  o.push(`        limit_req zone=src_rl__other burst=${defRate.burst ?? 0} nodelay;`);
  o.push(`        proxy_pass http://${upstreamName('outline')};`);
  o.push('    }');
  for (const f of routed) {
    const l = limitOf(f.route!);
    o.push(`    location ~ ^/[^/]+/${f.route}$ {`);
    o.push(`        limit_req zone=src_rl_${f.route!.replace(/-/g, '_')} burst=${l.burst ?? 0} nodelay;`);
    o.push(`        proxy_pass http://${upstreamName(f.name)};`);
    o.push('    }');
  }
  o.push('    # No function serves this path: the runner\'s 404 problem.');
  o.push('    location / {');
  o.push(`        limit_req zone=src_rl__other burst=${defRate.burst ?? 0} nodelay;`);
  o.push('        if ($src_path_plain = 0) {');
  o.push('            return 418; # -> @src_catchall');
  o.push('        }');
  o.push('        default_type application/problem+json;');
  o.push(`        return 404 ${problem(404, 'Not Found', 'unknown_route', 'No route $request_method $src_path_shown; GET / lists every endpoint')};`);
  o.push('    }');
  o.push('    location @src_catchall {');
  o.push(`        proxy_pass http://${upstreamName('outline')};`);
  o.push('    }');
  o.push('');
  const named: [string, number, string, string, string, string?][] = [
    ['= /_src/errors/400', 400, 'Bad Request', 'invalid_parameter', 'Malformed HTTP request'],
    ['= /_src/errors/404', 404, 'Not Found', 'unknown_route', 'No route $request_method $src_path_shown; GET / lists every endpoint'],
    ['= /_src/errors/413', 413, 'Content Too Large', 'payload_too_large', `Request body larger than ${maxBody} bytes`],
    ['= /_src/errors/414', 414, 'URI Too Long', 'payload_too_large', 'Request URL longer than 8 KiB'],
    ['= /_src/errors/431', 431, 'Request Header Fields Too Large', 'payload_too_large', 'Request headers larger than 8 KiB per line or 32 KiB in all'],
    ['= /_src/errors/429', 429, 'Too Many Requests', 'rate_limited', 'Too many requests to this route with this token; slow down', 'Retry-After 1'],
    ['= /_src/errors/502', 502, 'Bad Gateway', 'function_unavailable', 'No replica of the function for this route answered; try again', 'Retry-After 5'],
    ['= /_src/errors/504', 504, 'Gateway Timeout', 'function_unavailable', 'The function for this route did not answer in time'],
  ];
  for (const [loc, status, title, code, detail, header] of named) {
    o.push(`    location ${loc} {`);
    o.push('        internal;');
    o.push('        default_type application/problem+json;');
    if (header) o.push(`        add_header ${header} always;`);
    o.push(`        return ${status} ${problem(status, title, code, detail)};`);
    o.push('    }');
  }
  o.push('}');
  const site = o.join('\n') + '\n';
  if (!opts.full) return site;

  const prefix = opts.prefix ?? '/var/lib/src-api-nginx';
  const indent = (s: string) => s.split('\n').map((l) => (l ? '    ' + l : l)).join('\n');
  return [
    '# Generated by scripts/gen-nginx.ts (--full); run: nginx -p PREFIX -c PREFIX/nginx.conf -e PREFIX/error.log',
    opts.foreground ? 'daemon off;' : '',
    `worker_processes ${opts.workers ?? 1};`,
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events {',
    '    worker_connections 1024;',
    '}',
    'http {',
    '    log_format src \'$remote_addr [$time_local] "$request" $status $body_bytes_sent \'',
    '                   \'rid=$src_request_id up=$upstream_addr rt=$request_time urt=$upstream_response_time\';',
    `    access_log ${join(prefix, 'access.log')} src;`,
    `    client_body_temp_path ${join(prefix, 'client_body_temp')};`,
    `    proxy_temp_path ${join(prefix, 'proxy_temp')};`,
    `    fastcgi_temp_path ${join(prefix, 'fastcgi_temp')};`,
    `    uwsgi_temp_path ${join(prefix, 'uwsgi_temp')};`,
    `    scgi_temp_path ${join(prefix, 'scgi_temp')};`,
    '    types { text/plain txt; application/json json; }',
    '    default_type application/octet-stream;',
    '    sendfile on;',
    '    keepalive_timeout 65s;',
    '',
    indent(site),
    '}',
    '',
  ]
    .filter((l, i) => l !== '' || i > 1)
    .join('\n');
}

/** Function name -> route, from a build manifest (dist/functions/manifest.json). */
export function routesFromManifest(file: string): Record<string, string | undefined> {
  const m = JSON.parse(readFileSync(file, 'utf8')) as { functions: { name: string; route?: string }[] };
  return Object.fromEntries(m.functions.map((f) => [f.name, f.route]));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      deployment: { type: 'string' },
      listen: { type: 'string' },
      fn: { type: 'string', multiple: true },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'rate-for': { type: 'string', multiple: true },
      'max-body': { type: 'string' },
      manifest: { type: 'string' },
      full: { type: 'boolean', default: false },
      prefix: { type: 'string' },
      foreground: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  try {
    const dep: Deployment = values.deployment ? JSON.parse(readFileSync(values.deployment, 'utf8')) : { functions: {} };
    dep.functions ??= {};
    if (values.listen) dep.listen = values.listen;
    for (const f of values.fn ?? []) {
      const [name, addrs] = f.split('=');
      if (!name || !addrs) throw new Error(`--fn ${f}: expected NAME=HOST:PORT[,HOST:PORT…]`);
      dep.functions[name] = addrs.split(',');
    }
    if (values.rate || values.burst || values['rate-for']?.length) {
      dep.rateLimit = { ...(dep.rateLimit ?? { rate: '600r/m' }) };
      if (values.rate) dep.rateLimit.rate = values.rate;
      if (values.burst) dep.rateLimit.burst = Number(values.burst);
      for (const r of values['rate-for'] ?? []) {
        const m = /^([a-z0-9-]+)=(\d+r\/[sm])(?::(\d+))?$/.exec(r);
        if (!m) throw new Error(`--rate-for ${r}: expected ROUTE=RATE[:BURST], e.g. create-app=60r/m:10`);
        dep.rateLimit.routes = { ...dep.rateLimit.routes, [m[1]]: { rate: m[2], ...(m[3] ? { burst: Number(m[3]) } : {}) } };
      }
    }
    if (values['max-body']) dep.maxBodyBytes = Number(values['max-body']);
    const manifest = values.manifest ?? join(ROOT, 'dist', 'functions', 'manifest.json');
    const routeOf = existsSync(manifest) ? routesFromManifest(manifest) : undefined;
    if (routeOf) {
      for (const [name, route] of Object.entries(routeOf)) {
        if (route && !dep.functions[name]) console.error(`gen-nginx: warning: no upstream for ${name} (/{facility}/${route} will answer unknown_route)`);
      }
    }
    const text = generateNginxConfig(dep, { full: values.full, prefix: values.prefix && resolve(values.prefix), foreground: values.foreground, routeOf });
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
  } catch (e) {
    console.error(`gen-nginx: ${(e as Error).message}`);
    process.exit(1);
  }
}
