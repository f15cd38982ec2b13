/**
 * GET /{facility}/get-users
 * The distinct users that have apps in the facility, sorted.
 * 200 array of user names · 404 unknown facility · 503/504 Engine.
 * Swarm mode: the users of the app services.
 */
import { defineRoute, json } from '../core/route.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-users',
  summary: 'Users that have apps',
  access: 'admin',
  query: {},
  handler: async ({ apps }) => json(await (await apps()).users()),
});
