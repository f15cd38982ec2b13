/**
 * The request identity hook: every route calls {@link authenticate}, {@link authorizeAccess}
 * and {@link authorizeTargets} through the core middleware (core/route.ts), and only there.
 *
 * - `Authorization: Bearer <token>` identifies the caller (401 when missing or invalid,
 *   with `WWW-Authenticate: Bearer`); routes marked `public` also take anonymous calls.
 * - Admin tokens may be limited to some facilities (403 elsewhere).
 * - `X-On-Behalf-Of: <user>` (admin tokens only) narrows an admin to one user's scope, so a
 *   portal acts as that user; the audit log records both.
 * - User tokens (and admins acting on behalf) only reach apps whose USER part is theirs.
 *
 * @module
 */
import * as v from 'valibot';
import { DomainError, invalidParameter } from './errors.ts';
import type { Facility } from './facility.ts';
import { bootstrapAdmin, verifyToken } from './auth.ts';
import { userSchema } from './schemas.ts';
import { splitAppName } from './naming.ts';
import { assertUserKnown } from './run-as.ts';

/** Who may call a route: admins only, any token (scoped to its user), or anyone. */
export type Access = 'admin' | 'user' | 'public';

/** Who is calling. */
export interface Identity {
  /** Token ID, or `anonymous`. */
  subject: string;
  /** Token name, for logs and the audit trail. */
  name: string;
  role: 'admin' | 'user' | 'anonymous';
  /** The user whose apps this caller is limited to (`undefined`: all apps, an admin). */
  scopeUser?: string;
  /** The user an admin acts for (`X-On-Behalf-Of`; refused for other roles). */
  onBehalfOf?: string;
  /** Facilities an admin token is limited to (`null`/absent: all). */
  facilities?: string[] | null;
}

function unauthorized(detail: string): DomainError {
  return new DomainError('unauthorized', detail, { wwwAuthenticate: 'Bearer realm="src-container-api"' });
}

/** The token of an `Authorization: Bearer <token>` header value, if it has that form. */
export function bearerToken(header: string): string | undefined {
  return header.match(/^Bearer +(\S+)$/i)?.[1];
}

/**
 * Authenticates the caller of `req` (who is it?). Routes marked `public` take anonymous calls.
 * @throws DomainError 401 (no, bad, revoked or expired token), 400 (malformed X-On-Behalf-Of)
 */
export async function authenticate(req: Request, route: string, access: Access): Promise<Identity> {
  await bootstrapAdmin();
  const header = req.headers.get('authorization');
  if (!header) {
    if (access === 'public') return { subject: 'anonymous', name: 'anonymous', role: 'anonymous' };
    throw unauthorized(`${route} needs a token: send Authorization: Bearer <token>`);
  }
  const token = bearerToken(header);
  const record = token ? await verifyToken(token) : null;
  if (!record) throw unauthorized('The bearer token is unknown, malformed, revoked or expired');
  const onBehalfOf = req.headers.get('x-on-behalf-of') ?? undefined;
  if (onBehalfOf !== undefined) {
    const r = v.safeParse(userSchema, onBehalfOf);
    if (!r.success) throw invalidParameter('X-On-Behalf-Of', r.issues[0].message, onBehalfOf);
  }
  const base = { subject: record.id, name: record.name, facilities: record.facilities, onBehalfOf };
  if (record.role === 'admin') return { ...base, role: 'admin', scopeUser: onBehalfOf };
  return { ...base, role: 'user', scopeUser: record.user ?? undefined };
}

/**
 * Authorizes an authenticated caller for a route with `access` on `facility` (may it call
 * this route here at all?). Targets are checked after validation by {@link authorizeTargets}.
 * A user token of a user whose identity is gone from the facility's directory is refused
 * when the facility refuses users without identity (core/run-as.ts).
 * @throws DomainError 403 naming what is not allowed; 403 `no_identity`
 */
export async function authorizeAccess(identity: Identity, route: string, access: Access, facility: Facility): Promise<void> {
  authorizeRole(identity, route, access, facility);
  if (identity.role === 'user' && identity.scopeUser !== undefined) await assertUserKnown(facility, identity.scopeUser);
}

function authorizeRole(identity: Identity, route: string, access: Access, facility: Facility): void {
  if (identity.role === 'anonymous') return; // only public routes let anonymous callers through
  if (identity.facilities && !identity.facilities.includes(facility.id)) {
    throw new DomainError('forbidden', `Token '${identity.name}' is limited to facilities ${identity.facilities.join(', ')}`);
  }
  if (identity.onBehalfOf !== undefined) {
    if (identity.role !== 'admin') throw new DomainError('forbidden', 'Only admin tokens may act on behalf of a user');
    if (access === 'admin') throw new DomainError('forbidden', `${route} is for admins; it cannot be called on behalf of a user`);
  }
  if (identity.role === 'user' && access === 'admin') throw new DomainError('forbidden', `${route} is for admins only`);
}

/**
 * Checks a validated query against the caller's scope: every app `name` must belong to the
 * scoped user, and a `user` parameter must be that user.
 * @throws DomainError 403 naming the first app or user outside the caller's scope
 */
export function authorizeTargets(identity: Identity, query: Record<string, unknown>): void {
  const scope = identity.scopeUser;
  if (scope === undefined) return;
  const names = query.name === undefined ? [] : Array.isArray(query.name) ? (query.name as string[]) : [query.name as string];
  for (const n of names) {
    if (splitAppName(n).user !== scope) throw new DomainError('forbidden', `App '${n}' does not belong to user '${scope}'`, { name: n });
  }
  if (typeof query.user === 'string' && query.user !== scope) {
    throw new DomainError('forbidden', `This token acts for user '${scope}', not '${query.user}'`, { user: query.user });
  }
}
