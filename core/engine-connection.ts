/**
 * How the API reaches an Engine: the endpoint setting, the API versions it speaks and their
 * negotiation, docker-modem's connection options (Unix socket, TCP with TLS, SSH) and the
 * registry credentials header. core/engine.ts builds its client on these.
 * @module
 */
import { DomainError } from './errors.ts';
import { engineHttpAgent, readTextFile } from './runtime.ts';

/** How to reach one Engine. `host` is a DOCKER_HOST-style URL: `unix:///path`, `tcp://h:p`, `ssh://user@h`. */
export interface EngineEndpoint {
  host: string;
  /** PEM file paths for TCP with TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Default per-call timeout in ms (default 30000). */
  timeoutMs?: number;
}

/** Oldest Engine API we speak (Engine 20.10). */
export const MIN_API_VERSION = '1.41';
/** Newest Engine API we know; a newer Engine is spoken to at this version. */
export const MAX_API_VERSION = '1.47';

function versionLess(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am < bm : an < bn;
}

/** Picks the API version to speak: the Engine's own, capped at `MAX_API_VERSION`. */
export function negotiateApiVersion(engineApi: string, engineMin?: string): string {
  if (versionLess(engineApi, MIN_API_VERSION)) {
    throw new DomainError('engine_error', `Engine API ${engineApi} is older than the minimum supported ${MIN_API_VERSION}`);
  }
  let v = versionLess(MAX_API_VERSION, engineApi) ? MAX_API_VERSION : engineApi;
  if (engineMin && versionLess(v, engineMin)) v = engineMin;
  return v;
}

/**
 * The `X-Registry-Auth` header value for registry credentials: base64url (with padding, as the
 * Engine decodes it) of `{username, password, serveraddress}` or `{identitytoken}`; `{}` for none.
 * Web-standard (no Buffer), so it runs on Node and Deno.
 */
export function registryAuthHeader(auth: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): string {
  const bytes = new TextEncoder().encode(JSON.stringify(auth));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}

/** docker-modem options from an endpoint (DOCKER_HOST-style URL). */
export function modemOptions(ep: EngineEndpoint): Record<string, unknown> {
  const host = ep.host;
  const agent = engineHttpAgent();
  if (host.startsWith('unix://')) return { socketPath: host.slice(7) || '/var/run/docker.sock', ...(agent ? { agent } : {}) };
  const u = new URL(host.includes('//') ? host : `tcp://${host}`);
  if (u.protocol === 'ssh:') {
    return { protocol: 'ssh', host: u.hostname, port: u.port || '22', username: u.username || undefined, sshOptions: { agent: globalThis.process?.env?.SSH_AUTH_SOCK } };
  }
  const tls = ep.tls;
  const o: Record<string, unknown> = { host: u.hostname, port: u.port || (tls ? '2376' : '2375'), protocol: tls ? 'https' : 'http', ...(agent && !tls ? { agent } : {}) };
  if (tls) {
    if (tls.ca) o.ca = readTextFile(tls.ca);
    if (tls.cert) o.cert = readTextFile(tls.cert);
    if (tls.key) o.key = readTextFile(tls.key);
  }
  return o;
}
