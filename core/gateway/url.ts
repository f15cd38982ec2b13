/**
 * App URLs: the stable address of each app behind the gateway, and the reverse, from a
 * request's host and path to the app it is for.
 *
 * **Subdomain mode** (default): an app's DNS label is a readable prefix and a hash:
 *
 *     label(facility, name) = prefix + '-' + h
 *     prefix = lowercase(name + '-' + facility), every run of characters other than a-z, 0-9
 *              made one '-', trimmed of '-', cut to 52 characters (and trimmed again)
 *     h      = the first 10 characters of base32 (a-z, 2-7) of SHA-256(facility + '\0' + lowercase(name))
 *
 * so `httpd--alice` in `demo` is `httpd-alice-demo-<10 chars>`: at most 63 characters, only
 * letters, digits and '-', never '--' (no IDNA-reserved `xn--` form), the same for every
 * spelling of a case-insensitively unique name, and unique by the hash (50 bits) even when two
 * prefixes are cut alike. The gateway never decodes a label: the signed cookie names the app,
 * and the gateway checks that its label is the request's.
 *
 * **Path mode**: `/apps/{facility}/{name}/` on the gateway's own host.
 *
 * @module
 */
import type { GatewaySettings } from './settings.ts';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The DNS label of app `name` in `facility` (see the module doc): `httpd-alice-demo-k3x9q2abcd`. */
export async function appLabel(facility: string, name: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${facility}\0${name.toLowerCase()}`)));
  let bits = 0;
  let acc = 0;
  let h = '';
  for (const b of digest) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && h.length < 10) {
      h += B32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    if (h.length >= 10) break;
  }
  const prefix = `${name}-${facility}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 52)
    .replace(/-+$/, '');
  return prefix ? `${prefix}-${h}` : h;
}

/** Where the gateway serves one app: its URL, and what identifies it in a request (`label` or path `prefix`). */
export interface AppAddress {
  /** The app's URL, ending in '/'. */
  url: string;
  /** Subdomain mode: the app's host label. */
  label?: string;
  /** Path mode: `/apps/{facility}/{name}/`. */
  prefix?: string;
  /** What a cookie for this app is bound to: the label or the prefix. */
  target: string;
}

/** The address of app `name` in `facility` under the gateway settings `s`. */
export async function appAddress(s: GatewaySettings, facility: string, name: string): Promise<AppAddress> {
  if (s.mode === 'path') {
    const prefix = `/apps/${encodeURIComponent(facility)}/${encodeURIComponent(name)}/`;
    return { url: `${s.scheme}://${s.domain}${s.portSuffix}${prefix}`, prefix, target: prefix };
  }
  const label = await appLabel(facility, name);
  return { url: `${s.scheme}://${label}.${s.domain}${s.portSuffix}/`, label, target: label };
}

/** What a request to the gateway names: a label (subdomain mode) or a facility, app and prefix (path mode). */
export type GatewayTarget = { kind: 'label'; label: string; target: string } | { kind: 'path'; facility: string; name: string; prefix: string; target: string; rest: string };

/**
 * The app a request is for, from its `Host` header and path; `undefined` when the host is not
 * the gateway's (the API's, or another) or, in path mode, the path names no app.
 */
export function gatewayTarget(s: GatewaySettings, host: string | null | undefined, pathname: string): GatewayTarget | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (s.mode === 'subdomain') {
    if (!h.endsWith(`.${s.domain}`)) return undefined;
    const label = h.slice(0, -(s.domain.length + 1));
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) return undefined;
    return { kind: 'label', label, target: label };
  }
  if (h !== s.domain) return undefined;
  const m = pathname.match(/^\/apps\/([^/]+)\/([^/]+)(\/.*)?$/);
  if (!m) return undefined;
  let facility: string;
  let name: string;
  try {
    facility = decodeURIComponent(m[1]);
    name = decodeURIComponent(m[2]);
  } catch {
    return undefined;
  }
  const prefix = `/apps/${encodeURIComponent(facility)}/${encodeURIComponent(name)}/`;
  return { kind: 'path', facility, name, prefix, target: prefix, rest: m[3] ?? '' };
}

/** Whether requests to `host` go to the gateway (subdomain mode: any `<label>.<domain>`; path mode: the host). */
export function isGatewayHost(s: GatewaySettings, host: string | null | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return s.mode === 'subdomain' ? h.endsWith(`.${s.domain}`) : h === s.domain;
}

/**
 * The environment an app is told at create: `SRC_BASE_URL`, its URL behind the gateway (ends
 * in '/'; in path mode `…/apps/{facility}/{name}/`, for apps that must know their prefix).
 */
export async function appEnvironment(s: GatewaySettings, facility: string, name: string): Promise<string[]> {
  return [`SRC_BASE_URL=${(await appAddress(s, facility, name)).url}`];
}
