/**
 * GET /{facility}/get-app-names[?user=USER]
 * Names of every app (any state; a user token: its own), optionally of one user (Engine `GET /containers/json?all=1`, label filter).
 * 200 array of names · 400 invalid user · 404 unknown facility · 503/504 Engine.
 * Swarm mode: the app services' names (Engine `GET /services`, label filter).
 */
import { defineRoute, json } from '../core/route.ts';
import { userSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-names',
  summary: 'Names of all apps, any state',
  query: { user: { schema: userSchema, doc: 'only the apps of this user' } },
  handler: async ({ apps, query, identity }) => json(await (await apps()).names(query.user ?? identity.scopeUser)),
});
