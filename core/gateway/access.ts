/**
 * Who may open an app through the gateway, checked when `open-app` issues a ticket and again
 * on every request (cached at most {@link CHECK_CACHE_MS}): the token is live, it may reach the
 * facility, the app is its user's (or the token is an admin's and the facility lets admins in:
 * `gateway.admins`), and the app exists and runs; the answer is where to reach it.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import { getFacility } from '../facility.ts';
import { facilityMode } from '../mode.ts';
import { backendFor } from '../backend.ts';
import { splitAppName } from '../naming.ts';
import { authDb } from '../auth.ts';
import { loadConfig } from '../config.ts';
import type { Upstream } from './upstream.ts';

/** How long one check's answer is reused for the same token and app (ms). */
export const CHECK_CACHE_MS = 1000;

/** The token fields the gateway needs. */
export interface GatewayToken {
  id: string;
  role: 'admin' | 'user';
  user: string | null;
  facilities: string[] | null;
}

/**
 * Whether `token` may open app `name` of `facility` (ownership only; liveness and existence
 * are checked by {@link checkAccess}).
 * @throws DomainError `forbidden`
 */
export function assertMayOpen(token: GatewayToken & { onBehalfOf?: string }, facility: string, name: string): void {
  const owner = splitAppName(name).user.toLowerCase();
  if (token.facilities && !token.facilities.includes(facility)) throw new DomainError('forbidden', `This token is limited to facilities ${token.facilities.join(', ')}`);
  const scope = token.role === 'admin' ? token.onBehalfOf : (token.user ?? '');
  if (scope !== undefined) {
    if (scope.toLowerCase() !== owner) throw new DomainError('forbidden', `App '${name}' belongs to another user`, { name });
    return;
  }
  if (!adminsMayOpen(facility)) throw new DomainError('forbidden', `Admins may not open users' apps in facility '${facility}' (gateway.admins is off); open it as its user`, { name });
}

/**
 * Whether admin tokens (without `X-On-Behalf-Of`) may open users' apps in `facility`: the
 * facility's `gateway.admins`, else the top-level `gateway.admins` (default false).
 */
export function adminsMayOpen(facility: string): boolean {
  const cfg = loadConfig();
  const f = Object.hasOwn(cfg.facilities, facility) ? cfg.facilities[facility] : undefined;
  return f?.gateway?.admins ?? cfg.gateway.admins;
}

async function liveToken(id: string): Promise<GatewayToken> {
  const db = await authDb();
  const r = await db.execute({ sql: 'SELECT * FROM tokens WHERE id = ?', args: [id] });
  const row = r.rows[0] as Record<string, unknown> | undefined;
  // revoked, or past its expiry (tokens that carry one: `expires_at`, ISO time)
  if (!row || row.revoked_at || (row.expires_at && String(row.expires_at) <= new Date().toISOString()))
    throw new DomainError('unauthorized', 'The token this app was opened with is revoked, expired or unknown; open the app again', { wwwAuthenticate: 'Bearer realm="src-container-api"' });
  return { id, role: row.role as 'admin' | 'user', user: (row.user as string | null) ?? null, facilities: row.facilities ? (JSON.parse(String(row.facilities)) as string[]) : null };
}

const cache = new Map<string, { at: number; answer: Promise<Upstream> }>();

/**
 * Checks that the token `tokenId` (acting for `onBehalfOf`, if it did when it opened the app)
 * may still open app `name` of `facility`, and answers where the app is reached.
 * @throws DomainError `unauthorized` (token revoked), `forbidden`, `unknown_facility`, `app_not_found`, `state_conflict`, `wrong_mode`
 */
export function checkAccess(tokenId: string, facility: string, name: string, onBehalfOf?: string): Promise<Upstream> {
  const key = `${tokenId}\0${facility}\0${name}\0${onBehalfOf ?? ''}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < CHECK_CACHE_MS) return hit.answer;
  const answer = (async () => {
    const token = await liveToken(tokenId);
    assertMayOpen({ ...token, onBehalfOf }, facility, name);
    const f = getFacility(facility);
    return (await backendFor(f, await facilityMode(f))).upstream(name);
  })();
  answer.catch(() => undefined);
  if (cache.size > 10_000) cache.clear();
  cache.set(key, { at: now, answer });
  return answer;
}

/** Forgets cached checks (tests). */
export function resetAccessCache(): void {
  cache.clear();
}
