/**
 * The deployment description's checks: what gets deployed where (functions and their
 * replicas, listen address, rate limits, body size, timeout), validated and completed with the
 * defaults into the {@link SiteModel} that scripts/nginx/render.ts writes out.
 *
 * @module
 */
import { checkGateway, type GatewayDeployment } from './gateway.ts';

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
  /** The app gateway's server (scripts/nginx/gateway.ts); needs the `authorize-app` function. */
  gateway?: GatewayDeployment;
}

/** One deployed function: its name, the route it serves (none for `outline`), its replicas' addresses. */
export interface DeployedFunction {
  name: string;
  route: string | undefined;
  addrs: string[];
}

/** A checked deployment with every default filled in: what the renderer needs. */
export interface SiteModel {
  listen: string;
  serverName: string;
  /** Largest request body, bytes. */
  maxBody: number;
  /** How long nginx waits for a function's answer, seconds. */
  timeout: number;
  /** The default per-route limit (also of `GET /` and unknown routes). */
  defRate: RateLimit;
  functions: DeployedFunction[];
  /** The functions that serve a route (all but `outline` and the {@link TOP_LEVEL} ones). */
  routed: DeployedFunction[];
  /** The limit of a route: the default with the route's overrides. */
  limitOf: (route: string) => RateLimit;
  gateway?: GatewayDeployment;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
/** Functions that serve a path of their own (`/healthz`, `/readyz`, `/metrics`) instead of `/{facility}/{route}`. */
export const TOP_LEVEL: readonly string[] = ['healthz', 'readyz', 'metrics'];
/**
 * Functions that serve the site's own paths, not a route: `outline` (`GET /`, the catch-all), `openapi` (`/openapi.json`, `/docs`),
 * `authorize-app` (the app gateway's authorizer, scripts/nginx/gateway.ts), and the {@link TOP_LEVEL} ones.
 */
export const SITE_FUNCTIONS: readonly string[] = ['outline', 'openapi', 'authorize-app', 'ui', ...TOP_LEVEL];
const ADDR_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$|^unix:\/[^\s;{}'"]+$/;
const RATE_RE = /^\d+r\/[sm]$/;

function checkRate(where: string, r: RateLimit): void {
  if (!RATE_RE.test(r.rate)) throw new Error(`${where}: rate ${JSON.stringify(r.rate)} must look like 600r/m or 10r/s`);
  if (r.burst !== undefined && (!Number.isInteger(r.burst) || r.burst < 0)) throw new Error(`${where}: burst must be an integer >= 0`);
}

/**
 * Checks a deployment description and fills in its defaults.
 * @param routeOf function name -> route, from the build manifest (default: name = route)
 * @throws Error naming the first invalid setting (unknown address form, bad rate, no outline,
 *   a function the manifest does not know or that serves no route, a limit for an undeployed route)
 */
export function validateDeployment(dep: Deployment, routeOf?: Record<string, string | undefined>): SiteModel {
  const listen = dep.listen ?? '127.0.0.1:8080';
  if (!ADDR_RE.test(listen)) throw new Error(`listen: ${JSON.stringify(listen)} must be host:port`);
  const defRate: RateLimit = { rate: dep.rateLimit?.rate ?? '600r/m', burst: dep.rateLimit?.burst ?? 100 };
  checkRate('rateLimit', defRate);

  const fns = Object.entries(dep.functions).map(([name, addrs]) => {
    if (!NAME_RE.test(name)) throw new Error(`functions: ${JSON.stringify(name)} is not a function name`);
    const list = (Array.isArray(addrs) ? addrs : [addrs]).map((a) => a.trim()).filter(Boolean);
    if (list.length === 0) throw new Error(`functions.${name}: no replica address`);
    for (const a of list) if (!ADDR_RE.test(a)) throw new Error(`functions.${name}: ${JSON.stringify(a)} must be host:port or unix:/path`);
    if (routeOf && !(name in routeOf)) throw new Error(`functions.${name}: no such function in the build manifest`);
    const route = SITE_FUNCTIONS.includes(name) ? undefined : routeOf ? routeOf[name] : name;
    if (!SITE_FUNCTIONS.includes(name) && !route) throw new Error(`functions.${name}: serves no HTTP route (a job runs without the proxy)`);
    return { name, route, addrs: list };
  });
  if (!fns.some((f) => f.name === 'outline')) throw new Error('functions: the outline function (GET /, and the catch-all for odd paths) must be deployed');
  for (const r of Object.keys(dep.rateLimit?.routes ?? {})) {
    if (!fns.some((f) => f.route === r)) throw new Error(`rateLimit.routes.${r}: no deployed function serves that route`);
    checkRate(`rateLimit.routes.${r}`, dep.rateLimit!.routes![r]);
  }
  const routed = fns.filter((f) => f.route);
  if (dep.gateway)
    checkGateway(
      dep.gateway,
      fns.map((f) => f.name),
    );
  const limitOf = (route: string): RateLimit => ({ ...defRate, ...(dep.rateLimit?.routes?.[route] ?? {}) });
  return {
    listen,
    serverName: dep.serverName ?? '_',
    maxBody: dep.maxBodyBytes ?? 65536,
    timeout: dep.proxyTimeoutSeconds ?? 300,
    defRate,
    functions: fns,
    routed,
    limitOf,
    gateway: dep.gateway,
  };
}
