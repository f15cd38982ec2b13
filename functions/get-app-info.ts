/**
 * GET /{facility}/get-app-info?name=IMAGE--USER
 * The Engine's inspect JSON of one app, unchanged (`docker inspect`; Engine `GET /containers/{id}/json`).
 * 200 the inspect object · 400 invalid or missing name · 404 unknown facility or app · 503/504 Engine.
 * Swarm mode: the service's inspect JSON, unchanged (`docker service inspect`; Engine `GET /services/{id}`).
 */
import { appInfo } from '../core/app-reads.ts';
import { facilityMode } from '../core/mode.ts';
import { serviceInfo } from '../core/services.ts';
import { defineRoute, json } from '../core/route.ts';
import { appNameSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-info',
  summary: 'Inspect JSON of one app, as docker inspect',
  query: { name: { schema: appNameSchema, required: true, doc: 'app name IMAGE--USER' } },
  handler: async ({ facility, query }) => json((await facilityMode(facility)) === 'swarm' ? await serviceInfo(facility, query.name) : await appInfo(facility, query.name)),
});
