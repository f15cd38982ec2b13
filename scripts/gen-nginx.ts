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
 * This file is the CLI and {@link generateNginxConfig}; the checks are scripts/nginx/validate.ts,
 * the text scripts/nginx/render.ts.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderFull, renderSite, type FullOptions } from './nginx/render.ts';
import { validateDeployment, type Deployment } from './nginx/validate.ts';

export type { Deployment, RateLimit } from './nginx/validate.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Options of {@link generateNginxConfig}; `prefix`, `foreground` and `workers` apply with `full`. */
export interface GenerateOptions extends FullOptions {
  /** Complete nginx.conf (main context) instead of an http-context include. */
  full?: boolean;
  /** Function name -> route, from dist/functions/manifest.json (default: name = route). */
  routeOf?: Record<string, string | undefined>;
}

/**
 * Renders the configuration: http-context text for an `include`, or with `full` a complete
 * nginx.conf.
 * @throws Error naming the first invalid setting (unknown address form, bad rate, no outline)
 */
export function generateNginxConfig(dep: Deployment, opts: GenerateOptions = {}): string {
  const site = renderSite(validateDeployment(dep, opts.routeOf));
  return opts.full ? renderFull(site, opts) : site;
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
