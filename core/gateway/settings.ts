/**
 * The app gateway's settings (top-level `gateway` of the config file; a facility may set
 * `gateway.admins`). Validated at start-up with the rest of the configuration.
 *
 * - `url`: where apps are opened. With a `*` in the host, each app gets its own subdomain
 *   (`http://*.apps.localhost:8080/` -> `http://httpd--alice-demo-k3x9q2ab.apps.localhost:8080/`,
 *   the default: `*.localhost` resolves to loopback in browsers and curl). Without one, apps
 *   are paths on that host (`https://apps.site.org/` -> `https://apps.site.org/apps/demo/httpd--alice/`),
 *   allowed only on a host that is not the API's or the dashboard's (`apiHosts`).
 * - `apiHosts`: the `host[:port]`s the API and dashboard are served on (default: the runner's
 *   `127.0.0.1:PORT` and `localhost:PORT`).
 * - `admins`: whether admin tokens may open users' apps (default false; a facility may override).
 * - `cookieHours` (default 8), `ticketSeconds` (default 60).
 * - `stripPrefix` (path mode): forward `/apps/{facility}/{app}/x` as `/x`, for apps that cannot
 *   be told their base path (default false: apps get the whole path and `SRC_BASE_URL`).
 *
 * Environment overrides: `SRC_GATEWAY_URL`.
 * @module
 */
import * as v from 'valibot';
import { env } from '../runtime.ts';

const urlSchema = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const m = dataset.value.match(/^(https?):\/\/([^/?#]+)\/?$/);
    if (!m) return addIssue({ message: "must be http(s)://HOST[:PORT]/ (a '*' in HOST for per-app subdomains), without path, query or fragment" });
    const host = m[2].replace(/:\d+$/, '');
    if (host.includes('*') && !/^\*\.[a-z0-9.-]+$/i.test(host)) addIssue({ message: "a '*' must be the whole first label of the host, e.g. http://*.apps.example.org/" });
  }),
);

/** The top-level `gateway` object of the config file. */
export const gatewaySchema = v.object({
  url: v.optional(urlSchema),
  apiHosts: v.optional(v.array(v.pipe(v.string(), v.regex(/^[a-z0-9.[\]:-]+$/i, 'must be host[:port]')))),
  admins: v.optional(v.boolean(), false),
  cookieHours: v.optional(v.pipe(v.number(), v.minValue(0.05, 'must be at least 0.05'), v.maxValue(24, 'must be at most 24 (hours, not days)')), 8),
  ticketSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(300)), 60),
  stripPrefix: v.optional(v.boolean(), false),
});

/** A facility's own `gateway` object: overrides of the top-level settings. */
export const facilityGatewaySchema = v.object({ admins: v.optional(v.boolean()) });

/** The resolved gateway settings. */
export interface GatewaySettings {
  /** Scheme, `http` or `https` (cookies are `Secure` under https). */
  scheme: 'http' | 'https';
  /** `subdomain`: each app on `<label>.<domain>`; `path`: `/apps/{facility}/{app}/` on `host`. */
  mode: 'subdomain' | 'path';
  /** Subdomain mode: the apps domain (`apps.localhost`); path mode: the host. Lowercase, without port. */
  domain: string;
  /** `:8080` or `''`: the port part of app URLs. */
  portSuffix: string;
  apiHosts: string[];
  admins: boolean;
  cookieHours: number;
  ticketSeconds: number;
  /** Path mode: forward paths without the `/apps/{facility}/{app}` prefix. */
  stripPrefix: boolean;
}

/**
 * Resolves and checks the gateway settings.
 * @throws Error when path mode would share a host with the API (`apiHosts`)
 */
export function resolveGateway(raw: v.InferInput<typeof gatewaySchema> | undefined, source: string): GatewaySettings {
  const port = env('PORT') ?? '8080';
  const url = env('SRC_GATEWAY_URL') ?? raw?.url ?? `http://*.apps.localhost:${port}/`;
  const checked = v.safeParse(urlSchema, url);
  if (!checked.success) throw new Error(`Invalid configuration in ${source} (or SRC_GATEWAY_URL): gateway.url: ${checked.issues[0].message}`);
  const m = url.match(/^(https?):\/\/([^/?#]+)\/?$/)!;
  const hostPort = m[2].toLowerCase();
  const pm = hostPort.match(/^(.*?)(:\d+)?$/)!;
  const defaultPort = m[1] === 'https' ? ':443' : ':80';
  const portSuffix = pm[2] && pm[2] !== defaultPort ? pm[2] : '';
  const wild = pm[1].startsWith('*.');
  const apiHosts = (raw?.apiHosts ?? [`127.0.0.1:${port}`, `localhost:${port}`, ...(env('HOST') ? [`${env('HOST')}:${port}`] : [])]).map((h) => h.toLowerCase());
  const s: GatewaySettings = {
    scheme: m[1] as 'http' | 'https',
    mode: wild ? 'subdomain' : 'path',
    domain: wild ? pm[1].slice(2) : pm[1],
    portSuffix,
    apiHosts,
    admins: raw?.admins ?? false,
    cookieHours: raw?.cookieHours ?? 8,
    ticketSeconds: raw?.ticketSeconds ?? 60,
    stripPrefix: raw?.stripPrefix ?? false,
  };
  if (s.mode === 'path') {
    const self = `${s.domain}${portSuffix || defaultPort}`;
    const clash = apiHosts.find((h) => h === self || h === `${s.domain}${portSuffix}` || (!h.includes(':') && h === s.domain));
    if (clash) {
      throw new Error(
        `Invalid configuration in ${source}: gateway.url: path mode (${url}) must be on a host other than the API's and the dashboard's (${clash}); apps there could act with the API's cookies. Use per-app subdomains (http://*.apps.example.org/) or another host`,
      );
    }
  }
  return s;
}
