/**
 * POST /{facility}/open-app?name=IMAGE--USER
 * A link that opens the app in a browser: its URL with a single-use ticket, valid
 * `gateway.ticketSeconds` (default 60). Following it, the app's host exchanges the ticket for
 * a cookie for that host only (HttpOnly, SameSite=Lax, Secure under https, `gateway.cookieHours`
 * long, default 8) and redirects to the app. Every later request is checked again: the token
 * that opened it must stay live (revoking it closes the app's pages and WebSockets within
 * seconds) and the app must exist. Only the app's user opens it (an admin acting for them
 * with X-On-Behalf-Of, or any admin where the facility sets `gateway.admins: true`).
 * 200 `{name, url, appUrl, expiresInSeconds}` · 400 invalid or missing name · 403 another user's
 * app, or admins not allowed · 404 unknown facility or app · 409 `state_conflict` the app is not
 * running (swarm: no running task) or exposes no TCP port · 502 `app_unreachable` swarm: the
 * gateway's connector could not be started · 503/504 Engine.
 */
import { defineRoute, json } from '../core/route.ts';
import { appNameSchema } from '../core/schemas.ts';
import { appAddress } from '../core/gateway/url.ts';
import { assertMayOpen } from '../core/gateway/access.ts';
import { issueTicket } from '../core/gateway/session.ts';
import { AUTH_PATH } from '../core/gateway/gate.ts';
import { loadConfig } from '../core/config.ts';
import { appNotFound, splitAppName } from '../core/naming.ts';

export default defineRoute({
  method: 'POST',
  route: 'open-app',
  summary: 'A single-use link (about 60 s) that signs a browser in to the app',
  query: { name: { schema: appNameSchema, required: true, doc: 'app name IMAGE--USER' } },
  handler: async ({ apps, facility, identity, query }) => {
    const backend = await apps();
    const name = (await backend.names(splitAppName(query.name).user)).find((n) => n.toLowerCase() === query.name.toLowerCase());
    if (!name) throw appNotFound(query.name); // 404 before 403, as every route answers
    const role = identity.role === 'admin' ? 'admin' : 'user';
    assertMayOpen(
      { id: identity.subject, role, user: role === 'user' ? (identity.scopeUser ?? null) : null, facilities: identity.facilities ?? null, onBehalfOf: identity.onBehalfOf },
      facility.id,
      name,
    );
    await backend.upstream(name); // 404, 409 now rather than in the browser
    const s = loadConfig().gateway;
    const address = await appAddress(s, facility.id, name);
    const ticket = await issueTicket({ facility: facility.id, app: name, target: address.target, tokenId: identity.subject, onBehalfOf: identity.onBehalfOf }, s.ticketSeconds);
    return json({ name, url: `${address.url}${AUTH_PATH}?ticket=${ticket}`, appUrl: address.url, expiresInSeconds: s.ticketSeconds });
  },
});
