/**
 * GET /{facility}/get-audit-log[?route=][&user=][&subject=][&since=][&until=][&failed=true|false][&limit=100]
 * The audit log of mutating calls in the facility, newest first. Admins only.
 * 200 array of `{at, requestId, facility, route, subject, subjectName, role, onBehalfOf, target,
 * targetUser, status, result, durationMs}` · 400 invalid filter · 401/403 · 404 unknown facility.
 */
import * as v from 'valibot';
import { queryAudit } from '../core/audit.ts';
import { defineRoute, json } from '../core/route.ts';
import { booleanFlagSchema, isoTimeSchema, pageLimitSchema, userSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-audit-log',
  summary: 'Audit log of mutating calls (admins)',
  access: 'admin',
  query: {
    route: { schema: v.pipe(v.string(), v.regex(/^[a-z-]{1,40}$/, 'must be a route name like stop-app')), doc: 'only this route' },
    user: { schema: userSchema, doc: "only calls on this user's apps or on their behalf" },
    subject: { schema: v.pipe(v.string(), v.regex(/^[a-z0-9]{1,40}$/, 'must be a token id')), doc: 'only calls made with this token id' },
    since: { schema: isoTimeSchema, doc: 'from this time (ISO-8601)' },
    until: { schema: isoTimeSchema, doc: 'before this time (ISO-8601)' },
    failed: { schema: booleanFlagSchema, doc: 'true: only failures; false: only successes' },
    limit: { schema: pageLimitSchema, doc: 'at most this many (default 100)' },
  },
  handler: async ({ facility, query }) => json(await queryAudit({ facility: facility.id, ...query })),
});
