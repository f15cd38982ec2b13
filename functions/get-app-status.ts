/**
 * GET /{facility}/get-app-status[?name=IMAGE--USER[,…]]
 * Each app as `docker ps -a --format json` prints it (Engine `GET /containers/json?all=1`).
 * 200 one object for one name, else an array · 400 invalid name · 404 unknown facility or app · 503/504 Engine.
 * Swarm mode: each service as `docker service ls --format json` prints it, plus `Node` and
 * `State` of its current task(s) and `Tasks` (the current task of every slot; core/services.ts).
 */
import { appStatuses } from '../core/app-reads.ts';
import { facilityMode } from '../core/mode.ts';
import { serviceStatuses } from '../core/services.ts';
import { defineRoute, json } from '../core/route.ts';
import { appNamesSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-status',
  summary: 'Status of apps, as docker ps -a --format json',
  query: { name: { schema: appNamesSchema, doc: 'app name(s); omit for every app' } },
  handler: async ({ facility, query, identity }) => {
    const statuses = (await facilityMode(facility)) === 'swarm' ? serviceStatuses : appStatuses;
    return json(await statuses(facility, query.name, identity.scopeUser));
  },
});
