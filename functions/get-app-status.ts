/**
 * GET /{facility}/get-app-status[?name=IMAGE--USER[,…]]
 * Each app as `docker ps -a --format json` prints it (Engine `GET /containers/json?all=1`).
 * 200 one object for one name, else an array · 400 invalid name · 404 unknown facility or app · 503/504 Engine.
 * Swarm mode: each service as `docker service ls --format json` prints it, plus `Node` and
 * `State` of its current task(s) and `Tasks` (the current task of every slot; core/services.ts).
 */
import { batchResponse } from '../core/http.ts';
import { defineRoute } from '../core/route.ts';
import { appNamesSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-status',
  summary: 'Status of apps, as docker ps -a --format json',
  query: { name: { schema: appNamesSchema, doc: 'app name(s); omit for every app' } },
  handler: async ({ apps, query, identity }) => batchResponse(await (await apps()).statuses(query.name, identity.scopeUser)),
});
