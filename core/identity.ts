/**
 * The request identity hook: every route calls `identify` through the core middleware, and
 * only there. Today it lets everything through as an anonymous admin; authentication and
 * authorization (tokens, roles) plug in here without touching any route.
 * @module
 */
import type { Facility } from './facility.ts';

/** Who is calling. */
export interface Identity {
  subject: string;
  role: 'admin' | 'user' | 'anonymous';
  /** The user an admin acts for (`X-On-Behalf-Of`). */
  onBehalfOf?: string;
}

/**
 * Identifies the caller of `req` for `route` on `facility`.
 * @returns the identity; later versions throw ApiError 401/403
 */
export async function identify(req: Request, _route: string, _facility: Facility): Promise<Identity> {
  const onBehalfOf = req.headers.get('x-on-behalf-of') ?? undefined;
  return { subject: 'anonymous', role: 'admin', onBehalfOf };
}
