/**
 * GET /{facility}/get-users
 * The distinct users that have apps in the facility, sorted.
 * 200 array of user names · 404 unknown facility · 503/504 Engine.
 * Swarm mode: the users of the app services.
 */
import { listUsers } from '../core/apps.ts';
import { facilityMode } from '../core/mode.ts';
import { listServiceUsers } from '../core/services.ts';
import { defineRoute, json } from '../core/route.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-users',
  summary: 'Users that have apps',
  access: 'admin',
  query: {},
  handler: async ({ facility }) => json((await facilityMode(facility)) === 'swarm' ? await listServiceUsers(facility) : await listUsers(facility)),
});
