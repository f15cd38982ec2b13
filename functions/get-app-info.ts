/**
 * GET /{facility}/get-app-info?name=IMAGE--USER
 * The Engine's inspect JSON of one app, unchanged (`docker inspect`; Engine `GET /containers/{id}/json`).
 * 200 the inspect object · 400 invalid or missing name · 404 unknown facility or app · 503/504 Engine.
 * Swarm mode: the service's inspect JSON, unchanged (`docker service inspect`; Engine `GET /services/{id}`).
 */
import { defineRoute, json } from '../core/route.ts';
import { appNameSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-info',
  summary: 'Inspect JSON of one app, as docker inspect',
  query: { name: { schema: appNameSchema, required: true, doc: 'app name IMAGE--USER' } },
  handler: async ({ apps, query }) => json(await (await apps()).info(query.name)),
});
